"""TimelineController: which tracks the timeline shows (every disk of every online camera) and their recordings,
loaded page by page in the background and then kept current.

A camera that streams its storage events is refreshed when one says something changed (a recording started or
stopped, a disk disrupted or failed), within a second, and otherwise only every `live_refresh_seconds` as a
safety net; the others are refreshed every `refresh_seconds`. An ongoing recording grows to "now" at paint time
(the panel repaints it on a timer), so its growth needs no refresh.

The view only paints what the tracks hold; this owns the coroutines and says when to repaint.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math

from PySide6.QtCore import QObject, Signal

from app.cameras.fleet import CameraState, Fleet
from app.cameras.live_storage import LiveChange, LiveStorage, Topic
from app.storage.overview import DISK_KINDS
from app.timeline.loader import TrackLoader
from app.timeline.spans import Span
from app.vapix.disks import DiskManagement, DiskStatus
from app.vapix.errors import VapixError
from ui.controllers.tasks import TaskGroup
from ui.timeline.view import Track

log = logging.getLogger(__name__)
REFRESH_SECONDS = 5.0
LIVE_REFRESH_SECONDS = 30.0  # a recording that starts or stops says so; this catches what events do not say
# What changes the recordings or the disks a camera shows: each refreshes that camera's tracks at once.
_REFRESH_ON = (Topic.RECORDING, Topic.DISRUPTION, Topic.FAILURE)


class TimelineController(QObject):
    """Signals:
    tracks_changed(): the set of tracks changed (a camera came online, a disk appeared).
    spans_changed(): recordings arrived or changed in some track; repaint.
    loaded(float, float): the first load of every track ended: the earliest and latest recorded time.
    """

    tracks_changed = Signal()
    spans_changed = Signal()
    loaded = Signal(float, float)

    def __init__(
        self,
        fleet: Fleet,
        refresh_seconds: float = REFRESH_SECONDS,
        parent: QObject | None = None,
        live_refresh_seconds: float = LIVE_REFRESH_SECONDS,
    ) -> None:
        super().__init__(parent)
        self.fleet = fleet
        self.refresh_seconds = refresh_seconds
        self.live_refresh_seconds = live_refresh_seconds
        self.tracks: list[Track] = []
        self._loaders: dict[str, TrackLoader] = {}
        self._tasks = TaskGroup(lambda exc: log.warning("timeline: %s", exc))
        self._watch: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._asked: set[str] | None = set()  # cameras to refresh now; None: all of them
        self._refreshed: dict[str, float] = {}  # loop time each camera's refresh last began
        self._loaded = False  # the first load has ended: tracks that appear later are loaded as they appear
        self._unsubscribe = fleet.subscribe_live(self._on_live)

    def start(self) -> None:
        """Load the online cameras' recordings and keep them current (until shutdown)."""
        if self._watch is None:
            self._watch = self._tasks.spawn(self._run())

    def reload(self, camera_id: str | None = None) -> None:
        """A camera (None: the camera list) changed: look at it now rather than at the next refresh."""
        if camera_id is None or self._asked is None:
            self._asked = None
        else:
            self._asked.add(camera_id)
        self._wake.set()

    def interval(self, camera_id: str) -> float:
        """Seconds between refreshes of a camera's tracks: long while its storage events arrive live."""
        return self.live_refresh_seconds if self.fleet.is_live(camera_id) else self.refresh_seconds

    def _on_live(self, camera_id: str, state: LiveStorage, change: LiveChange) -> None:
        """A recording started or stopped, a disk came or went: that camera's tracks now, not in 30 s. A stream
        that has reconnected may have missed some while down: refresh that camera too. What the first
        connection only makes known changes nothing."""
        if change.first:
            return
        if change.topic in _REFRESH_ON or (change.topic is Topic.LIVE and state.live):
            self.reload(camera_id)

    async def _run(self) -> None:
        self._asked = set()
        await self._sync_tracks(None)
        await self._load_all()
        self._loaded = True
        loop = asyncio.get_running_loop()
        for camera_id in self._online():
            self._refreshed[camera_id] = loop.time()
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._until_due(loop.time())):  # not wait_for: on 3.11 it can lose a cancel
                    await self._wake.wait()
            self._wake.clear()
            asked, self._asked = self._asked, set()
            now = loop.time()
            due = {cid for cid in self._online() if now - self._refreshed.get(cid, -math.inf) >= self.interval(cid)}
            cameras = None if asked is None else due | asked
            for camera_id in self._online() if cameras is None else cameras:
                self._refreshed[camera_id] = now
            await self._sync_tracks(cameras)
            await self._refresh(cameras)

    def _online(self) -> list[str]:
        return [cid for cid, e in self.fleet.entries.items() if e.state is CameraState.ONLINE]

    def _until_due(self, now: float) -> float:
        """Seconds until the next camera is due (0 when one was asked for meanwhile)."""
        if self._asked is None or self._asked:
            return 0.0
        dues = [self._refreshed.get(cid, -math.inf) + self.interval(cid) - now for cid in self._online()]
        return max(0.0, min(dues, default=self.refresh_seconds))

    async def _sync_tracks(self, cameras: set[str] | None) -> None:
        """The tracks of the online cameras; only `cameras` (None: all) are asked for their disks, the others
        keep the tracks they have."""
        online = {cid: e for cid, e in self.fleet.entries.items() if e.state is CameraState.ONLINE}
        wanted: list[Track] = []
        for camera_id, entry in online.items():
            if cameras is not None and camera_id not in cameras:
                wanted.extend(t for t in self.tracks if t.key.split("/", 1)[0] == camera_id)
                continue
            transport = self.fleet.transport(camera_id)
            if transport is None:
                continue
            try:
                async with transport:
                    disks = await DiskManagement(transport).list()
            except VapixError:
                continue
            for disk in disks:
                if disk.status is DiskStatus.DISCONNECTED and not disk.total_kb:
                    continue  # no card in the slot, no share bound: nothing recorded there to show
                key = f"{camera_id}/{disk.disk_id}"
                existing = next((t for t in self.tracks if t.key == key), None)
                title = f"{entry.config.name} · {disk.name or DISK_KINDS.get(disk.disk_id, disk.disk_id)}"
                wanted.append(existing or Track(key, title))
        if [t.key for t in wanted] != [t.key for t in self.tracks]:
            new = [t for t in wanted if t.key not in {old.key for old in self.tracks}]
            self.tracks = wanted
            self.tracks_changed.emit()
            if new and self._loaded:  # a camera came online, or a card was inserted, after the first load
                await asyncio.gather(*(self._load_track(t) for t in new))

    async def _load_all(self) -> None:
        await asyncio.gather(*(self._load_track(track) for track in self.tracks))
        spans = [s for t in self.tracks for s in t.spans.spans]
        if spans:
            now = max(s.stop or s.start for s in spans)
            self.loaded.emit(min(s.start for s in spans), max(now, max(s.start for s in spans)))
        else:
            self.loaded.emit(0.0, 0.0)

    async def _load_track(self, track: Track) -> None:
        camera_id, disk_id = track.key.split("/", 1)
        transport = self.fleet.transport(camera_id)
        if transport is None:
            return
        loader = TrackLoader(disk_id)

        def page(spans: list[Span]) -> None:
            if track.spans.update(spans):
                self.spans_changed.emit()

        try:
            async with transport:
                await loader.load_all(transport, page)
        except VapixError as exc:
            log.warning("timeline: %s: %s", track.title, exc)
            return
        track.zone = loader.zone
        self._loaders[track.key] = loader
        self.spans_changed.emit()

    async def _refresh(self, cameras: set[str] | None) -> None:
        for track in self.tracks:
            loader = self._loaders.get(track.key)
            camera_id = track.key.split("/", 1)[0]
            if cameras is not None and camera_id not in cameras:
                continue
            transport = self.fleet.transport(camera_id)
            if loader is None or transport is None:
                continue
            try:
                async with transport:
                    changed = track.spans.update(await loader.refresh(transport))
                    track.zone = loader.zone  # a daylight-saving change while the app runs
            except VapixError:
                continue
            if changed or track.spans.ongoing:
                self.spans_changed.emit()

    async def shutdown(self) -> None:
        self._unsubscribe()
        await self._tasks.cancel_all()
