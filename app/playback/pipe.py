"""A bounded byte pipe from the event loop to a thread that reads with blocking calls (libvlc's read callback).

Bounded, so a player that is behind (or paused) holds the producer back instead of growing memory: the writer
waits while `capacity` bytes are unread, which stops the RTSP session reading and TCP slows the camera down.
The reader blocks until there are bytes, the end, or a close; a close wakes it at once, because libvlc's stop
waits for its read callback to return and would otherwise hang the UI.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading


class PipeClosed(Exception):
    """Written to after :meth:`BytePipe.close` (the player went away)."""


class BytePipe:
    def __init__(self, capacity: int = 4 * 1024 * 1024) -> None:
        if capacity <= 0:
            raise ValueError("a pipe holds at least one byte")
        self.capacity = capacity
        self._buffer = bytearray()
        self._lock = threading.Condition()
        self._finished = False
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._space = asyncio.Event()

    @property
    def buffered(self) -> int:
        with self._lock:
            return len(self._buffer)

    @property
    def closed(self) -> bool:
        return self._closed

    async def write(self, data: bytes) -> None:
        """Append `data` once fewer than `capacity` bytes are unread (so at most `capacity` plus one write are
        ever held)."""
        self._loop = asyncio.get_running_loop()
        while True:
            with self._lock:
                if self._closed:
                    raise PipeClosed("the reader has gone")
                if self._finished:
                    raise PipeClosed("the pipe was finished")
                if len(self._buffer) < self.capacity:
                    self._buffer += data
                    self._lock.notify_all()
                    return
                self._space.clear()  # under the lock: a read after this point sets it again
            await self._space.wait()

    def finish(self) -> None:
        """No more data: the reader gets what is buffered, then the end (b"")."""
        with self._lock:
            self._finished = True
            self._lock.notify_all()

    def close(self) -> None:
        """Abort: the reader gets the end at once, a waiting writer raises :class:`PipeClosed`."""
        with self._lock:
            self._closed = True
            self._buffer.clear()
            self._lock.notify_all()
        self._wake_writer()

    def read(self, size: int, timeout: float | None = None) -> bytes | None:
        """Up to `size` bytes, blocking until some are there; b"" at the end or after close; None when `timeout`
        seconds passed with nothing to read."""
        with self._lock:
            if not self._lock.wait_for(lambda: self._buffer or self._finished or self._closed, timeout):
                return None
            if self._closed:
                return b""
            chunk = bytes(self._buffer[:size])
            del self._buffer[:size]
        self._wake_writer()
        return chunk

    def _wake_writer(self) -> None:
        loop = self._loop
        if loop is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop has closed: no writer is left to wake
            loop.call_soon_threadsafe(self._space.set)
