"""The Bot API methods of the fake server, answering as Telegram does: same JSON shapes, same
error descriptions, HTML parse mode and message limits checked."""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bot.sandbox.fake_api.html_text import ParseError, parse_html, utf16_len
from bot.sandbox.fake_api.params import Upload
from bot.sandbox.fake_api.state import (
    ADMIN_RIGHTS,
    MAX_CALLBACK_DATA,
    MAX_CAPTION,
    MAX_TEXT,
    ApiError,
    Chat,
    Json,
    State,
    allowed_update,
    bad_request,
    member_json,
    scope_key,
)


class BotMethods(State):
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

    # Helpers ------------------------------------------------------------------------------

    def _chat(self, chat_id: Any) -> Chat:
        try:
            chat = self._chats.get(int(chat_id))
        except (TypeError, ValueError):
            chat = None
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def _target_chat(self, params: Json) -> Chat:
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

    def _check_limits(self, chat: Chat) -> None:
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

    def _topic(self, params: Json) -> tuple[Chat, int]:
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

    def _bot_message(self, chat: Chat, fields: Json, params: Json) -> Json:
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

    def _replied(self, chat: Chat, params: Json) -> Json | None:
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
