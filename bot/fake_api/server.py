"""A local Telegram Bot API server for tests and the demo.

The real ``telegram.ext.Application`` talks to it over HTTP on 127.0.0.1 through
``TELEGRAM_API_BASE_URL``. It keeps users, chats, forum topics and messages; answers with the
JSON shapes and error descriptions of the real Bot API; records every call; lets a test act as
customers, staff and managers (messages, media, commands, button presses, edits); delivers
updates by long polling or by webhook; and can be told to fail (429 with retry_after, 5xx) or
to enforce Telegram's flood limits.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import logging
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import aiohttp
from aiohttp import web

from bot.fake_api.html_text import ParseError, parse_html, utf16_len
from bot.fake_api.params import Upload, read_params

log = logging.getLogger(__name__)

DEFAULT_TOKEN = "110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64

Json = dict[str, Any]


class ApiError(Exception):
    """An error answer of the Bot API."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def body(self) -> Json:
        """The JSON Telegram sends with the error."""
        payload: Json = {"ok": False, "error_code": self.code, "description": self.description}
        if self.retry_after is not None:
            payload["parameters"] = {"retry_after": self.retry_after}
        return payload


def bad_request(detail: str) -> ApiError:
    """A 400 with Telegram's prefix."""
    return ApiError(400, f"Bad Request: {detail}")


@dataclass(slots=True)
class ApiCall:
    """One call the bot made."""

    method: str
    params: Json
    response: Any
    ok: bool
    at: float
    uploads: dict[str, Upload] = field(default_factory=dict)
    status: int = 200


@dataclass(slots=True)
class _Fault:
    method: str | None
    status: int
    times: int
    retry_after: int | None
    description: str | None


@dataclass(slots=True)
class _Chat:
    id: int
    type: str
    title: str | None = None
    user: Json | None = None
    is_forum: bool = False
    members: set[int] = field(default_factory=set)
    admins: set[int] = field(default_factory=set)
    topics: dict[int, Json] = field(default_factory=dict)
    closed_topics: set[int] = field(default_factory=set)
    next_message_id: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def as_json(self) -> Json:
        if self.type == "private" and self.user is not None:
            chat: Json = {"id": self.id, "type": "private", "first_name": self.user["first_name"]}
            for key in ("last_name", "username"):
                if self.user.get(key):
                    chat[key] = self.user[key]
            return chat
        chat = {"id": self.id, "type": self.type, "title": self.title or ""}
        if self.is_forum:
            chat["is_forum"] = True
        return chat


