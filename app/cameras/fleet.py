"""The cameras the user works with, and their live state: the use cases behind the camera list.

No Qt here: the window's controller calls these coroutines and turns `on_change` into signals, so this logic
is tested without a display.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import Enum

from app.cameras.capabilities import ApiSupport, read_api_support
from app.cameras.config import EMBEDDED_ID, CameraConfig, SettingsStore
from app.cameras.connect import CameraSummary, ConnectionReport, Outcome, check_connection
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

    async def watch_storage(self, interval: float = 15.0) -> None:
        """Keep every online camera's storage summary current, for the camera list (runs until cancelled)."""
        while True:
            online = [cid for cid, entry in self.entries.items() if entry.state is CameraState.ONLINE]
            await asyncio.gather(*(self.read_storage(cid) for cid in online))
            await asyncio.sleep(interval)

    async def read_storage(self, camera_id: str) -> StorageOverview | None:
        """The camera's storage now (also recorded as its summary); None when it cannot be read."""
        entry = self.entries.get(camera_id)
        transport = self.transport(camera_id)
        if entry is None or entry.summary is None or transport is None:
            return None
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

    def set_storage(self, camera_id: str, storage: StorageSummary | None) -> None:
        entry = self.entries.get(camera_id)
        if entry is not None and entry.storage != storage:
            self.entries[camera_id] = replace(entry, storage=storage)
            self.on_change(camera_id)

    async def remove(self, camera_id: str) -> None:
        self.entries.pop(camera_id, None)
        self.overviews.pop(camera_id, None)
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

    async def close(self) -> None:
        await self._embedded.stop()

    def _set(self, camera_id: str, state: CameraState, message: str, summary: CameraSummary | None = None) -> None:
        entry = self.entries.get(camera_id)
        if entry is None:
            return
        self.entries[camera_id] = replace(entry, state=state, message=message, summary=summary or entry.summary)
        self.on_change(camera_id)
