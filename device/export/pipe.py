"""Items made in a worker thread, handed to the event loop with backpressure.

An export (or play.cgi's frames) is made by blocking code (file reads, FFmpeg) and sent by aiohttp on the loop.
At most `depth` items are in flight: when the client reads slowly the worker waits, so memory does not grow
with the length of the recording. Each stream gets a thread of its own rather than one of the loop's executor
threads: a client that downloads slowly holds its thread for as long as it reads, and a few such clients must
not starve list.cgi and the recorder of executor threads. When the consumer goes away (client disconnected)
the worker's next ``send`` raises ExportCancelled, and the consumer waits for the worker to finish so nothing
is left open.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncGenerator, Callable
from typing import Generic, TypeVar

from device.export.remux import ExportCancelled

T = TypeVar("T")


class _End(Generic[T]):
    def __init__(self, error: BaseException | None) -> None:
        self.error = error


async def stream_from_thread(work: Callable[[Callable[[T], None]], object], depth: int = 8) -> AsyncGenerator[T, None]:
    """Run ``work(send)`` in a thread of its own and yield what it sends; the worker's exception is raised after
    the items it sent before failing."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[T | _End[T]] = asyncio.Queue()
    slots = threading.Semaphore(depth)
    stopped = threading.Event()
    ended = asyncio.Event()

    def send(item: T) -> None:
        while not slots.acquire(timeout=0.25):
            if stopped.is_set():
                raise ExportCancelled("the receiver went away")
        if stopped.is_set():
            raise ExportCancelled("the receiver went away")
        loop.call_soon_threadsafe(queue.put_nowait, item)

    def run() -> None:
        error: BaseException | None = None
        try:
            work(send)
        except BaseException as exc:  # handed to the consumer, which raises it
            error = exc
        finally:
            with contextlib.suppress(RuntimeError):  # the loop is closing
                loop.call_soon_threadsafe(queue.put_nowait, _End(error))
                loop.call_soon_threadsafe(ended.set)

    threading.Thread(target=run, name="edgestore-stream", daemon=True).start()
    try:
        while not isinstance(item := await queue.get(), _End):
            slots.release()
            yield item
        if item.error is not None:
            raise item.error
    finally:
        stopped.set()
        await ended.wait()  # the worker notices within a quarter second
