"""A camera's live events over WebSocket (EVENTS.md §3.1), kept up by itself.

Each connection takes a fresh `wssession.cgi` token (Digest-authenticated through the transport, valid 15 s),
opens `/vapix/ws-data-stream?sources=events&wssession=…`, sends `events:configure` with the filters and yields
every `events:notify`. When the connection drops (camera restart, network) it connects again after 1, 2, 4 … 30 s;
the camera then sends the current state of every stateful event again, so a consumer is always up to date.
What waiting cannot fix (a wrong password, a filter the camera refuses) is raised instead.

A consumer that must know whether it is up to date right now (to poll meanwhile) passes `on_live`: it is told
True once a connection is configured and False when that connection ends, however it ends.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp

from app.vapix.errors import ConnectionFailed, ProtocolError, Unauthorized, VapixError
from app.vapix.transport import VapixTransport

log = logging.getLogger(__name__)

PATH = "/vapix/ws-data-stream"


class StreamRefused(VapixError):
    """The camera answered events:configure with an error (a filter it cannot parse, say)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{message} (error {code})")
        self.code = code


class _Dropped(Exception):
    """The connection ended; connect again."""


@dataclass(frozen=True)
class EventFilter:
    topic: str | None = None  # ConcreteSet, e.g. "tnsaxis:Storage/Disruption" or "//."
    content: str | None = None  # ItemFilter, e.g. boolean(//SimpleItem[@Name="disk_id" and @Value="SD_DISK"])

    def to_json(self) -> dict[str, str]:
        given = {"topicFilter": self.topic, "contentFilter": self.content}
        return {k: v for k, v in given.items() if v is not None}


@dataclass(frozen=True)
class EventNotification:
    topic: str
    source: dict[str, str]
    data: dict[str, str]
    timestamp: datetime | None

    @classmethod
    def from_json(cls, notification: dict[str, Any]) -> EventNotification:
        message = notification.get("message") or {}
        return cls(
            str(notification.get("topic", "")),
            {str(k): str(v) for k, v in (message.get("source") or {}).items()},
            {str(k): str(v) for k, v in (message.get("data") or {}).items()},
            _timestamp(notification.get("timestamp")),
        )


def _timestamp(value: Any) -> datetime | None:
    """Integer milliseconds, as cameras send it; an ISO string, as one library's tests fake it."""
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000, UTC)
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


class EventStream:
    def __init__(
        self,
        transport: VapixTransport,
        filters: Sequence[EventFilter] = (EventFilter("//."),),
        *,
        first_delay: float = 1.0,
        max_delay: float = 30.0,
        on_live: Callable[[bool], None] | None = None,
    ) -> None:
        self._transport, self._filters = transport, tuple(filters)
        self._first_delay, self._max_delay = first_delay, max_delay
        self._on_live = on_live
        self.connections = 0
        """How many times a stream was set up (configured); more than one means it reconnected."""
        self.live = False
        """A configured connection is open now: every change reaches the consumer as it happens."""

    def _set_live(self, live: bool) -> None:
        if live != self.live:
            self.live = live
            if self._on_live is not None:
                self._on_live(live)

    async def events(self) -> AsyncGenerator[EventNotification, None]:
        delay = self._first_delay
        while True:
            try:
                async for notification in self._connection():
                    delay = self._first_delay
                    yield notification
            except (_Dropped, ConnectionFailed, aiohttp.ClientError, TimeoutError, ProtocolError) as exc:
                log.info("event stream to %s dropped (%s); again in %.0f s", self._transport.endpoint.host, exc, delay)
            finally:  # dropped, refused, or the consumer stopped reading: nothing is followed any more
                self._set_live(False)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._max_delay)

    async def _connection(self) -> AsyncIterator[EventNotification]:
        token = (await self._transport.get_text("/axis-cgi/wssession.cgi")).strip()
        endpoint = self._transport.endpoint
        url = endpoint.base_url.replace("http", "ws", 1) + PATH
        ssl = endpoint.trust.ssl_context() if endpoint.https else False
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(url, params={"sources": "events", "wssession": token}, heartbeat=30.0, ssl=ssl) as ws,
        ):
            await ws.send_json(
                {
                    "apiVersion": "1.0",
                    "context": "edgestore",
                    "method": "events:configure",
                    "params": {"eventFilterList": [f.to_json() for f in self._filters]},
                }
            )
            async for message in ws:
                if message.type is not aiohttp.WSMsgType.TEXT:
                    break
                decoded = _decode(message.data)
                if decoded.get("method") == "events:configure":
                    _check_configured(decoded)
                    self.connections += 1
                    self._set_live(True)
                elif decoded.get("method") == "events:notify":
                    notification = (decoded.get("params") or {}).get("notification")
                    if isinstance(notification, dict):
                        yield EventNotification.from_json(notification)
        raise _Dropped("the camera closed the stream")


def _decode(text: str) -> dict[str, Any]:
    try:
        decoded = json.loads(text)
    except ValueError:
        raise ProtocolError("the event stream sent something that is not JSON") from None
    return decoded if isinstance(decoded, dict) else {}


def _check_configured(answer: dict[str, Any]) -> None:
    error = answer.get("error")
    if isinstance(error, dict):
        code = int(error.get("code", 0))
        if code in (2105, 2106):
            raise Unauthorized(401, str(error.get("message", "")))
        raise StreamRefused(code, str(error.get("message", "")))
