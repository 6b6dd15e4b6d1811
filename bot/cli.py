"""The feedbackbot command: run, web, clock, migrate, classify, train, evaluate, demo."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable, Sequence

from sqlalchemy.exc import SQLAlchemyError

from bot.metrics_cli import add_commands as add_metrics_commands
from bot.settings import ConfigError, Settings, load_settings
from nlp.cli import add_commands as add_nlp_commands
from nlp.labels import set_label_source
from storage.db import DatabaseUnavailable

log = logging.getLogger("feedbackbot")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose)
    # `train --with-labels` learns from the labels stored in DATABASE_URL as well.
    set_label_source(stored_labels)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except ConfigError as exc:
        print(f"feedbackbot: {exc}", file=sys.stderr)
        return 2
    except DatabaseUnavailable as exc:
        print(f"feedbackbot: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except (OSError, SQLAlchemyError) as exc:
        # Unreachable database or port in use: one line an operator can act on.
        print(f"feedbackbot: {_one_line(exc)}", file=sys.stderr)
        return 1


def build_parser() -> argparse.ArgumentParser:
    """All subcommands with their help."""
    parser = argparse.ArgumentParser(
        prog="feedbackbot",
        description="Telegram feedback bot: customer care, idea board and service metrics.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
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

    add_nlp_commands(commands)
    add_metrics_commands(commands)
    return parser


def stored_labels() -> list[tuple[str, str]]:
    """(text, kind) of every message a customer or staff member labelled, from DATABASE_URL."""
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

    return asyncio.run(read())


def _settings() -> Settings:
    return load_settings()


def _cmd_run(args: argparse.Namespace) -> int:
    from bot.runtime import run_polling

    asyncio.run(run_polling(_settings()))
    return 0


def _cmd_web(args: argparse.Namespace) -> int:
    from bot.runtime import run_web

    asyncio.run(run_web(_settings()))
    return 0


def _cmd_clock(args: argparse.Namespace) -> int:
    from bot.runtime import run_clock

    asyncio.run(run_clock(_settings()))
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

    applied = asyncio.run(migrate())
    where = redact(settings.database_url)
    print(f"applied {', '.join(applied)} on {where}" if applied else f"{where} is up to date")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from bot.demo.runner import run_demo

    if not args.verbose:  # the transcript is the output; routine logs would only interleave
        logging.getLogger().setLevel(logging.WARNING)

    return asyncio.run(run_demo(output=args.output, quiet=args.quiet))


def _configure_logging(verbose: bool) -> None:
    named = os.environ.get("LOG_LEVEL", "INFO").upper()
    level = logging.DEBUG if verbose else logging.getLevelNamesMapping().get(named, logging.INFO)
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    # httpx logs every request URL at INFO, and the URL holds the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)


def _one_line(exc: BaseException) -> str:
    """The root cause of a database or network error, without SQL or a traceback."""
    root: BaseException = exc
    while getattr(root, "orig", None) is not None:
        root = root.orig  # type: ignore[attr-defined]
    if isinstance(exc, SQLAlchemyError):
        return f"cannot use the database: {type(root).__name__}: {root}".splitlines()[0]
    return f"{type(root).__name__}: {root}"
