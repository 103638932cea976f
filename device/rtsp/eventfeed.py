"""A metadata session's subscription to the event bus, from PLAY until PAUSE or teardown.

Made on PLAY: it subscribes and takes the current state of every stateful event that passes the filter in the
same step, with nothing awaited between, so no change is lost between the two and none arrives twice; those
states come out first, marked initial (``PropertyOperation="Initialized"``), then every later event in the order
the bus delivered it. The queue holds events, not documents: a document is built when it is sent. The bus
delivers on the event loop only (publishers in worker threads hand over to the loop first), so the feed needs no
lock.

A slow or stuck client must not make the camera hold more and more: the queue holds at most `MAX_QUEUED`
events. One more, and the feed stops (it lets go of the bus and of what it holds) and calls `on_overflow`, which
ends the session. Closing rather than dropping the oldest: a client that silently missed a change of a stateful
event would go on believing a wrong state, while one that is disconnected reconnects and gets every current
state again. The WebSocket stream (device/http/wsstream.py) does the same for the same reason.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import deque
from collections.abc import Callable

from device.events.bus import Event, EventBus

MAX_QUEUED = 1000
"""Events waiting to be sent; far above the initial burst (about 50 states with every topic) and what a client
that reads has outstanding, so only one that stopped reading reaches it."""


class EventFeed:
    def __init__(
        self,
        bus: EventBus,
        wanted: Callable[[Event], bool],
        on_overflow: Callable[[], None],
        limit: int | None = None,
    ) -> None:
        """`limit`: the queue's bound; None: `MAX_QUEUED`, as it is when the feed is made."""
        self._wanted = wanted
        self._on_overflow = on_overflow
        self._limit = MAX_QUEUED if limit is None else limit
        self._queue: deque[Event] = deque()
        self._ready = asyncio.Event()
        self.overflowed = False
        self._unsubscribe: Callable[[], None] | None = bus.subscribe(self._on_event)
        for state in bus.current():  # the states as they are at this very moment: nothing is awaited above
            self._on_event(dataclasses.replace(state, initial=True))

    def __len__(self) -> int:
        return len(self._queue)

    async def get(self) -> Event:
        """The next event; waits for one (for ever once the feed is closed: the session ends it)."""
        while not self._queue:
            self._ready.clear()
            await self._ready.wait()
        return self._queue.popleft()

    def close(self) -> None:
        """Let go of the bus and of what is queued. Harmless twice."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._queue.clear()

    def _on_event(self, event: Event) -> None:
        if self._unsubscribe is None or not self._wanted(event):  # closed (an overflow in the initial burst, say)
            return
        if len(self._queue) >= self._limit:
            self.overflowed = True
            self.close()
            self._on_overflow()
            return
        self._queue.append(event)
        self._ready.set()
