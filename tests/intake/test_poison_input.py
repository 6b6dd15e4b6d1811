"""Poison input: one update that cannot be stored or processed is set aside as a dead letter
(with its error, in /metrics and in one log line) and everything behind it goes on."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlmodel import select

from bot.app.application import build_application
from bot.core.services import Services
from bot.intake.inbox import Inbox
from bot.sandbox.fake_api import FakeBotApi
from bot.sandbox.harness import LocalBot
from bot.web.server import build_web_app
from storage.db import Database
from storage.dead_letters import dead_letters
from storage.inbox import highest_update_id, store_updates
from storage.models import DeadLetter, InboxUpdate
from tests.support.web import WEBHOOK_URL, serving, webhook_server

SECRET = "poison-test-secret"
SURROGATE = "\ud800"


async def wait_for(condition: Callable[[], Awaitable[bool]], timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


async def letters(services: Services) -> list[DeadLetter]:
    async with services.db.session() as session:
        return await dead_letters(session=session)


async def inbox_rows(services: Services) -> dict[int, InboxUpdate]:
    async with services.db.session() as session:
        rows = (await session.exec(select(InboxUpdate))).all()
    return {row.update_id: row for row in rows}


def private_text(update_id: int, user_id: int, text: str) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_700_000_000,
            "chat": {"id": user_id, "type": "private", "first_name": "C"},
            "from": {"id": user_id, "is_bot": False, "first_name": "C"},
            "text": text,
            **(
                {"entities": [{"type": "bot_command", "offset": 0, "length": len(text)}]}
                if text.startswith("/")
                else {}
            ),
        },
    }


@pytest.fixture
async def webhook(services: Services) -> AsyncIterator[tuple[str, Inbox]]:
    """The bot's web app on a free port of 127.0.0.1, with its Application started."""
    async with webhook_server(services, SECRET) as served:
        yield served


async def post_raw(base: str, body: bytes) -> aiohttp.ClientResponse:
    async with aiohttp.ClientSession() as http:
        response = await http.post(
            f"{base}/tg/hook",
            data=body,
            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"},
        )
        await response.read()
        return response


# ---------------------------------------------------------------- storing a page


async def test_a_page_with_an_unstorable_update_stores_the_others(services: Services) -> None:
    good = [private_text(10, 1, "hello"), private_text(13, 2, "/start")]
    page = [
        good[0],
        private_text(11, 3, f"broken {SURROGATE} text"),
        {"update_id": True, "message": {}},
        good[1],
    ]
    async with services.db.session() as session:
        new = await store_updates(session=session, updates=page, now=services.clock.now())
    assert new == [10, 13]
    assert sorted(await inbox_rows(services)) == [10, 13]
    aside = {letter.item_id: letter for letter in await letters(services)}
    assert set(aside) == {11, None}
    assert aside[11].kind == "update"
    assert "UnicodeEncodeError" in aside[11].error
    # The raw update is kept, its surrogate made safe: it reads back as the same JSON.
    assert json.loads(aside[11].payload or "") == page[1]
    assert "update_id" in aside[None].error

    # Stored again (a webhook retry, a restart): no second dead letter; polling resumes after it.
    page[1]["update_id"] = 14
    async with services.db.session() as session:
        await store_updates(session=session, updates=page, now=services.clock.now())
        await store_updates(session=session, updates=page, now=services.clock.now())
        assert await highest_update_id(session=session) == 14
    assert sorted(i for i in [x.item_id for x in await letters(services)] if i) == [11, 14]


