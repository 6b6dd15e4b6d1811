"""The dashboard's signed links, without a browser: they name their user until they expire,
refuse any alteration, and are signed with a secret derived from the bot token."""

from __future__ import annotations

import base64
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from pydantic import SecretStr

from bot.core.services import Services
from bot.core.settings import ConfigError
from bot.web.dashboard.links import ExpiredLink, InvalidLink, dashboard_secret, sign, verify
from bot.web.dashboard.routes import dashboard_link
from tests.support import MANAGER_ID
from tests.support.dataset import END

SECRET = b"k" * 32


def test_a_signed_link_names_its_user_until_it_expires() -> None:
    expires = END + timedelta(hours=1)
    token = sign(MANAGER_ID, expires, SECRET)
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
    assert verify(token, SECRET, END) == MANAGER_ID
    assert verify(token, SECRET, expires - timedelta(seconds=1)) == MANAGER_ID
    for later in (expires, expires + timedelta(days=1)):
        with pytest.raises(ExpiredLink):
            verify(token, SECRET, later)


def test_altered_or_foreign_tokens_are_invalid_not_expired() -> None:
    token = sign(MANAGER_ID, END + timedelta(hours=1), SECRET)
    payload, signature = token.split(".")
    forged_payload = base64.urlsafe_b64encode(
        f"v1:{MANAGER_ID + 1}:{int((END + timedelta(days=30)).timestamp())}".encode()
    )
    flipped = signature[:5] + ("A" if signature[5] != "A" else "B") + signature[6:]
    # base64 ignores the two spare bits of the last character: another spelling, same bytes.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    respelled = signature[:-1] + alphabet[alphabet.index(signature[-1]) ^ 1]
    assert base64.urlsafe_b64decode(respelled + "=") == base64.urlsafe_b64decode(signature + "=")
    bad = [
        "",
        "nonsense",
        ".",
        f"{payload}.",
        f"{payload}.{flipped}",
        f"{payload}.{respelled}",
        f"{forged_payload.decode().rstrip('=')}.{signature}",
        f"{payload}={'.'}{signature}",
        f"{payload}.{signature}=",
        f"{payload}.{signature}.x",
        token + "A",
        token.upper(),
    ]
    for candidate in bad:
        with pytest.raises(InvalidLink) as caught:
            verify(candidate, SECRET, END)
        assert not isinstance(caught.value, ExpiredLink), candidate
    with pytest.raises(InvalidLink):
        verify(token, b"another secret", END)
    # An expired token that was also altered is refused as invalid: the signature comes first.
    expired = sign(MANAGER_ID, END - timedelta(hours=1), SECRET)
    with pytest.raises(InvalidLink) as caught:
        verify(expired[:-3] + ("AAA" if expired[-3:] != "AAA" else "BBB"), SECRET, END)
    assert not isinstance(caught.value, ExpiredLink)


def test_the_secret_is_derived_from_the_bot_token(services: Services) -> None:
    settings = services.settings
    secret = dashboard_secret(settings)
    assert len(secret) == 32
    assert settings.require_token().encode() not in secret
    other = settings.model_copy(update={"telegram_bot_token": SecretStr("654321:" + "x" * 30)})
    assert dashboard_secret(other) != secret
    with pytest.raises(ConfigError, match="TELEGRAM_BOT_TOKEN"):
        dashboard_secret(settings.model_copy(update={"telegram_bot_token": None}))


def test_a_dashboard_link_points_at_the_page(services: Services) -> None:
    link = dashboard_link("https://bot.example/", MANAGER_ID, services.settings, END)
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "bot.example", "/dashboard")
    token = parse_qs(parts.query)["token"][0]
    secret = dashboard_secret(services.settings)
    assert verify(token, secret, END + timedelta(minutes=59)) == MANAGER_ID
    with pytest.raises(ExpiredLink):
        verify(token, secret, END + timedelta(hours=1))
