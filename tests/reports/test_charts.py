"""Daily series and PNG charts from a small hand-built dataset (days in Europe/Rome).

The window holds the spring daylight-saving change (29 March 2026 has 23 hours in Rome), so a
day bucketing by a fixed UTC offset would put the messages around midnight in the wrong day.
"""

from __future__ import annotations

import io
import itertools
import struct
from datetime import timedelta

from PIL import Image

from bot.reports.charts import COLOURS, PNG_SIGNATURE, report_chart_names, report_charts
from storage.db import Database
from storage.metrics.series import load_series, local_days, weeks_of
from tests.support.dataset import DAYS, END, ROME, START, insert_dataset, local


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk."""
    assert png[:8] == PNG_SIGNATURE
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def has_colour(png: bytes, hex_colour: str) -> bool:
    """Whether any pixel is exactly this #rrggbb colour."""
    rgb = tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    image = Image.open(io.BytesIO(png)).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 20) or []
    return any(colour == rgb for _, colour in colours)


async def charts(db: Database) -> dict[str, bytes]:
    return dict(await report_charts(db, start=START, end=END, zone=ROME))


def test_local_days_follow_the_zone_across_daylight_saving() -> None:
    days = local_days(START, END, ROME)
    assert [d.label for d in days] == DAYS
    hours = [(d.end - d.start) / timedelta(hours=1) for d in days]
    assert hours == [24, 24, 24, 23, 24, 24, 24]
    assert days[0].start == START and days[-1].end == END
    assert all(a.end == b.start for a, b in itertools.pairwise(days))


def test_a_window_not_on_midnight_is_clipped_and_weeks_are_seven_days() -> None:
    start, end = local(3, 20, 15), local(3, 28, 9)
    days = local_days(start, end, ROME)
    assert [d.label.day for d in days] == [20, 21, 22, 23, 24, 25, 26, 27, 28]
    assert (days[0].start, days[0].end) == (start, local(3, 21))
    assert (days[-1].start, days[-1].end) == (local(3, 28), end)
    weeks = weeks_of(days)
    assert [(w.label.day, w.start, w.end) for w in weeks] == [
        (20, start, local(3, 27)),
        (27, local(3, 27), end),
    ]


async def test_daily_series_from_the_dataset(db: Database) -> None:
    await insert_dataset(db)
    async with db.session() as session:
        series = await load_series(session=session, start=START, end=END, zone=ROME)
    assert [d.label for d in series.days] == DAYS
    assert series.volume == {
        "care": [1, 0, 0, 1, 1, 0, 1],
        "idea": [1, 0, 0, 0, 0, 0, 0],
        "other": [0, 0, 0, 0, 1, 0, 0],
    }
    # 26 March: 600, 1800, 5400 s; nearest rank: p50 is the 2nd, p90 the 3rd.
    # 30 March: the 80-minute answer to the ticket opened late on the 29th.
    assert series.first_response_p50 == [1800.0, None, None, None, 4800.0, None, None]
    assert series.first_response_p90 == [5400.0, None, None, None, 4800.0, None, None]
    assert series.sentiment == {
        "positive": [1, 0, 0, 0, 2, 0, 0],
        "neutral": [0] * 7,
        "negative": [1, 0, 0, 1, 0, 0, 1],
    }
    assert series.sentiment_ratio == [1.0, None, None, 0.0, None, None, 0.0]
    assert series.topics_window == {"billing": 3, "app": 1, "network": 2}
    assert series.topics_recent == {"network": 1}
    (week,) = series.weeks
    # Staff replies 2 + 1 + 1 + 1 over tickets 1-4 (notes are not replies).
    assert week.staff_messages_per_ticket == 5 / 4
    # 6 messages, 1 vote and 3 ratings from 3 customers.
    assert week.contributions_per_active_customer == 10 / 3


async def test_charts_are_pngs_that_show_the_data(db: Database) -> None:
    empty = await charts(db)
    assert list(empty) == report_chart_names()
    for png in empty.values():
        assert png.startswith(PNG_SIGNATURE)
        assert png_size(png) == (800, 360)
        assert not has_colour(png, COLOURS["care"])
        assert has_colour(png, "#8d99ae")  # the "no data" note
    await insert_dataset(db)
    full = await charts(db)
    assert list(full) == report_chart_names()
    for name, png in full.items():
        assert png.startswith(PNG_SIGNATURE), name
        assert png_size(png) == (800, 360), name
        assert png != empty[name], name
    assert has_colour(full["volume_by_kind.png"], COLOURS["care"])
    assert has_colour(full["volume_by_kind.png"], COLOURS["idea"])
    assert has_colour(full["first_response.png"], COLOURS["p90"])
    assert has_colour(full["topic_strength.png"], COLOURS["recent"])
    assert has_colour(full["balance.png"], COLOURS["idea"])


async def test_the_same_data_gives_the_same_bytes(db: Database) -> None:
    await insert_dataset(db)
    first, second = await charts(db), await charts(db)
    assert first == second
    assert b"matplotlib" not in b"".join(first.values())
