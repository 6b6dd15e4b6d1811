"""The Bot API methods of the fake server that send, copy, edit and delete messages, and the
checks Telegram makes on them: HTML parse mode, message limits, buttons, flood limits."""

from __future__ import annotations

import copy
import time
from typing import Any

from bot.sandbox.fake_api.html_text import ParseError, parse_html, utf16_len
from bot.sandbox.fake_api.params import Upload
from bot.sandbox.fake_api.state import (
    MAX_CALLBACK_DATA,
    MAX_CAPTION,
    MAX_TEXT,
    ApiError,
    Chat,
    Json,
    State,
    bad_request,
)


class MessageMethods(State):
    """The message methods and the checks on a message's chat, text, caption and buttons."""

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
