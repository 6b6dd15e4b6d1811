"""PNG charts of a report window, drawn with matplotlib's Agg renderer (no display, no network).

Figures are built with the object API, never pyplot, so no global figure state is shared; the
drawing is CPU work, so `report_charts` runs it in a worker thread, one chart at a time, after
the read session that loads the series has ended: drawing refuses to run on the event loop or
inside a session (it would hold SQLite's writer turn, or a transaction, for seconds).
The same data gives the same bytes: no timestamps or version strings go into the PNGs.
"""

from __future__ import annotations

import asyncio
import io
import math
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from storage.db import Database, ensure_outside_transaction
from storage.metrics.series import KINDS, SENTIMENTS, Period, ReportSeries, WeekBalance, load_series

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
WIDTH, HEIGHT, DPI = 8.0, 3.6, 100
# For a phone's screen (the dashboard below 600 px): narrower and taller, so that shown at
# 360-420 px wide its letters stay about as big as the page's own small print.
COMPACT_WIDTH, COMPACT_HEIGHT, COMPACT_DPI = 4.4, 3.9, 150
# First response times past this many minutes are drawn in hours; when the slowest day is this
# many times the quickest, on a log scale, so that a day of hours does not flatten the rest.
_HOURS_FROM = 180
_LOG_FROM = 20
NO_DATA = "no data"
COLOURS = {
    "care": "#d1495b",
    "idea": "#edae49",
    "other": "#66a182",
    "positive": "#66a182",
    "neutral": "#8d99ae",
    "negative": "#d1495b",
    "p50": "#00798c",
    "p90": "#d1495b",
    "window": "#8d99ae",
    "recent": "#00798c",
}
_STYLE: dict[Any, Any] = {
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
}
# rc_context changes matplotlib's process-wide settings for the duration of a drawing.
_DRAWING = threading.Lock()

#: The charts of a report, in the order they are shown: (file name, title).
CHARTS: tuple[tuple[str, str], ...] = (
    ("volume_by_kind.png", "Feedback per day, by kind"),
    ("first_response.png", "First response time per day (p50, p90)"),
    ("sentiment_ratio.png", "Sentiment per day (positive : negative)"),
    ("topic_strength.png", "Topic strength (share of feedback)"),
    ("balance.png", "Interaction vs participation per week"),
)


def report_chart_names() -> list[str]:
    """The file names `report_charts` returns, in order."""
    return [name for name, _ in CHARTS]


async def report_charts(
    db: Database, *, start: datetime, end: datetime, zone: ZoneInfo
) -> list[tuple[str, bytes]]:
    """Every chart of the window [start, end) as (file name, PNG bytes), days in `zone`: the
    series read in a read session, drawn in a worker thread after it. Call it outside any
    session."""
    ensure_outside_transaction("chart rendering")
    async with db.read() as session:
        series = await load_series(session=session, start=start, end=end, zone=zone)
    return await asyncio.to_thread(render_charts, series)


def render_charts(series: ReportSeries, *, compact: bool = False) -> list[tuple[str, bytes]]:
    """Draw every chart of already loaded series, `compact` ones sized for a phone's screen.
    CPU-bound: call it in a worker thread (asyncio.to_thread), outside any session."""
    _ensure_off_the_loop()
    draw: dict[str, Callable[[Axes, ReportSeries, bool], bool]] = {
        "volume_by_kind.png": _volume,
        "first_response.png": _first_response,
        "sentiment_ratio.png": _sentiment,
        "topic_strength.png": _topics,
        "balance.png": _balance,
    }
    return [(name, _png(title, series, draw[name], compact)) for name, title in CHARTS]


def _ensure_off_the_loop() -> None:
    ensure_outside_transaction("chart rendering")
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return  # a worker thread (or a script without a loop)
    raise RuntimeError("chart rendering is CPU work: run it in a worker thread, not the loop")


def _png(
    title: str,
    series: ReportSeries,
    draw: Callable[[Axes, ReportSeries, bool], bool],
    compact: bool,
) -> bytes:
    size, dpi = (
        ((COMPACT_WIDTH, COMPACT_HEIGHT), COMPACT_DPI) if compact else ((WIDTH, HEIGHT), DPI)
    )
    with _DRAWING, rc_context(_STYLE):
        figure = Figure(figsize=size, dpi=dpi, layout="constrained")
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        heading = f"{title}\n{_window_label(series, compact)}"
        axes.set_title(heading, loc="left")
        if not draw(axes, series, compact):
            axes.clear()
            axes.set_axis_off()
            axes.set_title(heading, loc="left")
            axes.text(
                0.5,
                0.5,
                NO_DATA,
                ha="center",
                va="center",
                fontsize=16,
                color="#8d99ae",
                transform=axes.transAxes,
            )
        out = io.BytesIO()
        # No "Software" text chunk: identical data must give identical bytes.
        figure.savefig(out, format="png", metadata={"Software": None})
        return out.getvalue()


def _window_label(series: ReportSeries, compact: bool = False) -> str:
    if compact:
        first = series.start.astimezone(series.zone).strftime("%d %b %H:%M")
        last = series.end.astimezone(series.zone).strftime("%d %b %H:%M")
        return f"{first} – {last}"
    first = series.start.astimezone(series.zone).strftime("%Y-%m-%d %H:%M")
    last = series.end.astimezone(series.zone).strftime("%Y-%m-%d %H:%M")
    return f"{first} – {last} ({series.zone.key})"


def _day_axis(axes: Axes, periods: Sequence[Period], compact: bool = False) -> list[int]:
    positions = list(range(len(periods)))
    step = max(1, math.ceil(len(periods) / (5 if compact else 12)))
    axes.set_xticks(positions[::step], [p.label.strftime("%d %b") for p in periods][::step])
    axes.set_xlim(-0.6, len(periods) - 0.4)
    return positions


