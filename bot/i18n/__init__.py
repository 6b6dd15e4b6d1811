"""Texts the bot sends, from per-language catalogs: every TOML file in i18n/<language>/."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

_HERE = Path(__file__).parent


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
        """The text for key in language, formatted with params."""
        lang = self.language_for(language)
        template = _load(lang).get(key) or _load(self.default_language).get(key)
        if template is None:
            template = _load("en")[key]  # a missing key is a bug: KeyError names it
        return template.format(**params) if params else template


@cache
def _load(language: str) -> dict[str, str]:
    flat: dict[str, str] = {}
    for path in sorted((_HERE / language).glob("*.toml")):
        with path.open("rb") as handle:
            flat.update(_flatten(tomllib.load(handle)))
    return flat


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = str(value)
    return flat
