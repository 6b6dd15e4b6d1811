"""Telegram's HTML parse mode, as the Bot API applies it: plain text plus entities, or an error.

Only what Telegram accepts is accepted, so a test fails where Telegram would refuse the message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "a": "text_link",
    "span": "spoiler",
    "tg-emoji": "custom_emoji",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TOKEN = re.compile(r"<|&")
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^>]*)?)\s*>")
_ENTITY = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);")
_ATTR = re.compile(r"""([a-zA-Z-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")


class ParseError(ValueError):
    """The text is not valid Telegram HTML; the message is Telegram's description."""


@dataclass(slots=True)
class _Open:
    tag: str
    offset: int
    byte_offset: int
    attrs: dict[str, str]


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Plain text and entities of a message sent with parse_mode HTML."""
    out: list[str] = []
    length = 0  # UTF-16 length of what is in `out`
    entities: list[dict[str, Any]] = []
    stack: list[_Open] = []
    pos = 0
    while pos < len(source):
        found = _TOKEN.search(source, pos)
        if found is None:
            chunk = source[pos:]
            out.append(chunk)
            length += utf16_len(chunk)
            break
        chunk = source[pos : found.start()]
        out.append(chunk)
        length += utf16_len(chunk)
        pos = found.start()
        byte_offset = len(source[:pos].encode("utf-8"))
        if source[pos] == "&":
            entity = _ENTITY.match(source, pos)
            char = _decode_entity(entity.group(1)) if entity else None
            if entity is None or char is None:
                out.append("&")  # Telegram keeps a bare ampersand as it is
                length += 1
                pos += 1
            else:
                out.append(char)
                length += utf16_len(char)
                pos = entity.end()
            continue
        tag = _TAG.match(source, pos)
        if tag is None:
            raise ParseError(
                "Bad Request: can't parse entities: Unclosed start tag at byte offset "
                f"{byte_offset}"
            )
        closing, name, rest = tag.group(1) == "/", tag.group(2).lower(), tag.group(3)
        if name not in _SIMPLE_TAGS:
            kind = "end" if closing else "start"
            raise ParseError(
                f'Bad Request: can\'t parse entities: Unsupported {kind} tag "{name}" '
                f"at byte offset {byte_offset}"
            )
        if closing:
            if not stack or stack[-1].tag != name:
                raise ParseError(
                    f"Bad Request: can't parse entities: Unexpected end tag at byte offset "
                    f"{byte_offset}"
                )
            opened = stack.pop()
            if length > opened.offset:
                entities.append(_entity(opened, length - opened.offset))
        else:
            attrs = {
                m.group(1).lower(): m.group(2) or m.group(3) or m.group(4) or ""
                for m in _ATTR.finditer(rest)
            }
            if name == "span" and attrs.get("class") != "tg-spoiler":
                raise ParseError(
                    'Bad Request: can\'t parse entities: Tag "span" must have class '
                    f'"tg-spoiler" at byte offset {byte_offset}'
                )
            stack.append(_Open(name, length, byte_offset, attrs))
        pos = tag.end()
    if stack:
        raise ParseError(
            "Bad Request: can't parse entities: Can't find end tag corresponding to start tag "
            f'"{stack[-1].tag}"'
        )
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _decode_entity(body: str) -> str | None:
    if body.startswith("#x"):
        return _codepoint(int(body[2:], 16))
    if body.startswith("#"):
        return _codepoint(int(body[1:]))
    return _NAMED_ENTITIES.get(body.lower())


def _codepoint(value: int) -> str | None:
    return chr(value) if 0 < value <= 0x10FFFF else None


def _entity(opened: _Open, length: int) -> dict[str, Any]:
    entity: dict[str, Any] = {
        "type": _SIMPLE_TAGS[opened.tag],
        "offset": opened.offset,
        "length": length,
    }
    if opened.tag == "a":
        entity["url"] = opened.attrs.get("href", "")
    elif opened.tag == "pre" and "class" in opened.attrs:
        entity["language"] = opened.attrs["class"].removeprefix("language-")
    elif opened.tag == "tg-emoji":
        entity["custom_emoji_id"] = opened.attrs.get("emoji-id", "")
    elif opened.tag == "blockquote" and "expandable" in opened.attrs:
        entity["type"] = "expandable_blockquote"
    return entity
