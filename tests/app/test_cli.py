"""The feedbackbot command, run as an operator runs it: a real process, its exit code and words."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import create_empty_database, feedbackbot, uses_postgres


@pytest.mark.parametrize(
    "command", ["run", "web", "clock", "migrate", "classify", "train", "evaluate", "demo"]
)
def test_every_subcommand_has_help(command: str) -> None:
    result = feedbackbot(command, "--help")
    assert result.returncode == 0, result.stderr
    assert "usage: feedbackbot " + command in result.stdout


def test_run_without_a_token_says_how_to_get_one(tmp_path: Path) -> None:
    result = feedbackbot("run", cwd=tmp_path)
    assert result.returncode != 0
    assert "TELEGRAM_BOT_TOKEN is not set" in result.stderr
    assert "@BotFather" in result.stderr and "feedbackbot demo" in result.stderr
    assert "Traceback" not in result.stderr
    assert not list(tmp_path.iterdir())  # nothing created before the check


def test_run_with_a_malformed_database_url_names_it(tmp_path: Path) -> None:
    result = feedbackbot(
        "run",
        env={"DATABASE_URL": "postgres//oops", "TELEGRAM_BOT_TOKEN": "1:" + "a" * 30},
        cwd=tmp_path,
    )
    assert result.returncode != 0
    assert "DATABASE_URL" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 3


def test_web_without_webhook_settings_names_what_is_missing(tmp_path: Path) -> None:
    result = feedbackbot("web", env={"TELEGRAM_BOT_TOKEN": "1:" + "a" * 30}, cwd=tmp_path)
    assert result.returncode != 0
    assert "WEBHOOK_URL and WEBHOOK_SECRET must be set" in result.stderr
    assert "Traceback" not in result.stderr


async def test_migrate_twice_on_an_empty_database(tmp_path: Path) -> None:
    url = await create_empty_database(tmp_path)
    plain = url.replace("+aiosqlite", "").replace("+asyncpg", "")
    first = feedbackbot("migrate", env={"DATABASE_URL": plain}, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("applied ")
    second = feedbackbot("migrate", env={"DATABASE_URL": plain}, cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "is up to date" in second.stdout
    if not uses_postgres():
        assert (tmp_path / Path(plain.split("///", 1)[1]).name).exists()


def test_migrate_reports_an_unreachable_database_in_one_line(tmp_path: Path) -> None:
    result = feedbackbot(
        "migrate", env={"DATABASE_URL": "postgresql://nobody:x@127.0.0.1:1/none"}, cwd=tmp_path
    )
    assert result.returncode != 0
    assert "cannot use the database" in result.stderr
    assert "Traceback" not in result.stderr


def test_classify_prints_the_triage_as_json(tmp_path: Path) -> None:
    result = feedbackbot("classify", "la fibra non funziona da tre giorni", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["kind"] == "care" and data["language"] == "it"
    assert set(data["probabilities"]) == {"care", "idea", "other"}


HEAVY = ("spacy", "telegram", "sqlalchemy", "matplotlib", "aiohttp", "pydantic")


def test_help_and_version_load_nothing_heavy() -> None:
    # Run as the console script runs it; what it imported is the measure (time is not: CI is
    # slow and shared). Measured with `python -X importtime`: 0.05 s instead of 1.6 s.
    probe = (
        "import sys\n"
        "from bot.app.cli import main\n"
        "for argv in (['--help'], ['--version']):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit as done:\n"
        "        assert done.code == 0, done.code\n"
        f"heavy = sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})\n"
        "print('HEAVY', heavy)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert "HEAVY []" in result.stdout, result.stdout
    assert "usage: feedbackbot" in result.stdout and "classify" in result.stdout
    version = feedbackbot("--version")
    assert version.returncode == 0 and version.stdout.startswith("feedbackbot 0."), version


def test_the_triage_commands_are_listed_as_nlp_cli_describes_them() -> None:
    from bot.app.cli import NLP_COMMANDS, build_parser

    full = build_parser(with_nlp=True)
    (commands,) = [a for a in full._actions if isinstance(a, argparse._SubParsersAction)]
    described = {c.dest: c.help for c in commands._choices_actions}
    assert {name: described[name] for name in NLP_COMMANDS} == NLP_COMMANDS
