"""The aiohttp web app: Telegram's webhook, a health check."""

from __future__ import annotations

import hmac
import json
import logging
from urllib.parse import urlsplit

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from bot import observability
from bot.dashboard.web import add_dashboard_routes
from bot.intake.inbox import Inbox

log = logging.getLogger(__name__)

INBOX_KEY = web.AppKey("inbox", Inbox)
SECRET_KEY = web.AppKey("webhook_secret", str)


def webhook_path(webhook_url: str) -> str:
    """The path part of the public webhook URL, which this server must answer on."""
    return urlsplit(webhook_url).path or "/"


def build_web_app(*, inbox: Inbox, webhook_url: str | None, secret: str | None) -> web.Application:
    """The web app: POST webhook (when configured), GET /health, /metrics and /dashboard."""
    app = web.Application(client_max_size=1 << 20)
    app[INBOX_KEY] = inbox
    if webhook_url is not None and secret is not None:
        app[SECRET_KEY] = secret
        app.router.add_post(webhook_path(webhook_url), handle_webhook)
    app.router.add_get("/health", handle_health)
    app.router.add_get("/metrics", handle_metrics)
    add_dashboard_routes(app, inbox.services)
    return app


async def handle_webhook(request: web.Request) -> web.Response:
    """Store the update, answer 200, then process it; a wrong secret gets 401 and stores nothing."""
    given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    if not hmac.compare_digest(given.encode(), request.app[SECRET_KEY].encode()):
        log.warning("webhook call with a missing or wrong secret from %s", request.remote)
        return web.json_response({"ok": False, "error": "unauthorized"}, status=401)
    try:
        payload = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return web.json_response({"ok": False, "error": "body is not JSON"}, status=400)
    if not isinstance(payload, dict) or not isinstance(payload.get("update_id"), int):
        return web.json_response({"ok": False, "error": "no integer update_id"}, status=400)
    inbox = request.app[INBOX_KEY]
    # Telegram retries until it gets 200, so 200 only once the update is durably stored.
    try:
        await inbox.store([payload])
    except (SQLAlchemyError, OSError) as exc:
        log.warning(
            "could not store update %s (%s); Telegram will retry", payload["update_id"], exc
        )
        return web.json_response({"ok": False, "error": "try again"}, status=503)
    inbox.kick()
    return web.json_response({"ok": True})


async def handle_health(request: web.Request) -> web.Response:
    """200 when the database answers."""
    inbox = request.app[INBOX_KEY]
    try:
        async with inbox.services.db.session() as session:
            await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
    except Exception as exc:
        log.warning("health check failed: %s", exc)
        return web.json_response({"status": "unavailable"}, status=503)
    return web.json_response({"status": "ok"})


async def handle_metrics(request: web.Request) -> web.Response:
    """Prometheus metrics: counters of this process, queue lengths from the database."""
    body = await observability.render(request.app[INBOX_KEY].services.db)
    return web.Response(body=body, headers={"Content-Type": observability.CONTENT_TYPE})
