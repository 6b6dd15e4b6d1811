"""Decoding a Bot API call's parameters the way Telegram does: JSON, form or multipart bodies."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

# Parameters whose values are free text: never JSON-decoded, so "123" stays a string.
TEXT_PARAMS = frozenset(
    {
        "text",
        "caption",
        "name",
        "title",
        "description",
        "short_description",
        "callback_query_id",
        "secret_token",
        "url",
        "parse_mode",
        "question",
        "explanation",
        "emoji",
        "custom_title",
        "language_code",
        "business_connection_id",
        "message_effect_id",
        "icon_custom_emoji_id",
        "ip_address",
    }
)


@dataclass(frozen=True, slots=True)
class Upload:
    """A file sent in a multipart body."""

    filename: str
    content_type: str
    data: bytes


async def read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, Upload]]:
    """The call's parameters (query string and body) and its uploaded files."""
    params: dict[str, Any] = {k: _decode(k, v) for k, v in request.query.items()}
    uploads: dict[str, Upload] = {}
    if not request.can_read_body:
        return params, uploads
    if request.content_type == "application/json":
        body = await request.json()
        if not isinstance(body, dict):
            raise ValueError("the JSON body must be an object")
        params.update(body)
        return params, uploads
    form = await request.post()
    for key, value in form.items():
        if isinstance(value, web.FileField):
            uploads[key] = Upload(
                filename=value.filename or key,
                content_type=value.content_type,
                data=value.file.read(),
            )
        else:
            params[key] = _decode(key, str(value))
    return params, uploads


def _decode(key: str, value: str) -> Any:
    if key in TEXT_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value
