"""PlayerController: plays one or more cameras' recordings from a moment on, across interruptions, through libvlc
fed by the app's own RTSP sessions (app.playback), and shows the exact picture while the operator scrubs, pauses
or steps frame by frame (app.playback.still).

Two ways of showing a picture, for two jobs:
- *Playing*: libvlc decodes and paces the stream, one lane per track, each drawing into a window the panel gives
  (`set_windows`; tests give MemoryVideo instead). Lanes play the same moment: a lane that runs ahead of the
  others (it started at an earlier key frame, or jumped over a gap the others are recording through) is paused
  until they catch up.
- *Still*: while scrubbing, when paused and on frame steps, the picture at the playhead is decoded here, exact to
  the frame, and its capture time is what the clock shows. Requests are latest-wins, so dragging fast never
  queues seeks behind each other.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import vlc
from PySide6.QtCore import QObject, QTimer, Signal

from app.cameras.fleet import Fleet
from app.playback.auth import Credentials
from app.playback.continuous import ContinuousFrames, segments_from
from app.playback.errors import RtspError
from app.playback.still import NoPicture, Still, fetch_still
from app.playback.vlcfeed import MemoryVideo, VlcFeed
from app.timeline.spans import Span
from app.vapix.errors import VapixError
from app.vapix.playback import playback_url, rtsp_port
from ui.controllers.tasks import TaskGroup
from ui.timeline.view import Track

log = logging.getLogger(__name__)
SPEEDS = (0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
JUMP_SECONDS = 10.0
MAX_LANES = 4
"""Cameras played together at most: four pictures in a 2x2 grid still show a face at 1280x800."""
SYNC_TOLERANCE = 0.12
"""Seconds two lanes may differ before the one ahead waits: about two frames at 15 fps, under what an eye
comparing two doors notices."""
STEP_SLACK = timedelta(milliseconds=5)
"""How far past a neighbour's capture time a frame step asks. Each still is its own RTSP session, and two sessions'
sender reports can date the same frame a fraction of a millisecond apart: asking for exactly the next frame's
time could land just before it and show the same picture again. 5 ms is well under a frame even at 100 fps."""


@dataclass
class Source:
    """How to reach one camera's recordings over RTSP."""

    url_for: Callable[[str], str]
    credentials: Credentials


@dataclass
class Lane:
    """One track being shown: its libvlc player while playing, its still while not."""

    track: Track
    window: int | None = None
    feed: VlcFeed | None = None
    frames: ContinuousFrames | None = None
    video: MemoryVideo | None = None
    still: Still | None = None
    held_until: float = 0.0  # loop time until which this lane waits for the others

    @property
    def camera_id(self) -> str:
        return self.track.key.split("/", 1)[0]

    def wall_clock(self) -> datetime | None:
        """The capture time of the frame libvlc shows now."""
        if self.feed is None or self.frames is None or not self.feed.started:
            return None
        played = self.feed.player.get_time()
        return self.frames.clock.wall_clock(played / 1000) if played >= 0 else None


