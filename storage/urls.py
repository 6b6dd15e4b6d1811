"""Database URLs: accept what hosting platforms hand out, return what the async drivers need."""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

_SQLITE = {"sqlite", "sqlite+aiosqlite"}
_POSTGRES = {
    "postgres",
    "postgresql",
    "postgresql+asyncpg",
    "postgresql+psycopg2",
    "postgresql+psycopg",
}


class DatabaseUrlError(ValueError):
    """A DATABASE_URL that cannot be used."""


def normalise_database_url(raw: str) -> str:
    """Return the URL with the async driver: sqlite+aiosqlite or postgresql+asyncpg."""
    text = raw.strip()
    try:
        url = make_url(text)
    except ArgumentError:
        raise DatabaseUrlError(
            "is not a database URL; use sqlite:///feedbackbot.db or "
            "postgresql://user:password@host:5432/dbname"
        ) from None
    driver = url.drivername.lower()
    if driver in _SQLITE:
        return url.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False)
    if driver in _POSTGRES:
        if not url.host and not url.query.get("host"):
            raise DatabaseUrlError("has no host; use postgresql://user:password@host:5432/dbname")
        if not url.database:
            raise DatabaseUrlError("has no database name after the host")
        return _asyncpg_url(url).render_as_string(hide_password=False)
    raise DatabaseUrlError(
        f"has the unsupported scheme {url.drivername!r}; use sqlite:/// or postgresql://"
    )


def _asyncpg_url(url: URL) -> URL:
    # Platforms append libpq's sslmode, which asyncpg does not know; it takes ssl= instead.
    query = dict(url.query)
    sslmode = query.pop("sslmode", None)
    if sslmode is not None and "ssl" not in query:
        query["ssl"] = sslmode
    return url.set(drivername="postgresql+asyncpg", query=query)


def is_sqlite(url: str) -> bool:
    """Whether the URL points at SQLite."""
    return make_url(url).get_backend_name() == "sqlite"


def redact(url: str) -> str:
    """The URL with its password hidden, for logs."""
    return make_url(url).render_as_string(hide_password=True)


def database_password(url: str) -> str | None:
    """The URL's password, to be masked wherever it might be printed; None if it has none."""
    try:
        password = make_url(url).password
    except ArgumentError:
        return None
    return str(password) if password else None
