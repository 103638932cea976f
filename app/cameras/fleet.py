"""The cameras the user works with, and their live state: the use cases behind the camera list.

No Qt here: the window's controller calls these coroutines and turns `on_change` into signals, so this logic
is tested without a display.

Every online camera that offers the WebSocket event stream is followed for its storage events
(app.cameras.live_storage) for as long as it is online: listeners (the panels' controllers) hear each change, and
the camera's storage is re-read at once, so the camera list's Storage column follows a pulled card within a
second. Cameras without the stream, or whose stream is down right now, are polled as before.
"""

from __future__ import annotations

import asyncio
import logging
import math
import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any

from app.cameras.capabilities import ApiSupport, read_api_support
from app.cameras.config import EMBEDDED_ID, CameraConfig, SettingsStore
from app.cameras.connect import CameraSummary, ConnectionReport, Outcome, check_connection
from app.cameras.live_storage import LiveChange, LiveStorage, LiveStorageRunner, Topic, poll_seconds
from app.cameras.secrets import SecretStore
from app.embedded import EmbeddedCamera, EmbeddedCameraError
from app.paths import AppPaths
from app.storage.overview import StorageOverview, StorageSummary, read_overview
from app.vapix.errors import VapixError
from app.vapix.transport import VapixTransport


class CameraState(Enum):
    CONNECTING = "Connecting…"
    ONLINE = "Online"
    OFFLINE = "Unreachable"
    AUTH_FAILED = "Wrong password"
    NEEDS_PASSWORD = "Password needed"
    FAILED = "Error"


_STATE_OF_OUTCOME = {
    Outcome.OK: CameraState.ONLINE,
    Outcome.UNREACHABLE: CameraState.OFFLINE,
    Outcome.WRONG_CREDENTIALS: CameraState.AUTH_FAILED,
    Outcome.CERTIFICATE: CameraState.FAILED,
    Outcome.NOT_AXIS: CameraState.FAILED,
}


@dataclass(frozen=True)
class CameraEntry:
    config: CameraConfig
    state: CameraState = CameraState.CONNECTING
    message: str = ""
    summary: CameraSummary | None = None
    storage: StorageSummary | None = None  # set by whoever last read the camera's storage


ChangeListener = Callable[[str | None], None]  # a camera id, or None when the list itself changed
LiveListener = Callable[[str, LiveStorage, LiveChange], None]  # a camera id, its live storage, what changed
log = logging.getLogger(__name__)
REREAD_DELAY = 0.25  # a burst of events (a card pulled: disruption, then recording) becomes one read


class _Follower:
    """One camera's storage events being followed: the task, and whether its callbacks are still wanted."""

    def __init__(self, camera_id: str) -> None:
        self.camera_id = camera_id
        self.task: asyncio.Task[None] | None = None
        self.dirty = asyncio.Event()  # an event arrived that the last read of the storage has not seen
        self.last_event = -math.inf  # loop time of that event