async def test_polling_sets_a_lone_surrogate_aside_and_goes_on(
    fake_api: FakeBotApi, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    """Telegram sends "\\ud800" as a JSON escape: before, storing the page raised, the poller
    died, and every restart fetched the same page again."""
    alice, bob = fake_api.new_user("Alice"), fake_api.new_user("Bob")
    async with LocalBot(services) as bot:
        bad = fake_api.send_text(alice, f"my modem {SURROGATE} is broken")
        good = fake_api.send_text(bob, "/start")
        await bot.processed(good["update_id"])
        later = fake_api.send_text(bob, "/privacy")
        await bot.processed(later["update_id"])
        # The next getUpdates confirmed the bad one too: Telegram will not send it again.
        assert fake_api.pending_updates == 0
        assert bot.poller is not None
    aside = await letters(services)
    assert [(d.kind, d.item_id) for d in aside] == [("update", bad["update_id"])]
    assert "\\ud800" in (aside[0].payload or "")
    assert bad["update_id"] not in await inbox_rows(services)
    said = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(said) == 1 and said[0].exc_info is None, said
    assert str(bad["update_id"]) in said[0].getMessage()


# ---------------------------------------------------------------- processing stored updates


async def test_an_unreadable_row_does_not_hold_up_the_batch_claimed_with_it(
    fake_api: FakeBotApi, services: Services, webhook: tuple[str, Inbox]
) -> None:
    """A "message" that is not an object made the drain raise before any update of its batch
    was processed; the 60 claimed with it waited for the lease, and then failed again."""
    base, inbox = webhook
    bad = {"update_id": 100, "message": "not an object"}
    # Made by the fake (its customers exist there), stored here: the fake delivers nothing.
    valid = [fake_api.send_text(fake_api.new_user(f"C{n}"), "/privacy") for n in range(60)]
    await inbox.store([bad, *valid])  # stored together: claimed in one batch
    await inbox.drain()
    rows = await inbox_rows(services)
    assert all(rows[u["update_id"]].processed_at is not None for u in valid)
    assert all(rows[u["update_id"]].last_error is None for u in valid)
    assert rows[100].processed_at is not None and "AttributeError" in (rows[100].last_error or "")
    aside = await letters(services)
    assert [(d.kind, d.item_id) for d in aside] == [("update", 100)]
    assert json.loads(aside[0].payload or "") == bad

    async with aiohttp.ClientSession() as http:
        body = await (await http.get(f"{base}/metrics")).text()
    assert 'feedbackbot_dead_letters{kind="update"} 1.0' in body


async def test_an_update_that_raises_while_processing_is_done_and_set_aside(
    fake_api: FakeBotApi,
    services: Services,
    webhook: tuple[str, Inbox],
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, inbox = webhook
    customer = fake_api.new_user("Dora")
    # Its chat can be read, but python-telegram-bot cannot make a Message of it.
    broken = {"update_id": 200, "message": {"chat": {"id": customer["id"], "type": "private"}}}
    after = fake_api.send_text(customer, "/privacy")
    await inbox.store([broken, after])
    caplog.clear()
    await inbox.drain()
    rows = await inbox_rows(services)
    assert rows[200].processed_at is not None and "KeyError" in (rows[200].last_error or "")
    done = rows[after["update_id"]]
    assert done.processed_at is not None and done.last_error is None
    aside = await letters(services)
    assert [(d.item_id, d.error) for d in aside] == [(200, rows[200].last_error)]
    said = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(said) == 1 and said[0].exc_info is None, said


# ---------------------------------------------------------------- the webhook


async def test_the_webhook_answers_200_to_a_poison_update_and_goes_on(
    fake_api: FakeBotApi, services: Services, webhook: tuple[str, Inbox]
) -> None:
    """Before: 500 on every retry, so Telegram held back every update behind it."""
    base, _ = webhook
    customer = fake_api.new_user("Carla")
    bad = fake_api.send_text(customer, f"x{SURROGATE}y")  # queued only: no webhook is set
    behind = fake_api.send_text(customer, "/privacy")
    poison = json.dumps(bad, ensure_ascii=True).encode()
    assert b"\\ud800" in poison
    response = await post_raw(base, poison)
    assert response.status == 200
    again = await post_raw(base, poison)  # a retry all the same changes nothing
    assert again.status == 200
    following = await post_raw(base, json.dumps(behind).encode())
    assert following.status == 200

    async def done() -> bool:
        row = (await inbox_rows(services)).get(behind["update_id"])
        return row is not None and row.processed_at is not None

    await wait_for(done)
    assert bad["update_id"] not in await inbox_rows(services)
    assert [(d.kind, d.item_id) for d in await letters(services)] == [("update", bad["update_id"])]
    # The customer behind it got the answer.
    await wait_for(lambda: _true(fake_api.messages_to(customer["id"])))


async def _true(value: object) -> bool:
    return bool(value)


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(
    "body",
    [
        b'{"update_id": true, "message": {}}',
        b'{"update_id": -5, "message": {}}',
        b'{"update_id": 18446744073709551616, "message": {}}',
        b'{"update_id": ' + b"9" * 5000 + b"}",
        ('{"update_id": 1, "x": ' + nested(10_000) + "}").encode(),
        ('{"update_id": 2, "x": ' + nested(40) + "}").encode(),
        b"[1, 2]",
    ],
    ids=["bool", "negative", "beyond-64-bit", "5000-digits", "10000-deep", "40-deep", "list"],
)
async def test_the_webhook_refuses_what_is_no_update_with_400(
    services: Services,
    webhook: tuple[str, Inbox],
    caplog: pytest.LogCaptureFixture,
    body: bytes,
) -> None:
    base, _ = webhook
    caplog.clear()
    with caplog.at_level(logging.INFO):
        response = await post_raw(base, body)
    assert response.status == 400
    assert await inbox_rows(services) == {}
    assert await letters(services) == []
    mine = [r for r in caplog.records if r.name.startswith(("bot", "aiohttp"))]
    refused = [r for r in mine if r.levelno >= logging.WARNING]
    assert len(refused) == 1 and refused[0].exc_info is None, [r.getMessage() for r in mine]
    assert "400" in refused[0].getMessage()


async def test_the_webhook_still_answers_503_when_the_database_is_away(
    services: Services, tmp_path: Path
) -> None:
    """Retrying helps there: Telegram keeps the update, and nothing is set aside."""
    away = Database(
        f"sqlite+aiosqlite:///{tmp_path / 'no-such-folder' / 'x.db'}"
        if services.db.is_sqlite
        else "postgresql+asyncpg://nobody:nothing@127.0.0.1:1/none"
    )
    down = dataclasses.replace(services, db=away)
    inbox = Inbox(down, build_application(down))
    app = build_web_app(inbox=inbox, webhook_url=WEBHOOK_URL, secret=SECRET)
    try:
        async with serving(app) as base:
            body = json.dumps(private_text(400, 9, "/privacy")).encode()
            response = await post_raw(base, body)
    finally:
        await away.dispose()
    assert response.status == 503
    assert await letters(services) == []
