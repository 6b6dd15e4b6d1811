"""The idea board through the real Application and the fake Bot API: similar ideas first,
votes, comments, statuses told once to everyone who cares, merges, restarts."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from bot.core.services import Services
from bot.sandbox.fake_api import FakeBotApi
from bot.sandbox.harness import LocalBot
from storage.models import Idea, IdeaComment, IdeaStatusChange, Vote
from tests.support import STAFF_CHAT_ID, send, staff_member

PAUSE_WIFI = "It would be great if the app let me pause the wifi for the kids at dinner time"
PAUSE_WIFI_AGAIN = "Please add a way to pause the wifi for my kids from the app"
FAMILY_PLAN = "You should offer a family plan where we can share data between 4 SIMs"
DARK_MODE = "sarebbe bello avere una modalità scura nell'app, la sera è accecante"


def buttons(message: dict[str, Any]) -> dict[str, str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return {b["callback_data"]: b["text"] for row in rows for b in row if "callback_data" in b}


def last_to(fake_api: FakeBotApi, user: dict[str, Any]) -> dict[str, Any]:
    return fake_api.messages_to(user["id"])[-1]


async def votes_of(services: Services, idea_id: int) -> list[int]:
    async with services.db.session() as session:
        rows = await session.exec(
            select(Vote.customer_id).where(Vote.idea_id == idea_id).order_by(col(Vote.customer_id))
        )
        return list(rows.all())


async def test_propose_vote_comment_and_statuses_told_once(
    fake_api: FakeBotApi, services: Services
) -> None:
    staff = staff_member(fake_api)
    anna, ben, carla, dario = (
        fake_api.new_user(name, language_code=lang)
        for name, lang in (("Anna", "en"), ("Ben", "en"), ("Carla", "en"), ("Dario", "it"))
    )
    outsider = fake_api.new_user("Mallory")

    async with LocalBot(services) as bot:
        # Anna proposes: the idea goes on the board and to the staff "Ideas" topic.
        await send(bot, fake_api.send_text(anna, PAUSE_WIFI))
        assert "idea board" in last_to(fake_api, anna)["text"]
        [topic] = [c for c in fake_api.calls_to("createForumTopic") if c.ok]
        thread = topic.response["message_thread_id"]
        card_1 = fake_api.messages_to(STAFF_CHAT_ID, thread)[-1]
        assert "Idea #1" in card_1["text"] and PAUSE_WIFI in card_1["text"]
        assert "is:1:planned" in buttons(card_1)

        # Ben proposes the same thing: he is shown idea #1 first and votes for it instead.
        await send(bot, fake_api.send_text(ben, PAUSE_WIFI_AGAIN))
        offer = last_to(fake_api, ben)
        assert "#1" in offer["text"] and PAUSE_WIFI[:40] in offer["text"]
        vote_for_1 = next(d for d in buttons(offer) if d.startswith("ix:") and d.endswith(":1"))
        await send(bot, fake_api.press_button(ben, offer, vote_for_1))
        await send(bot, fake_api.press_button(ben, offer, vote_for_1))  # a second press
        assert "#1" in last_to(fake_api, ben)["text"]

        # Carla proposes something new; Ben and Dario vote for it from the board.
        await send(bot, fake_api.send_text(carla, FAMILY_PLAN))
        for voter in (ben, dario):
            await send(bot, fake_api.send_text(voter, "/ideas"))
            listing = last_to(fake_api, voter)
            assert "#2" in listing["text"]
            await send(bot, fake_api.press_button(voter, listing, "iv:2:0"))
        listing = last_to(fake_api, dario)
        assert "iu:2:0" in buttons(listing)  # redrawn: Dario can now take his vote back
        await send(bot, fake_api.press_button(dario, listing, "iv:2:0"))  # a stale second vote

        # Comments: with /comment, and by replying to the idea's message.
        await send(bot, fake_api.send_text(dario, "/comment 2 la userei subito con la famiglia"))
        await send(bot, fake_api.send_text(ben, "/idea 2"))
        detail = last_to(fake_api, ben)
        assert detail["text"].startswith("💡 #2 ·") and FAMILY_PLAN in detail["text"]
        await send(
            bot,
            fake_api.send_text(ben, "Count me in, we have 3 phones", reply_to_message=detail),
        )
        assert "#2" in last_to(fake_api, ben)["text"]

        # Someone who is not staff presses a status button: nothing changes.
        card_2 = fake_api.messages_to(STAFF_CHAT_ID, thread)[1]
        assert "Idea #2" in card_2["text"]
        before = {u["id"]: len(fake_api.messages_to(u["id"])) for u in (anna, ben, carla, dario)}
        await send(bot, fake_api.press_button(outsider, card_2, "is:2:planned"))

        # Staff move idea 2: the proposer and each voter hear of it once, in their language.
        await send(bot, fake_api.press_button(staff, card_2, "is:2:planned"))
        await send(
            bot,
            fake_api.send_text(
                staff,
                "/status 2 in_progress first tests in January",
                chat=STAFF_CHAT_ID,
                message_thread_id=thread,
            ),
        )
        await send(bot, fake_api.send_text(staff, "/status 2 planned", chat=STAFF_CHAT_ID))
        after = {u["id"]: len(fake_api.messages_to(u["id"])) for u in (anna, ben, carla, dario)}
        assert after[anna["id"]] == before[anna["id"]]  # not involved in idea 2
        for person in (ben, carla, dario):
            assert after[person["id"]] - before[person["id"]] == 3
        news = [m["text"] for m in fake_api.messages_to(dario["id"])[-3:]]
        assert "pianificata" in news[0] and "in lavorazione" in news[1]
        assert "first tests in January" in news[1]
        assert "planned" in fake_api.messages_to(carla["id"])[-1]["text"]
        redrawn = fake_api.messages_to(STAFF_CHAT_ID, thread)[1]
        assert "is:2:planned" not in buttons(redrawn) and "is:2:done" in buttons(redrawn)

        # Done closes voting.
        await send(bot, fake_api.press_button(staff, redrawn, "is:2:done"))
        await send(bot, fake_api.send_text(anna, "/ideas"))
        await send(bot, fake_api.press_button(anna, last_to(fake_api, anna), "iv:2:0"))

    async with services.db.session() as session:
        ideas = (await session.exec(select(Idea).order_by(col(Idea.id)))).all()
        changes = (await session.exec(select(IdeaStatusChange))).all()
        comments = (await session.exec(select(IdeaComment))).all()
    assert [(i.id, i.status) for i in ideas] == [(1, "new"), (2, "done")]
    assert len(await votes_of(services, 1)) == 1 and len(await votes_of(services, 2)) == 2
    assert [c.new_status for c in changes] == ["planned", "in_progress", "planned", "done"]
    assert ideas[1].first_status_at is not None
    assert sorted(c.text for c in comments) == [
        "Count me in, we have 3 phones",
        "la userei subito con la famiglia",
    ]


async def test_merging_a_duplicate_counts_nobody_twice(
    fake_api: FakeBotApi, services: Services
) -> None:
    staff = fake_api.new_user("Sara")
    fake_api.add_supergroup(STAFF_CHAT_ID, title="Care", is_forum=False, members=[staff["id"]])
    anna, ben, carla, dario, elio = (
        fake_api.new_user(n) for n in ("Anna", "Ben", "Carla", "Dario", "Elio")
    )
    async with LocalBot(services) as bot:
        await send(bot, fake_api.send_text(anna, FAMILY_PLAN))
        await send(bot, fake_api.send_text(dario, DARK_MODE))
        for voter, idea in ((ben, 1), (carla, 1), (carla, 2), (elio, 2)):
            await send(bot, fake_api.send_text(voter, f"/idea {idea}"))
            await send(bot, fake_api.press_button(voter, last_to(fake_api, voter), f"iv:{idea}:d"))
        assert len(await votes_of(services, 1)) == 2 and len(await votes_of(services, 2)) == 2

        await send(bot, fake_api.send_text(staff, "/merge 2 1", chat=STAFF_CHAT_ID))
        said = fake_api.messages_to(STAFF_CHAT_ID)[-1]["text"]
        assert "#2" in said and "#1" in said and "+2" in said
        # Dario (proposer), Carla and Elio (voters) hear of the merge once each.
        for person in (dario, carla, elio):
            assert "#1" in last_to(fake_api, person)["text"]
            assert (
                sum(
                    "#2" in m["text"] and "#1" in m["text"]
                    for m in fake_api.messages_to(person["id"])
                )
                == 1
            )

    async with services.db.session() as session:
        merged = await session.get(Idea, 2)
    assert merged is not None and merged.status == "duplicate" and merged.merged_into_id == 1
    voters_1 = await votes_of(services, 1)
    assert len(voters_1) == len(set(voters_1)) == 4  # Ben, Carla (once), Elio, Dario
    assert await votes_of(services, 2) == []


async def test_ideas_and_votes_survive_a_restart(fake_api: FakeBotApi, services: Services) -> None:
    fake_api.add_supergroup(STAFF_CHAT_ID, title="Care", is_forum=True)
    anna, ben = fake_api.new_user("Anna"), fake_api.new_user("Ben")
    async with LocalBot(services) as bot:
        await send(bot, fake_api.send_text(anna, FAMILY_PLAN))
        await send(bot, fake_api.send_text(ben, "/ideas"))
        await send(bot, fake_api.press_button(ben, last_to(fake_api, ben), "iv:1:0"))
    async with LocalBot(services) as bot:  # a new process: nothing kept in memory
        await send(bot, fake_api.send_text(ben, "/ideas"))
        listing = last_to(fake_api, ben)
        assert "#1 · 👍 1" in listing["text"] and "iu:1:0" in buttons(listing)
        await send(bot, fake_api.press_button(ben, listing, "iv:1:0"))  # already voted
        await send(bot, fake_api.send_text(anna, PAUSE_WIFI))
    assert len(await votes_of(services, 1)) == 1
    # The ideas topic was opened once and remembered across the restart.
    assert len([c for c in fake_api.calls_to("createForumTopic") if c.ok]) == 1
