"""Schema migrations: Alembic owns the schema; this module runs it from code and the CLI."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from storage.db import Database

log = logging.getLogger(__name__)
_MIGRATIONS = Path(__file__).parent / "migrations"
# Any constant works; it keeps two processes from migrating one PostgreSQL at the same time.
_PG_LOCK_KEY = 0x6662_6F74


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations."""
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def upgrade_to_head(database: Database) -> list[str]:
    """Bring the schema up to date; return the revisions applied (none when already there)."""
    async with database.engine.begin() as conn:
        return await conn.run_sync(_upgrade)


async def current_revision(database: Database) -> str | None:
    """The revision the database is at, or None when it has no schema yet."""
    async with database.engine.connect() as conn:
        return await conn.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )


def head_revision() -> str | None:
    """The newest revision shipped with the code."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _upgrade(connection: Connection) -> list[str]:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
    before = MigrationContext.configure(connection).get_current_revision()
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
    after = MigrationContext.configure(connection).get_current_revision()
    if before == after:
        return []
    script = ScriptDirectory.from_config(config)
    applied = [rev.revision for rev in script.iterate_revisions(after, before)]
    log.info("migrated %s -> %s", before or "empty", after)
    return list(reversed(applied))
