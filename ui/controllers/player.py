"""PlayerController: plays a camera's recordings from a moment on, across interruptions, through libvlc fed by
the app's own RTSP session (app.playback), and reports the wall-clock time of the frame on screen.

The panel gives it a window to draw into (`set_window`); tests give it a MemoryVideo instead and read the
pictures. One playback at a time: a new `play_from` stops the one before.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import vlc
from PySide6.QtCore import QObject, QTimer, Signal

from app.cameras.fleet import Fleet
from app.playback.auth import Credentials
from app.playback.continuous import ContinuousFrames, Segment, segments_from
from app.playback.vlcfeed import MemoryVideo, VlcFeed
from app.vapix.errors import VapixError
from app.vapix.playback import playback_url, rtsp_port
from ui.controllers.tasks import TaskGroup
from ui.timeline.view import Track

log = logging.getLogger(__name__)
SPEEDS = (0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)


class PlayerController(QObject):
    """Signals:
    time_changed(object): the capture time (UTC datetime) of the frame on screen, about five times a second.
    playing_changed(bool): playback started or ended.
    message(str): what the operator should read (nothing recorded there, the camera cannot be reached).
    """

    time_changed = Signal(object)
    playing_changed = Signal(bool)
    message = Signal(str)

    def __init__(self, fleet: Fleet, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.fleet = fleet
        self.video_factory: Callable[[], MemoryVideo] | None = None  # tests: decode into memory, no window
        self.video: MemoryVideo | None = None
        self.feed: VlcFeed | None = None
        self.frames: ContinuousFrames | None = None
        self.speed = 1.0
        self._window: int | None = None
        self._ports: dict[str, int] = {}
        self._tasks = TaskGroup(lambda exc: self.message.emit(f"Playback stopped: {exc}"))
        self._playing: asyncio.Task[None] | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(200)
        self._timer.timeout.connect(self._tick)

    def set_window(self, window_id: int) -> None:
        self._window = window_id

    @property
    def playing(self) -> bool:
        return self._playing is not None and not self._playing.done()

    def play_from(self, track: Track, moment: float) -> None:
        segments = segments_from(track.spans.spans, moment)
        if not segments:
            self.message.emit("Nothing is recorded there or after it on this disk.")
            return
        self._tasks.spawn(self._restart(track.key.split("/", 1)[0], segments))

    def pause(self, paused: bool) -> None:
        if self.feed is not None:
            self.feed.player.set_pause(1 if paused else 0)
            QTimer.singleShot(100, self._tick)  # the clock shows the frame it stopped on, not one tick before

    def set_speed(self, speed: float) -> None:
        """1/8x to 16x: libvlc paces the stream by its timestamps, at this rate."""
        self.speed = speed
        if self.feed is not None:
            self.feed.player.set_rate(speed)

    def snapshot(self, path: Path) -> bool:
        """The picture on screen as PNG; False when nothing is shown."""
        if self.feed is None or not self.feed.started:
            return False
        return bool(self.feed.player.video_take_snapshot(0, str(path), 0, 0) == 0)

    def current_time(self) -> datetime | None:
        if self.feed is None or self.frames is None or not self.feed.started:
            return None
        played = self.feed.player.get_time()
        return self.frames.clock.wall_clock(played / 1000) if played >= 0 else None

    async def stop(self) -> None:
        task, self._playing = self._playing, None
        if task is not None:
            task.cancel()
            # its failure, if any, was reported when it happened (TaskGroup): stopping it must not fail too
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def shutdown(self) -> None:
        await self.stop()
        await self._tasks.cancel_all()

    async def _restart(self, camera_id: str, segments: list[Segment]) -> None:
        await self.stop()
        self._playing = asyncio.current_task()
        await self._play(camera_id, segments)

    async def _play(self, camera_id: str, segments: list[Segment]) -> None:
        entry = self.fleet.entries.get(camera_id)
        transport = self.fleet.transport(camera_id)
        password = self.fleet.saved_password(camera_id)
        if entry is None or transport is None or password is None:
            self.message.emit("The camera is not connected.")
            return
        try:
            if camera_id not in self._ports:
                async with transport:
                    self._ports[camera_id] = await rtsp_port(transport)
        except VapixError as exc:
            self.message.emit(f"The camera could not be reached: {exc}")
            return
        host, port = entry.config.host, self._ports[camera_id]
        self.frames = ContinuousFrames(
            lambda rid: playback_url(host, port, rid, pull=True).url,
            Credentials(entry.config.username, password),
            segments,
        )
        self.video = self.video_factory() if self.video_factory else None
        feed = self.feed = VlcFeed(video=self.video)
        if self.video is None and self._window is not None:
            _attach_window(feed, self._window)
        feed.player.set_rate(self.speed)
        ended = _ended_event(feed)
        self.playing_changed.emit(True)
        self._timer.start()
        try:
            await feed.feed(self.frames)
            if feed.started:
                await ended.wait()  # libvlc plays out what it holds
        except OSError as exc:
            self.message.emit(f"Playback stopped: {exc}")
        finally:
            self._timer.stop()
            self._tick()
            await feed.close()
            self.feed = None
            self.playing_changed.emit(False)

    def _tick(self) -> None:
        moment = self.current_time()
        if moment is not None:
            self.time_changed.emit(moment)


def _ended_event(feed: VlcFeed) -> asyncio.Event:
    """Set when libvlc has played everything (or failed, or was stopped); its events come on its own thread."""
    ended, loop = asyncio.Event(), asyncio.get_running_loop()
    manager = feed.player.event_manager()
    for kind in (
        vlc.EventType.MediaPlayerEndReached,
        vlc.EventType.MediaPlayerEncounteredError,
        vlc.EventType.MediaPlayerStopped,
    ):
        manager.event_attach(kind, lambda _event: loop.call_soon_threadsafe(ended.set))
    return ended


def _attach_window(feed: VlcFeed, window_id: int) -> None:
    """libvlc draws into the panel's native window; the call differs per platform."""
    if sys.platform.startswith("linux"):
        feed.player.set_xwindow(window_id)
    elif sys.platform == "win32":
        feed.player.set_hwnd(window_id)
    elif sys.platform == "darwin":
        feed.player.set_nsobject(window_id)
