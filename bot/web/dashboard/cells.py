"""The dashboard's cells: numbers formatted for people, each tagged with its raw value and
metric name for machines (data-metric, data-value), and the tables they sit in."""

from __future__ import annotations

import math
from collections.abc import Callable
from html import escape
from typing import Any

from storage.metrics.definitions import DEFINITIONS

Formatter = Callable[[Any], str]


def fmt_count(value: Any) -> str:
    """A whole number."""
    return f"{int(value)}"


def fmt_duration(seconds: Any) -> str:
    """Seconds as a short human duration: 45 s, 12.5 min, 3.4 h, 2.1 d."""
    s = float(seconds)
    if s < 90:
        return f"{s:.0f} s"
    if s < 90 * 60:
        return f"{s / 60:.1f} min"
    if s < 36 * 3600:
        return f"{s / 3600:.1f} h"
    return f"{s / 86400:.1f} d"


def fmt_percent(value: Any) -> str:
    """A 0..1 rate as a percentage."""
    return f"{100 * float(value):.0f}%"


def fmt_ratio(value: Any) -> str:
    """A ratio as "3.2 : 1"."""
    return f"{float(value):.1f} : 1"


def fmt_decimal(value: Any) -> str:
    """A number with two decimals."""
    return f"{float(value):.2f}"


def fmt_signed(value: Any) -> str:
    """A score with its sign (NPS)."""
    return f"{float(value):+.0f}"


def fmt_mean(value: Any) -> str:
    """A mean with one decimal."""
    return f"{float(value):.1f}"


def raw(value: Any) -> str:
    """The machine-readable value for data-value: "" for no data."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    return str(value)


def cell(metric: str, value: Any, formatter: Formatter, *, extra_class: str = "num") -> str:
    shown = "—" if value is None else formatter(value)
    element_id = "m-" + metric.replace(".", "-")
    return (
        f'<td class="{extra_class}" id="{escape(element_id)}" data-metric="{escape(metric)}" '
        f'data-value="{escape(raw(value))}">{escape(shown)}</td>'
    )


def meaning(name: str) -> str:
    """The definition of a metric row (its p50/p90 pair shares one), or ""."""
    for key in (name, name.removesuffix("_p50").removesuffix("_p90"), name.removesuffix("_mean")):
        if key in DEFINITIONS:
            return DEFINITIONS[key]
    return ""


def title_attr(text: str) -> str:
    return f' title="{escape(text)}"' if text else ""


def table(
    section_id: str,
    title: str,
    headers: list[str],
    rows: list[list[str]],
    empty: str,
    *,
    wide: bool = False,
) -> str:
    if not rows:
        inner = f'<p class="empty">{escape(empty)}</p>'
    else:
        numeric = ' class="num"'
        head = "".join(
            f'<th scope="col"{numeric if i else ""}>{escape(h)}</th>' for i, h in enumerate(headers)
        )
        body = "".join("<tr>" + "".join(row) + "</tr>" for row in rows)
        inner = f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    css = ' class="wide"' if wide else ""
    return f'    <section id="{escape(section_id)}"{css}><h2>{escape(title)}</h2>{inner}</section>'


def text_cell(text: Any) -> str:
    return f"<td>{escape(str(text))}</td>"
