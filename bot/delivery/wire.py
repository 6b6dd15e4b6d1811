"""A stored call as it goes to Telegram: the methods the bot calls, files kept in a row and
turned back into uploads, and what Telegram's answers mean for the row."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from telegram import InputFile
from telegram.constants import ParseMode
from telegram.error import TelegramError

# The Bot API methods the bot makes through the outbox.
METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "copyMessage",
        "createForumTopic",
        "editForumTopic",
        "closeForumTopic",
        "reopenForumTopic",
        "editMessageText",
        "editMessageReplyMarkup",
    }
)
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
    """The ids in Telegram's answer (a Message, a MessageId, a ForumTopic, as JSON or as
    python-telegram-bot's object; True has none)."""
    found: dict[str, int] = {}
    for name in ("message_id", "message_thread_id"):
        value = result.get(name) if isinstance(result, Mapping) else getattr(result, name, None)
        if isinstance(value, int) and not isinstance(value, bool):
            found[name] = value
    return found


def not_modified(exc: TelegramError) -> bool:
    """Telegram's answer to an edit that changes nothing."""
    text = str(exc).lower().replace("_", " ")
    return "not modified" in text


def api_params(method: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The Bot API parameters of a stored call (notes, "_…", left out; a file as an upload):
    replies that still go out if the message replied to is gone, HTML, no link previews."""
    api: dict[str, Any] = {
        k: v
        for k, v in params.items()
        if not k.startswith("_") and k not in {"reply_to", "reply_markup"}
    }
    for file_param in _FILE_PARAMS:
        if file_param in api:
            api[file_param] = _input_file(api[file_param])
    if params.get("reply_to"):
        api["reply_parameters"] = {
            "message_id": params["reply_to"],
            "allow_sending_without_reply": True,
        }
    if params.get("reply_markup"):  # none: no keyboard (an edit takes it away)
        api["reply_markup"] = params["reply_markup"]
    if method in _HTML:
        api["parse_mode"] = ParseMode.HTML.value
    if method == "sendMessage":
        api["link_preview_options"] = {"is_disabled": True}
    return api