class Fleet:
    def __init__(
        self,
        paths: AppPaths,
        secrets: SecretStore,
        on_change: ChangeListener | None = None,
        embedded: EmbeddedCamera | None = None,
    ) -> None:
        self.paths = paths
        self.secrets = secrets
        self._store = SettingsStore(paths.config_dir)
        self._settings = self._store.load()
        self._embedded = embedded or EmbeddedCamera(paths.embedded_camera_dir)
        self._embedded_password: str | None = None
        self.on_change = on_change or (lambda _id: None)
        self.entries: dict[str, CameraEntry] = {c.id: CameraEntry(c) for c in self._settings.cameras}
        self._support: dict[str, ApiSupport] = {}
        self._embedded_lock = asyncio.Lock()
        self.overviews: dict[str, StorageOverview] = {}  # each camera's storage at its last read
        self.live: dict[str, LiveStorage] = {}  # each followed camera's storage events, as last heard
        self.live_events = True  # follow storage events where offered; off, every camera is polled
        self.reread_delay = REREAD_DELAY
        self._followers: dict[str, _Follower] = {}
        self._tasks: set[asyncio.Task[Any]] = set()  # followers, including stopped ones still ending
        self._live_listeners: list[LiveListener] = []
        self._read_started: dict[str, float] = {}  # loop time each camera's last storage read began

    @property
    def embedded_enabled(self) -> bool:
        """On a fresh install (nothing saved) the virtual camera is on, so the app works with no camera."""
        if self._settings.embedded_enabled is None:
            return not self._settings.cameras
        return self._settings.embedded_enabled

    async def start(self) -> None:
        if self.embedded_enabled:
            await self.start_embedded()
        await asyncio.gather(*(self.refresh(cid) for cid in list(self.entries) if cid != EMBEDDED_ID))

    async def start_embedded(self) -> None:
        self._settings.embedded_enabled = True
        self._store.save(self._settings)
        try:
            endpoints = await self._embedded.start()
        except EmbeddedCameraError as exc:
            self.entries[EMBEDDED_ID] = CameraEntry(
                CameraConfig("Virtual camera", "127.0.0.1", 0, "", id=EMBEDDED_ID), CameraState.FAILED, str(exc)
            )
            self.on_change(None)
            return
        self._embedded_password = endpoints.password
        others = {cid: e for cid, e in self.entries.items() if cid != EMBEDDED_ID}
        self.entries = {EMBEDDED_ID: CameraEntry(endpoints.camera_config()), **others}
        self.on_change(None)
        await self.refresh(EMBEDDED_ID)

    async def check(self, config: CameraConfig, password: str) -> ConnectionReport:
        return await check_connection(config.endpoint, config.username, password)

    async def add(self, config: CameraConfig, password: str) -> None:
        self.secrets.set(config.id, password)
        self._settings.cameras = [c for c in self._settings.cameras if c.id != config.id] + [config]
        self._store.save(self._settings)
        self.entries[config.id] = CameraEntry(config)
        self.on_change(None)
        await self.refresh(config.id)

    async def update(self, config: CameraConfig, password: str | None) -> None:
        """Save an edited camera; None keeps the password in the keyring as it is."""
        if password is not None:
            self.secrets.set(config.id, password)
        self._settings.cameras = [config if c.id == config.id else c for c in self._settings.cameras]
        self._store.save(self._settings)
        old = self.entries.get(config.id)
        self.entries[config.id] = CameraEntry(config) if old is None else replace(old, config=config)
        self.on_change(None)
        await self.refresh(config.id)

    async def restart_embedded(self) -> None:
        """Stop and start the virtual camera; its recordings and settings stay."""
        async with self._embedded_lock:
            self._set(EMBEDDED_ID, CameraState.CONNECTING, "Restarting…")
            await self._embedded.stop()
            await self.start_embedded()

    async def reset_embedded(self) -> None:
        """The virtual camera as on first start: its data folder (SD card, settings, users) is deleted."""
        async with self._embedded_lock:  # a second click waits for the first, it does not start a second camera
            self._set(EMBEDDED_ID, CameraState.CONNECTING, "Resetting…")
            await self._embedded.stop()
            await asyncio.to_thread(shutil.rmtree, self._embedded.data_dir, True)
            await self.start_embedded()

    def saved_password(self, camera_id: str) -> str | None:
        return self._embedded_password if camera_id == EMBEDDED_ID else self.secrets.get(camera_id)

    def transport(self, camera_id: str) -> VapixTransport | None:
        """A transport for the camera's storage work (the caller closes it); None when no password is known."""
        entry = self.entries.get(camera_id)
        if entry is None:
            return None
        password = self.saved_password(camera_id)
        if password is None:
            return None
        return VapixTransport(entry.config.endpoint, entry.config.username, password)

    async def watch_storage(self, interval: float = 15.0, live_interval: float = 60.0) -> None:
        """Keep every online camera's storage summary current, for the camera list (runs until cancelled).

        A camera whose storage events arrive live is re-read on each event; this is then only a safety net for
        what events do not announce, every `live_interval`. The others are read every `interval`. A read by
        anyone (the Disks tab's, an event's) counts, so no camera is read twice in a row for nothing."""
        loop = asyncio.get_running_loop()
        while True:
            online = [cid for cid, entry in self.entries.items() if entry.state is CameraState.ONLINE]
            now = loop.time()
            due = [
                cid
                for cid in online
                if now - self._read_started.get(cid, -math.inf) >= self._interval(cid, interval, live_interval)
            ]
            await asyncio.gather(*(self.read_storage(cid) for cid in due))
            await asyncio.sleep(min(interval, live_interval) / 5)

    def _interval(self, camera_id: str, interval: float, live_interval: float) -> float:
        return poll_seconds(self.live.get(camera_id), interval, live_interval)

    async def read_storage(self, camera_id: str) -> StorageOverview | None:
        """The camera's storage now (also recorded as its summary); None when it cannot be read."""
        entry = self.entries.get(camera_id)
        transport = self.transport(camera_id)
        if entry is None or entry.summary is None or transport is None:
            return None
        self._read_started[camera_id] = asyncio.get_running_loop().time()
        async with transport:
            try:
                support = self._support.get(camera_id) or await read_api_support(transport, entry.summary.capabilities)
                self._support[camera_id] = support
                overview = await read_overview(transport, support)
            except VapixError:
                return None
        if camera_id in self.entries:
            self.overviews[camera_id] = overview
        self.set_storage(camera_id, overview.summary())
        return overview

    def api_support(self, camera_id: str) -> ApiSupport | None:
        return self._support.get(camera_id)

    # --- live storage events -------------------------------------------------------------------------------------

    def live_storage(self, camera_id: str) -> LiveStorage | None:
        """The camera's storage events as last heard; None when it is not followed (no stream, not online)."""
        return self.live.get(camera_id)

    def is_live(self, camera_id: str) -> bool:
        """The camera's storage events arrive now: a change is heard at once, no need to poll it often."""
        state = self.live.get(camera_id)
        return state is not None and state.live

    def subscribe_live(self, listener: LiveListener) -> Callable[[], None]:
        """Hear every followed camera's storage changes; returns what unsubscribes."""
        self._live_listeners.append(listener)
        return lambda: self._live_listeners.remove(listener) if listener in self._live_listeners else None

    def _follow_while_online(self, camera_id: str) -> None:
        """Start following a camera that has come online, stop following one that is no longer online."""
        entry = self.entries.get(camera_id)
        online = entry is not None and entry.state is CameraState.ONLINE
        following = camera_id in self._followers
        if online and not following and self.live_events:
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                return  # no loop, nothing to follow with (only synchronous tests get here)
            follower = _Follower(camera_id)
            self._followers[camera_id] = follower
            follower.task = asyncio.ensure_future(self._follow(follower))
            self._tasks.add(follower.task)
            follower.task.add_done_callback(self._follower_done)
        elif not online and following:
            self._stop_following(camera_id)

    def _stop_following(self, camera_id: str) -> None:
        """Cancel the camera's follower (close() awaits it) and say at once that its events are not live."""
        follower = self._followers.pop(camera_id, None)
        if follower is not None and follower.task is not None:
            follower.task.cancel()
        state = self.live.pop(camera_id, None)
        if state is not None and state.live:
            self._tell(camera_id, replace(state, live=False), LiveChange(Topic.LIVE))

    def _follower_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("following storage events failed", exc_info=task.exception())

    async def _follow(self, follower: _Follower) -> None:
        camera_id = follower.camera_id
        entry = self.entries.get(camera_id)
        transport = self.transport(camera_id)
        if entry is None or entry.summary is None or transport is None:
            return
        reread: asyncio.Task[None] | None = None
        try:
            async with transport:
                support = self._support.get(camera_id) or await read_api_support(transport, entry.summary.capabilities)
                self._support[camera_id] = support
                if not support.event_stream:
                    return  # older firmware: polled, as every camera was before
                reread = asyncio.ensure_future(self._reread_on_events(follower))
                runner = LiveStorageRunner(transport, lambda state, change: self._on_live(follower, state, change))
                await runner.run()
        except VapixError as exc:  # a wrong password, a refused filter: polling still works, or says what is wrong
            log.warning("storage events of %s are not followed: %s", camera_id, exc)
        finally:
            if reread is not None:
                reread.cancel()
                await asyncio.wait([reread])
                if not reread.cancelled() and reread.exception() is not None:
                    log.error("re-reading storage after events failed", exc_info=reread.exception())

    def _on_live(self, follower: _Follower, state: LiveStorage, change: LiveChange) -> None:
        if self._followers.get(follower.camera_id) is not follower:
            return  # a stopped follower's last words: already said by _stop_following
        self.live[follower.camera_id] = state
        # A change, or a reconnection (what changed while it was down is read at once); not what the first
        # connection makes known: the camera was read as it came online.
        if not change.first and (change.topic is not Topic.LIVE or state.live):
            follower.last_event = asyncio.get_running_loop().time()
            follower.dirty.set()
        self._tell(follower.camera_id, state, change)

    def _tell(self, camera_id: str, state: LiveStorage, change: LiveChange) -> None:
        for listener in list(self._live_listeners):
            try:
                listener(camera_id, state, change)
            except Exception:  # one broken listener must not stop the camera being followed for the others
                log.exception("a storage event listener failed")

    async def _reread_on_events(self, follower: _Follower) -> None:
        """Re-read the camera's storage after events, once per burst; skipped when someone (the Disks tab,
        woken by the same event) has already started a read since the last event."""
        camera_id = follower.camera_id
        while True:
            await follower.dirty.wait()
            await asyncio.sleep(self.reread_delay)
            follower.dirty.clear()
            if self._read_started.get(camera_id, -math.inf) > follower.last_event:
                continue
            await self.read_storage(camera_id)

    def set_storage(self, camera_id: str, storage: StorageSummary | None) -> None:
        entry = self.entries.get(camera_id)
        if entry is not None and entry.storage != storage:
            self.entries[camera_id] = replace(entry, storage=storage)
            self.on_change(camera_id)

    async def remove(self, camera_id: str) -> None:
        self.entries.pop(camera_id, None)
        self.overviews.pop(camera_id, None)
        self._stop_following(camera_id)
        if camera_id == EMBEDDED_ID:
            self._settings.embedded_enabled = False
            await self._embedded.stop()
            self._embedded_password = None
        else:
            self._settings.cameras = [c for c in self._settings.cameras if c.id != camera_id]
            self.secrets.delete(camera_id)
        self._store.save(self._settings)
        self.on_change(None)

    async def refresh(self, camera_id: str) -> None:
        entry = self.entries.get(camera_id)
        if entry is None:
            return
        password = self._embedded_password if camera_id == EMBEDDED_ID else self.secrets.get(camera_id)
        if password is None:
            self._set(
                camera_id,
                CameraState.NEEDS_PASSWORD,
                "Enter the password again: it could not be kept between sessions.",
            )
            return
        self._set(camera_id, CameraState.CONNECTING, "")
        self._support.pop(camera_id, None)
        report = await check_connection(entry.config.endpoint, entry.config.username, password)
        self._set(camera_id, _STATE_OF_OUTCOME[report.outcome], report.message, report.summary)

    async def stop_following(self) -> None:
        """Stop following every camera's events; each follower has ended when this returns. No camera is
        followed after this (the app is closing)."""
        self.live_events = False
        for camera_id in list(self._followers):
            self._stop_following(camera_id)
        if self._tasks:
            await asyncio.wait(list(self._tasks))

    async def close(self) -> None:
        await self.stop_following()
        await self._embedded.stop()

    def _set(self, camera_id: str, state: CameraState, message: str, summary: CameraSummary | None = None) -> None:
        entry = self.entries.get(camera_id)
        if entry is None:
            return
        self.entries[camera_id] = replace(entry, state=state, message=message, summary=summary or entry.summary)
        self._follow_while_online(camera_id)
        self.on_change(camera_id)
