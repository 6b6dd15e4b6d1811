"""Alembic owns the schema: migrate builds it on an empty database, and again changes nothing."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect
from sqlmodel import SQLModel

from storage.db import Database
from storage.migrate import current_revision, head_revision, upgrade_to_head
from tests.support import create_empty_database


async def test_migrate_creates_schema_then_is_a_no_op(tmp_path: Path) -> None:
    db = Database(await create_empty_database(tmp_path))
    try:
        assert await current_revision(db) is None
        applied = await upgrade_to_head(db)
        assert applied and applied[-1] == head_revision()
        assert await current_revision(db) == head_revision()
        async with db.engine.connect() as conn:
            tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        assert set(SQLModel.metadata.tables) <= tables
        assert await upgrade_to_head(db) == []
    finally:
        await db.dispose()


async def test_models_match_the_migrations(tmp_path: Path) -> None:
    """The tables as migrated are the tables the models describe: no missing migration."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    db = Database(await create_empty_database(tmp_path))
    try:
        await upgrade_to_head(db)
        async with db.engine.connect() as conn:
            diff = await conn.run_sync(
                lambda c: compare_metadata(MigrationContext.configure(c), SQLModel.metadata)
            )
        assert diff == []
    finally:
        await db.dispose()
