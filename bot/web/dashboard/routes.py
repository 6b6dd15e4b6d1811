"""The manager dashboard page: GET /dashboard?token=... on the bot's aiohttp app.

The token (see bot.web.dashboard.links) says which manager the link was made for and until when;
the page is refused with 403 when it is altered, expired, or its manager is no longer one.
Everything is in the one response: styles inline, charts as data: PNGs, no script, so the
Content-Security-Policy can forbid loading anything else.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from functools import partial
from urllib.parse import urlencode

from aiohttp import web

from bot.core.services import Services
from bot.core.settings import Settings
from bot.reports.charts import render_charts
from bot.reports.windows import window_bounds
from bot.web.dashboard.links import ExpiredLink, InvalidLink, dashboard_secret, sign, verify
from bot.web.dashboard.page import message_page, render_page
from storage.metrics import compute_summary
from storage.metrics.series import load_series

log = logging.getLogger(__name__)

SERVICES_KEY = web.AppKey("dashboard_services", Services)
DEFAULT_DAYS = 7
MAX_DAYS = 90
DEFAULT_TTL = timedelta(hours=1)
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    ),
    # The token is in the URL: keep it out of caches and other sites' Referer headers.
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


def add_dashboard_routes(app: web.Application, services: Services) -> None:
    """Serve the dashboard at GET /dashboard on this app."""
    app[SERVICES_KEY] = services
    app.router.add_get("/dashboard", handle_dashboard)


def dashboard_link(
    base_url: str,
    user_id: int,
    settings: Settings,
    now: datetime,
    ttl: timedelta = DEFAULT_TTL,
) -> str:
    """The dashboard URL for this manager, valid for `ttl` from `now`."""
    token = sign(user_id, now + ttl, dashboard_secret(settings))
    return f"{base_url.rstrip('/')}/dashboard?{urlencode({'token': token})}"


async def handle_dashboard(request: web.Request) -> web.Response:
    """The page for a valid link; 403 for an expired, altered or foreign one."""
    services = request.app[SERVICES_KEY]
    settings = services.settings
    now = services.clock.now()
    token = request.query.get("token", "")
    try:
        user_id = verify(token, dashboard_secret(settings), now)
    except ExpiredLink:
        log.info("refused an expired dashboard link from %s", request.remote)
        return _refused(
            "This dashboard link has expired.",
            "Links work for a short time only. Ask the bot for a new one in your private chat.",
        )
    except InvalidLink as exc:
        log.warning("refused an invalid dashboard link from %s: %s", request.remote, exc)
        return _refused(
            "This dashboard link is not valid.",
            "It may have been altered or cut short. Ask the bot for a new one in your private "
            "chat.",
        )
    if user_id not in settings.manager_ids:
        log.warning("refused a dashboard link of user %s, who is not a manager", user_id)
        return _refused(
            "This dashboard link is no longer valid.",
            "It was made for someone who is not a manager any more.",
        )
    days = _days(request.query.get("days"))
    if days is None:
        return _page_response(
            message_page("Bad request", f"days must be a whole number from 1 to {MAX_DAYS}."),
            status=400,
        )
    start, end = window_bounds(now=now, zone=settings.zone, span=timedelta(days=days), month=None)
    async with services.db.read() as session:
        summary = await compute_summary(
            session=session, start=start, end=end, sla_minutes=settings.sla_minutes
        )
        series = await load_series(session=session, start=start, end=end, zone=settings.zone)
    charts = await asyncio.to_thread(render_charts, series)
    compact = await asyncio.to_thread(partial(render_charts, series, compact=True))
    page = render_page(
        summary,
        charts,
        compact_charts=compact,
        start=start,
        end=end,
        settings=settings,
        days=days,
        token=token,
    )
    return _page_response(page)


def _days(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return DEFAULT_DAYS
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_DAYS:
        return None
    return int(raw)


def _page_response(html: str, *, status: int = 200) -> web.Response:
    return web.Response(
        text=html, status=status, content_type="text/html", charset="utf-8", headers=HEADERS
    )


def _refused(title: str, detail: str) -> web.Response:
    return _page_response(message_page(f"403 Forbidden: {title}", detail), status=403)
