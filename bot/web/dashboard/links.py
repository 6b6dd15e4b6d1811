"""Signed, expiring dashboard links: whoever holds the link sees the numbers until it expires.

A token is `base64url("v1:<user id>:<expiry, unix seconds>")` + "." + `base64url(HMAC-SHA256)`
of that payload, both without padding. The signature is checked (in constant time) before
anything in the payload is believed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from datetime import UTC, datetime

from bot.core.settings import ConfigError, Settings

_VERSION = "v1"
_PAYLOAD = re.compile(r"^v1:(-?\d{1,20}):(\d{1,12})$")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,200}\.[A-Za-z0-9_-]{43}$")


class InvalidLink(Exception):
    """The link cannot be trusted: malformed, altered or signed with another secret."""

    reason = "invalid"


class ExpiredLink(InvalidLink):
    """The link was genuine but its time is up."""

    reason = "expired"


def dashboard_secret(settings: Settings) -> bytes:
    """The key that signs dashboard links, derived from the bot token.

    A derived key means the token itself never signs anything a browser sees, and changing the
    bot token (after a leak) also invalidates every link handed out.
    """
    if settings.telegram_bot_token is None:
        raise ConfigError(
            "TELEGRAM_BOT_TOKEN is not set; dashboard links are signed with a key derived from it"
        )
    token = settings.telegram_bot_token.get_secret_value().encode()
    return hmac.new(token, b"dashboard", hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(payload: bytes, secret: bytes) -> bytes:
    return hmac.new(secret, payload, hashlib.sha256).digest()


def sign(user_id: int, expires_at: datetime, secret: bytes) -> str:
    """A token for this user, valid until `expires_at` (an aware datetime)."""
    if expires_at.tzinfo is None:
        raise ValueError("expires_at must be an aware datetime")
    expiry = int(expires_at.timestamp())
    if expiry < 0:
        raise ValueError("expires_at is before 1970")
    payload = f"{_VERSION}:{int(user_id)}:{expiry}".encode("ascii")
    return f"{_b64(payload)}.{_b64(_signature(payload, secret))}"


def verify(token: str, secret: bytes, now: datetime) -> int:
    """The user id a genuine, unexpired token was signed for; InvalidLink or ExpiredLink if not."""
    if not isinstance(token, str) or not _TOKEN.match(token):
        raise InvalidLink("malformed token")
    encoded_payload, encoded_signature = token.split(".")
    try:
        payload = _unb64(encoded_payload)
        given = _unb64(encoded_signature)
    except (binascii.Error, ValueError):
        raise InvalidLink("malformed token") from None
    # base64 ignores the spare bits of its last character; a token is only its one spelling.
    if _b64(payload) != encoded_payload or _b64(given) != encoded_signature:
        raise InvalidLink("malformed token")
    if not hmac.compare_digest(given, _signature(payload, secret)):
        raise InvalidLink("bad signature")
    match = _PAYLOAD.match(payload.decode("ascii", errors="replace"))
    if match is None:
        raise InvalidLink("malformed payload")
    user_id, expiry = int(match.group(1)), int(match.group(2))
    if now.astimezone(UTC).timestamp() >= expiry:
        raise ExpiredLink("expired")
    return user_id
