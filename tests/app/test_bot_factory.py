"""One Bot for every process: the clock talks to Telegram as the bot and the web process do,
through the project's request class and the rate limiter."""

from __future__ import annotations

from pathlib import Path

from telegram.ext import AIORateLimiter

from bot.app.application import build_application, build_bot
from bot.core.services import Services
from bot.sandbox.fake_api import FakeBotApi
from bot.telegram.request import AiohttpRequest
from storage.db import Database
from tests.support import BOT_TOKEN, make_settings
from tests.support.processes import environment, run_until


async def test_the_application_and_build_bot_make_the_same_bot(
    fake_api: FakeBotApi, services: Services, db: Database
) -> None:
    application = build_application(services)
    made = build_bot(services.settings)
    for bot in (application.bot, made):
        assert isinstance(bot.request, AiohttpRequest)
        assert isinstance(bot.rate_limiter, AIORateLimiter)
        assert bot.base_url == f"{fake_api.base_url}{BOT_TOKEN}"
    unlimited = build_bot(make_settings(fake_api, db.url, rate_limit=False))
    assert unlimited.rate_limiter is None and isinstance(unlimited.request, AiohttpRequest)


async def test_the_clock_process_waits_out_a_429_like_the_bot(
    fake_api: FakeBotApi, db: Database, tmp_path: Path
) -> None:
    """Before: the clock built a plain Bot without the rate limiter, and a 429 on its first
    call (getMe) stopped it with a traceback."""
    fake_api.fail("getMe", status=429, retry_after=1)
    env = environment(
        TELEGRAM_BOT_TOKEN=BOT_TOKEN,
        TELEGRAM_API_BASE_URL=fake_api.base_url,
        DATABASE_URL=db.url,
        LOG_LEVEL="INFO",
    )
    code, _, err = await run_until(
        "clock",
        env,
        tmp_path,
        ready=lambda err: "clock running" in err,
    )
    assert code == 0, err
    assert [c.ok for c in fake_api.calls_to("getMe")] == [False, True]  # waited out, once
    assert "Traceback" not in err
