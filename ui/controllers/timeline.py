"""TimelineController: which tracks the timeline shows (every disk of every online camera) and their recordings,
loaded page by page in the background and then refreshed every few seconds so ongoing recordings grow.

The view only paints what the tracks hold; this owns the coroutines and says when to repaint.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from PySide6.QtCore import QObject, Signal

from app.cameras.fleet import CameraState, Fleet
from app.storage.overview import DISK_KINDS
from app.timeline.loader import TrackLoader
from app.timeline.spans import Span
from app.vapix.disks import DiskManagement, DiskStatus
from app.vapix.errors import VapixError
from ui.controllers.tasks import TaskGroup
from ui.timeline.view import Track

log = logging.getLogger(__name__)
REFRESH_SECONDS = 5.0


class TimelineController(QObject):
    """Signals:
    tracks_changed(): the set of tracks changed (a camera came online, a disk appeared).
    spans_changed(): recordings arrived or changed in some track; repaint.
    loaded(float, float): the first load of every track ended: the earliest and latest recorded time.
    """

    tracks_changed = Signal()
    spans_changed = Signal()
    loaded = Signal(float, float)

    def __init__(self, fleet: Fleet, refresh_seconds: float = REFRESH_SECONDS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.fleet = fleet
        self.refresh_seconds = refresh_seconds
        self.tracks: list[Track] = []
        self._loaders: dict[str, TrackLoader] = {}
        self._tasks = TaskGroup(lambda exc: log.warning("timeline: %s", exc))
        self._watch: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    def start(self) -> None:
        """Load the online cameras' recordings and keep them current (until shutdown)."""
        if self._watch is None:
            self._watch = self._tasks.spawn(self._run())

    def reload(self) -> None:
        """The camera list changed: look at the cameras now rather than at the next refresh."""
        self._wake.set()

    async def _run(self) -> None:
        first = True
        while True:
            await self._sync_tracks()
            if first:
                await self._load_all()
                first = False
            else:
                await self._refresh()
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.refresh_seconds):  # not wait_for: on 3.11 it can lose a cancel
                    await self._wake.wait()

    async def _sync_tracks(self) -> None:
        online = {cid: e for cid, e in self.fleet.entries.items() if e.state is CameraState.ONLINE}
        wanted: list[Track] = []
        for camera_id, entry in online.items():
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
            if new and self._loaders:  # a camera came online after the first load
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

    async def _refresh(self) -> None:
        for track in self.tracks:
            loader = self._loaders.get(track.key)
            camera_id = track.key.split("/", 1)[0]
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
        await self._tasks.cancel_all()
