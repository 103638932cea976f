"""Live events over WebSocket: `wssession.cgi` and `/vapix/ws-data-stream?sources=events` (EVENTS.md §3.1).

The upgrade is authenticated by Digest (checked by the middleware as for any request) or by a `wssession=`
token from `wssession.cgi`, good once within 15 s. Everything the client is sent goes through one queue in the
order it was decided on the event loop: the configure answer, then the current state of every stateful event
that matches (the initial burst), then each change, so a change can never overtake the state it changes.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from aiohttp import WSMsgType, web

from device.events.bus import Event, EventBus
from device.events.streaming import EventFilter, StreamError, configured, error, notification, parse_configure
from device.http.auth_middleware import unauthorized
from device.http.keys import services_of, state_of, user_of
from device.http.module import ApiEntry, HttpModule
from device.tasks import cancel_and_wait

MAX_QUEUED = 1000  # a client this far behind is not reading: it is dropped rather than grow without end


async def wssession_cgi(request: web.Request) -> web.Response:
    user = user_of(request)
    assert user is not None  # the middleware asked for a viewer
    return web.Response(text=services_of(request).events.sessions.issue(user.name), content_type="text/plain")


async def ws_data_stream(request: web.Request) -> web.StreamResponse:
    token = request.query.get("wssession")
    redeemed = token is not None and services_of(request).events.sessions.redeem(token) is not None
    if user_of(request) is None and not redeemed:
        return unauthorized(request, state_of(request).http_auth_policy)
    sources = {s.strip() for s in request.query.get("sources", "events").split(",")}
    if "events" not in sources:
        return web.Response(status=400, text="Only sources=events is served.\n")
    socket = web.WebSocketResponse(heartbeat=30.0)
    await socket.prepare(request)
    events = services_of(request).events
    events.streams.add(socket)
    stream = _Stream(services_of(request).bus)
    sender = asyncio.get_running_loop().create_task(stream.send_to(socket))
    try:
        async for message in socket:
            if message.type is WSMsgType.TEXT:
                stream.configure(message.data)
            elif message.type is WSMsgType.BINARY:
                stream.reject("Binary messages are not supported")
    finally:
        events.streams.discard(socket)
        stream.close()
        await cancel_and_wait(sender)
    return socket


class _Stream:
    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        self._filters: tuple[EventFilter, ...] = ()
        self._out: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._unsubscribe: Callable[[], None] = bus.subscribe(self._on_event)

    def configure(self, text: str) -> None:
        try:
            request = parse_configure(text)
        except StreamError as exc:
            self._put(error(exc))
            return
        self._filters = request.filters
        self._put(configured(request.context))
        for state in self._bus.current():
            self._on_event(state)

    def reject(self, message: str) -> None:
        self._put(error(StreamError(2101, message)))

    def close(self) -> None:
        self._unsubscribe()

    def _on_event(self, event: Event) -> None:
        for wanted in self._filters:
            if wanted.matches(event):
                self._put(notification(event))

    def _put(self, message: dict[str, Any]) -> None:
        if self._out.qsize() >= MAX_QUEUED:
            self._unsubscribe()
            self._out.put_nowait(None)
            return
        self._out.put_nowait(message)

    async def send_to(self, socket: web.WebSocketResponse) -> None:
        while (message := await self._out.get()) is not None:
            await socket.send_str(json.dumps(message, separators=(",", ":")))
        await socket.close()


MODULE = HttpModule(
    routes=[
        web.get("/axis-cgi/wssession.cgi", wssession_cgi, allow_head=False),
        web.get("/vapix/ws-data-stream", ws_data_stream, allow_head=False),
    ],
    apis=(ApiEntry("event-streaming-over-websocket", "1.0", "Event Streaming over WebSocket"),),
)
