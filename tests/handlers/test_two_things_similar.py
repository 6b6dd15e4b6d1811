"""A suggestion inside a care request, when ideas like it are on the board already, through the
real Application and the fake Bot API: as with an idea sent on its own, the customer sees them
first and votes for one (the message is linked to it, no idea is added) or adds theirs as new.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select, update

from bot.core.services import Services
from bot.sandbox.fake_api import FakeBotApi
from bot.sandbox.harness import LocalBot
from bot.telegram.callbacks import SuggestionChoice, decode, encode
from storage.models import Feedback, Idea, IdeaStatus, Vote
from tests.support import button_with, send
from tests.support.suggestions import (
    FAULT_AND_IDEA,
    ITALIAN,
    alerts,
    button_data,
    button_labels,
    customer_of,
    ideas,
    now,
    offers,
    staff_chat,
)

BENS_IDEA = "It would be great to have a dark mode in the app"


def test_the_buttons_of_the_similar_ideas_carry_their_choice() -> None:
    for choice, data in (
        (SuggestionChoice("add", 42), "g:add:42"),
        (SuggestionChoice("no", 42), "g:no:42"),
        (SuggestionChoice("new", 42), "g:new:42"),
        (SuggestionChoice("vote", 42, 7), "g:v:42:7"),
    ):
        assert encode(choice) == data
        assert decode(data) == choice
    assert decode("g:v:42") is None and decode("g:vote:42:7") is None


async def _board_with_bens_idea(bot: LocalBot, fake_api: FakeBotApi, services: Services) -> Idea:
    ben = fake_api.new_user("Ben")
    await send(bot, fake_api.send_text(ben, BENS_IDEA))
    [idea] = await ideas(services)
    assert "dark mode" in idea.text
    return idea


async def _similar_shown(
    bot: LocalBot, fake_api: FakeBotApi, services: Services, anna: dict[str, Any]
) -> tuple[Idea, dict[str, Any], dict[str, Any]]:
    """Ben's idea on the board; Anna's fault with a like suggestion; Anna presses "add".
    Ben's idea, the offer as sent, and the offer as it is now."""
    bens = await _board_with_bens_idea(bot, fake_api, services)
    await send(bot, fake_api.send_text(anna, FAULT_AND_IDEA))
    [offer] = offers(fake_api, anna)
    await send(bot, fake_api.press_button(anna, offer, button_with(offer, "g:add:")))
    return bens, offer, now(fake_api, offer)


async def _votes(services: Services, idea_id: int) -> list[Vote]:
    async with services.db.session() as session:
        found = await session.exec(select(Vote).where(col(Vote.idea_id) == idea_id))
        return list(found.all())


async def test_the_customer_sees_the_similar_idea_first_and_votes_for_it(
    fake_api: FakeBotApi, services: Services
) -> None:
    staff_chat(fake_api)
    anna = fake_api.new_user("Anna")
    async with LocalBot(services) as bot:
        bens, offer, shown = await _similar_shown(bot, fake_api, services, anna)
        assert f"#{bens.id}" in shown["text"] and "dark mode" in shown["text"]
        assert "similar ideas" in shown["text"]
        assert [d.split(":")[1] for d in button_data(shown)] == ["v", "new"]
        assert len(await ideas(services)) == 1  # nothing added before the customer chooses

        await send(bot, fake_api.press_button(anna, shown, button_with(shown, "g:v:")))
        voted = now(fake_api, offer)
        assert f"Your vote went to idea #{bens.id}" in voted["text"]
        assert "reply_markup" not in voted
        anna_id = (await customer_of(services, anna)).id
        assert [v.customer_id for v in await _votes(services, bens.id or 0)] == [anna_id]
        assert len(await ideas(services)) == 1
        async with services.db.session() as session:
            [care] = (
                await session.exec(select(Feedback).where(Feedback.customer_id == anna_id))
            ).all()
        assert care.idea_id == bens.id  # the message is linked to the idea it went to

        # A second press on any of its buttons changes nothing.
        await send(bot, fake_api.press_button(anna, shown, button_with(shown, "g:new:")))
        assert len(await ideas(services)) == 1
        assert f"#{bens.id}" in fake_api.calls_to("answerCallbackQuery")[-1].params["text"]


