"""`feedbackbot metrics`: windows and months parsed as the command line gives them, and the
summary printed as one JSON object or as text."""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.app.metrics_command import add_commands
from bot.reports.windows import parse_month, parse_window, window_bounds
from storage.db import Database
from tests.support.metric_rows import customer, feedback
from tests.support.summaries import insert

# --- The command line -----------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="feedbackbot")
    add_commands(parser.add_subparsers(dest="command", required=True))
    return parser


@pytest.mark.parametrize(
    ("text", "span"),
    [("1d", timedelta(days=1)), ("7d", timedelta(days=7)), ("30d", timedelta(days=30)),
     ("12h", timedelta(hours=12)), ("48H", timedelta(hours=48))],
)  # fmt: skip
def test_windows_parse(text: str, span: timedelta) -> None:
    assert parse_window(text) == span
    assert _parser().parse_args(["metrics", "--window", text]).window == span


@pytest.mark.parametrize("bad", ["7x", "0d", "d7", "-1d", "7", "", "1w", "400d"])
def test_a_bad_window_is_an_argparse_error_naming_it(
    bad: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        _parser().parse_args(["metrics", f"--window={bad}"])
    assert exit_info.value.code == 2
    assert f"invalid window {bad!r}" in capsys.readouterr().err


def test_window_and_month_exclude_each_other(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _parser().parse_args(["metrics", "--window", "7d", "--month", "2026-11"])
    assert "not allowed with" in capsys.readouterr().err


def test_a_month_is_the_calendar_month_in_the_zone() -> None:
    rome = ZoneInfo("Europe/Rome")
    now = datetime(2026, 11, 20, 9, tzinfo=UTC)
    start, end = window_bounds(now=now, zone=rome, span=None, month=parse_month("2026-12"))
    assert (start, end) == (datetime(2026, 12, 1, tzinfo=rome), datetime(2027, 1, 1, tzinfo=rome))
    assert start.astimezone(UTC) == datetime(2026, 11, 30, 23, tzinfo=UTC)
    start, end = window_bounds(now=now, zone=rome, span=timedelta(days=7), month=None)
    assert end == now and start == now - timedelta(days=7) and end.tzinfo is rome
    # Across the DST change hours are real hours, and days are calendar days.
    after_change = datetime(2026, 10, 25, 6, tzinfo=UTC)
    start, end = window_bounds(now=after_change, zone=rome, span=timedelta(hours=12), month=None)
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=12)
    assert start.utcoffset() != end.utcoffset()
    start, end = window_bounds(now=after_change, zone=rome, span=timedelta(days=1), month=None)
    assert (start.hour, start.minute, end.hour, end.minute) == (7, 0, 7, 0)
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=25)
    with pytest.raises(argparse.ArgumentTypeError, match="'2026-13'"):
        parse_month("2026-13")


async def test_the_command_prints_one_json_object_or_text(
    db: Database,
    no_env: None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    now = datetime.now(UTC)
    await insert(
        db,
        customer(1),
        feedback(1, now - timedelta(hours=2), keywords="refund"),
        feedback(1, now - timedelta(days=3)),
    )
    monkeypatch.chdir(tmp_path)  # no .env from the developer's checkout
    monkeypatch.setenv("DATABASE_URL", db.url)
    monkeypatch.setenv("TIMEZONE", "Europe/Rome")
    monkeypatch.setenv("SLA_MINUTES", "30")

    async def run(*argv: str) -> tuple[int, str]:
        args = _parser().parse_args(["metrics", *argv])
        code = await asyncio.to_thread(args.func, args)
        return code, capsys.readouterr().out

    code, out = await run("--window", "1d", "--json")
    assert code == 0
    data = json.loads(out)  # exactly one object: json.loads rejects trailing data
    assert data["involvement"]["feedback"] == 1
    assert data["involvement"]["top_keywords"] == [{"keyword": "refund", "count": 1}]
    assert data["window"]["end"].endswith(("+01:00", "+02:00"))

    code, out = await run("--window", "7d")
    assert code == 0
    assert "Responsiveness" in out and "2 customer messages" in out
    assert "within the SLA of 30 minutes: no data" in out
