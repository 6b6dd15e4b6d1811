"""Bot API calls over aiohttp: python-telegram-bot's request interface on aiohttp's client.

python-telegram-bot talks HTTP through a ``BaseRequest`` and ships one on httpx. Under load
that one cost more than everything else the bot does per message: httpx looks through its
whole pool and its queue of waiting requests, with a system call per idle connection, each
time a request starts or ends. aiohttp (already the bot's web server) has a C HTTP parser and
a connector that queues requests cheaply; this adapter is the documented way to swap it in.
"""

from __future__ import annotations

import json

import aiohttp
from telegram._utils.defaultvalue import DEFAULT_NONE, DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData


class AiohttpRequest(BaseRequest):
    """A pool of ``connections`` keep-alive connections; further requests wait for one."""

    def __init__(
        self,
        connections: int,
        *,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._connections = connections
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        """The read timeout when a call names none."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Open the connection pool."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._connections),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        """Close the connection pool."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """One HTTP request; the status and the body."""
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data else None
        fields = request_data.json_parameters if files and request_data else None
        read = _given(read_timeout, self._read_timeout)
        write = _given(write_timeout, self._media_write_timeout if files else self._write_timeout)
        connect = _given(connect_timeout, self._connect_timeout)
        # Waiting for a free connection is not bounded: under a burst, requests queue here on
        # purpose. Each request is bounded once it has one.
        timeout = aiohttp.ClientTimeout(
            sock_connect=connect,
            sock_read=_longest(read, write),
        )
        body: aiohttp.FormData | bytes | None = None
        headers: dict[str, str] = {}
        if files:
            form = aiohttp.FormData()
            for name, value in (fields or {}).items():
                form.add_field(name, value)
            for name, (filename, content, mimetype) in files.items():
                form.add_field(name, content, filename=filename, content_type=mimetype)
            body = form
        elif request_data is not None:
            # The Bot API takes JSON bodies: one json.dumps of the typed values instead of
            # form-encoding each one (RequestData.json_payload would send every value as a
            # string, "false" included).
            body = json.dumps(request_data.parameters).encode()
            headers["Content-Type"] = "application/json"
        try:
            async with self._session.request(
                method, url, data=body, headers=headers, timeout=timeout
            ) as response:
                return response.status, await response.read()
        except TimeoutError as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc


def _given(value: ODVInput[float], default: float | None) -> float | None:
    """A timeout the call named, or the default."""
    return default if isinstance(value, DefaultValue) else value


def _longest(*timeouts: float | None) -> float | None:
    """None (no limit) if any is None, else the longest."""
    if any(t is None for t in timeouts):
        return None
    return max(t for t in timeouts if t is not None)
