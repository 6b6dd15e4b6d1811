"""The feedbackbot command: run, web, clock, migrate, classify, train, evaluate, metrics, demo.

Nothing heavy is imported here: `feedbackbot --help` must answer at once, and each subcommand
imports what it needs (spaCy, python-telegram-bot, SQLAlchemy, matplotlib) when it runs.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from bot.app.metrics_command import add_commands as add_metrics_commands
from bot.core.logging_setup import configure_logging, mask_secrets, redact

if TYPE_CHECKING:
    from bot.core.settings import Settings

log = logging.getLogger("feedbackbot")
T = TypeVar("T")

# The triage subcommands live in nlp.cli, and importing it loads spaCy (a second or more): the
# top-level --help lists them with these lines, and nlp.cli is loaded only to run or explain one.
# tests/app/test_cli.py checks they match nlp.cli's own.
NLP_COMMANDS = {
    "classify": "triage a text and print the result as JSON",
    "train": "rebuild the shipped triage model from the corpus in nlp/",
    "evaluate": "precision, recall, F1 and confusion matrix on labelled data",
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(with_nlp=_command_of(argv) in NLP_COMMANDS)
    args = parser.parse_args(argv)
    _configure_logging(args.verbose)
    # Masked from the first line on; _settings() adds what came from .env.
    mask_secrets(*(os.environ.get(name) for name in _SECRET_VARIABLES))
    if args.command == "train":
        from nlp.labels import set_label_source

        # `train --with-labels` learns from the labels stored in DATABASE_URL as well.
        set_label_source(stored_labels)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        return _failure(exc)


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    import asyncio  # a tenth of a second that --help does without

    return asyncio.run(coroutine)


def _command_of(argv: Sequence[str]) -> str | None:
    """The subcommand argv asks for (its first word that is not an option)."""
    return next((word for word in argv if not word.startswith("-")), None)


def _failure(exc: Exception) -> int:
    """A failure an operator can act on gets one line and an exit code; a bug, its traceback."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot.core.settings import ConfigError
    from storage.db import DatabaseUnavailable

    if isinstance(exc, ConfigError):
        _say(str(exc))
        return 2
    if isinstance(exc, DatabaseUnavailable):
        _say(str(exc))
        return 1
    if isinstance(exc, OSError | SQLAlchemyError):
        # Unreachable database or port in use: one line an operator can act on.
        _say(_one_line(exc))
        return 1
    return _telegram_failure(exc)


# Environment variables whose values are never printed or logged.
_SECRET_VARIABLES = ("TELEGRAM_BOT_TOKEN", "WEBHOOK_SECRET", "METRICS_TOKEN")


def _say(message: str) -> None:
    print(f"feedbackbot: {redact(message)}", file=sys.stderr)


def _telegram_failure(exc: Exception) -> int:
    """Telegram refused or could not be reached: one line, no traceback; anything else is a
    bug, logged with its traceback (masked like every log record)."""
    from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError

    if isinstance(exc, InvalidToken):
        _say(
            "Telegram rejected TELEGRAM_BOT_TOKEN (401 Unauthorized): check the token "
            "@BotFather gave you"
        )
    elif isinstance(exc, NetworkError) and not isinstance(exc, BadRequest):  # TimedOut too
        _say(
            "cannot reach the Telegram Bot API (TELEGRAM_API_BASE_URL): "
            + f"{type(exc).__name__}: {exc.message}".splitlines()[0]
        )
    elif isinstance(exc, TelegramError):
        _say(f"Telegram refused a call: {type(exc).__name__}: {exc.message}".splitlines()[0])
    else:
        log.critical("stopped by an unexpected error", exc_info=exc)
    return 1


