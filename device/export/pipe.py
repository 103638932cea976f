"""Bytes made in a worker thread, handed to the event loop with backpressure.

An export is made by blocking code (file reads, FFmpeg) in a thread and sent by aiohttp on the loop. At most
`depth` chunks are in flight: when the client reads slowly the worker waits, so memory does not grow with the
length of the export. When the consumer goes away (client disconnected) the worker's next ``send`` raises
ExportCancelled, and the consumer waits for the worker to finish so nothing is left open.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncGenerator, Callable

from device.export.remux import ExportCancelled

Send = Callable[[bytes], None]


async def stream_from_thread(work: Callable[[Send], object], depth: int = 8) -> AsyncGenerator[bytes, None]:
    """Run ``work(send)`` in a thread and yield what it sends; the worker's exception is raised after the bytes
    it sent before failing."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[bytes | None] = asyncio.Queue()
    slots = threading.Semaphore(depth)
    stopped = threading.Event()

    def send(data: bytes) -> None:
        while not slots.acquire(timeout=0.25):
            if stopped.is_set():
                raise ExportCancelled("the receiver went away")
        if stopped.is_set():
            raise ExportCancelled("the receiver went away")
        loop.call_soon_threadsafe(queue.put_nowait, data)

    def run() -> None:
        try:
            work(send)
        finally:
            with contextlib.suppress(RuntimeError):  # the loop is closing
                loop.call_soon_threadsafe(queue.put_nowait, None)

    worker = asyncio.ensure_future(asyncio.to_thread(run))
    try:
        while (item := await queue.get()) is not None:
            slots.release()
            yield item
        await worker
    finally:
        stopped.set()
        if not worker.done():
            with contextlib.suppress(BaseException):
                await worker
