"""The fake Bot API server's state and Telegram's shapes: chats, calls, errors, limits."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from bot.sandbox.fake_api.params import Upload

Json = dict[str, Any]

DEFAULT_TOKEN = "110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64


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
class Fault:
    method: str | None
    status: int
    times: int
    retry_after: int | None
    description: str | None
    chat_id: int | None = None


@dataclass(slots=True)
class Chat:
    id: int
    type: str
    title: str | None = None
    user: Json | None = None
    is_forum: bool = False
    members: set[int] = field(default_factory=set)
    admins: set[int] = field(default_factory=set)
    restricted: set[int] = field(default_factory=set)
    banned: set[int] = field(default_factory=set)
    bot_in: bool = True
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


class State:
    """What the server knows; the cast, the Bot API methods and the HTTP side share it."""

    token: str
    host: str
    port: int
    me: Json
    calls: list[ApiCall]
    commands: dict[str, list[Json]]
    _now: Callable[[], float]
    _users: dict[int, Json]
    _started: set[int]
    _blocked: set[int]
    _chats: dict[int, Chat]
    _messages: dict[tuple[int, int], Json]
    _bot_messages: list[tuple[int, int]]
    _files: dict[str, Upload]
    _user_ids: itertools.count[int]
    _update_ids: itertools.count[int]
    _callback_ids: itertools.count[int]
    _updates: deque[Json]
    _new_update: asyncio.Event
    _poller: asyncio.Future[None] | None
    _stopping: bool
    _webhook: Json | None
    _webhook_task: asyncio.Task[None] | None
    _faults: list[Fault]
    _holds: dict[str, asyncio.Event]
    _limits: bool
    _sent_at: dict[int | None, deque[float]]
    _runner: web.AppRunner | None
    _http: aiohttp.ClientSession | None

    def push_update(self, update: Json) -> Json:
        """Queue a raw update (an ``update_id`` is given if it has none)."""
        update = dict(update)
        update.setdefault("update_id", next(self._update_ids))
        self._updates.append(update)
        self._new_update.set()
        if self._webhook is not None:
            self._ensure_webhook_delivery()
        return update

    def _store_file(self, upload: Upload) -> str:
        file_id = "F" + uuid.uuid4().hex
        self._files[file_id] = upload
        return file_id

    def _timestamp(self) -> int:
        return int(self._now())

    def _ensure_webhook_delivery(self) -> None:
        """Start posting queued updates to the webhook: the HTTP side does it."""
        return None


ADMIN_RIGHTS: Json = {
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


RESTRICTED_RIGHTS: Json = {
    "is_member": True,
    "can_change_info": False,
    "can_invite_users": False,
    "can_pin_messages": False,
    "can_send_messages": False,
    "can_send_polls": False,
    "can_send_other_messages": False,
    "can_add_web_page_previews": False,
    "can_manage_topics": False,
    "can_send_audios": False,
    "can_send_documents": False,
    "can_send_photos": False,
    "can_send_videos": False,
    "can_send_video_notes": False,
    "can_send_voice_notes": False,
    "can_edit_tag": False,
    "can_react_to_messages": False,
    "until_date": 0,
}


def member_json(chat: Chat, user: Json) -> Json:
    """A user's ChatMember in a group, as getChatMember and chat_member updates show it."""
    uid = user_id_of(user)
    if uid in chat.admins:
        return {"status": "administrator", "user": user, **ADMIN_RIGHTS}
    if uid in chat.restricted:
        return {"status": "restricted", "user": user, **RESTRICTED_RIGHTS}
    if uid in chat.members:
        return {"status": "member", "user": user}
    if uid in chat.banned:
        return {"status": "kicked", "user": user, "until_date": 0}
    return {"status": "left", "user": user}


def user_id_of(user: Json | int) -> int:
    return user if isinstance(user, int) else int(user["id"])


def allowed_update(update: Json, allowed: list[str] | None) -> bool:
    if not allowed:
        return "chat_member" not in update and "message_reaction" not in update
    return any(key in update for key in allowed)


def scope_key(params: Json) -> str:
    scope = params.get("scope") or {"type": "default"}
    parts = [str(scope.get("type", "default"))]
    if "chat_id" in scope:
        parts.append(str(scope["chat_id"]))
    if "user_id" in scope:
        parts.append(str(scope["user_id"]))
    if params.get("language_code"):
        parts.append(str(params["language_code"]))
    return ":".join(parts)
