"""Messages that are two things at once, through the real Application and the fake Bot API: a
fault with a suggestion opens its ticket and offers the suggestion for the idea board; accepting
puts it there (once) linked to the customer, declining does not; praise with a request is
offered too; a message of one sentence, a stranger's press and an erased customer get nothing.
"""

from __future__ import annotations

from sqlmodel import col, select, update

from bot.core.services import Services
from bot.domain.feedback import receive_feedback_many
from bot.sandbox.fake_api import FakeBotApi
from bot.sandbox.harness import LocalBot
from bot.telegram.callbacks import SuggestionChoice, decode, encode
from storage.models import Feedback, InboxUpdate
from tests.support import STAFF_CHAT_ID, button_with, send
from tests.support.suggestions import (
    FAULT_AND_IDEA,
    ITALIAN,
    ONLY_A_FAULT,
    PRAISE_AND_IDEA,
    UNCLEAR_WITH_IDEA,
    alerts,
    as_received,
    button_data,
    button_labels,
    customer_of,
    ideas,
    now,
    offers,
    sent,
    staff_chat,
    tickets,
)


def test_the_offer_button_carries_its_message() -> None:
    for action, data in (("add", "g:add:42"), ("no", "g:no:42")):
        assert encode(SuggestionChoice(action, feedback_id=42)) == data
        assert decode(data) == SuggestionChoice(action, feedback_id=42)
    assert decode("g:maybe:42") is None and decode("g:add:") is None


async def test_a_fault_with_a_suggestion_opens_a_ticket_and_the_idea_goes_on_the_board(
    fake_api: FakeBotApi, services: Services
) -> None:
    staff_chat(fake_api)
    anna = fake_api.new_user("Anna")
    async with LocalBot(services) as bot:
        message = await sent(bot, fake_api.send_text(anna, FAULT_AND_IDEA))
        # The whole is care: its ticket, acknowledged as always, then one offer.
        [ticket] = await tickets(services)
        assert ticket.customer_id == (await customer_of(services, anna)).id
        ack, offer = fake_api.messages_to(anna["id"])[-2:]
        assert "T-00001" in ack["text"]
        assert "«also, a dark mode would be nice»" in offer["text"]
        assert "Add it to the idea board?" in offer["text"]
        assert offer["reply_to_message"]["message_id"] == message["message_id"]
        assert await ideas(services) == []  # the idea part opens nothing by itself

        await send(bot, fake_api.press_button(anna, offer, button_with(offer, "g:add:")))
        [idea] = await ideas(services)
        customer = await customer_of(services, anna)
        assert (idea.customer_id, idea.text) == (customer.id, "also, a dark mode would be nice")
        assert (idea.language, idea.topic) == ("en", "app")
        answered = now(fake_api, offer)
        assert f"Added to the idea board as idea #{idea.id}" in answered["text"]
        assert "reply_markup" not in answered
        assert f"/idea {idea.id}" in answered["text"]
        # Staff see it in their "Ideas" topic, as any new idea.
        assert any(
            f"Idea #{idea.id}" in m["text"] and "dark mode" in m["text"]
            for m in fake_api.messages_to(STAFF_CHAT_ID)
        )

        # A second press (a stale button, a double tap) adds nothing.
        await send(bot, fake_api.press_button(anna, offer, button_with(offer, "g:add:")))
        assert len(await ideas(services)) == 1
        toast = fake_api.calls_to("answerCallbackQuery")[-1].params
        assert f"#{idea.id}" in toast["text"]
        # The board lists it.
        await send(bot, fake_api.send_text(anna, "/ideas"))
        assert "dark mode" in fake_api.messages_to(anna["id"])[-1]["text"]
    [ticket] = await tickets(services)  # still one ticket: the idea part never opened one


async def test_declining_leaves_the_board_as_it_was(
    fake_api: FakeBotApi, services: Services
) -> None:
    staff_chat(fake_api)
    anna = fake_api.new_user("Anna")
    async with LocalBot(services) as bot:
        await send(bot, fake_api.send_text(anna, FAULT_AND_IDEA))
        [offer] = offers(fake_api, anna)
        await send(bot, fake_api.press_button(anna, offer, button_with(offer, "g:no:")))
        declined = now(fake_api, offer)
        assert "not put your suggestion on the idea board" in declined["text"]
        assert "reply_markup" not in declined
    assert await ideas(services) == []
    assert len(await tickets(services)) == 1


async def test_praise_with_a_request_is_offered_the_same_way(
    fake_api: FakeBotApi, services: Services
) -> None:
    ben = fake_api.new_user("Ben")
    async with LocalBot(services) as bot:
        await send(bot, fake_api.send_text(ben, PRAISE_AND_IDEA))
        thanks, offer = fake_api.messages_to(ben["id"])[-2:]
        assert "Thank you for your message" in thanks["text"]
        assert "«It would be great if the app had a live chat too.»" in offer["text"]
        await send(bot, fake_api.press_button(ben, offer, button_with(offer, "g:add:")))
    [idea] = await ideas(services)
    assert idea.text == "It would be great if the app had a live chat too."
    assert idea.customer_id == (await customer_of(services, ben)).id
    assert await tickets(services) == []  # praise opens no ticket


