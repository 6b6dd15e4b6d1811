"""Logging for the service: one format, and no secret in any record at any level.

python-telegram-bot, httpx and aiohttp put the bot token (it is part of every Bot API URL) and
the webhook secret (a setWebhook parameter) into their messages, debug logs and exceptions.
One filter on the root handlers rewrites every record that passes, whoever logged it.

With LOG_FORMAT=json each record is one JSON object a line. While an update is processed, every
record (whoever logs it, in whichever task the processing spawns) carries its ``update_id`` and
``chat_id``: ``with update_context(update_id, chat_id): ...`` around the processing.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from urllib.parse import quote

MASK = "***"
# A secret this short would mask ordinary words; tokens and webhook secrets are far longer.
MIN_SECRET_CHARS = 6


class SecretFilter(logging.Filter):
    """Replaces each known secret with *** in a record's message, arguments and exception."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: list[str] = []

    def add(self, secrets: Iterable[str | None]) -> None:
        """Mask these too (as written and URL-encoded); empty or very short ones are skipped."""
        for secret in secrets:
            if not secret or len(secret) < MIN_SECRET_CHARS:
                continue
            for form in (secret, quote(secret, safe="")):
                if form not in self._secrets:
                    self._secrets.append(form)
        self._secrets.sort(key=len, reverse=True)  # a secret inside another: the longer first

    def redact(self, text: str) -> str:
        """The text with every known secret masked."""
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drop it."""
        if not self._secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep what there is, still masked
            message = f"{record.msg} {record.args}"
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = _FORMATTER.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


_FORMATTER = logging.Formatter()
SECRETS = SecretFilter()

# The update being processed, and its chat: set by update_context, read by every record.
UPDATE_ID: ContextVar[int | None] = ContextVar("update_id", default=None)
CHAT_ID: ContextVar[int | None] = ContextVar("chat_id", default=None)


@contextmanager
def update_context(update_id: int | None, chat_id: int | None) -> Iterator[None]:
    """Every record logged inside (and in tasks started inside) names this update and chat."""
    tokens = UPDATE_ID.set(update_id), CHAT_ID.set(chat_id)
    try:
        yield
    finally:
        CHAT_ID.reset(tokens[1])
        UPDATE_ID.reset(tokens[0])


class UpdateContextFilter(logging.Filter):
    """Puts the current update_id and chat_id on each record (None outside an update)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.update_id = UPDATE_ID.get()
        record.chat_id = CHAT_ID.get()
        return True


class TextFormatter(logging.Formatter):
    """One line a record; "[update 123 chat 456]" while an update is processed."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s:%(where)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        update_id, chat_id = getattr(record, "update_id", None), getattr(record, "chat_id", None)
        record.where = (
            f" [update {update_id} chat {chat_id}]"
            if update_id is not None or chat_id is not None
            else ""
        )
        return super().format(record)


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, update_id, chat_id, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in ("update_id", "chat_id"):
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: int, *, json_lines: bool = False) -> None:
    """Log to stderr at ``level`` (as JSON lines if asked) through the secret filter, each record
    with its update; quiet the chattiest libraries."""
    root = logging.getLogger()
    if not root.handlers:
        console = logging.StreamHandler(sys.stderr)
        console.setFormatter(JsonFormatter() if json_lines else TextFormatter())
        root.addHandler(console)
        # Warnings go through the same handler, masked like the rest.
        logging.captureWarnings(True)
    for handler in root.handlers:  # also those of a host that set logging up before us
        # The context first: the secret filter then masks what the formatter will print.
        if not any(isinstance(f, UpdateContextFilter) for f in handler.filters):
            handler.addFilter(UpdateContextFilter())
        if SECRETS not in handler.filters:
            handler.addFilter(SECRETS)
    root.setLevel(level)
    # httpx logs every request URL at INFO, and the URL holds the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)


def mask_secrets(*secrets: str | None) -> None:
    """From now on, these never appear in a log line (or in redact())."""
    SECRETS.add(secrets)


def redact(text: str) -> str:
    """Text with every secret named so far masked: for what is printed, not logged."""
    return SECRETS.redact(text)
