"""The webhook server: Telegram's calls stored before 200, forged calls refused."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import aiohttp
import pytest
from pydantic import SecretStr
from sqlmodel import select

from bot.app.application import build_application
from bot.core.services import Services
from bot.intake.inbox import Inbox
from bot.sandbox.fake_api import FakeBotApi
from bot.web.server import build_web_app
from storage.models import Feedback, InboxUpdate
from tests.support.web import serving, webhook_server

SECRET = "s3cret-token_for-tests"


@pytest.fixture
async def webhook(services: Services) -> AsyncIterator[tuple[str, Inbox]]:
    """The bot's web app on a free port of 127.0.0.1, with its Application started."""
    async with webhook_server(services, SECRET) as served:
        yield served


async def stored(services: Services) -> list[InboxUpdate]:
    async with services.db.session() as session:
        return list((await session.exec(select(InboxUpdate))).all())


async def test_telegram_delivers_through_the_webhook(
    fake_api: FakeBotApi, services: Services, webhook: tuple[str, Inbox]
) -> None:
    base, inbox = webhook
    await inbox.application.bot.set_webhook(url=f"{base}/tg/hook", secret_token=SECRET)
    customer = fake_api.new_user("Tom")
    update = fake_api.send_text(customer, "Thanks, the technician fixed my line this morning!")
    for _ in range(200):
        if fake_api.messages_to(customer["id"]):
            break
        await asyncio.sleep(0.02)
    assert "thank" in fake_api.messages_to(customer["id"])[0]["text"].lower()
    rows = await stored(services)
    assert [r.update_id for r in rows] == [update["update_id"]]
    async with services.db.session() as session:
        assert len((await session.exec(select(Feedback))).all()) == 1


@pytest.mark.parametrize("secret", [None, "wrong", SECRET + "x"])
async def test_a_forged_call_gets_401_and_stores_nothing(
    services: Services, webhook: tuple[str, Inbox], secret: str | None
) -> None:
    base, _ = webhook
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
    forged = {
        "update_id": 777,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": 5, "type": "private"},
            "from": {"id": 5, "is_bot": False, "first_name": "Eve"},
            "text": "hi",
        },
    }
    async with aiohttp.ClientSession() as http:
        response = await http.post(f"{base}/tg/hook", json=forged, headers=headers)
    assert response.status == 401
    assert await stored(services) == []


async def test_bad_bodies_are_refused_without_storing(
    services: Services, webhook: tuple[str, Inbox]
) -> None:
    base, _ = webhook
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    async with aiohttp.ClientSession() as http:
        not_json = await http.post(f"{base}/tg/hook", data=b"{oops", headers=headers)
        no_id = await http.post(f"{base}/tg/hook", json={"message": {}}, headers=headers)
        health = await http.get(f"{base}/health")
    assert (not_json.status, no_id.status, health.status) == (400, 400, 200)
    assert await stored(services) == []


async def test_metrics_endpoint_counts_and_shows_queues(
    fake_api: FakeBotApi, services: Services, webhook: tuple[str, Inbox]
) -> None:
    base, inbox = webhook
    await inbox.application.bot.set_webhook(url=f"{base}/tg/hook", secret_token=SECRET)
    customer = fake_api.new_user("Tom")
    fake_api.send_text(customer, "Thank you for the quick fix yesterday!")
    for _ in range(200):
        if fake_api.messages_to(customer["id"]):
            break
        await asyncio.sleep(0.02)
    async with aiohttp.ClientSession() as http:
        for _ in range(100):  # the update is marked processed just after the reply is sent
            response = await http.get(f"{base}/metrics")
            body = await response.text()
            values = {
                line.split(" ")[0]: float(line.split(" ")[1])
                for line in body.splitlines()
                if line and not line.startswith("#")
            }
            if values["feedbackbot_inbox_pending"] == 0:
                break
            await asyncio.sleep(0.05)
    assert response.status == 200 and response.content_type == "text/plain"
    assert values["feedbackbot_inbox_pending"] == 0
    assert values["feedbackbot_outbox_pending"] == 0
    assert values["feedbackbot_updates_stored_total"] >= 1
    assert values['feedbackbot_messages_total{outcome="sent"}'] >= 1


async def test_metrics_need_the_bearer_token_once_one_is_set(services: Services) -> None:
    token = "scrape-me_0123456789"
    guarded = replace(
        services, settings=services.settings.model_copy(update={"metrics_token": SecretStr(token)})
    )
    inbox = Inbox(guarded, build_application(guarded))
    app = build_web_app(inbox=inbox, webhook_url=None, secret=None)
    async with serving(app) as base, aiohttp.ClientSession() as http:
        url = f"{base}/metrics"
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": token}):
            async with http.get(url, headers=headers) as refused:
                assert refused.status == 401, headers
                assert "feedbackbot_" not in await refused.text()
        async with http.get(url, headers={"Authorization": f"Bearer {token}"}) as allowed:
            assert allowed.status == 200
            assert "feedbackbot_inbox_pending" in await allowed.text()
