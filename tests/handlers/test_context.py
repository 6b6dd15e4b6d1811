"""The handlers' context: the services from the Application, and a customer's language read
from the database once per update, however many handlers ask for it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from telegram import Update, User
from telegram.ext import Application, MessageHandler, filters

from bot.app.application import build_bot
from bot.core.services import Services
from bot.handlers.context import CONTEXT_TYPES, SERVICES_KEY, UpdateContext
from bot.sandbox.fake_api import FakeBotApi
from storage.customers import SeenCustomer, upsert_customers


def _update(update_id: int, user_id: int, language_code: str) -> Update:
    user = {"id": user_id, "is_bot": False, "first_name": "Ada", "language_code": language_code}
    return Update.de_json(
        {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": 0,
                "chat": {"id": user_id, "type": "private"},
                "from": user,
                "text": "hello",
            },
        },
        None,
    )


async def test_a_customer_language_is_read_once_per_update(
    services: Services, fake_api: FakeBotApi
) -> None:
    async with services.db.session() as session:
        await upsert_customers(
            session=session,
            seen=[
                SeenCustomer(
                    telegram_user_id=501,
                    first_name="Ada",
                    last_name=None,
                    username=None,
                    language="it",
                )
            ],
            now=services.clock.now(),
        )
    application = (
        Application.builder()
        .bot(build_bot(services.settings))
        .updater(None)
        .context_types(CONTEXT_TYPES)
        .build()
    )
    application.bot_data[SERVICES_KEY] = services
    heard: list[tuple[int, str]] = []

    async def ask(update: Update, context: UpdateContext) -> None:
        assert context.services is services
        user = update.effective_user
        assert isinstance(user, User)
        heard.append((update.update_id, await context.customer_language(user)))
        heard.append((update.update_id, await context.customer_language(user)))

    # Two handlers in two groups take the same update: one context, one read.
    application.add_handler(MessageHandler(filters.TEXT, ask), group=0)
    application.add_handler(MessageHandler(filters.TEXT, ask), group=1)
    reads: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "customer" in statement:
            reads.append(statement)

    for engine in services.db.engines:
        event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        async with application:
            await application.process_update(_update(1, 501, "en"))  # stored: Italian
            await application.process_update(_update(2, 777, "it"))  # unknown: the app's
            await application.process_update(_update(3, 778, "de"))  # no catalog: default
    finally:
        for engine in services.db.engines:
            event.remove(engine.sync_engine, "before_cursor_execute", count)
    default = services.settings.default_language
    assert heard == [(1, "it")] * 4 + [(2, "it")] * 4 + [(3, default)] * 4
    assert len(reads) == 3  # one per update, not one per ask