async def test_the_customer_adds_theirs_as_new_after_seeing_the_similar_ones(
    fake_api: FakeBotApi, services: Services
) -> None:
    staff_chat(fake_api)
    anna = fake_api.new_user("Anna")
    async with LocalBot(services) as bot:
        bens, offer, shown = await _similar_shown(bot, fake_api, services, anna)
        await send(bot, fake_api.press_button(anna, shown, button_with(shown, "g:new:")))
        board = await ideas(services)
        assert [i.id for i in board][:1] == [bens.id] and len(board) == 2
        anna_id = (await customer_of(services, anna)).id
        assert (board[1].customer_id, board[1].text) == (anna_id, "also, a dark mode would be nice")
        assert f"Added to the idea board as idea #{board[1].id}" in now(fake_api, offer)["text"]
        assert await _votes(services, bens.id or 0) == []


async def test_a_vote_for_an_idea_closed_meanwhile_is_refused_and_the_offer_comes_back(
    fake_api: FakeBotApi, services: Services
) -> None:
    staff_chat(fake_api)
    anna = fake_api.new_user("Anna")
    async with LocalBot(services) as bot:
        bens, offer, shown = await _similar_shown(bot, fake_api, services, anna)
        async with services.db.session() as session:
            await session.exec(
                update(Idea).where(col(Idea.id) == bens.id).values(status=IdeaStatus.DECLINED)
            )
        await send(bot, fake_api.press_button(anna, shown, button_with(shown, "g:v:")))
        toast = fake_api.calls_to("answerCallbackQuery")[-1].params["text"]
        assert f"#{bens.id} is no longer open for votes" in toast
        assert await _votes(services, bens.id or 0) == []
        # No open idea is like it any more: the closed one's button goes, the offer is back.
        again = now(fake_api, offer)
        assert [d.split(":")[1] for d in button_data(again)] == ["add", "no"]
        assert "«also, a dark mode would be nice»" in again["text"]
        await send(bot, fake_api.press_button(anna, again, button_with(again, "g:add:")))
        assert len(await ideas(services)) == 2


async def test_an_edit_or_forget_after_the_similar_ideas_are_shown_takes_no_vote(
    fake_api: FakeBotApi, services: Services
) -> None:
    staff_chat(fake_api)
    anna, carla = fake_api.new_user("Anna"), fake_api.new_user("Carla")
    async with LocalBot(services) as bot:
        bens, offer, shown = await _similar_shown(bot, fake_api, services, anna)
        # Anna edits the suggestion out of her message: nothing left to vote with.
        await send(
            bot, fake_api.edit_text(offer["reply_to_message"], "The app crashes when I pay.")
        )
        await send(bot, fake_api.press_button(anna, shown, button_with(shown, "g:v:")))
        assert "no longer in your message" in alerts(fake_api)[-1]

        # Carla is shown the same idea, then has her data erased before she votes.
        await send(bot, fake_api.send_text(carla, FAULT_AND_IDEA))
        [carlas] = offers(fake_api, carla)
        await send(bot, fake_api.press_button(carla, carlas, button_with(carlas, "g:add:")))
        carlas_shown = now(fake_api, carlas)
        await send(bot, fake_api.send_text(carla, "/forget"))
        confirm = fake_api.messages_to(carla["id"])[-1]
        await send(bot, fake_api.press_button(carla, confirm, "f:yes"))
        vote = button_with(carlas_shown, "g:v:")
        await send(bot, fake_api.press_button(carla, carlas_shown, vote))
        assert alerts(fake_api)[-1] == "This button is not for you, or it is no longer available."
    assert await _votes(services, bens.id or 0) == []
    assert len(await ideas(services)) == 1


async def test_the_similar_ideas_are_shown_in_the_customers_language(
    fake_api: FakeBotApi, services: Services
) -> None:
    staff_chat(fake_api)
    marco = fake_api.new_user("Marco", language_code="it")
    giulia = fake_api.new_user("Giulia", language_code="it")
    async with LocalBot(services) as bot:
        await send(bot, fake_api.send_text(marco, "Sarebbe utile una modalità scura per l'app"))
        [marcos] = await ideas(services)
        await send(bot, fake_api.send_text(giulia, ITALIAN))
        [offer] = offers(fake_api, giulia)
        await send(bot, fake_api.press_button(giulia, offer, button_with(offer, "g:add:")))
        shown = now(fake_api, offer)
    assert "Il tuo suggerimento: «Sarebbe bello avere la modalità scura.»" in shown["text"]
    assert f"#{marcos.id}" in shown["text"] and "idee simili" in shown["text"]
    assert button_labels(shown) == [f"👍 Voto la #{marcos.id}", "➕ Pubblica la mia come nuova"]
