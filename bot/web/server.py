"""The aiohttp web app: Telegram's webhook, a health check."""

from __future__ import annotations

import hmac
import logging
from urllib.parse import urlsplit

from aiohttp import web

from bot.core import observability
from bot.intake.inbox import Inbox
from bot.web.dashboard.routes import add_dashboard_routes
from storage.db import DatabaseError, is_transient, ping
from storage.dead_letters import record_dead_letter
from storage.inbox import valid_update_id

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
    """Store the update, answer 200, then process it; a wrong secret gets 401 and stores nothing.

    Telegram retries anything but 200, for hours, and holds the updates behind it meanwhile:
    only a database that is away (503) is worth a retry. A body that is no update gets 400; an
    update that cannot be stored is set aside as a dead letter and gets 200.
    """
    given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    if not hmac.compare_digest(given.encode(), request.app[SECRET_KEY].encode()):
        log.warning("webhook call with a missing or wrong secret from %s", request.remote)
        return web.json_response({"ok": False, "error": "unauthorized"}, status=401)
    try:
        payload = await request.json()
    except (ValueError, RecursionError) as exc:
        # ValueError: not JSON, not UTF-8, or an integer of thousands of digits.
        return _refuse(request, f"body is not JSON ({type(exc).__name__})")
    problem = _not_an_update(payload)
    if problem is not None:
        return _refuse(request, problem)
    inbox = request.app[INBOX_KEY]
    # Telegram retries until it gets 200, so 200 only once the update is durably stored.
    try:
        await inbox.store([payload])
    except (DatabaseError, OSError) as exc:
        if not is_transient(exc) and await _set_aside(inbox, payload, exc):
            return web.json_response({"ok": True})
        log.warning(
            "could not store update %s (%s); Telegram will retry", payload["update_id"], exc
        )
        return web.json_response({"ok": False, "error": "try again"}, status=503)
    inbox.kick()
    return web.json_response({"ok": True})


# Updates nest a few levels (callback_query.message.reply_to_message...); far deeper is no update.
MAX_DEPTH = 32


def _not_an_update(payload: object) -> str | None:
    """Why a parsed body is not an update Telegram could send, or None."""
    if not isinstance(payload, dict):
        return "body is not a JSON object"
    if valid_update_id(payload.get("update_id")) is None:
        return "no update_id that is an integer from 0 to 2^63-1"
    stack: list[tuple[object, int]] = [(payload, 1)]
    while stack:  # iterative: a deep body must not exhaust the stack here either
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"nested deeper than {MAX_DEPTH} levels"
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    return None


def _refuse(request: web.Request, reason: str) -> web.Response:
    log.warning("webhook call refused with 400: %s (from %s)", reason, request.remote)
    return web.json_response({"ok": False, "error": reason}, status=400)


async def _set_aside(inbox: Inbox, payload: dict[str, object], exc: BaseException) -> bool:
    """A database that refuses this update (not one that is away): keep it as a dead letter.
    False if even that cannot be stored."""
    try:
        async with inbox.services.db.session() as session:
            await record_dead_letter(
                session=session,
                kind="update",
                item_id=valid_update_id(payload.get("update_id")),
                error=exc,
                payload=payload,
                now=inbox.services.clock.now(),
            )
    except (DatabaseError, OSError):
        return False
    return True


async def handle_health(request: web.Request) -> web.Response:
    """200 when the database answers."""
    inbox = request.app[INBOX_KEY]
    try:
        async with inbox.services.db.read() as session:
            await ping(session=session)
    except Exception as exc:
        log.warning("health check failed: %s", exc)
        return web.json_response({"status": "unavailable"}, status=503)
    return web.json_response({"status": "ok"})


async def handle_metrics(request: web.Request) -> web.Response:
    """Prometheus metrics: counters of this process, queue lengths from the database. With
    METRICS_TOKEN set, only for ``Authorization: Bearer <METRICS_TOKEN>`` (401 otherwise)."""
    token = request.app[INBOX_KEY].services.settings.metrics_token
    if token is not None:
        given = request.headers.get("Authorization", "")
        wanted = f"Bearer {token.get_secret_value()}"
        if not hmac.compare_digest(given.encode(), wanted.encode()):
            log.warning("/metrics without the bearer token from %s", request.remote)
            return web.json_response(
                {"ok": False, "error": "unauthorized"},
                status=401,
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
    body = await observability.render(request.app[INBOX_KEY].services.db)
    return web.Response(body=body, headers={"Content-Type": observability.CONTENT_TYPE})
