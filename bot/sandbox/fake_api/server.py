"""A local Telegram Bot API server for tests and the demo.

The real ``telegram.ext.Application`` talks to it over HTTP on 127.0.0.1 through
``TELEGRAM_API_BASE_URL``. It keeps users, chats, forum topics and messages; answers with the
JSON shapes and error descriptions of the real Bot API; records every call; lets a test act as
customers, staff and managers (messages, media, commands, button presses, edits); delivers
updates by long polling or by webhook; and can be told to fail (429 with retry_after, 5xx), to
hold a method's calls in flight until released, or to enforce Telegram's flood limits.

The people and what they do live in ``cast``, the Bot API methods in ``methods`` (those that
send and edit messages in ``messages``), the shared state and Telegram's shapes in ``state``;
this module is the HTTP side and what tests look at.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import logging
import time
from collections import defaultdict, deque
from collections.abc import Callable

import aiohttp
from aiohttp import web

from bot.sandbox.fake_api.cast import Cast
from bot.sandbox.fake_api.methods import BotMethods
from bot.sandbox.fake_api.params import Upload, read_params
from bot.sandbox.fake_api.state import (
    DEFAULT_TOKEN,
    ApiCall,
    ApiError,
    Chat,
    Fault,
    Json,
    allowed_update,
    bad_request,
)

log = logging.getLogger(__name__)


class FakeBotApi(Cast, BotMethods):
    """The fake server. Use as ``async with FakeBotApi() as api:``; ``api.base_url`` is the
    ``base_url`` to give python-telegram-bot."""

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "feedback_demo_bot",
        host: str = "127.0.0.1",
        port: int = 0,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.token = token
        self.host = host
        self.port = port
        self._now = now
        bot_id = int(token.split(":", 1)[0]) if token.split(":", 1)[0].isdigit() else 1
        self.me: Json = {
            "id": bot_id,
            "is_bot": True,
            "first_name": "Feedback Bot",
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.calls: list[ApiCall] = []
        self.commands: dict[str, list[Json]] = {}
        self._users: dict[int, Json] = {}
        self._started: set[int] = set()
        self._blocked: set[int] = set()
        self._chats: dict[int, Chat] = {}
        self._messages: dict[tuple[int, int], Json] = {}
        self._bot_messages: list[tuple[int, int]] = []
        self._files: dict[str, Upload] = {}
        self._user_ids = itertools.count(700000001)
        self._update_ids = itertools.count(500000001)
        self._callback_ids = itertools.count(1)
        self._updates: deque[Json] = deque()
        self._new_update = asyncio.Event()
        self._stopping = False
        self._poller: asyncio.Future[None] | None = None
        self._webhook: Json | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._faults: list[Fault] = []
        self._holds: dict[str, asyncio.Event] = {}
        self._limits = False
        self._sent_at: dict[int | None, deque[float]] = defaultdict(deque)
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None

    # ---------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Listen on host:port (port 0: any free port)."""
        app = web.Application(client_max_size=60 << 20)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("*", "/file/bot{token}/{path:.+}", self._handle_file)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []
        self.port = int(sockets[0].getsockname()[1])
        self._http = aiohttp.ClientSession()

    async def stop(self) -> None:
        """Stop serving and delivering. A long poll in progress ends at once, empty, as
        Telegram's would when the server goes away: the server does not wait out its timeout."""
        self._stopping = True
        if self._poller is not None and not self._poller.done():
            self._poller.set_result(None)
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
        if self._http is not None:
            await self._http.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeBotApi:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """python-telegram-bot's ``base_url``: the token and method are appended to it."""
        return f"http://{self.host}:{self.port}/bot"

    # ---------------------------------------------------------------- looking at what happened

    def messages_to(self, chat_id: int, thread_id: int | None = None) -> list[Json]:
        """What the bot sent to a chat (its current state, after edits), oldest first."""
        found = []
        for chat, message_id in self._bot_messages:
            if chat != chat_id:
                continue
            message = self._messages[(chat, message_id)]
            if thread_id is not None and message.get("message_thread_id") != thread_id:
                continue
            found.append(copy.deepcopy(message))
        return found

    def calls_to(self, method: str) -> list[ApiCall]:
        """The calls of one method, oldest first."""
        return [c for c in self.calls if c.method == method]

    def file_content(self, call: ApiCall) -> bytes:
        """The bytes of the file a sendDocument or sendPhoto call uploaded (or referenced)."""
        for upload in call.uploads.values():
            return upload.data
        for key in ("document", "photo", "video", "audio", "voice"):
            value = call.params.get(key)
            if isinstance(value, str) and value in self._files:
                return self._files[value].data
        raise KeyError(f"{call.method} carried no file")

    @property
    def pending_updates(self) -> int:
        """Updates not yet confirmed by the bot."""
        return len(self._updates)

    def topics(self, chat_id: int) -> dict[int, Json]:
        """The forum topics of a chat by thread id."""
        return dict(self._chats[chat_id].topics)

    def delete_topic(self, chat_id: int, thread_id: int) -> None:
        """Someone deletes a forum topic: sending into it is refused from now on."""
        self._chats[chat_id].topics.pop(thread_id, None)

    def is_topic_closed(self, chat_id: int, thread_id: int) -> bool:
        """Whether a topic is closed."""
        return thread_id in self._chats[chat_id].closed_topics

    # ---------------------------------------------------------------- faults and limits

    def fail(
        self,
        method: str | None = None,
        *,
        status: int = 500,
        times: int = 1,
        retry_after: int | None = None,
        description: str | None = None,
        chat_id: int | None = None,
    ) -> None:
        """The next ``times`` calls of ``method`` (any method when None) fail with ``status``;
        with ``chat_id``, only calls to that chat.

        429 answers carry ``retry_after`` (1 s unless given), as Telegram's flood control does.
        """
        if status == 429 and retry_after is None:
            retry_after = 1
        self._faults.append(Fault(method, status, times, retry_after, description, chat_id))

    def hold(self, method: str) -> None:
        """Calls of ``method`` from now on stay in flight (recorded in ``calls``, unanswered)
        until ``release(method)``: a slow Telegram, while the bot does something else."""
        self._holds.setdefault(method, asyncio.Event())

    def release(self, method: str) -> None:
        """Answer the held calls of ``method``, and hold no more."""
        gate = self._holds.pop(method, None)
        if gate is not None:
            gate.set()

    def enforce_limits(self, enabled: bool = True) -> None:
        """Answer 429 where Telegram's flood limits would: 30 messages/s overall, 1/s per
        private chat (bursts of 3 allowed), 20/min per group."""
        self._limits = enabled

    # ---------------------------------------------------------------- HTTP

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        try:
            params, uploads = await read_params(request)
        except ValueError as exc:
            error = bad_request(str(exc))
            return web.json_response(error.body(), status=400)
        call = ApiCall(
            method=method,
            params=params,
            response=None,
            ok=False,
            at=time.monotonic(),
            uploads=uploads,
        )
        self.calls.append(call)
        gate = self._holds.get(method)
        if gate is not None:
            await gate.wait()
        try:
            self._inject_fault(method, params)
            handler = self._methods().get(method.lower())
            if handler is None:
                raise ApiError(404, "Not Found")
            result = await handler(params, uploads)
        except ApiError as error:
            call.response, call.status = error.body(), error.code
            return web.json_response(error.body(), status=error.code)
        call.response, call.ok = result, True
        return web.json_response({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.Response:
        upload = self._files.get(request.match_info["path"])
        if upload is None or request.match_info["token"] != self.token:
            return web.Response(status=404)
        return web.Response(body=upload.data, content_type=upload.content_type)

    def _inject_fault(self, method: str, params: Json) -> None:
        for fault in self._faults:
            if fault.chat_id is not None and str(params.get("chat_id")) != str(fault.chat_id):
                continue
            if fault.times > 0 and fault.method in (None, method):
                fault.times -= 1
                if fault.status == 429:
                    raise ApiError(
                        429,
                        fault.description or f"Too Many Requests: retry after {fault.retry_after}",
                        retry_after=fault.retry_after,
                    )
                default = {
                    500: "Internal Server Error",
                    502: "Bad Gateway",
                    503: "Service Unavailable",
                    504: "Gateway Timeout",
                }
                raise ApiError(
                    fault.status, fault.description or default.get(fault.status, "Error")
                )
        self._faults = [f for f in self._faults if f.times > 0]

    # ---------------------------------------------------------------- webhook delivery

    def _ensure_webhook_delivery(self) -> None:
        if self._webhook_task is None or self._webhook_task.done():
            self._webhook_task = asyncio.get_running_loop().create_task(self._deliver())

    async def _deliver(self) -> None:
        """POST queued updates to the webhook in order; retry a failed one, as Telegram does."""
        delay = 0.05
        while self._webhook is not None and self._updates and self._http is not None:
            hook = self._webhook
            update = self._updates[0]
            if not allowed_update(update, hook["allowed_updates"]):
                self._updates.popleft()
                continue
            headers = {}
            if hook["secret_token"]:
                headers["X-Telegram-Bot-Api-Secret-Token"] = str(hook["secret_token"])
            try:
                async with self._http.post(
                    hook["url"],
                    json=update,
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=10),
                ) as response:
                    delivered = 200 <= response.status < 300
                    if not delivered:
                        hook["last_error_message"] = (
                            f"Wrong response from the webhook: {response.status} {response.reason}"
                        )
            except (aiohttp.ClientError, TimeoutError) as exc:
                delivered = False
                hook["last_error_message"] = f"Connection failed: {exc}"
            if delivered:
                if self._updates and self._updates[0] is update:
                    self._updates.popleft()
                delay = 0.05
            else:
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
