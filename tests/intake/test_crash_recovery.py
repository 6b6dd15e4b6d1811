"""Fault test: `kill -9` of the bot during a burst of customer messages, then a restart.

Every message must be stored and acknowledged; a message may be acknowledged twice only if its
acknowledgement was in flight when the process died. `bench/faults_bench.py` runs the same scenario
with 2,000 messages (and a PostgreSQL restart) and prints the figures.
"""

from __future__ import annotations

from pathlib import Path

from bot.sandbox.fake_api import FakeBotApi
from storage.db import Database
from tests.support.bursts import run_burst


async def test_kill_during_a_burst_loses_nothing(
    fake_api: FakeBotApi, db: Database, tmp_path: Path
) -> None:
    report = await run_burst(fake_api, db, tmp_path, messages=150, fault_after=40)
    print("\n".join(report.lines()))
    assert report.stored == report.feedback == report.acknowledged == 150
    # Only an acknowledgement in flight at the kill may go out twice.
    assert report.acknowledged_twice <= max(report.in_flight_at_fault, 1)