def build_parser(*, with_nlp: bool = True) -> argparse.ArgumentParser:
    """All subcommands with their help; without ``with_nlp`` the triage ones are only listed
    (their own options need nlp.cli, which loads spaCy)."""
    parser = argparse.ArgumentParser(
        prog="feedbackbot",
        description="Telegram feedback bot: customer care, idea board and service metrics.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {_version()}", help="print the version"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run",
        help="run the bot with long polling and scheduled jobs (local default)",
        description="Run the bot with long polling and the scheduled jobs in one process. "
        "On a SQLite database the schema is brought up to date first.",
    )
    run.set_defaults(func=_cmd_run)

    web = commands.add_parser(
        "web",
        help="run the webhook server (Procfile: web)",
        description="Serve Telegram's webhook on PORT at the path of WEBHOOK_URL and register "
        "the webhook with WEBHOOK_SECRET. Needs a migrated database.",
    )
    web.set_defaults(func=_cmd_web)

    clock = commands.add_parser(
        "clock",
        help="run only the scheduled jobs (Procfile: clock)",
        description="Run the APScheduler jobs (snapshots, digests, reminders) and nothing else.",
    )
    clock.set_defaults(func=_cmd_clock)

    migrate = commands.add_parser(
        "migrate",
        help="bring the database schema up to date (Procfile: release)",
        description="Apply the Alembic migrations up to head on DATABASE_URL. "
        "Running it again changes nothing.",
    )
    migrate.set_defaults(func=_cmd_migrate)

    demo = commands.add_parser(
        "demo",
        help="watch the bot work offline: scripted customers, staff and a manager",
        description="Start a local fake Telegram server and the real bot against it, play a "
        "scripted day of customer messages, staff replies and manager requests, and print it.",
    )
    demo.add_argument(
        "--output", default="demo-output", help="folder for the demo's files (default: %(default)s)"
    )
    demo.add_argument("--quiet", action="store_true", help="print only the final summary")
    demo.set_defaults(func=_cmd_demo)

    if with_nlp:
        from nlp.cli import add_commands as add_nlp_commands

        add_nlp_commands(commands)
    else:
        for name, summary in NLP_COMMANDS.items():
            commands.add_parser(name, help=summary).set_defaults(func=_cmd_nlp)
    add_metrics_commands(commands)
    return parser


def _cmd_nlp(args: argparse.Namespace) -> int:
    """Never reached: main() builds the full parser for a triage subcommand."""
    raise AssertionError(f"{args.command} needs build_parser(with_nlp=True)")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("feedbackbot")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def stored_labels() -> list[tuple[str, str]]:
    """(text, kind) of every message a customer or staff member labelled, from DATABASE_URL."""
    from bot.core.settings import load_settings
    from storage.db import Database
    from storage.labels import kind_labels

    settings = load_settings()

    async def read() -> list[tuple[str, str]]:
        db = Database(settings.database_url)
        try:
            await db.check()
            async with db.session() as session:
                return await kind_labels(session=session)
        finally:
            await db.dispose()

    return _run(read())


def _settings() -> Settings:
    from bot.core.settings import load_settings
    from storage.urls import database_password

    settings = load_settings()
    mask_secrets(
        *(
            secret.get_secret_value() if secret is not None else None
            for secret in (
                settings.telegram_bot_token,
                settings.webhook_secret,
                settings.metrics_token,
            )
        ),
        database_password(settings.database_url),
    )
    return settings


def _cmd_run(args: argparse.Namespace) -> int:
    from bot.app.runtime import run_polling

    _run(run_polling(_settings()))
    return 0


def _cmd_web(args: argparse.Namespace) -> int:
    from bot.app.runtime import run_web

    _run(run_web(_settings()))
    return 0


def _cmd_clock(args: argparse.Namespace) -> int:
    from bot.app.runtime import run_clock

    _run(run_clock(_settings()))
    return 0


def _cmd_migrate(args: argparse.Namespace) -> int:
    from storage.db import Database
    from storage.migrate import upgrade_to_head
    from storage.urls import redact

    settings = _settings()

    async def migrate() -> list[str]:
        db = Database(settings.database_url)
        try:
            await db.check()
            return await upgrade_to_head(db)
        finally:
            await db.dispose()

    applied = _run(migrate())
    where = redact(settings.database_url)
    print(f"applied {', '.join(applied)} on {where}" if applied else f"{where} is up to date")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from bot.sandbox.demo.runner import run_demo

    if not args.verbose:  # the transcript is the output; routine logs would only interleave
        logging.getLogger().setLevel(logging.WARNING)

    return _run(run_demo(output=args.output, quiet=args.quiet))


def _configure_logging(verbose: bool) -> None:
    named = os.environ.get("LOG_LEVEL", "INFO").upper()
    level = logging.DEBUG if verbose else logging.getLevelNamesMapping().get(named, logging.INFO)
    # LOG_FORMAT=json: one JSON object a line, for a platform's log collector.
    json_lines = os.environ.get("LOG_FORMAT", "text").strip().lower() == "json"
    configure_logging(level, json_lines=json_lines)


def _one_line(exc: BaseException) -> str:
    """The root cause of a database or network error, without SQL or a traceback."""
    from sqlalchemy.exc import SQLAlchemyError

    root: BaseException = exc
    while getattr(root, "orig", None) is not None:
        root = root.orig  # type: ignore[attr-defined]
    if isinstance(exc, SQLAlchemyError):
        return f"cannot use the database: {type(root).__name__}: {root}".splitlines()[0]
    return f"{type(root).__name__}: {root}"
