"""Numbers, durations, dates and counted things in one reader's language, by Babel."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.i18n import Catalog

_LABELS = frozenset({"care", "idea", "other", "positive", "neutral", "negative"})


class Count(int):
    """An int for a catalog's ``count``: it chooses the plural form as a number does, and in the
    text it is written the reader's way ("1,234" in English, "1.234" in Italian)."""

    language: str

    def __new__(cls, value: int, language: str) -> Count:
        count = super().__new__(cls, value)
        count.language = language
        return count

    def __format__(self, spec: str) -> str:
        if spec:
            return format(int(self), spec)
        from babel.numbers import format_decimal

        return format_decimal(int(self), format="#,##0", locale=self.language)


class Words:
    """Numbers, durations, dates and counted things in one reader's language, by Babel."""

    def __init__(self, catalog: Catalog, language: str) -> None:
        self.catalog = catalog
        self.language = catalog.language_for(language)

    def t(self, key: str, **params: Any) -> str:
        """A text of the catalog."""
        return self.catalog.t(key, self.language, **params)

    def n(self, key: str, count: int) -> str:
        """ "3 tickets": a counted thing in its plural form, the number in the language."""
        return self.t(key, count=self.number(count))

    def number(self, count: int) -> Count:
        """A count that picks the plural form and prints as the language writes numbers."""
        return Count(count, self.language)

    def integer(self, value: int) -> str:
        from babel.numbers import format_decimal

        return format_decimal(value, format="#,##0", locale=self.language)

    def decimal(self, value: float, digits: int) -> str:
        from babel.numbers import format_decimal

        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(value, format=pattern, locale=self.language)

    def percent(self, rate: float) -> str:
        from babel.numbers import format_percent

        return format_percent(rate, locale=self.language)

    def part(self, key: str, numerator: int, denominator: int, rate: float | None) -> str:
        """ "1 of 4 ideas (25%)": a share with its parts; "no data" when there is none."""
        if not denominator or rate is None:
            return self.no_data
        return self.t(
            "summary.of",
            part=self.integer(numerator),
            whole=self.n(key, denominator),
            percent=self.percent(rate),
        )

    def ratio(self, key: str, value: float | None, **parts: Any) -> str:
        """ "2.5 (10 replies in 4 tickets)": a ratio, one decimal, with what it is made of;
        "no data" without one."""
        return self.no_data if value is None else self.t(key, ratio=self.decimal(value, 1), **parts)

    def spread(self, p50: float | None, p90: float, over: str) -> str:
        """ "2 h (p90 5 h) over 12 tickets": a median time and its 90th percentile; "no data"
        without them."""
        if p50 is None:
            return self.no_data
        return self.t("summary.p50_p90", p50=self.duration(p50), p90=self.duration(p90), over=over)

    def share(self, key: str, of: str, numerator: int, denominator: int, rate: float | None) -> str:
        """A summary line of one share: "  Reopened: 1 of 4 resolved tickets (25%)"."""
        return "  " + self.t(key, share=self.part(of, numerator, denominator, rate))

    @property
    def no_data(self) -> str:
        return self.t("summary.no_data")

    def duration(self, seconds: float) -> str:
        """ "11 days 19 hours", "10 minutes": the two largest units, as the language says them."""
        from babel.units import format_unit

        total = max(0, round(seconds))
        days, rest = divmod(total, 86400)
        hours, rest = divmod(rest, 3600)
        minutes, secs = divmod(rest, 60)
        units = [("day", days), ("hour", hours), ("minute", minutes), ("second", secs)]
        first = next((i for i, (_, v) in enumerate(units) if v), len(units) - 1)
        picked = [(u, v) for u, v in units[first : first + 2] if v or u == units[first][0]]
        return " ".join(
            format_unit(v, f"duration-{u}", length="long", locale=self.language) for u, v in picked
        )

    def maybe_duration(self, seconds: float | None) -> str:
        return self.no_data if seconds is None else self.duration(seconds)

    def moment(self, iso: str) -> str:
        """A date and time of the window, in the zone it was asked in."""
        from babel.dates import format_skeleton

        moment = datetime.fromisoformat(iso)
        day = format_skeleton("yMMMd", moment, locale=self.language)
        return f"{day} {format_skeleton('Hm', moment, tzinfo=moment.tzinfo, locale=self.language)}"

    def day(self, iso: str) -> str:
        from babel.dates import format_skeleton

        return format_skeleton("MMMd", datetime.fromisoformat(iso), locale=self.language)

    def label(self, value: str) -> str:
        """A triage kind or sentiment in the reader's words."""
        return self.t(f"summary.label.{value}") if value in _LABELS else value
