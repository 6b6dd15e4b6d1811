"""The Bot API methods of the fake server, answering as Telegram does (same JSON shapes, same
error descriptions): updates and webhooks, forum topics, commands, chats and files; the message
methods are in ``messages``."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Awaitable, Callable
from typing import Any

from bot.sandbox.fake_api.messages import MessageMethods
from bot.sandbox.fake_api.params import Upload
from bot.sandbox.fake_api.state import (
    ADMIN_RIGHTS,
    ApiError,
    Chat,
    Json,
    allowed_update,
    bad_request,
    member_json,
    scope_key,
)


class BotMethods(MessageMethods):
    """One coroutine per Bot API method, dispatched by name."""

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
            "leavechat": self._leave_chat,
            "getfile": self._get_file,
        }

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
            ready = [u for u in self._updates if allowed_update(u, allowed)][:limit]
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
            if waiter.done() and self._stopping:
                return []
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
        self.commands[scope_key(params)] = commands
        return True

    async def _delete_my_commands(self, params: Json, uploads: dict[str, Upload]) -> bool:
        self.commands.pop(scope_key(params), None)
        return True

    async def _get_my_commands(self, params: Json, uploads: dict[str, Upload]) -> list[Json]:
        return self.commands.get(scope_key(params), [])

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
            return {"status": "administrator", "user": user, **ADMIN_RIGHTS}
        if chat.type == "private":
            return {"status": "member", "user": user}
        return member_json(chat, user)

    async def _leave_chat(self, params: Json, uploads: dict[str, Upload]) -> bool:
        chat = self._chat(params.get("chat_id"))
        if chat.type == "private":
            raise bad_request("chat member status can't be changed in private chats")
        if not chat.bot_in:
            raise ApiError(403, f"Forbidden: bot is not a member of the {chat.type} chat")
        chat.bot_in = False
        self.push_update(
            {
                "my_chat_member": {
                    "chat": chat.as_json(),
                    "from": dict(self.me),
                    "date": self._timestamp(),
                    "old_chat_member": {"status": "member", "user": dict(self.me)},
                    "new_chat_member": {"status": "left", "user": dict(self.me)},
                }
            }
        )
        return True

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

    def _topic(self, params: Json) -> tuple[Chat, int]:
        chat = self._chat(params.get("chat_id"))
        if not chat.is_forum:
            raise bad_request("the chat is not a forum")
        thread_id = int(params.get("message_thread_id") or 0)
        if thread_id not in chat.topics:
            raise bad_request("TOPIC_ID_INVALID")
        return chat, thread_id