def _volume(axes: Axes, series: ReportSeries, compact: bool) -> bool:
    if not any(any(values) for values in series.volume.values()):
        return False
    x = _day_axis(axes, series.days, compact)
    bottom = [0] * len(x)
    kinds = [*KINDS, *sorted(k for k in series.volume if k not in KINDS)]
    for kind in kinds:
        values = series.volume.get(kind, [0] * len(x))
        axes.bar(x, values, bottom=bottom, label=kind, color=COLOURS.get(kind, "#30638e"))
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    axes.set_ylabel("messages")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    _legend(axes, compact=compact)
    return True


def _legend(*axes: Axes, below: float = 0.12, compact: bool = False) -> None:
    """One legend under the plot, so it never covers the data."""
    handles, labels = [], []
    for each in axes:
        h, lab = each.get_legend_handles_labels()
        handles.extend(h)
        labels.extend(lab)
    axes[0].legend(
        handles,
        labels,
        loc="upper center",
        bbox_to_anchor=(0.5, -below),
        frameon=False,
        ncols=min(len(labels), 2 if compact else 4),
    )


def _minutes(values: Sequence[float | None], per: float = 60) -> list[float]:
    return [v / per if v is not None else math.nan for v in values]


def _first_response(axes: Axes, series: ReportSeries, compact: bool) -> bool:
    if all(v is None for v in series.first_response_p50):
        return False
    x = _day_axis(axes, series.days, compact)
    known = [
        v / 60
        for v in (*series.first_response_p50, *series.first_response_p90)
        if v is not None and v > 0
    ]
    hours = bool(known) and max(known) > _HOURS_FROM
    unit = 3600 if hours else 60
    for label, values in (("p50", series.first_response_p50), ("p90", series.first_response_p90)):
        axes.plot(x, _minutes(values, unit), marker="o", label=label, color=COLOURS[label])
    axes.set_ylabel("hours" if hours else "minutes")
    if known and max(known) > _LOG_FROM * min(known):
        axes.set_yscale("log")
        axes.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        axes.set_ylabel(f"{'hours' if hours else 'minutes'} (log scale)")
    else:
        axes.set_ylim(bottom=0)
    _legend(axes, compact=compact)
    return True


def _sentiment(axes: Axes, series: ReportSeries, compact: bool) -> bool:
    if not any(any(values) for values in series.sentiment.values()):
        return False
    x = _day_axis(axes, series.days, compact)
    bottom = [0] * len(x)
    for sentiment in SENTIMENTS:
        values = series.sentiment.get(sentiment, [0] * len(x))
        axes.bar(x, values, bottom=bottom, label=sentiment, color=COLOURS[sentiment], alpha=0.45)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    axes.set_ylabel("messages")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    ratio = series.sentiment_ratio
    if any(r is not None for r in ratio):
        twin = axes.twinx()
        twin.plot(
            x,
            [r if r is not None else math.nan for r in ratio],
            marker="o",
            color="#30638e",
            label="positive : negative",
        )
        twin.set_ylabel("positive : negative")
        twin.set_ylim(bottom=0)
        twin.grid(False)
        _legend(axes, twin, compact=compact)
    else:
        _legend(axes, compact=compact)
    return True


def _topics(axes: Axes, series: ReportSeries, compact: bool) -> bool:
    topics = sorted(set(series.topics_window) | set(series.topics_recent))
    if not topics:
        return False
    window_total = sum(series.topics_window.values()) or 1
    recent_total = sum(series.topics_recent.values()) or 1
    y = list(range(len(topics)))
    height = 0.4
    axes.barh(
        [i + height / 2 for i in y],
        [100 * series.topics_window.get(t, 0) / window_total for t in topics],
        height=height,
        label="whole window",
        color=COLOURS["window"],
    )
    axes.barh(
        [i - height / 2 for i in y],
        [100 * series.topics_recent.get(t, 0) / recent_total for t in topics],
        height=height,
        label="last 24 h",
        color=COLOURS["recent"],
    )
    axes.set_yticks(y, topics)
    axes.invert_yaxis()
    axes.set_xlabel("% of feedback")
    axes.set_xlim(0, 100)
    _legend(axes, below=0.17 if compact else 0.2, compact=compact)
    return True


def _balance(axes: Axes, series: ReportSeries, compact: bool) -> bool:
    weeks = list(series.weeks)
    # A window ending early in a week leaves a stub of hours with nothing in it: not a week.
    while weeks and _empty_week(weeks[-1]):
        weeks.pop()
    interaction = [w.staff_messages_per_ticket for w in weeks]
    participation = [w.contributions_per_active_customer for w in weeks]
    if all(v is None for v in (*interaction, *participation)):
        return False
    x = list(range(len(weeks)))
    width = 0.38
    axes.bar(
        [i - width / 2 for i in x],
        [v if v is not None else 0 for v in interaction],
        width=width,
        label="staff msgs / ticket" if compact else "staff messages per ticket (interaction)",
        color=COLOURS["p50"],
    )
    axes.bar(
        [i + width / 2 for i in x],
        [v if v is not None else 0 for v in participation],
        width=width,
        label=(
            "contributions / customer"
            if compact
            else "contributions per active customer (participation)"
        ),
        color=COLOURS["idea"],
    )
    label = "%d %b" if compact else "week of %d %b"
    axes.set_xticks(x, [w.period.label.strftime(label) for w in weeks])
    axes.set_xlim(-0.6, len(weeks) - 0.4)
    _legend(axes, compact=compact)
    return True


def _empty_week(week: WeekBalance) -> bool:
    return week.staff_messages_per_ticket is None and week.contributions_per_active_customer is None
