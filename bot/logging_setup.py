"""Logging for the service: one format, and no secret in any record at any level.

python-telegram-bot, httpx and aiohttp put the bot token (it is part of every Bot API URL) and
the webhook secret (a setWebhook parameter) into their messages, debug logs and exceptions.
One filter on the root handlers rewrites every record that passes, whoever logged it.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
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


def configure_logging(level: int) -> None:
    """Log to stderr at ``level`` through the secret filter; quiet the chattiest libraries."""
    root = logging.getLogger()
    if not root.handlers:
        console = logging.StreamHandler(sys.stderr)
        console.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(console)
        # Warnings go through the same handler, masked like the rest.
        logging.captureWarnings(True)
    for handler in root.handlers:  # also those of a host that set logging up before us
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
