"""What Telegram's errors say, read the same way everywhere."""

from __future__ import annotations

from telegram.error import RetryAfter


def retry_after_seconds(error: RetryAfter) -> float:
    """How long flood control asks to wait: PTB gives an int or a timedelta depending on its
    settings (PTB_TIMEDELTA), this is seconds either way."""
    value: object = error.retry_after
    total = getattr(value, "total_seconds", None)
    return float(total()) if callable(total) else float(value)  # type: ignore[arg-type]
