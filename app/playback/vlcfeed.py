"""libvlc in-process, fed the RTSP session's frames as MPEG-TS through its media callbacks.

Debian's libvlc has no RTSP module (live555 is not packaged), and the player needs the wall-clock time of each
frame anyway, so the app does RTSP itself (`session.py`) and gives libvlc a byte stream: frames are remuxed to
MPEG-TS (`tsmux.py`, no transcoding) into a bounded pipe (`pipe.py`) that libvlc's read callback drains from its
own thread. libvlc paces playback by the stream's timestamps, so a ``pull=1`` session simply fills the pipe and
then waits for the player.

The player object is ``self.player`` (a ``vlc.MediaPlayer``): the UI gives it a window (``set_xwindow``,
``set_hwnd``, ``set_nsobject``) before feeding. :class:`MemoryVideo` instead receives decoded pictures in memory,
which is how tests see what libvlc decoded, with no display.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import threading
from collections.abc import AsyncIterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import vlc

from app.playback.pipe import BytePipe, PipeClosed
from app.playback.session import Frame
from app.playback.tsmux import TsMuxer

log = logging.getLogger(__name__)

DEFAULT_ARGS = ("--no-audio", "--no-video-title-show", "--quiet", "--no-drop-late-frames")
"""``--no-drop-late-frames``: the first picture after a seek is the one the operator asked for, and libvlc's
video output drops it when decoding it took longer than the stream's start-up caching (a busy machine, the
decoder's first load). Shown a few milliseconds late beats never shown."""
UNKNOWN_SIZE = 2**64 - 1
"""What libvlc's open callback reports for a stream of unknown length (UINT64_MAX)."""


@dataclass(frozen=True)
class Picture:
    """A decoded picture in RV32: 4 bytes a pixel, blue, green, red, unused; `pitch` bytes a row."""

    width: int
    height: int
    pitch: int
    data: bytes

    def channel(self, index: int) -> bytes:
        """One byte a pixel (0 blue, 1 green, 2 red), rows `width` bytes long: a plane image code can read."""
        rows = (self.data[r * self.pitch : r * self.pitch + 4 * self.width] for r in range(self.height))
        return b"".join(row[index::4] for row in rows)


class MemoryVideo:
    """libvlc's decoded pictures, copied into memory as they are shown (``libvlc_video_set_callbacks``).

    Keeps the first `keep` pictures and the latest; `count` says how many were shown. The callbacks run on
    libvlc's threads, so everything here is behind a lock."""

    CHROMA = "RV32"

    def __init__(self, keep: int = 8) -> None:
        self._keep = keep
        self._cond = threading.Condition()
        self._first: list[Picture] = []
        self._latest: Picture | None = None
        self._count = 0
        self._width = self._height = self._pitch = 0
        self._memory: ctypes.Array[ctypes.c_char] | None = None
        self._address = 0
        self._callbacks: tuple[Any, ...] = ()

    @property
    def count(self) -> int:
        with self._cond:
            return self._count

    @property
    def pictures(self) -> list[Picture]:
        with self._cond:
            return list(self._first)

    @property
    def latest(self) -> Picture | None:
        with self._cond:
            return self._latest

    def wait_for(self, count: int, timeout: float) -> bool:
        """Block until `count` pictures have been shown (True) or `timeout` seconds passed (False)."""
        with self._cond:
            return self._cond.wait_for(lambda: self._count >= count, timeout)

    def attach(self, player: Any, width: int, height: int) -> None:
        """Make `player` render into memory at `width` x `height` (libvlc scales if the stream differs);
        before it plays."""
        self._width, self._height, self._pitch = width, height, width * 4
        size = self._pitch * height
        self._memory = ctypes.create_string_buffer(size + 32)
        address = ctypes.addressof(self._memory)
        self._address = address + (-address % 32)  # libvlc wants planes aligned on 32 bytes

        @vlc.CallbackDecorators.VideoLockCb  # type: ignore[untyped-decorator]
        def lock(_opaque: Any, planes: Any) -> None:
            planes[0] = self._address

        @vlc.CallbackDecorators.VideoUnlockCb  # type: ignore[untyped-decorator]
        def unlock(_opaque: Any, _picture: Any, _planes: Any) -> None:
            pass

        @vlc.CallbackDecorators.VideoDisplayCb  # type: ignore[untyped-decorator]
        def display(_opaque: Any, _picture: Any) -> None:
            self._shown(ctypes.string_at(self._address, size))

        self._callbacks = (lock, unlock, display)  # ctypes callbacks live only as long as a reference does
        player.video_set_callbacks(lock, unlock, display, None)
        player.video_set_format(self.CHROMA, width, height, self._pitch)

    def _shown(self, data: bytes) -> None:
        picture = Picture(self._width, self._height, self._pitch, data)
        with self._cond:
            if len(self._first) < self._keep:
                self._first.append(picture)
            self._latest = picture
            self._count += 1
            self._cond.notify_all()


