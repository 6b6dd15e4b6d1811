"""The demo's month: after `feedbackbot demo`, the manager's numbers and charts of the last 7
days have something in every section, on its own SQLite file, read with `feedbackbot metrics`.

The demo runs once for the module (it plays a month through the real bot, most of a minute).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from bot.reports.charts import report_chart_names
from bot.sandbox.demo.dashboard import serve
from storage.db import Database
from storage.metrics.series import ReportSeries, load_series
from storage.urls import normalise_database_url

ROME = ZoneInfo("Europe/Rome")  # the demo's time zone (bot/sandbox/demo/day.toml)
DEMO_SECONDS = 240  # a generous ceiling: it takes under a minute on an idle machine
COMMAND = str(Path(sys.executable).parent / "feedbackbot")


@dataclass(frozen=True)
class Demo:
    output: Path
    transcript: str
    database: Path


def run(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 60) -> Any:
    """`feedbackbot ARGS` in a clean environment: no .env, no DATABASE_URL of the test run."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM_", "WEBHOOK_", "STAFF_", "MANAGER_", "DASHBOARD_"))
        and k not in {"DATABASE_URL", "TIMEZONE"}
    }
    return subprocess.run(
        [COMMAND, *args],
        cwd=cwd,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    folder = tmp_path_factory.mktemp("demo")
    result = run("demo", "--output", str(folder / "out"), cwd=folder, timeout=DEMO_SECONDS)
    assert result.returncode == 0, result.stderr
    yield Demo(folder / "out", result.stdout, folder / "out" / "demo.sqlite3")


def metrics(demo: Demo, window: str = "7d") -> dict[str, Any]:
    """`feedbackbot metrics --window 7d --json` on the demo's database, as the README says."""
    result = run(
        "metrics",
        "--window",
        window,
        "--json",
        cwd=demo.output,
        env={"DATABASE_URL": f"sqlite:///{demo.database}", "TIMEZONE": ROME.key},
    )
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_the_transcript_tells_the_first_day_then_a_line_a_day(demo: Demo) -> None:
    out = demo.transcript
    today = datetime.now(ROME).date()
    first = today - timedelta(days=29)
    assert f"{first} to {today}" in out
    assert "T-00001" in out and "💡" in out and "[rates 5/5]" in out  # the first day in full
    day_lines = [line for line in out.splitlines() if " customers · " in line]
    assert len(day_lines) == 29
    # Two outages, each an incident (the big one may open two: the same fault in two languages).
    assert out.count("🚨 I-") in (2, 3) and out.count("🚨 I-") == out.count("✅ I-")
    assert "→ planned" in out and "→ done" in out  # ideas moved along
    summary = out[out.rindex("/summary") :]
    assert "Responsiveness" in summary and "Co-creation" in summary and "Incidents" in summary
    charts = sorted(demo.output.glob("*.png"))
    assert sorted(p.name for p in charts) == sorted(report_chart_names())
    assert all(chart.read_bytes().startswith(b"\x89PNG") for chart in charts)


def test_metrics_of_the_last_7_days_show_every_section(demo: Demo) -> None:
    data = metrics(demo)
    r, i, c, n = data["responsiveness"], data["involvement"], data["cocreation"], data["incidents"]
    participation = i["participation"]
    assert i["feedback"] >= 50 and i["care"] > 0 and i["ideas"] > 0 and i["other"] > 0
    assert r["tickets_opened"] >= 30 and r["tickets_resolved"] >= 20
    assert r["first_response_p50"] > 0 and r["first_response_p90"] >= r["first_response_p50"]
    assert r["resolution_p50"] > 0 and 0 < r["sla_met_rate"] < 1
    assert c["ideas"] > 0 and c["votes"] > 0 and c["adoption_rate"] is not None
    assert participation["ratings"] >= 10 and r["csat"] > 0 and r["csat_mean"] > 1
    assert participation["votes"] > 0 and i["active_customers"] >= 40
    # The outage three days ago: an incident, dozens of customers, answered and resolved.
    assert n["opened"] >= 1 and n["customers_affected"] >= 30
    assert n["resolved"] == n["opened"] and n["open_at_end"] == 0
    assert 0 < n["time_to_detect_p50"] < n["time_to_first_broadcast_p50"]
    assert n["time_to_first_broadcast_p50"] < n["time_to_resolve_p50"]
    # The month: both outages, and a few hundred customers.
    month = metrics(demo, "30d")
    assert month["incidents"]["opened"] >= 2
    assert month["involvement"]["active_customers"] >= 150


async def test_the_five_charts_have_several_days_each(demo: Demo) -> None:
    db = Database(normalise_database_url(f"sqlite:///{demo.database}"))
    end = datetime.now(UTC)
    try:
        async with db.session() as session:
            week: ReportSeries = await load_series(
                session=session, start=end - timedelta(days=7), end=end, zone=ROME
            )
            month: ReportSeries = await load_series(
                session=session, start=end - timedelta(days=30), end=end, zone=ROME
            )
    finally:
        await db.dispose()

    def days_with(values: list[Any]) -> int:
        return sum(1 for v in values if v)

    # Feedback per day, by kind: messages on most days of the week and of the month.
    totals = [sum(day) for day in zip(*week.volume.values(), strict=True)]
    assert days_with(totals) >= 5
    assert days_with([sum(d) for d in zip(*month.volume.values(), strict=True)]) >= 25
    assert days_with(week.volume["care"]) >= 5 and days_with(month.volume["idea"]) >= 8
    # First response per day: a median (and p90) on several days.
    assert days_with(week.first_response_p50) >= 4
    assert days_with(month.first_response_p90) >= 20
    # Sentiment per day: all three kinds over the month; a ratio on several days.
    assert all(days_with(month.sentiment[s]) >= 5 for s in ("positive", "neutral", "negative"))
    assert days_with(week.sentiment["negative"]) >= 5
    assert sum(1 for r in month.sentiment_ratio if r is not None) >= 15
    # Topic strength: several topics in the window and in its last 24 hours.
    assert len([t for t, n in week.topics_window.items() if n]) >= 5
    # Balance: four full weeks in the month with both interaction and participation.
    full = [
        w
        for w in month.weeks
        if w.staff_messages_per_ticket and w.contributions_per_active_customer
    ]
    assert len(full) >= 4


async def test_the_dashboard_of_the_demo_opens_offline(
    demo: Demo, capsys: pytest.CaptureFixture[str]
) -> None:
    """`python -m bot.sandbox.demo.dashboard` serves the page of the demo's database and prints
    a link that opens it: the incidents card shows the outage of three days ago."""
    with socket.socket() as probe:  # a free port of 127.0.0.1
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ready = asyncio.Event()
    server = asyncio.create_task(serve(demo.output, port, ready=ready))
    try:
        await asyncio.wait_for(ready.wait(), timeout=60)
        link = capsys.readouterr().out.strip().splitlines()[-1]
        assert link.startswith(f"http://127.0.0.1:{port}/dashboard?token=")
        async with aiohttp.ClientSession() as http, http.get(link) as response:
            assert response.status == 200
            page = await response.text()
    finally:
        server.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await server
    # The big outage of three days ago, the only one of the last 7 days: one incident, or two
    # when the same fault came in two languages (as the transcript tells).
    opened = demo.transcript.count("🚨 I-") - 1  # the small outage, 17 days ago, opens one
    assert opened in (1, 2)
    assert f'data-metric="incidents.opened" data-value="{opened}"' in page
    assert page.count("<figcaption") == 5
