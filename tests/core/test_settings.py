"""Settings: read from the environment, each error naming its variable."""

from __future__ import annotations

import pytest

from bot.core.settings import ConfigError, load_settings


def test_defaults_give_a_local_sqlite_bot(no_env: None) -> None:
    settings = load_settings(_env_file=None)
    assert settings.database_url == "sqlite+aiosqlite:///feedbackbot.db"
    assert settings.telegram_api_base_url == "https://api.telegram.org/bot"
    assert settings.sla_minutes == 60
    assert settings.manager_ids == frozenset()
    # Only this machine unless HOST says otherwise (a platform's web process: 0.0.0.0).
    assert settings.host == "127.0.0.1"
    assert settings.metrics_token is None


def test_environment_values_are_parsed(no_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db.internal:5432/app?sslmode=require")
    monkeypatch.setenv("MANAGER_IDS", "12, 34,56")
    monkeypatch.setenv("STAFF_CHAT_ID", "-1001234")
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", "http://127.0.0.1:8081/bot/")
    settings = load_settings(_env_file=None)
    assert settings.database_url == "postgresql+asyncpg://u:p@db.internal:5432/app?ssl=require"
    assert settings.manager_ids == frozenset({12, 34, 56})
    assert settings.staff_chat_id == -1001234
    assert settings.telegram_api_base_url == "http://127.0.0.1:8081/bot"


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("DATABASE_URL", "mysql://a@b/c", "unsupported scheme"),
        ("DATABASE_URL", "not a url", "not a database URL"),
        ("MANAGER_IDS", "12,abc", "numeric user ids"),
        ("SLA_MINUTES", "0", "greater than or equal to 1"),
        ("TIMEZONE", "Mars/Olympus", "IANA time zone"),
        ("DEFAULT_LANGUAGE", "fr", "one of en, it"),
        ("WEBHOOK_SECRET", "has spaces!", "A-Z, a-z, 0-9"),
        ("METRICS_TOKEN", "not a token!", "A-Z, a-z, 0-9"),
        ("TELEGRAM_BOT_TOKEN", "nonsense", "BotFather"),
        ("PORT", "70000", "less than or equal to 65535"),
    ],
)
def test_each_error_names_the_variable(
    no_env: None, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, says: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings(_env_file=None)
    assert f"{variable}: " in str(caught.value)
    assert says in str(caught.value)


def test_missing_token_explains_botfather_and_demo(no_env: None) -> None:
    settings = load_settings(_env_file=None)
    with pytest.raises(ConfigError) as caught:
        settings.require_token()
    message = str(caught.value)
    assert "TELEGRAM_BOT_TOKEN" in message
    assert "@BotFather" in message
    assert "feedbackbot demo" in message


def test_secret_token_is_not_shown_in_repr(no_env: None) -> None:
    token = "123456:ABCdefGHIjklMNOpqrSTUvwxYZ012345"
    settings = load_settings(telegram_bot_token=token, _env_file=None)
    assert token not in repr(settings)
    assert settings.require_token() == token


def test_every_language_has_every_text() -> None:
    from bot.i18n import Catalog, _load

    catalog = Catalog()
    keys = {language: set(_load(language)) for language in catalog.languages}
    assert {"en", "it"} <= set(keys)
    for language, found in keys.items():
        assert found == keys["en"], f"{language}: missing {sorted(keys['en'] - found)}"


def test_every_plural_text_has_the_forms_its_language_needs() -> None:
    from babel import Locale

    from bot.i18n import PLURAL_FORMS, Catalog, _load

    catalog = Catalog()
    english = _load("en")
    plural = {key for key, text in english.items() if not isinstance(text, str)}
    assert {"ack.care_new", "staff.backlog_digest"} <= plural
    for language in catalog.languages:
        needed = set(Locale.parse(language).plural_form.tags) | {"other"}
        for key, text in _load(language).items():
            if isinstance(text, str):
                # One form is enough only where the language has no plural forms at all.
                assert key not in plural or needed == {"other"}, f"{language}: {key} has no forms"
                continue
            assert set(text) <= PLURAL_FORMS, f"{language}: {key} has {sorted(text)}"
            missing = needed - set(text)
            assert not missing, f"{language}: {key} lacks the forms {sorted(missing)}"
            assert all("{count}" in form for form in text.values() if form != text.get("one")), (
                f"{language}: {key} does not show its count"
            )
