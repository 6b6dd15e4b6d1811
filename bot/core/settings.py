"""Settings: read once from the environment (and an optional .env), validated, typed."""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from storage.urls import DatabaseUrlError, normalise_database_url

DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"
# Telegram accepts 1-256 characters of A-Z, a-z, 0-9, _ and - as a webhook secret token.
_SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_BOT_TOKEN = re.compile(r"^\d+:[A-Za-z0-9_-]{20,}$")
SUPPORTED_LANGUAGES = ("en", "it")


class ConfigError(Exception):
    """A configuration problem an operator can fix; the message names the variable."""


class Settings(BaseSettings):
    """Every setting of the service; names match the environment variables."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = DEFAULT_API_BASE_URL
    database_url: str = "sqlite:///feedbackbot.db"
    staff_chat_id: int | None = None
    manager_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    sla_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
    timezone: str = "UTC"
    default_language: str = "en"
    webhook_url: str | None = None
    dashboard_url: str | None = None
    webhook_secret: SecretStr | None = None
    port: int = Field(default=8080, ge=1, le=65535)
    team_name: str = Field(default="Customer care team", min_length=1, max_length=64)
    triage_min_confidence: float = Field(default=0.55, ge=0.0, le=1.0)
    note_prefix: str = Field(default="!", min_length=1, max_length=8)
    show_staff_names: bool = False
    flood_limit_per_minute: int = Field(default=6, ge=1, le=1000)
    # Keep under Telegram's limits (30 messages/s, 20/min per group) by waiting; off only for
    # a local server that has no limits (the demo).
    rate_limit: bool = True
    # Past this many messages a minute to one staff chat (Telegram allows 20, and opening a
    # ticket's topic counts too), new tickets wait and are announced together in a digest;
    # their cards follow as the limit allows.
    staff_burst_per_minute: int = Field(default=10, ge=1, le=1000)
    digest_time: str = Field(default="08:30", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    spike_min_count: int = Field(default=5, ge=1, le=100000)
    # Only this machine unless asked: a platform's web process sets HOST=0.0.0.0 for its router.
    host: str = "127.0.0.1"
    # When set, GET /metrics needs "Authorization: Bearer <METRICS_TOKEN>".
    metrics_token: SecretStr | None = None
    sla_check_seconds: int = Field(default=60, ge=1, le=3600)
    # A process renews its claims while it lives: a dead one's work is taken over this soon.
    inbox_lease_seconds: int = Field(default=10, ge=1, le=3600)
    # This many alike care requests within the window open one incident (0: never).
    incident_min_reports: int = Field(default=5, ge=0, le=100000)
    incident_window_minutes: int = Field(default=15, ge=1, le=24 * 60)
    # Raw updates and outgoing payloads hold names and texts: kept this long once handled.
    payload_retention_hours: int = Field(default=24, ge=1, le=24 * 365)
    topic_routes: Annotated[dict[str, int], NoDecode] = Field(default_factory=dict)
    # A new ticket that answers match waits this long for the customer's "solved" or "a person"
    # before its card goes to staff anyway.
    self_service_wait_minutes: int = Field(default=10, ge=1, le=24 * 60)
    # Similarity an answer needs to be suggested; chosen on bench/data/answers/ by
    # bench/answers_threshold.py (best recall with precision >= 0.9 and <= 5% false suggestions).
    answer_match_threshold: float = Field(default=0.4, gt=0.0, le=1.0)

    @field_validator("telegram_bot_token", mode="before")
    @classmethod
    def _token_shape(cls, value: Any) -> Any:
        if value in (None, ""):
            return None
        if not _BOT_TOKEN.match(str(value).strip()):
            raise ValueError("does not look like a bot token from BotFather (digits:letters)")
        return str(value).strip()

    @field_validator("telegram_api_base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http(s) URL such as http://127.0.0.1:8081/bot")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        try:
            return normalise_database_url(value)
        except DatabaseUrlError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("manager_ids", mode="before")
    @classmethod
    def _manager_ids(cls, value: Any) -> Any:
        if isinstance(value, str):
            parts = [p.strip() for p in value.split(",") if p.strip()]
            bad = [p for p in parts if not re.fullmatch(r"-?\d+", p)]
            if bad:
                raise ValueError(f"must be comma-separated numeric user ids; not numbers: {bad}")
            return frozenset(int(p) for p in parts)
        return value

    @field_validator("topic_routes", mode="before")
    @classmethod
    def _topic_routes(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        routes: dict[str, int] = {}
        for part in (p.strip() for p in value.split(",") if p.strip()):
            topic, sep, chat = part.partition("=")
            if not sep or not re.fullmatch(r"-?\d+", chat.strip()) or not topic.strip():
                raise ValueError(
                    f"must look like billing=-100123,network=-100456; {part!r} does not"
                )
            routes[topic.strip()] = int(chat)
        return routes

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("must be an IANA time zone name such as Europe/Rome or UTC") from None
        return value

    @field_validator("default_language")
    @classmethod
    def _language(cls, value: str) -> str:
        value = value.strip().lower()
        if value not in SUPPORTED_LANGUAGES:
            raise ValueError(f"must be one of {', '.join(SUPPORTED_LANGUAGES)}")
        return value

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be the public https URL Telegram posts updates to")
        return value

    @field_validator("metrics_token", mode="before")
    @classmethod
    def _metrics_token(cls, value: Any) -> Any:
        if value in (None, ""):
            return None
        if not _SECRET_TOKEN.match(str(value)):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("webhook_secret", mode="before")
    @classmethod
    def _webhook_secret(cls, value: Any) -> Any:
        if value in (None, ""):
            return None
        if not _SECRET_TOKEN.match(str(value)):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    def staff_chat_for(self, topic: str) -> int | None:
        """The staff chat a ticket of this topic goes to."""
        return self.topic_routes.get(topic, self.staff_chat_id)

    @property
    def staff_chats(self) -> frozenset[int]:
        """Every staff chat: the default one and those topics are routed to."""
        chats = set(self.topic_routes.values())
        if self.staff_chat_id is not None:
            chats.add(self.staff_chat_id)
        return frozenset(chats)

    @property
    def public_base_url(self) -> str:
        """Where managers reach the web pages: DASHBOARD_URL, else WEBHOOK_URL's origin, else
        this machine's PORT (the local `run`)."""
        if self.dashboard_url:
            return self.dashboard_url.rstrip("/")
        if self.webhook_url:
            parts = urlsplit(self.webhook_url)
            return f"{parts.scheme}://{parts.netloc}"
        return f"http://127.0.0.1:{self.port}"

    @property
    def zone(self) -> ZoneInfo:
        """The configured time zone."""
        return ZoneInfo(self.timezone)

    def require_token(self) -> str:
        """The bot token, or a ConfigError that says how to get one."""
        if self.telegram_bot_token is None:
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN is not set.\n"
                "  Get a token: open Telegram, talk to @BotFather, send /newbot and follow the\n"
                "  steps; then export TELEGRAM_BOT_TOKEN=<token> (or put it in .env).\n"
                "  To see the bot work without Telegram, try: feedbackbot demo"
            )
        return self.telegram_bot_token.get_secret_value()


def load_settings(**overrides: Any) -> Settings:
    """Read and validate the settings; raise ConfigError naming each bad variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            name = str(error["loc"][0]).upper() if error["loc"] else "settings"
            message = str(error["msg"]).removeprefix("Value error, ")
            lines.append(f"  {name}: {message}")
        raise ConfigError("Configuration error:\n" + "\n".join(lines)) from None
