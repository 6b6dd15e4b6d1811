"""A stored call as python-telegram-bot makes it: the methods the bot calls, files kept in a
row and turned back into uploads, and what Telegram's answers mean for the row."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from telegram import Bot, InlineKeyboardMarkup, InputFile, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import TelegramError

# The Bot API methods the bot calls, and python-telegram-bot's names for them.
METHODS = {
    "sendMessage": "send_message",
    "sendPhoto": "send_photo",
    "sendDocument": "send_document",
    "copyMessage": "copy_message",
    "createForumTopic": "create_forum_topic",
    "editForumTopic": "edit_forum_topic",
    "closeForumTopic": "close_forum_topic",
    "reopenForumTopic": "reopen_forum_topic",
    "editMessageText": "edit_message_text",
    "editMessageReplyMarkup": "edit_message_reply_markup",
}
# Calls that change something already there: "not modified" means it is as asked, done.
CHANGES = frozenset(
    {
        "editForumTopic",
        "closeForumTopic",
        "reopenForumTopic",
        "editMessageText",
        "editMessageReplyMarkup",
    }
)
_FILE_PARAMS = ("photo", "document")
_HTML = frozenset({"sendMessage", "editMessageText"})


def upload(data: bytes, filename: str) -> dict[str, Any]:
    """A file as a parameter of a stored call: its text when it is UTF-8 (a CSV, a JSON
    export: /forget finds the names in it like in any payload), else its bytes in base64."""
    try:
        return {"upload": {"filename": filename, "text": data.decode("utf-8")}}
    except UnicodeDecodeError:
        return {"upload": {"filename": filename, "base64": base64.b64encode(data).decode()}}


def _input_file(value: Any) -> Any:
    if not isinstance(value, dict) or "upload" not in value:
        return value  # a file_id
    spec = value["upload"]
    data = spec["text"].encode("utf-8") if "text" in spec else base64.b64decode(spec["base64"])
    return InputFile(data, filename=spec["filename"])


def without_files(params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters as a dead letter keeps them: a file by its name and size only."""
    kept = dict(params)
    for name in _FILE_PARAMS:
        value = kept.get(name)
        if isinstance(value, dict) and "upload" in value:
            spec = value["upload"]
            size = len(spec.get("text", "")) or len(spec.get("base64", "")) * 3 // 4
            kept[name] = {"filename": spec["filename"], "bytes": size}
    return kept


def ids(result: object) -> dict[str, int]:
    """The ids Telegram returned (a Message, a MessageId, a ForumTopic; True has none)."""
    found: dict[str, int] = {}
    for name in ("message_id", "message_thread_id"):
        value = getattr(result, name, None)
        if isinstance(value, int) and not isinstance(value, bool):
            found[name] = value
    return found


def not_modified(exc: TelegramError) -> bool:
    """Telegram's answer to an edit that changes nothing."""
    text = str(exc).lower().replace("_", " ")
    return "not modified" in text


def arguments(bot: Bot, method: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """python-telegram-bot's keyword arguments for a stored call (notes, "_…", left out)."""
    kwargs: dict[str, Any] = {
        k: v
        for k, v in params.items()
        if not k.startswith("_") and k not in {"reply_to", "reply_markup"}
    }
    for file_param in _FILE_PARAMS:
        if file_param in kwargs:
            kwargs[file_param] = _input_file(kwargs[file_param])
    if params.get("reply_to"):
        kwargs["reply_parameters"] = ReplyParameters(
            message_id=params["reply_to"], allow_sending_without_reply=True
        )
    if "reply_markup" in params:
        markup = params["reply_markup"]
        kwargs["reply_markup"] = InlineKeyboardMarkup.de_json(markup, bot) if markup else None
    if method in _HTML:
        kwargs["parse_mode"] = ParseMode.HTML
    if method == "sendMessage":
        kwargs["disable_web_page_preview"] = True
    return kwargs