class PlayerController(QObject):
    """Signals:
    lanes_changed(int): how many pictures to show; the panel makes that many surfaces and calls set_windows()
        before this returns (a direct connection), so libvlc has windows before it starts.
    time_changed(object): the capture time (UTC datetime) of the picture on screen (lane 0's).
    playing_changed(bool): libvlc playback started or ended.
    paused_changed(bool): the operator paused (a still is shown) or played on.
    still_changed(int, object): lane, and a Still to show in place of the video, or None to show the video.
    gap_shown(int, object): lane, and the moment (UTC datetime) at which it has nothing recorded.
    speed_changed(float): the speed changed (J/L, or the speed box).
    message(str): what the operator should read (nothing recorded there, the camera cannot be reached).
    """

    lanes_changed = Signal(int)
    time_changed = Signal(object)
    playing_changed = Signal(bool)
    paused_changed = Signal(bool)
    still_changed = Signal(int, object)
    gap_shown = Signal(int, object)
    speed_changed = Signal(float)
    message = Signal(str)

    def __init__(self, fleet: Fleet, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.fleet = fleet
        self.video_factory: Callable[[], MemoryVideo] | None = None  # tests: decode into memory, no window
        self.lanes: list[Lane] = []
        self.speed = 1.0
        self.paused = False
        self.position: datetime | None = None
        """Where the operator is: the exact still's time when paused, libvlc's picture's when playing."""
        self._windows: list[int] = []
        self._ports: dict[str, int] = {}
        self._tasks = TaskGroup(lambda exc: self.message.emit(f"Playback stopped: {exc}"))
        self._playing: asyncio.Task[None] | None = None
        self._ending: asyncio.Task[None] | None = None  # a playback cancelled by a scrub, maybe still closing
        self._stills: asyncio.Task[None] | None = None
        self._still_wanted: datetime | None = None
        self._steps = 0
        self._moved_while_paused = False
        self._timer = QTimer(self)
        self._timer.setInterval(200)
        self._timer.timeout.connect(self._tick)

    # --- what the panel tells it ---------------------------------------------------------------------------------

    def set_windows(self, window_ids: list[int]) -> None:
        self._windows = list(window_ids)

    def set_window(self, window_id: int) -> None:
        self.set_windows([window_id])

    # --- state ---------------------------------------------------------------------------------------------------

    @property
    def playing(self) -> bool:
        return self._playing is not None and not self._playing.done()

    @property
    def feed(self) -> VlcFeed | None:
        """The first lane's libvlc feed (the one the clock follows)."""
        return self.lanes[0].feed if self.lanes else None

    @property
    def video(self) -> MemoryVideo | None:
        return self.lanes[0].video if self.lanes else None

    @property
    def frames(self) -> ContinuousFrames | None:
        return self.lanes[0].frames if self.lanes else None

    def current_time(self) -> datetime | None:
        if self.paused or not self.playing:
            return self.position
        return self.lanes[0].wall_clock() if self.lanes else None

    # --- commands ------------------------------------------------------------------------------------------------

    def play_from(self, track: Track | list[Track], moment: float) -> None:
        """Play `track` (or several in step) from `moment` on."""
        tracks = _at_most(track)
        if not any(segments_from(t.spans.spans, moment) for t in tracks):
            self.message.emit("Nothing is recorded there or after it on this disk.")
            return
        self._cancel_stills()
        self._set_paused(False)
        self.position = _utc(moment)
        previous = self._playing or self._ending
        # The new playback is the current one from now on, and it starts only once the one before it has ended:
        # a burst of J presses or seeks must never have two playbacks filling the same lanes.
        self._playing = self._tasks.spawn(self._restart(previous, tracks, moment))

    def toggle_pause(self) -> None:
        self.pause(not self.paused)

    def pause(self, paused: bool) -> None:
        """Pausing shows the exact picture at the moment paused; playing on continues libvlc where it stopped,
        or starts it at the still's moment when the operator stepped or scrubbed meanwhile."""
        if not self.lanes:
            return
        if paused and not self.paused:
            moment = self.current_time()
            for lane in self.lanes:
                if lane.feed is not None:
                    lane.feed.player.set_pause(1)
            self._set_paused(True)
            self._moved_while_paused = False
            if moment is not None:
                self.position = moment
                self._want_still(moment, moved=False)
        elif not paused and self.paused:
            if self.playing and not self._moved_while_paused:
                self._cancel_stills()
                self._set_paused(False)
                for index, lane in enumerate(self.lanes):
                    if lane.feed is not None:
                        lane.feed.player.set_pause(0)
                    self.still_changed.emit(index, None)
            elif self.position is not None:
                self.play_from([lane.track for lane in self.lanes], self.position.timestamp())

    def scrub(self, track: Track | list[Track], moment: float) -> None:
        """The playhead is being dragged: stop playing and show the picture under it (latest wins)."""
        tracks = _at_most(track)
        if self._playing is not None:  # cancelled now; the playback on release waits until it has closed
            self._playing.cancel()
            self._ending, self._playing = self._playing, None
        if [lane.track.key for lane in self.lanes] != [t.key for t in tracks]:
            self._set_lanes(tracks)
        self._set_paused(True)
        self.position = _utc(moment)
        self._want_still(self.position)

    def step(self, frames: int) -> None:
        """Frame steps (the arrow keys): pause, then move one picture forward or back per step."""
        if not self.lanes:
            return
        if not self.paused:
            self.pause(True)
        self._steps += frames
        self._moved_while_paused = True
        self._ensure_still_loop()

    def jump(self, seconds: float) -> None:
        """±10 s: playing goes on from there; paused shows the picture there."""
        moment = self.current_time()
        if moment is None or not self.lanes:
            return
        target = moment.timestamp() + seconds
        if self.paused:
            self.position = _utc(target)
            self._want_still(self.position)
        else:
            self.play_from([lane.track for lane in self.lanes], target)

    def faster(self) -> None:
        """L: play (when paused), or go to the next speed up."""
        if self.paused:
            self.pause(False)
            return
        self.set_speed(next((s for s in SPEEDS if s > self.speed), SPEEDS[-1]))

    def slower(self) -> None:
        """J: the next speed down, to 1/8x. The camera streams forwards only, so there is no reverse play."""
        self.set_speed(next((s for s in reversed(SPEEDS) if s < self.speed), SPEEDS[0]))

    def set_speed(self, speed: float) -> None:
        """1/8x to 16x. The stream's timestamps carry the speed (libvlc cannot change the rate of a fed stream),
        so playing goes on from the picture on screen with a new stream: what libvlc holds would play at the
        old speed for seconds."""
        if speed == self.speed:
            return
        self.speed = speed
        self.speed_changed.emit(speed)
        moment = self.current_time()
        if self.playing and not self.paused and moment is not None:
            self.play_from([lane.track for lane in self.lanes], moment.timestamp())

    def snapshot(self, path: Path, lane: int = 0) -> bool:
        """The picture on screen as PNG; False when nothing is shown."""
        if lane >= len(self.lanes):
            return False
        shown = self.lanes[lane]
        if self.paused and shown.still is not None:
            from PySide6.QtGui import QImage  # only here does the controller touch pixels

            still = shown.still
            image = QImage(still.rgb, still.width, still.height, still.stride, QImage.Format.Format_RGB888)
            return bool(image.save(str(path), b"PNG"))
        if shown.feed is None or not shown.feed.started:
            return False
        return bool(shown.feed.player.video_take_snapshot(0, str(path), 0, 0) == 0)

    async def stop(self) -> None:
        task, self._playing = self._playing, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            # Its failure, if any, was reported when it happened (TaskGroup): stopping it must not fail too. But
            # asyncio.wait, not `await task`: a stop that is itself cancelled must end, not go on to play.
            await asyncio.wait({task})

    async def shutdown(self) -> None:
        self._cancel_stills()
        await self.stop()
        await self._tasks.cancel_all()

    # --- playing -------------------------------------------------------------------------------------------------

    def _set_lanes(self, tracks: list[Track]) -> None:
        self.lanes = [Lane(t) for t in tracks]
        self.lanes_changed.emit(len(self.lanes))  # the panel answers with set_windows()
        for lane, window in zip(self.lanes, self._windows, strict=False):
            lane.window = window

    def _set_paused(self, paused: bool) -> None:
        if paused != self.paused:
            self.paused = paused
            self.paused_changed.emit(paused)

    async def _restart(self, previous: asyncio.Task[None] | None, tracks: list[Track], moment: float) -> None:
        if previous is not None and not previous.done():
            previous.cancel()
            await asyncio.wait({previous})  # not `await previous`: its failure was reported, and ours must not be
        if [lane.track.key for lane in self.lanes] != [t.key for t in tracks]:
            self._set_lanes(tracks)
        await self._play(moment)

    async def _play(self, moment: float) -> None:
        lanes = list(self.lanes)  # a scrub may swap self.lanes while this one is ending: close what it opened
        sources = {}
        for lane in lanes:
            source = await self._source(lane.camera_id)
            if source is None:
                return
            sources[lane.camera_id] = source
        feeds: list[tuple[Lane, VlcFeed]] = []  # closed by this playback only, whatever the lanes hold later
        for lane in lanes:
            source = sources[lane.camera_id]
            segments = segments_from(lane.track.spans.spans, moment)
            lane.frames = ContinuousFrames(source.url_for, source.credentials, segments, speed=self.speed)
            lane.video = self.video_factory() if self.video_factory else None
            lane.feed = VlcFeed(video=lane.video)
            lane.still = None
            feeds.append((lane, lane.feed))
            if lane.video is None and lane.window is not None:
                _attach_window(lane.feed, lane.window)
        loop = asyncio.get_running_loop()
        for index, (_lane, feed) in enumerate(feeds):
            _on_first_picture(feed, functools.partial(loop.call_soon_threadsafe, self._video_shown, index))
        self.playing_changed.emit(True)
        self._timer.start()
        try:
            await asyncio.gather(*(self._play_lane(lane, feed) for lane, feed in feeds))
        finally:
            self._timer.stop()
            self._tick()
            for lane, feed in feeds:
                await feed.close()
                if lane.feed is feed:
                    lane.feed = None
            self.playing_changed.emit(False)

    def _video_shown(self, index: int) -> None:
        if not self.paused and self.playing:
            self.still_changed.emit(index, None)

    async def _play_lane(self, lane: Lane, feed: VlcFeed) -> None:
        frames = lane.frames
        assert frames is not None
        if not frames.segments:
            return  # nothing from here on on this camera: the others play
        ended = _ended_event(feed)
        try:
            await feed.feed(frames)
            if feed.started:
                await ended.wait()  # libvlc plays out what it holds
        except (OSError, RtspError) as exc:
            self.message.emit(f"Playback stopped: {exc}")

    async def _source(self, camera_id: str) -> Source | None:
        entry = self.fleet.entries.get(camera_id)
        transport = self.fleet.transport(camera_id)
        password = self.fleet.saved_password(camera_id)
        if entry is None or transport is None or password is None:
            self.message.emit("The camera is not connected.")
            return None
        try:
            if camera_id not in self._ports:
                async with transport:
                    self._ports[camera_id] = await rtsp_port(transport)
        except VapixError as exc:
            self.message.emit(f"The camera could not be reached: {exc}")
            return None
        host, port = entry.config.host, self._ports[camera_id]
        credentials = Credentials(entry.config.username, password)
        return Source(lambda rid: playback_url(host, port, rid, pull=True).url, credentials)

    def _tick(self) -> None:
        if self.paused:
            return
        moment = self.lanes[0].wall_clock() if self.lanes else None
        if moment is not None:
            self.position = moment
            self.time_changed.emit(moment)
        if len(self.lanes) > 1:
            self._keep_in_step()

    def _keep_in_step(self) -> None:
        """The lane furthest behind sets the time; a lane ahead of it by more than the tolerance waits."""
        now = time.monotonic()
        walls = [(lane, lane.wall_clock()) for lane in self.lanes if lane.held_until <= now]
        known = [(lane, wall) for lane, wall in walls if wall is not None]
        if len(known) < 2:
            return
        slowest = min(wall for _, wall in known)
        for lane, wall in known:
            ahead = (wall - slowest).total_seconds() / self.speed  # recorded seconds, played at the speed
            if ahead > SYNC_TOLERANCE and lane.feed is not None:
                feed = lane.feed
                feed.player.set_pause(1)
                lane.held_until = now + ahead
                QTimer.singleShot(round(ahead * 1000), lambda f=feed, lane=lane: self._release(lane, f))

    def _release(self, lane: Lane, feed: VlcFeed) -> None:
        lane.held_until = 0.0
        if lane.feed is feed and not self.paused:
            feed.player.set_pause(0)

    # --- stills --------------------------------------------------------------------------------------------------

    def _want_still(self, moment: datetime, moved: bool = True) -> None:
        self._still_wanted = moment
        self._steps = 0
        if moved:
            self._moved_while_paused = True
        self._ensure_still_loop()

    def _ensure_still_loop(self) -> None:
        if self._stills is None or self._stills.done():
            self._stills = self._tasks.spawn(self._still_loop())

    def _cancel_stills(self) -> None:
        self._still_wanted, self._steps = None, 0
        if self._stills is not None:
            self._stills.cancel()
            self._stills = None

    async def _still_loop(self) -> None:
        while self._still_wanted is not None or self._steps:
            if self._still_wanted is not None:
                moment, self._still_wanted = self._still_wanted, None
            else:
                direction = 1 if self._steps > 0 else -1
                self._steps -= direction
                step_to = self._step_target(direction)
                if step_to is None:
                    self._steps = 0
                    continue
                moment = step_to
            await self._show_stills(moment)

    def _step_target(self, direction: int) -> datetime | None:
        """The next picture's time (forward), or just before the one shown (back), across recordings."""
        lane = self.lanes[0]
        shown = lane.still.captured if lane.still is not None else self.position
        if shown is None:
            return None
        spans = lane.track.spans
        now = datetime.now(UTC).timestamp()
        if direction > 0:
            if lane.still is not None and lane.still.following is not None:
                return lane.still.following + STEP_SLACK
            later = spans.next_after(shown.timestamp() + 1e-6)
            return _utc(later.start) if later is not None else None
        target = shown - STEP_SLACK
        if spans.at(target.timestamp(), now) is None:
            earlier = _last_before(spans.spans, target.timestamp())
            return _utc(earlier.stop) if earlier is not None and earlier.stop is not None else None
        return target

    async def _show_stills(self, moment: datetime) -> None:
        results = await asyncio.gather(*(self._still_for(lane, moment) for lane in self.lanes))
        if not self.paused:
            return  # playback started meanwhile: the video is what is shown
        for index, (lane, still) in enumerate(zip(self.lanes, results, strict=True)):
            lane.still = still
            if still is None:
                self.gap_shown.emit(index, moment)
            else:
                self.still_changed.emit(index, still)
        first = results[0] if results else None
        self.position = first.captured if first is not None else moment
        self.time_changed.emit(self.position)

    async def _still_for(self, lane: Lane, moment: datetime) -> Still | None:
        span = lane.track.spans.at(moment.timestamp(), datetime.now(UTC).timestamp())
        if span is None:
            return None
        source = await self._source(lane.camera_id)
        if source is None:
            return None
        try:
            return await fetch_still(source.url_for(span.recording_id), source.credentials, span.recording_id, moment)
        except NoPicture:
            return None
        except (OSError, RtspError) as exc:
            self.message.emit(f"The picture could not be fetched: {exc}")
            return None


def _at_most(track: Track | list[Track]) -> list[Track]:
    return (track if isinstance(track, list) else [track])[:MAX_LANES]


def _utc(moment: float) -> datetime:
    return datetime.fromtimestamp(moment, UTC)


def _last_before(spans: list[Span], moment: float) -> Span | None:
    """The recording that stopped last at or before `moment` (for a step back over a gap)."""
    ended = [s for s in spans if s.stop is not None and s.stop <= moment]
    return max(ended, key=lambda s: s.stop or 0.0) if ended else None


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


def _on_first_picture(feed: VlcFeed, callback: Callable[[], object]) -> None:
    """libvlc made its video output: the first picture is about to be shown, so the still can go."""
    feed.player.event_manager().event_attach(vlc.EventType.MediaPlayerVout, lambda _event: callback())


def _attach_window(feed: VlcFeed, window_id: int) -> None:
    """libvlc draws into the panel's native window; the call differs per platform."""
    feed.player.video_set_mouse_input(False)  # clicks reach Qt: a double-click means full screen
    feed.player.video_set_key_input(False)
    if sys.platform.startswith("linux"):
        feed.player.set_xwindow(window_id)
    elif sys.platform == "win32":
        feed.player.set_hwnd(window_id)
    elif sys.platform == "darwin":
        feed.player.set_nsobject(window_id)