async def test_an_unclear_message_the_customer_calls_feedback_is_offered_too(
    fake_api: FakeBotApi, services: Services
) -> None:
    ben = fake_api.new_user("Ben")
    unsure = await services.triage.triage(UNCLEAR_WITH_IDEA)
    assert unsure.confidence < services.settings.triage_min_confidence  # the premise
    async with LocalBot(services) as bot:
        await send(bot, fake_api.send_text(ben, UNCLEAR_WITH_IDEA))
        asked = fake_api.messages_to(ben["id"])[-1]
        assert offers(fake_api, ben) == []  # asked first: nothing is offered while it waits
        await send(bot, fake_api.press_button(ben, asked, button_with(asked, "k:other:")))
        thanks, offer = fake_api.messages_to(ben["id"])[-2:]
        assert "Thank you for your message" in thanks["text"]
        assert "«Maybe you could add a way to book his visits from the app.»" in offer["text"]
    assert await ideas(services) == [] and await tickets(services) == []


async def test_a_message_of_one_sentence_gets_no_offer(
    fake_api: FakeBotApi, services: Services
) -> None:
    staff_chat(fake_api)
    carla = fake_api.new_user("Carla")
    async with LocalBot(services) as bot:
        await send(bot, fake_api.send_text(carla, ONLY_A_FAULT))
        await send(bot, fake_api.send_text(carla, "Thank you, you were very kind"))
    sent = fake_api.messages_to(carla["id"])
    assert len(sent) == 2 and "T-00001" in sent[0]["text"]
    assert offers(fake_api, carla) == [] and await ideas(services) == []
    assert not any(b.startswith("g:") for m in sent for b in button_data(m))


async def test_an_italian_message_is_offered_in_italian(
    fake_api: FakeBotApi, services: Services
) -> None:
    staff_chat(fake_api)
    dario = fake_api.new_user("Dario", language_code="it")
    async with LocalBot(services) as bot:
        await send(bot, fake_api.send_text(dario, ITALIAN))
        ack, offer = fake_api.messages_to(dario["id"])[-2:]
        assert "T-00001" in ack["text"] and "riferimento" in ack["text"]
        assert "Abbiamo notato anche un suggerimento" in offer["text"]
        assert "«Sarebbe bello avere la modalità scura.»" in offer["text"]
        assert button_labels(offer) == ["💡 Aggiungilo alla bacheca", "No, grazie"]
        await send(bot, fake_api.press_button(dario, offer, button_with(offer, "g:add:")))
        answered = now(fake_api, offer)
        assert "Aggiunto alla bacheca delle idee come idea" in answered["text"]
    [idea] = await ideas(services)
    assert idea.language == "it" and idea.text == "Sarebbe bello avere la modalità scura."


async def test_someone_elses_press_and_an_erased_customer_do_nothing(
    fake_api: FakeBotApi, services: Services
) -> None:
    staff_chat(fake_api)
    anna, mallory = fake_api.new_user("Anna"), fake_api.new_user("Mallory")
    async with LocalBot(services) as bot:
        await send(bot, fake_api.send_text(anna, FAULT_AND_IDEA))
        [offer] = offers(fake_api, anna)
        add = button_with(offer, "g:add:")
        await send(bot, fake_api.press_button(mallory, offer, add))
        assert alerts(fake_api)[-1] == "This button is not for you, or it is no longer available."
        assert await ideas(services) == []

        # Anna has her data erased; the offer goes with her text, and the button with it.
        await send(bot, fake_api.send_text(anna, "/forget"))
        confirm = fake_api.messages_to(anna["id"])[-1]
        await send(bot, fake_api.press_button(anna, confirm, "f:yes"))
        async with services.db.session() as session:
            [stored] = (await session.exec(select(Feedback))).all()
        assert "dark mode" not in stored.text
        await send(bot, fake_api.press_button(anna, offer, add))
        assert alerts(fake_api)[-1] == "This button is not for you, or it is no longer available."
    assert await ideas(services) == []


async def test_a_replayed_message_offers_once_and_a_crash_after_storing_still_offers(
    fake_api: FakeBotApi, services: Services
) -> None:
    staff_chat(fake_api)
    anna, ben = fake_api.new_user("Anna"), fake_api.new_user("Ben")
    # Ben's message was stored by a process that died before it answered: no reply went.
    stored = fake_api.send_text(ben, PRAISE_AND_IDEA)
    await receive_feedback_many(services, [as_received(stored)])
    async with LocalBot(services) as bot:
        await send(bot, stored)
        assert len(offers(fake_api, ben)) == 1  # the offer is derived again from what is stored

        replayed = fake_api.send_text(anna, FAULT_AND_IDEA)
        await send(bot, replayed)
        before = len(fake_api.messages_to(anna["id"]))
        # Anna's update processed a second time (a crash before it was marked done).
        async with services.db.session() as session:
            await session.exec(
                update(InboxUpdate)
                .where(col(InboxUpdate.update_id) == replayed["update_id"])
                .values(processed_at=None, claimed_by=None, claimed_until=None)
            )
        await bot.inbox.drain()
        await send(bot, replayed)
        assert len(fake_api.messages_to(anna["id"])) == before  # answered from the record
        assert len(offers(fake_api, anna)) == 1
    assert len(await tickets(services)) == 1 and await ideas(services) == []
