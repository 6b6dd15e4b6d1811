"""/triage for managers through the real Application and the fake Bot API: label counts by
source and kind, and the model's agreement with the latest labels, per kind, with the common
confusions; labels of forgotten messages left out; refused to others, never shown in a group."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.core.services import Services
from bot.sandbox.fake_api import FakeBotApi
from bot.sandbox.harness import LocalBot
from nlp import Triager
from tests.support import MANAGER_ID, STAFF_CHAT_ID, button_with, make_settings, send

# What the shipped model makes of them, with a confidence well above 0.9 (checked below).
BILL = "My bill is wrong, I was charged twice this month"  # care
THANKS = "Thank you so much, the technician was great!"  # other
MODEM = "The modem blinks red since yesterday and nothing works"  # care


async def answer_what_it_is(
    fake_api: FakeBotApi, bot: LocalBot, customer: dict[str, Any], text: str, kind: str
) -> None:
    """The customer writes, the bot asks what it is, the customer answers with a button."""
    await send(bot, fake_api.send_text(customer, text))
    question = fake_api.messages_to(customer["id"])[-1]
    await send(bot, fake_api.press_button(customer, question, button_with(question, f"k:{kind}:")))


async def labels_of_a_day(fake_api: FakeBotApi, bot: LocalBot) -> dict[str, Any]:
    """Tom calls his bill problem care and staff relabel it an idea (the model says care);
    Ann calls her thanks other (so does the model); Eve calls her modem fault an idea, then
    has her data erased. The manager."""
    staff = fake_api.new_user("Sara")
    fake_api.add_supergroup(
        STAFF_CHAT_ID, title="Care", is_forum=True, members=[staff["id"], MANAGER_ID]
    )
    tom, ann, eve = fake_api.new_user("Tom"), fake_api.new_user("Ann"), fake_api.new_user("Eve")
    await answer_what_it_is(fake_api, bot, tom, BILL, "care")
    await answer_what_it_is(fake_api, bot, ann, THANKS, "other")
    await answer_what_it_is(fake_api, bot, eve, MODEM, "idea")
    card = next(m for m in fake_api.messages_to(STAFF_CHAT_ID) if "T-00001" in m.get("text", ""))
    await send(bot, fake_api.press_button(staff, card, "t:kind:1:idea"))
    await send(bot, fake_api.send_text(eve, "/forget"))
    confirm = fake_api.messages_to(eve["id"])[-1]
    await send(bot, fake_api.press_button(eve, confirm, button_with(confirm, "f:yes")))
    return fake_api.new_user("Elena", user_id=MANAGER_ID)


def unsure(fake_api: FakeBotApi, services: Services) -> Services:
    """The bot asks the customer what every message is (as it does below its confidence)."""
    settings = make_settings(fake_api, services.db.url, triage_min_confidence=1.0)
    return replace(services, settings=settings)


async def test_counts_and_agreement_per_kind_match_the_labels_given(
    fake_api: FakeBotApi, services: Services, triager: Triager
) -> None:
    said = triager.triage([BILL, THANKS, MODEM])
    assert [(r.kind, r.confidence > 0.9) for r in said] == [
        ("care", True),
        ("other", True),
        ("care", True),
    ]
    async with LocalBot(unsure(fake_api, services)) as bot:
        manager = await labels_of_a_day(fake_api, bot)
        await send(bot, fake_api.send_text(manager, "/triage"))
        report = fake_api.messages_to(MANAGER_ID)[-1]["text"]
        await send(bot, fake_api.send_text(manager, "/triage 1"))
        latest = fake_api.messages_to(MANAGER_ID)[-1]["text"]
        await send(bot, fake_api.send_text(manager, "/language it"))
        await send(bot, fake_api.send_text(manager, "/triage"))
        italian = fake_api.messages_to(MANAGER_ID)[-1]["text"]

    # Eve's label went with her message: 3 labels are left, on Tom's message and Ann's.
    assert "Labels of what a message is: 3 labels (1 staff relabel, 2 customers' answers)" in (
        report
    ), report
    assert "by kind: care 1, idea 1, other 1" in report
    # Tom's message counts once, by staff's relabel (idea), which the model disagrees with.
    assert "The model on every labelled message, 2 in all (each by its latest label):" in report
    assert "agrees with 1 of 2 labels (50%)" in report
    assert "care: no data" in report
    assert "idea: 0 of 1 label (0%)" in report
    assert "other: 1 of 1 label (100%)" in report
    assert "idea → care: 1 message" in report and "→ other" not in report

    # The latest label is staff's relabel of Tom's message.
    assert "The model on the latest labelled message:" in latest
    assert "agrees with 0 of 1 label (0%)" in latest and "other: no data" in latest

    assert (
        "Etichette di che cos'è un messaggio: 3 etichette (1 riclassificazione dello staff, "
        in (italian)
    ), italian
    assert "2 risposte dei clienti)" in italian and "per tipo: assistenza 1, idea 1, altro 1" in (
        italian
    )
    assert "è d'accordo con 1 su 2 etichette (50%)" in italian
    assert "idea → assistenza: 1 messaggio" in italian and "no data" not in italian


async def test_a_bad_count_gets_one_line_saying_what_is_allowed(
    fake_api: FakeBotApi, services: Services
) -> None:
    manager = fake_api.new_user("Elena", user_id=MANAGER_ID)
    async with LocalBot(services) as bot:
        for command in ("/triage 0", "/triage 1001", "/triage ten", "/triage 5 6", "/triage -3"):
            await send(bot, fake_api.send_text(manager, command))
        await send(bot, fake_api.send_text(manager, "/triage 1000"))
    told = [m["text"] for m in fake_api.messages_to(MANAGER_ID)]
    assert len(told) == 6
    for line in told[:5]:
        assert line == (
            "Use /triage [N]: N is how many of the latest labels to check the model on, "
            "a whole number from 1 to 1,000 (default 200)."
        )
    assert "No labels yet" in told[5]


async def test_others_are_refused_and_a_group_never_sees_the_report(
    fake_api: FakeBotApi, services: Services
) -> None:
    async with LocalBot(unsure(fake_api, services)) as bot:
        manager = await labels_of_a_day(fake_api, bot)
        mallory = fake_api.new_user("Mallory")
        await send(bot, fake_api.send_text(mallory, "/triage"))
        in_group = len(fake_api.messages_to(STAFF_CHAT_ID))
        private = len(fake_api.messages_to(MANAGER_ID))
        await send(bot, fake_api.send_text(manager, "/triage", chat=STAFF_CHAT_ID))
    refused = fake_api.messages_to(mallory["id"])
    assert [m["text"] for m in refused] == ["Sorry, this command is for managers only."]
    group = fake_api.messages_to(STAFF_CHAT_ID)[in_group:]
    assert [m["text"] for m in group] == [
        "Please use this command in your private chat with me: its numbers and files are not "
        "for a group."
    ]
    assert len(fake_api.messages_to(MANAGER_ID)) == private  # nor sent to the manager instead
    assert not any("agrees with" in m.get("text", "") for m in fake_api.messages_to(STAFF_CHAT_ID))
