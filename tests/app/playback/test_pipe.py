"""The bounded pipe between the event loop and libvlc's reading thread."""

from __future__ import annotations

import asyncio
import threading

import pytest

from app.playback.pipe import BytePipe, PipeClosed


async def test_a_writer_waits_while_the_pipe_is_full_and_goes_on_once_a_thread_reads():
    pipe = BytePipe(capacity=8)
    await pipe.write(b"12345678")
    blocked = asyncio.create_task(pipe.write(b"9"))
    await asyncio.sleep(0.05)
    assert not blocked.done()
    assert pipe.buffered == 8
    assert await asyncio.to_thread(pipe.read, 5) == b"12345"
    await asyncio.wait_for(blocked, 2)
    assert await asyncio.to_thread(pipe.read, 100) == b"6789"


async def test_the_reader_gets_what_is_buffered_then_the_end():
    pipe = BytePipe(capacity=100)
    await pipe.write(b"abc")
    pipe.finish()
    assert pipe.read(2) == b"ab"
    assert pipe.read(2) == b"c"
    assert pipe.read(2) == b""
    with pytest.raises(PipeClosed):
        await pipe.write(b"late")


async def test_close_wakes_a_blocked_reader_at_once():
    pipe = BytePipe(capacity=4)
    got: list[bytes | None] = []
    reader = threading.Thread(target=lambda: got.append(pipe.read(10)))
    reader.start()
    await asyncio.sleep(0.05)
    assert reader.is_alive()
    pipe.close()
    reader.join(2)
    assert got == [b""]


async def test_close_fails_a_waiting_writer_and_drops_what_was_buffered():
    pipe = BytePipe(capacity=4)
    await pipe.write(b"1234")
    writer = asyncio.create_task(pipe.write(b"more"))
    await asyncio.sleep(0.05)
    assert not writer.done()
    await asyncio.to_thread(pipe.close)
    with pytest.raises(PipeClosed):
        await asyncio.wait_for(writer, 2)
    assert pipe.read(10) == b""


def test_a_read_times_out_with_none_when_nothing_comes():
    assert BytePipe().read(10, timeout=0.01) is None


def test_a_pipe_holds_at_least_a_byte():
    with pytest.raises(ValueError):
        BytePipe(0)
