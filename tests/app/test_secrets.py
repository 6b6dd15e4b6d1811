"""Secrets never reach a log or the terminal, and a Telegram that says no (or is away) at start
is one line an operator can act on: real `feedbackbot` processes against the fake Bot API."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest

from bot.core.logging_setup import SecretFilter
from bot.sandbox.fake_api import FakeBotApi
from storage.db import Database
from tests.support import BOT_TOKEN
from tests.support.processes import environment, free_port, run_to_the_end, run_until

SECRET = "webhook-secret-0123456789abcdef"
WRONG_TOKEN = "123456:WRONG-token-abcdefghijklmnopqrstuvwx"


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def assert_no_secret(*texts: str, secrets: tuple[str, ...]) -> None:
    for text in texts:
        for secret in secrets:
            assert secret not in text, f"{secret!r} printed:\n{text}"
            bare = secret.split(":", 1)[-1]  # the token's secret half, however it is quoted
            assert bare not in text, f"{bare!r} printed:\n{text}"


# ---------------------------------------------------------------- startup: one line, exit 1


@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
async def test_a_rejected_token_is_one_line_and_never_printed(
    fake_api: FakeBotApi, db: Database, tmp_path: Path, level: str
) -> None:
    """Before: "The token `<token>` was rejected" in a traceback."""
    env = environment(
        TELEGRAM_BOT_TOKEN=WRONG_TOKEN,
        TELEGRAM_API_BASE_URL=fake_api.base_url,
        DATABASE_URL=db.url,
        LOG_LEVEL=level,
    )
    code, out, err = await run_to_the_end("run", env, tmp_path)
    assert code == 1, err
    said = [line for line in lines(err) if line.startswith("feedbackbot:")]
    assert len(said) == 1 and "TELEGRAM_BOT_TOKEN" in said[0] and "rejected" in said[0], err
    assert "Traceback" not in err + out
    if level == "INFO":
        assert lines(err) == said, err
    assert_no_secret(out, err, secrets=(WRONG_TOKEN,))
    assert fake_api.calls_to("getMe") == []  # refused by token: the fake records no call


@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
async def test_an_unreachable_bot_api_is_one_line_and_never_prints_the_token(
    db: Database, tmp_path: Path, level: str
) -> None:
    """Before: the URL with the token, twice, in 113 lines of tracebacks."""
    closed = free_port()  # nothing listens there
    env = environment(
        TELEGRAM_BOT_TOKEN=BOT_TOKEN,
        TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{closed}/bot",
        DATABASE_URL=db.url,
        LOG_LEVEL=level,
    )
    code, out, err = await run_to_the_end("run", env, tmp_path)
    assert code == 1, err
    said = [line for line in lines(err) if line.startswith("feedbackbot:")]
    assert len(said) == 1 and "cannot reach the Telegram Bot API" in said[0], err
    assert "Traceback" not in err + out
    if level == "INFO":
        assert lines(err) == said, err
    assert_no_secret(out, err, secrets=(BOT_TOKEN,))


# ---------------------------------------------------------------- running: masked debug logs


async def test_debug_logs_of_the_web_process_mask_the_token_and_the_secret(
    fake_api: FakeBotApi, db: Database, tmp_path: Path
) -> None:
    """python-telegram-bot logs setWebhook's parameters, secret_token among them, at DEBUG."""
    env = environment(
        TELEGRAM_BOT_TOKEN=BOT_TOKEN,
        TELEGRAM_API_BASE_URL=fake_api.base_url,
        DATABASE_URL=db.url,
        WEBHOOK_URL="http://127.0.0.1:9/tg/hook",
        WEBHOOK_SECRET=SECRET,
        LOG_LEVEL="DEBUG",
    )
    code, out, err = await run_until(
        "web", env, tmp_path, ready=lambda err: "webhook server on port" in err
    )
    assert code == 0, err
    assert fake_api.calls_to("setWebhook")[0].params["secret_token"] == SECRET
    assert "setWebhook" in err and "***" in err  # the debug lines are there, masked
    assert_no_secret(out, err, secrets=(BOT_TOKEN, SECRET))


async def test_a_telegram_outage_while_polling_is_one_warning_per_retry(
    fake_api: FakeBotApi, db: Database, tmp_path: Path
) -> None:
    fake_api.fail("getUpdates", status=502, times=2)
    env = environment(
        TELEGRAM_BOT_TOKEN=BOT_TOKEN,
        TELEGRAM_API_BASE_URL=fake_api.base_url,
        DATABASE_URL=db.url,
        LOG_LEVEL="INFO",
    )
    code, out, err = await run_until(
        "run", env, tmp_path, ready=lambda _: len(fake_api.calls_to("getUpdates")) >= 3
    )
    assert code == 0, err
    failed = [line for line in lines(err) if "getUpdates failed" in line]
    assert len(failed) == 2 and all("WARNING" in line for line in failed), err
    assert "retrying in 1 s" in failed[0] and "retrying in 2 s" in failed[1]
    assert "Traceback" not in err
    assert_no_secret(out, err, secrets=(BOT_TOKEN,))


# ---------------------------------------------------------------- the filter itself


def test_the_filter_masks_message_arguments_and_exception_text() -> None:
    secrets = SecretFilter()
    secrets.add([BOT_TOKEN, SECRET, None, ""])
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(secrets)
    logger = logging.getLogger("tests.secrets")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    try:
        logger.debug("calling %s with %r", f"/bot{BOT_TOKEN}/getMe", {"secret_token": SECRET})
        try:
            raise RuntimeError(f"The token `{BOT_TOKEN}` was rejected by the server.")
        except RuntimeError:
            logger.exception("failed at %s", "http://x/bot" + BOT_TOKEN.replace(":", "%3A"))
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    # The call's URL and parameters, the message's URL (quoted), the exception's message.
    assert text.count("***") == 4 and "Traceback" in text
    assert_no_secret(text, secrets=(BOT_TOKEN, SECRET))


# ---------------------------------------------------------------- JSON lines


async def test_json_logs_name_the_update_and_chat_of_each_record_and_mask_the_token(
    fake_api: FakeBotApi, db: Database, tmp_path: Path
) -> None:
    customer = fake_api.new_user("Tom")
    update = fake_api.send_text(customer, "My invoice shows a charge I do not recognise")
    env = environment(
        TELEGRAM_BOT_TOKEN=BOT_TOKEN,
        TELEGRAM_API_BASE_URL=fake_api.base_url,
        DATABASE_URL=db.url,
        LOG_LEVEL="DEBUG",
        LOG_FORMAT="json",
    )
    code, out, err = await run_until(
        "run", env, tmp_path, ready=lambda _: bool(fake_api.messages_to(customer["id"]))
    )
    assert code == 0, err
    records = [json.loads(line) for line in lines(err)]  # every line is one JSON object
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
    mine = [r for r in records if r.get("update_id") == update["update_id"]]
    # The update's own records, whoever wrote them (here python-telegram-bot's).
    assert mine and all(r["chat_id"] == customer["id"] for r in mine)
    assert any("sendMessage" in r["message"] for r in mine), mine
    assert not any("update_id" in r for r in records if "getUpdates" in r["message"])
    assert_no_secret(out, err, secrets=(BOT_TOKEN,))