class VlcFeed:
    def __init__(
        self,
        instance: Any | None = None,
        *,
        video: MemoryVideo | None = None,
        buffer_bytes: int = 4 * 1024 * 1024,
    ) -> None:
        """`instance`: a ``vlc.Instance`` to share (one is made, with :data:`DEFAULT_ARGS`, if None); `video`:
        render into memory instead of a window; `buffer_bytes`: MPEG-TS held for libvlc before feeding waits."""
        self._own_instance = instance is None
        self.instance: Any = instance if instance is not None else vlc.Instance(list(DEFAULT_ARGS))
        self.player: Any = self.instance.media_player_new()
        self.video = video
        self.first_wall_clock: datetime | None = None
        """The capture time of the first frame fed: libvlc's play time (``player.get_time()``) counts from it."""
        self._pipe = BytePipe(buffer_bytes)
        self._muxer = TsMuxer()
        self._media: Any = None
        self._callbacks = self._media_callbacks()
        self._started = threading.Event()

    @property
    def started(self) -> bool:
        """The player has been given the stream (after the first key frame)."""
        return self._started.is_set()

    async def feed(self, frames: AsyncIterable[Frame]) -> None:
        """Mux `frames` into the player until they end (then libvlc plays out what it has and stops) or the feed
        is closed. Playback starts with the first key frame; frames before it are skipped. An error of the frames
        (the connection failed) is raised here after the player has been told the stream ended."""
        try:
            async for frame in frames:
                chunk = self._muxer.mux(frame.data, frame.keyframe, frame.rtp_timestamp)
                if not chunk:
                    continue
                if not self.started:
                    self.first_wall_clock = frame.wall_clock
                    self._start()
                await self._pipe.write(chunk)
            tail = self._muxer.close()
            if tail and self.started:
                await self._pipe.write(tail)
        except PipeClosed:
            pass  # closed while feeding: the player is gone
        finally:
            self._pipe.finish()  # also when the frames failed: libvlc plays out what it has instead of waiting

    async def close(self) -> None:
        """Stop the player and release it. The pipe is closed first: libvlc's stop waits for a read callback
        that would otherwise wait for data forever."""
        self._pipe.close()
        await asyncio.to_thread(self.player.stop)
        if self._media is not None:
            self._media.release()
            self._media = None
        self.player.release()
        if self._own_instance:
            self.instance.release()
        with contextlib.suppress(Exception):
            self._muxer.close()

    def _start(self) -> None:
        if self.video is not None:
            self.video.attach(self.player, self._muxer.width, self._muxer.height)
        open_cb, read_cb, close_cb = self._callbacks
        self._media = self.instance.media_new_callbacks(open_cb, read_cb, None, close_cb, None)
        self._media.add_option(":demux=ts")
        self.player.set_media(self._media)
        self.player.play()
        self._started.set()

    def _media_callbacks(self) -> tuple[Any, Any, Any]:
        """libvlc's open, read and close callbacks over the pipe; they run on libvlc's input thread."""
        pipe = self._pipe

        @vlc.CallbackDecorators.MediaOpenCb  # type: ignore[untyped-decorator]
        def open_cb(_opaque: Any, datap: Any, sizep: Any) -> int:
            datap[0] = None
            sizep[0] = UNKNOWN_SIZE
            return 0

        @vlc.CallbackDecorators.MediaReadCb  # type: ignore[untyped-decorator]
        def read_cb(_opaque: Any, buffer: Any, length: int) -> int:
            chunk = pipe.read(length)
            if not chunk:
                return 0  # the end, or closed
            ctypes.memmove(buffer, chunk, len(chunk))
            return len(chunk)

        @vlc.CallbackDecorators.MediaCloseCb  # type: ignore[untyped-decorator]
        def close_cb(_opaque: Any) -> None:
            pass

        return open_cb, read_cb, close_cb
