"""A staff relabel is stored as a label and `train --with-labels` trains on it."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import select

from bot.app.cli import stored_labels
from bot.core.services import Services
from bot.sandbox.fake_api import FakeBotApi
from bot.sandbox.harness import LocalBot
from nlp import train as training
from nlp.labels import set_label_source
from storage.models import Label
from tests.support import STAFF_CHAT_ID, send, staff_member

TEXT = "the router you sent me drops the wifi every night, make one that works in every room"


async def test_a_relabel_is_stored_and_trained_on(
    fake_api: FakeBotApi, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    staff = staff_member(fake_api)
    customer = fake_api.new_user("Tom")
    async with LocalBot(services) as bot:
        await send(bot, fake_api.send_text(customer, TEXT))
        card = fake_api.messages_to(STAFF_CHAT_ID)[0]
        await send(bot, fake_api.press_button(staff, card, "t:kind:1:idea"))
    async with services.db.session() as session:
        labels = (await session.exec(select(Label))).all()
    assert [(lb.field, lb.value, lb.source) for lb in labels] == [("kind", "idea", "staff")]

    monkeypatch.setenv("DATABASE_URL", services.db.url)
    assert (TEXT, "idea") in await asyncio.to_thread(stored_labels)

    said: list[str] = []
    set_label_source(stored_labels)
    try:
        records, _ = await asyncio.to_thread(
            training.load_data, training.load_settings(), with_labels=True, progress=said.append
        )
    finally:
        set_label_source(None)
    assert any(r.text == TEXT and r.kind == "idea" for r in records)
    assert "extra train 1" in said[-1]
