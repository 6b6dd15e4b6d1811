"""Texts the bot sends, from per-language catalogs: every TOML file in i18n/<language>/.

A text that takes a number of things is a table of CLDR plural forms, chosen by the ``count``
parameter with the language's own rule (English tells one from other; Italian also has many)::

    minutes = { one = "about {count} minute", other = "about {count} minutes" }
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale

_HERE = Path(__file__).parent

# CLDR's plural categories: a table whose keys are all of these (with "other") is one text.
PLURAL_FORMS = frozenset({"zero", "one", "two", "few", "many", "other"})

Text = str | Mapping[str, str]


class Catalog:
    """Looks up a message by key in the customer's language, falling back to a default."""

    def __init__(self, default_language: str = "en") -> None:
        self.default_language = default_language
        self.languages = tuple(
            sorted(p.name for p in _HERE.iterdir() if p.is_dir() and p.name.isalpha())
        )

    def language_for(self, code: str | None) -> str:
        """The catalog language for a Telegram language_code or a detected language."""
        short = (code or "").split("-")[0].lower()
        return short if short in self.languages else self.default_language

    def t(self, key: str, language: str | None = None, /, **params: Any) -> str:
        """The text for key in language, formatted with params (``count`` picks a plural form)."""
        lang = self.language_for(language)
        found = _load(lang).get(key)
        if found is None:
            found = _load(self.default_language).get(key)
            if found is not None:
                lang = self.default_language
        if found is None:
            lang = "en"
            found = _load("en")[key]  # a missing key is a bug: KeyError names it
        template = found if isinstance(found, str) else _form(found, lang, key, params)
        return template.format(**params) if params else template


def plural_form(language: str, count: int | float) -> str:
    """The CLDR plural category of count in language: "one", "many", "other"..."""
    return str(_locale(language).plural_form(count))


def needed_forms(language: str) -> frozenset[str]:
    """The plural forms a text in this language must give ("other" always)."""
    return frozenset(_locale(language).plural_form.tags) | {"other"}


def _form(forms: Mapping[str, str], language: str, key: str, params: Mapping[str, Any]) -> str:
    count = params.get("count")
    if not isinstance(count, int | float):
        raise TypeError(f"text {key!r} has plural forms: pass count=<number>, not {count!r}")
    return forms.get(plural_form(language, count)) or forms["other"]


@cache
def _locale(language: str) -> Locale:
    return Locale.parse(language)


@cache
def _load(language: str) -> dict[str, Text]:
    flat: dict[str, Text] = {}
    for path in sorted((_HERE / language).glob("*.toml")):
        with path.open("rb") as handle:
            flat.update(_flatten(tomllib.load(handle)))
    return flat


def is_plural(value: object) -> bool:
    """Whether a catalog value is a table of plural forms rather than a section of texts."""
    return isinstance(value, Mapping) and "other" in value and set(value) <= PLURAL_FORMS


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Text]:
    flat: dict[str, Text] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if is_plural(value):
            flat[name] = {form: str(text) for form, text in value.items()}
        elif isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = str(value)
    return flat