class FakeBotApi:
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
        self._chats: dict[int, _Chat] = {}
        self._messages: dict[tuple[int, int], Json] = {}
        self._bot_messages: list[tuple[int, int]] = []
        self._files: dict[str, Upload] = {}
        self._user_ids = itertools.count(700000001)
        self._update_ids = itertools.count(500000001)
        self._callback_ids = itertools.count(1)
        self._updates: deque[Json] = deque()
        self._new_update = asyncio.Event()
        self._poller: asyncio.Future[None] | None = None
        self._webhook: Json | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._faults: list[_Fault] = []
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
        """Stop serving and delivering."""
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

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """python-telegram-bot's ``base_url``: the token and method are appended to it."""
        return f"http://{self.host}:{self.port}/bot"

    # ---------------------------------------------------------------- the cast

    def new_user(
        self,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        user_id: int | None = None,
    ) -> Json:
        """A Telegram user who can write to the bot (with a given id, e.g. a manager's)."""
        uid = user_id if user_id is not None else next(self._user_ids)
        user: Json = {"id": uid, "is_bot": False, "first_name": first_name}
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        self._users[user["id"]] = user
        self._chats[user["id"]] = _Chat(id=user["id"], type="private", user=user)
        return dict(user)

    def add_supergroup(
        self,
        chat_id: int,
        *,
        title: str = "Staff",
        is_forum: bool = True,
        members: list[int] | tuple[int, ...] = (),
        admins: list[int] | tuple[int, ...] = (),
    ) -> Json:
        """A supergroup the bot is an administrator of (with topics when ``is_forum``)."""
        chat = _Chat(
            id=chat_id,
            type="supergroup",
            title=title,
            is_forum=is_forum,
            members=set(members) | set(admins),
            admins=set(admins),
        )
        self._chats[chat_id] = chat
        return chat.as_json()

    def add_member(self, chat_id: int, user: Json | int) -> None:
        """Someone joins a group."""
        self._chats[chat_id].members.add(_user_id(user))

    def remove_member(self, chat_id: int, user: Json | int) -> None:
        """Someone leaves a group."""
        self._chats[chat_id].members.discard(_user_id(user))

    def block(self, user: Json | int) -> Json:
        """The user blocks the bot: sends to them fail with 403 from now on."""
        uid = _user_id(user)
        self._blocked.add(uid)
        return self.push_update(
            {
                "my_chat_member": {
                    "chat": self._chats[uid].as_json(),
                    "from": self._users[uid],
                    "date": self._timestamp(),
                    "old_chat_member": {"status": "member", "user": self.me},
                    "new_chat_member": {
                        "status": "kicked",
                        "user": self.me,
                        "until_date": 0,
                    },
                }
            }
        )

    def unblock(self, user: Json | int) -> None:
        """The user restarts the bot."""
        self._blocked.discard(_user_id(user))

    # ---------------------------------------------------------------- acting as people

    def send_text(
        self,
        user: Json,
        text: str,
        *,
        chat: int | None = None,
        message_thread_id: int | None = None,
        reply_to_message: Json | None = None,
    ) -> Json:
        """The user writes a text (or a /command) in a private chat with the bot or in a group."""
        fields: Json = {"text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            fields["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_len(command)}
            ]
        return self._user_message(user, fields, chat, message_thread_id, reply_to_message)

    def send_photo(
        self,
        user: Json,
        *,
        caption: str | None = None,
        chat: int | None = None,
        message_thread_id: int | None = None,
        data: bytes = b"\x89PNG fake photo",
    ) -> Json:
        """The user sends a photo, with an optional caption."""
        file_id = self._store_file(Upload("photo.jpg", "image/jpeg", data))
        sizes = [
            {
                "file_id": file_id,
                "file_unique_id": file_id[:16],
                "width": w,
                "height": h,
                "file_size": len(data),
            }
            for w, h in ((90, 67), (320, 240), (1280, 960))
        ]
        fields: Json = {"photo": sizes}
        if caption:
            fields["caption"] = caption
        return self._user_message(user, fields, chat, message_thread_id, None)

    def send_document(
        self,
        user: Json,
        *,
        filename: str = "invoice.pdf",
        data: bytes = b"%PDF-1.4 fake",
        mime_type: str = "application/pdf",
        caption: str | None = None,
        chat: int | None = None,
        message_thread_id: int | None = None,
    ) -> Json:
        """The user sends a file."""
        file_id = self._store_file(Upload(filename, mime_type, data))
        fields: Json = {
            "document": {
                "file_id": file_id,
                "file_unique_id": file_id[:16],
                "file_name": filename,
                "mime_type": mime_type,
                "file_size": len(data),
            }
        }
        if caption:
            fields["caption"] = caption
        return self._user_message(user, fields, chat, message_thread_id, None)

    def send_voice(self, user: Json, *, duration: int = 4, chat: int | None = None) -> Json:
        """The user sends a voice note."""
        file_id = self._store_file(Upload("voice.ogg", "audio/ogg", b"OggS fake"))
        fields: Json = {
            "voice": {
                "file_id": file_id,
                "file_unique_id": file_id[:16],
                "duration": duration,
                "mime_type": "audio/ogg",
            }
        }
        return self._user_message(user, fields, chat, None, None)

    def send_sticker(self, user: Json, *, emoji: str = "👍", chat: int | None = None) -> Json:
        """The user sends a sticker."""
        file_id = self._store_file(Upload("sticker.webp", "image/webp", b"RIFF fake"))
        fields: Json = {
            "sticker": {
                "file_id": file_id,
                "file_unique_id": file_id[:16],
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "emoji": emoji,
            }
        }
        return self._user_message(user, fields, chat, None, None)

    def edit_text(self, update_or_message: Json, new_text: str) -> Json:
        """The author edits a message they sent earlier: an ``edited_message`` update."""
        message = update_or_message.get("message", update_or_message)
        key = (message["chat"]["id"], message["message_id"])
        stored = self._messages[key]
        stored["text"] = new_text
        stored["edit_date"] = self._timestamp()
        return self.push_update({"edited_message": copy.deepcopy(stored)})

    def press_button(self, user: Json, message: Json, data: str) -> Json:
        """The user presses the inline button carrying ``data`` under a message."""
        key = (message["chat"]["id"], message["message_id"])
        current = self._messages.get(key, message)
        return self.push_update(
            {
                "callback_query": {
                    "id": str(next(self._callback_ids)),
                    "from": self._users.get(user["id"], user),
                    "message": copy.deepcopy(current),
                    "chat_instance": str(abs(key[0])),
                    "data": data,
                }
            }
        )

    def push_update(self, update: Json) -> Json:
        """Queue a raw update (an ``update_id`` is given if it has none)."""
        update = dict(update)
        update.setdefault("update_id", next(self._update_ids))
        self._updates.append(update)
        self._new_update.set()
        if self._webhook is not None:
            self._ensure_webhook_delivery()
        return update

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
    ) -> None:
        """The next ``times`` calls of ``method`` (any method when None) fail with ``status``.

        429 answers carry ``retry_after`` (1 s unless given), as Telegram's flood control does.
        """
        if status == 429 and retry_after is None:
            retry_after = 1
        self._faults.append(_Fault(method, status, times, retry_after, description))

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
        try:
            self._inject_fault(method)
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

    def _inject_fault(self, method: str) -> None:
        for fault in self._faults:
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

    def _methods(self) -> dict[str, Callable[[Json, dict[str, Upload]], Awaitable[Any]]]:
        return {
            "getme": self._get_me,
            "logout": self._true,
            "close": self._true,
            "getupdates": self._get_updates,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "sendmessage": self._send_message,
            "copymessage": self._copy_message,
            "forwardmessage": self._forward_message,
            "editmessagetext": self._edit_message_text,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "deletemessage": self._delete_message,
            "answercallbackquery": self._true,
            "sendphoto": self._send_photo,
            "senddocument": self._send_document,
            "sendchataction": self._chat_action,
            "createforumtopic": self._create_forum_topic,
            "editforumtopic": self._edit_forum_topic,
            "closeforumtopic": self._close_forum_topic,
            "reopenforumtopic": self._reopen_forum_topic,
            "setmycommands": self._set_my_commands,
            "deletemycommands": self._delete_my_commands,
            "getmycommands": self._get_my_commands,
            "setchatmenubutton": self._true,
            "setmydescription": self._true,
            "setmyshortdescription": self._true,
            "setmessagereaction": self._true,
            "getchat": self._get_chat,
            "getchatmember": self._get_chat_member,
            "getfile": self._get_file,
        }

    # ---------------------------------------------------------------- methods

    async def _true(self, params: Json, uploads: dict[str, Upload]) -> bool:
        return True

    async def _get_me(self, params: Json, uploads: dict[str, Upload]) -> Json:
        return dict(self.me)

    async def _get_updates(self, params: Json, uploads: dict[str, Upload]) -> list[Json]:
        if self._webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        limit = max(1, min(100, int(params.get("limit") or 100)))
        timeout = max(0.0, float(params.get("timeout") or 0))
        allowed = params.get("allowed_updates") or None
        if self._poller is not None and not self._poller.done():
            # Telegram ends the older request when a newer one arrives.
            self._poller.set_result(None)
        if offset > 0:
            while self._updates and self._updates[0]["update_id"] < offset:
                self._updates.popleft()
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._poller = waiter
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            ready = [u for u in self._updates if _allowed(u, allowed)][:limit]
            if ready:
                return copy.deepcopy(ready)
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                return []
            self._new_update.clear()
            wait_update = asyncio.ensure_future(self._new_update.wait())
            either: list[asyncio.Future[Any]] = [wait_update, waiter]
            try:
                await asyncio.wait(either, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
            finally:
                wait_update.cancel()
            if waiter.done():
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure "
                    "that only one bot instance is running",
                )

    async def _set_webhook(self, params: Json, uploads: dict[str, Upload]) -> bool:
        url = str(params.get("url") or "")
        if not url:
            return await self._delete_webhook(params, uploads)
        if not url.startswith(("http://", "https://")):
            raise bad_request(
                "bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443"
            )
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self._webhook = {
            "url": url,
            "secret_token": params.get("secret_token"),
            "allowed_updates": params.get("allowed_updates") or None,
            "last_error_message": None,
        }
        self._ensure_webhook_delivery()
        return True

    async def _delete_webhook(self, params: Json, uploads: dict[str, Upload]) -> bool:
        self._webhook = None
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _get_webhook_info(self, params: Json, uploads: dict[str, Upload]) -> Json:
        info: Json = {
            "url": self._webhook["url"] if self._webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self._webhook and self._webhook["last_error_message"]:
            info["last_error_message"] = self._webhook["last_error_message"]
            info["last_error_date"] = self._timestamp()
        return info

    async def _send_message(self, params: Json, uploads: dict[str, Upload]) -> Json:
        chat = self._target_chat(params)
        text, entities = self._formatted(params, "text", "entities", MAX_TEXT)
        if not text.strip():
            raise bad_request("message text is empty")
        fields: Json = {"text": text}
        if entities:
            fields["entities"] = entities
        return self._bot_message(chat, fields, params)

    async def _copy_message(self, params: Json, uploads: dict[str, Upload]) -> Json:
        chat = self._target_chat(params)
        source = self._messages.get((int(params["from_chat_id"]), int(params["message_id"])))
        if source is None:
            raise bad_request("message to copy not found")
        fields = {
            k: copy.deepcopy(v)
            for k, v in source.items()
            if k
            in {
                "text",
                "entities",
                "caption",
                "caption_entities",
                "photo",
                "document",
                "voice",
                "sticker",
                "video",
                "audio",
                "location",
                "contact",
            }
        }
        if "caption" in params:
            caption, entities = self._formatted(params, "caption", "caption_entities", MAX_CAPTION)
            fields["caption"] = caption
            fields.pop("caption_entities", None)
            if entities:
                fields["caption_entities"] = entities
        message = self._bot_message(chat, fields, params)
        return {"message_id": message["message_id"]}

    async def _forward_message(self, params: Json, uploads: dict[str, Upload]) -> Json:
        chat = self._target_chat(params)
        source = self._messages.get((int(params["from_chat_id"]), int(params["message_id"])))
        if source is None:
            raise bad_request("message to forward not found")
        fields = {
            k: copy.deepcopy(v)
            for k, v in source.items()
            if k
            not in {
                "message_id",
                "chat",
                "from",
                "date",
                "message_thread_id",
                "is_topic_message",
                "reply_to_message",
                "reply_markup",
            }
        }
        sender = source.get("from")
        fields["forward_origin"] = (
            {"type": "user", "sender_user": sender, "date": source["date"]}
            if sender
            else {"type": "hidden_user", "sender_user_name": "?", "date": source["date"]}
        )
        return self._bot_message(chat, fields, params)

    async def _edit_message_text(self, params: Json, uploads: dict[str, Upload]) -> Json:
        message = self._editable(params)
        text, entities = self._formatted(params, "text", "entities", MAX_TEXT)
        if not text.strip():
            raise bad_request("message text is empty")
        markup = self._markup(params)
        if text == message.get("text") and markup == message.get("reply_markup"):
            raise bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        message["text"] = text
        message.pop("entities", None)
        if entities:
            message["entities"] = entities
        self._set_markup(message, markup)
        message["edit_date"] = self._timestamp()
        return copy.deepcopy(message)

    async def _edit_message_reply_markup(self, params: Json, uploads: dict[str, Upload]) -> Json:
        message = self._editable(params)
        markup = self._markup(params)
        if markup == message.get("reply_markup"):
            raise bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        self._set_markup(message, markup)
        message["edit_date"] = self._timestamp()
        return copy.deepcopy(message)

    async def _delete_message(self, params: Json, uploads: dict[str, Upload]) -> bool:
        key = (int(params["chat_id"]), int(params["message_id"]))
        if self._messages.pop(key, None) is None:
            raise bad_request("message to delete not found")
        if key in self._bot_messages:
            self._bot_messages.remove(key)
        return True

    async def _send_photo(self, params: Json, uploads: dict[str, Upload]) -> Json:
        chat = self._target_chat(params)
        file_id = self._file_param(params, uploads, "photo")
        data = self._files[file_id].data
        fields: Json = {
            "photo": [
                {
                    "file_id": file_id,
                    "file_unique_id": file_id[:16],
                    "width": 800,
                    "height": 600,
                    "file_size": len(data),
                }
            ]
        }
        self._add_caption(fields, params)
        return self._bot_message(chat, fields, params)

    async def _send_document(self, params: Json, uploads: dict[str, Upload]) -> Json:
        chat = self._target_chat(params)
        file_id = self._file_param(params, uploads, "document")
        upload = self._files[file_id]
        fields: Json = {
            "document": {
                "file_id": file_id,
                "file_unique_id": file_id[:16],
                "file_name": upload.filename,
                "mime_type": upload.content_type,
                "file_size": len(upload.data),
            }
        }
        self._add_caption(fields, params)
        return self._bot_message(chat, fields, params)

    async def _chat_action(self, params: Json, uploads: dict[str, Upload]) -> bool:
        self._target_chat(params)
        return True

    async def _create_forum_topic(self, params: Json, uploads: dict[str, Upload]) -> Json:
        chat = self._chat(params.get("chat_id"))
        if not chat.is_forum:
            raise bad_request("the chat is not a forum")
        name = str(params.get("name") or "")
        if not 1 <= len(name) <= 128:
            raise bad_request("TOPIC_TITLE_EMPTY" if not name else "TOPIC_TITLE_TOO_LONG")
        thread_id = next(chat.next_message_id)
        topic = {
            "message_thread_id": thread_id,
            "name": name,
            "icon_color": int(params.get("icon_color") or 7322096),
        }
        chat.topics[thread_id] = topic
        self._messages[(chat.id, thread_id)] = {
            "message_id": thread_id,
            "from": self.me,
            "chat": chat.as_json(),
            "date": self._timestamp(),
            "message_thread_id": thread_id,
            "is_topic_message": True,
            "forum_topic_created": {"name": name, "icon_color": topic["icon_color"]},
        }
        return dict(topic)

    async def _edit_forum_topic(self, params: Json, uploads: dict[str, Upload]) -> bool:
        chat, thread_id = self._topic(params)
        if params.get("name"):
            chat.topics[thread_id]["name"] = str(params["name"])
        return True

    async def _close_forum_topic(self, params: Json, uploads: dict[str, Upload]) -> bool:
        chat, thread_id = self._topic(params)
        if thread_id in chat.closed_topics:
            raise bad_request("TOPIC_NOT_MODIFIED")
        chat.closed_topics.add(thread_id)
        return True

    async def _reopen_forum_topic(self, params: Json, uploads: dict[str, Upload]) -> bool:
        chat, thread_id = self._topic(params)
        if thread_id not in chat.closed_topics:
            raise bad_request("TOPIC_NOT_MODIFIED")
        chat.closed_topics.discard(thread_id)
        return True

    async def _set_my_commands(self, params: Json, uploads: dict[str, Upload]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("commands must be a list of at most 100 BotCommand")
        for command in commands:
            name = str(command.get("command", ""))
            if not (1 <= len(name) <= 32 and name.replace("_", "").isalnum() and name.islower()):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[_scope_key(params)] = commands
        return True

    async def _delete_my_commands(self, params: Json, uploads: dict[str, Upload]) -> bool:
        self.commands.pop(_scope_key(params), None)
        return True

    async def _get_my_commands(self, params: Json, uploads: dict[str, Upload]) -> list[Json]:
        return self.commands.get(_scope_key(params), [])

    async def _get_chat(self, params: Json, uploads: dict[str, Upload]) -> Json:
        chat = self._chat(params.get("chat_id"))
        full = chat.as_json()
        full.update(
            {
                "accent_color_id": 0,
                "max_reaction_count": 11,
                "accepted_gift_types": {
                    "unlimited_gifts": False,
                    "limited_gifts": False,
                    "unique_gifts": False,
                    "premium_subscription": False,
                },
            }
        )
        return full

    async def _get_chat_member(self, params: Json, uploads: dict[str, Upload]) -> Json:
        chat = self._chat(params.get("chat_id"))
        user_id = int(params["user_id"])
        user = self.me if user_id == self.me["id"] else self._users.get(user_id)
        if user is None:
            raise bad_request("user not found")
        if user_id == self.me["id"]:
            return {"status": "administrator", "user": user, **_ADMIN_RIGHTS}
        if chat.type == "private":
            return {"status": "member", "user": user}
        if user_id in chat.admins:
            return {"status": "administrator", "user": user, **_ADMIN_RIGHTS}
        if user_id in chat.members:
            return {"status": "member", "user": user}
        return {"status": "left", "user": user}

    async def _get_file(self, params: Json, uploads: dict[str, Upload]) -> Json:
        file_id = str(params.get("file_id"))
        if file_id not in self._files:
            raise bad_request("invalid file_id")
        upload = self._files[file_id]
        return {
            "file_id": file_id,
            "file_unique_id": file_id[:16],
            "file_size": len(upload.data),
            "file_path": file_id,
        }

    # ---------------------------------------------------------------- helpers

    def _chat(self, chat_id: Any) -> _Chat:
        try:
            chat = self._chats.get(int(chat_id))
        except (TypeError, ValueError):
            chat = None
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def _target_chat(self, params: Json) -> _Chat:
        chat = self._chat(params.get("chat_id"))
        if chat.type == "private":
            if chat.id in self._blocked:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            if chat.id not in self._started:
                raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        thread = params.get("message_thread_id")
        if thread is not None and (not chat.is_forum or int(thread) not in chat.topics):
            raise bad_request("message thread not found")
        self._check_limits(chat)
        return chat

    def _check_limits(self, chat: _Chat) -> None:
        if not self._limits:
            return
        now = time.monotonic()
        rules: list[tuple[int | None, int, float]] = [(None, 30, 1.0)]
        rules.append((chat.id, 20, 60.0) if chat.type != "private" else (chat.id, 3, 1.0))
        for key, count, window in rules:
            sent = self._sent_at[key]
            while sent and now - sent[0] > window:
                sent.popleft()
            if len(sent) >= count:
                wait = max(1, int(window - (now - sent[0]) + 0.999))
                raise ApiError(429, f"Too Many Requests: retry after {wait}", retry_after=wait)
        for key, _, _ in rules:
            self._sent_at[key].append(now)

    def _formatted(
        self, params: Json, key: str, entities_key: str, limit: int
    ) -> tuple[str, list[Json]]:
        raw = params.get(key)
        text = "" if raw is None else str(raw)
        mode = str(params.get("parse_mode") or "")
        entities: list[Json] = list(params.get(entities_key) or [])
        if mode.upper() == "HTML":
            try:
                text, entities = parse_html(text)
            except ParseError as exc:
                raise ApiError(400, str(exc)) from exc
        elif mode and mode not in {"Markdown", "MarkdownV2"}:
            raise bad_request(f"unsupported parse_mode {mode!r}")
        if utf16_len(text) > limit:
            what = "message caption" if key == "caption" else "message"
            raise bad_request(f"{what} is too long")
        return text, entities

    def _add_caption(self, fields: Json, params: Json) -> None:
        if params.get("caption"):
            caption, entities = self._formatted(params, "caption", "caption_entities", MAX_CAPTION)
            fields["caption"] = caption
            if entities:
                fields["caption_entities"] = entities

    def _markup(self, params: Json) -> Json | None:
        markup = params.get("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        for row in markup.get("inline_keyboard", []):
            for button in row:
                if not button.get("text"):
                    raise bad_request("text buttons are unallowed in the inline keyboard")
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA:
                    raise bad_request("BUTTON_DATA_INVALID")
                if data is None and not any(
                    k in button
                    for k in (
                        "url",
                        "switch_inline_query",
                        "web_app",
                        "login_url",
                        "copy_text",
                        "pay",
                        "callback_game",
                        "switch_inline_query_current_chat",
                    )
                ):
                    raise bad_request('can\'t find field "callback_data"')
        return markup

    @staticmethod
    def _set_markup(message: Json, markup: Json | None) -> None:
        if markup and markup.get("inline_keyboard"):
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)

    def _editable(self, params: Json) -> Json:
        if "inline_message_id" in params:
            raise bad_request("inline messages are not supported by the fake server")
        key = (int(params["chat_id"]), int(params["message_id"]))
        message = self._messages.get(key)
        if message is None:
            raise bad_request("message to edit not found")
        if message.get("from", {}).get("id") != self.me["id"]:
            raise bad_request("message can't be edited")
        return message

    def _topic(self, params: Json) -> tuple[_Chat, int]:
        chat = self._chat(params.get("chat_id"))
        if not chat.is_forum:
            raise bad_request("the chat is not a forum")
        thread_id = int(params.get("message_thread_id") or 0)
        if thread_id not in chat.topics:
            raise bad_request("TOPIC_ID_INVALID")
        return chat, thread_id

    def _file_param(self, params: Json, uploads: dict[str, Upload], key: str) -> str:
        if key in uploads:
            return self._store_file(uploads[key])
        value = params.get(key)
        if isinstance(value, str) and value.startswith("attach://"):
            upload = uploads.get(value.removeprefix("attach://"))
            if upload is not None:
                return self._store_file(upload)
        if isinstance(value, str) and value in self._files:
            return value
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            raise bad_request("failed to get HTTP URL content")
        raise bad_request(f"there is no {key} in the request")

    def _store_file(self, upload: Upload) -> str:
        file_id = "F" + uuid.uuid4().hex
        self._files[file_id] = upload
        return file_id

    def _bot_message(self, chat: _Chat, fields: Json, params: Json) -> Json:
        message: Json = {
            "message_id": next(chat.next_message_id),
            "from": self.me,
            "chat": chat.as_json(),
            "date": self._timestamp(),
            **fields,
        }
        thread = params.get("message_thread_id")
        if thread is not None:
            message["message_thread_id"] = int(thread)
            message["is_topic_message"] = True
        replied = self._replied(chat, params)
        if replied is not None:
            message["reply_to_message"] = replied
        self._set_markup(message, self._markup(params))
        self._messages[(chat.id, message["message_id"])] = message
        self._bot_messages.append((chat.id, message["message_id"]))
        return copy.deepcopy(message)

    def _replied(self, chat: _Chat, params: Json) -> Json | None:
        reply = params.get("reply_parameters")
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            allow = bool(reply.get("allow_sending_without_reply"))
        else:
            message_id = params.get("reply_to_message_id")
            allow = bool(params.get("allow_sending_without_reply"))
        if message_id is None:
            return None
        replied = self._messages.get((chat.id, int(message_id)))
        if replied is None:
            if allow:
                return None
            raise bad_request("message to be replied not found")
        return {k: v for k, v in copy.deepcopy(replied).items() if k != "reply_to_message"}

    def _user_message(
        self,
        user: Json,
        fields: Json,
        chat_id: int | None,
        thread_id: int | None,
        reply_to: Json | None,
    ) -> Json:
        sender = self._users[user["id"]]
        chat = self._chats[chat_id if chat_id is not None else sender["id"]]
        if chat.type == "private":
            self._started.add(sender["id"])
            self._blocked.discard(sender["id"])
        message: Json = {
            "message_id": next(chat.next_message_id),
            "from": sender,
            "chat": chat.as_json(),
            "date": self._timestamp(),
        }
        if thread_id is not None:
            if thread_id not in chat.topics:
                raise ValueError(f"chat {chat.id} has no topic {thread_id}")
            message["message_thread_id"] = thread_id
            message["is_topic_message"] = True
            if reply_to is None:
                # In a topic, Telegram shows a plain message as a reply to the topic's start.
                reply_to = self._messages.get((chat.id, thread_id))
        if reply_to is not None:
            original = self._messages.get((chat.id, reply_to["message_id"]), reply_to)
            message["reply_to_message"] = {
                k: v for k, v in copy.deepcopy(original).items() if k != "reply_to_message"
            }
        message.update(fields)
        self._messages[(chat.id, message["message_id"])] = message
        return self.push_update({"message": copy.deepcopy(message)})

    def _timestamp(self) -> int:
        return int(self._now())

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
            if not _allowed(update, hook["allowed_updates"]):
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


_ADMIN_RIGHTS: Json = {
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": True,
    "can_restrict_members": True,
    "can_promote_members": False,
    "can_change_info": True,
    "can_invite_users": True,
    "can_post_stories": False,
    "can_edit_stories": False,
    "can_delete_stories": False,
    "can_pin_messages": True,
    "can_manage_topics": True,
}


def _user_id(user: Json | int) -> int:
    return user if isinstance(user, int) else int(user["id"])


def _allowed(update: Json, allowed: list[str] | None) -> bool:
    if not allowed:
        return "chat_member" not in update and "message_reaction" not in update
    return any(key in update for key in allowed)


def _scope_key(params: Json) -> str:
    scope = params.get("scope") or {"type": "default"}
    parts = [str(scope.get("type", "default"))]
    if "chat_id" in scope:
        parts.append(str(scope["chat_id"]))
    if "user_id" in scope:
        parts.append(str(scope["user_id"]))
    if params.get("language_code"):
        parts.append(str(params["language_code"]))
    return ":".join(parts)
