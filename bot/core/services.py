"""The one typed object handed to every part of the bot: settings, database, model, clock."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from bot.core.clock import Clock, SystemClock
from bot.core.settings import Settings
from bot.core.triage import TriageService
from bot.i18n import Catalog
from nlp import load_triager
from storage.db import Database
from storage.migrate import upgrade_to_head

log = logging.getLogger(__name__)


@dataclass
class Services:
    """Everything a handler or job needs, built once per process."""

    settings: Settings
    db: Database
    triage: TriageService
    clock: Clock
    catalog: Catalog


@asynccontextmanager
async def open_services(
    settings: Settings,
    *,
    clock: Clock | None = None,
    migrate: bool = False,
    model_dir: Path | None = None,
) -> AsyncIterator[Services]:
    """Build the services, and close what they opened when the block ends."""
    db = Database(settings.database_url)
    triage = TriageService(load_triager(model_dir))
    try:
        await db.check()
        if migrate:
            await upgrade_to_head(db)
        yield Services(
            settings=settings,
            db=db,
            triage=triage,
            clock=clock or SystemClock(),
            catalog=Catalog(settings.default_language),
        )
    finally:
        triage.close()
        await db.dispose()
