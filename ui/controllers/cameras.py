"""CamerasController: the camera list's use cases (app.cameras.fleet) as Qt signals and slots."""

from __future__ import annotations

import asyncio

from PySide6.QtCore import QObject, Signal

from app.cameras.config import CameraConfig
from app.cameras.fleet import CameraEntry, Fleet
from app.exports.history import ExportHistory
from app.vapix.errors import VapixError
from app.vapix.tls import fetch_certificate, fingerprint_of_pem
from ui.controllers.exports import ExportController
from ui.controllers.player import PlayerController
from ui.controllers.schedule import ScheduleController
from ui.controllers.storage import StorageController
from ui.controllers.tasks import TaskGroup
from ui.controllers.timeline import TimelineController


class CamerasController(QObject):
    """Owns the coroutines; widgets only call its slots and listen.

    Signals:
        cameras_changed: the set or order of cameras changed.
        camera_changed(str): one camera's state or details changed.
        check_finished(int, object): a connection check ended: its number (from check) and ConnectionReport.
        certificate_fetched(str, str): a certificate (PEM) and its SHA-256 fingerprint, or ("", error text).
        error_occurred(str): something failed that the user should read.
    """

    cameras_changed = Signal()
    camera_changed = Signal(str)
    check_finished = Signal(int, object)
    certificate_fetched = Signal(str, str)
    error_occurred = Signal(str)

    def __init__(self, fleet: Fleet, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.fleet = fleet
        fleet.on_change = self._on_fleet_change
        self._tasks = TaskGroup(lambda exc: self.error_occurred.emit(f"Unexpected error: {exc}"))
        self.storage = StorageController(fleet, parent=self)
        self.timeline = TimelineController(fleet, parent=self)
        self.player = PlayerController(fleet, parent=self)
        self.schedule = ScheduleController(fleet, parent=self)
        self.exports = ExportController(fleet, ExportHistory(fleet.paths.data_dir / "exports.json"), parent=self)
        self._checks = 0

    @property
    def secrets_warning(self) -> str:
        return "" if self.fleet.secrets.available else self.fleet.secrets.reason

    def entries(self) -> list[CameraEntry]:
        return list(self.fleet.entries.values())

    def entry(self, camera_id: str) -> CameraEntry | None:
        return self.fleet.entries.get(camera_id)

    def start(self) -> None:
        self._tasks.spawn(self.fleet.start())
        self._tasks.spawn(self.fleet.watch_storage())

    def check(self, config: CameraConfig, password: str, keep_password_of: str | None = None) -> int:
        """Check before saving; an empty password with `keep_password_of` checks with the saved one.

        Returns the check's number, which check_finished carries, so a dialog never takes the late answer of
        another (cancelled) dialog's check for its own."""
        if not password and keep_password_of is not None:
            password = self.fleet.saved_password(keep_password_of) or ""
        self._checks += 1
        self._tasks.spawn(self._check(self._checks, config, password))
        return self._checks

    def update(self, config: CameraConfig, password: str | None) -> None:
        self._tasks.spawn(self.fleet.update(config, password))

    def restart_embedded(self) -> None:
        self.storage.select(None)
        self._tasks.spawn(self.fleet.restart_embedded())

    def reset_embedded(self) -> None:
        self.storage.select(None)
        self._tasks.spawn(self.fleet.reset_embedded())

    def add(self, config: CameraConfig, password: str) -> None:
        self._tasks.spawn(self.fleet.add(config, password))

    def remove(self, camera_id: str) -> None:
        self._tasks.spawn(self.fleet.remove(camera_id))

    def refresh(self, camera_id: str) -> None:
        self._tasks.spawn(self.fleet.refresh(camera_id))

    def fetch_certificate(self, host: str, port: int) -> None:
        self._tasks.spawn(self._fetch_certificate(host, port))

    async def shutdown(self) -> None:
        await self.storage.shutdown()
        await self.timeline.shutdown()
        await self.player.shutdown()
        await self.schedule.shutdown()
        await self.exports.shutdown()
        await self._tasks.cancel_all()
        await self.fleet.stop_following()
        await asyncio.sleep(0.05)  # cancelled HTTP connections finish their clean-up while the loop still runs
        await self.fleet.close()

    async def _check(self, number: int, config: CameraConfig, password: str) -> None:
        self.check_finished.emit(number, await self.fleet.check(config, password))

    async def _fetch_certificate(self, host: str, port: int) -> None:
        try:
            pem = await fetch_certificate(host, port)
        except VapixError as exc:
            self.certificate_fetched.emit("", str(exc))
            return
        self.certificate_fetched.emit(pem, fingerprint_of_pem(pem))

    def _on_fleet_change(self, camera_id: str | None) -> None:
        self.timeline.reload(camera_id)
        if camera_id is None:
            self.cameras_changed.emit()
        else:
            self.camera_changed.emit(camera_id)
