"""The manager dashboard on the demo's database, offline: `python -m bot.sandbox.demo.dashboard`.

It serves only the dashboard page on 127.0.0.1 and prints a signed link to it, as the bot's
/dashboard would send a manager; the numbers are those of the window ending now, so run it
after `feedbackbot demo` (whose month ends when it ran). Nothing talks to Telegram.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from pathlib import Path

from aiohttp import web

from bot.core.clock import SystemClock
from bot.core.services import open_services
from bot.core.settings import load_settings
from bot.sandbox.fake_api.state import DEFAULT_TOKEN
from bot.web.dashboard.routes import add_dashboard_routes, dashboard_link

# The demo's dashboard has one manager; the link is signed for them with the fake server's
# token (the dashboard's secret is derived from the bot's token).
MANAGER_ID = 1
TIMEZONE = "Europe/Rome"  # the demo's (bot/sandbox/demo/day.toml)


async def serve(output: Path, port: int, *, ready: asyncio.Event | None = None) -> None:
    """Serve the dashboard of `output`/demo.sqlite3 on 127.0.0.1:`port` until cancelled."""
    database = output / "demo.sqlite3"
    if not database.exists():
        raise SystemExit(f"no demo database at {database}: run `feedbackbot demo` first")
    settings = load_settings(
        telegram_bot_token=DEFAULT_TOKEN,
        database_url=f"sqlite:///{database.resolve()}",
        manager_ids=str(MANAGER_ID),
        timezone=TIMEZONE,
        _env_file=None,
    )
    # The demo's SQLite file may be older than this version: bring it up to date, as `run` does.
    async with open_services(settings, clock=SystemClock(), migrate=True) as services:
        app = web.Application()
        add_dashboard_routes(app, services)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", port)
        await site.start()
        try:
            base = f"http://127.0.0.1:{port}"
            link = dashboard_link(base, MANAGER_ID, settings, services.clock.now())
            print(f"The demo's dashboard (the link works for an hour; Ctrl-C stops):\n{link}")
            if ready is not None:
                ready.set()
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments and serve."""
    parser = argparse.ArgumentParser(
        prog="python -m bot.sandbox.demo.dashboard",
        description="Serve the manager dashboard of the demo's database on 127.0.0.1.",
    )
    parser.add_argument("--output", default="demo-output", help="the demo's folder")
    parser.add_argument("--port", type=int, default=8080, help="port (default: %(default)s)")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(Path(args.output), args.port))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
