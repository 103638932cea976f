"""The installer's desktop on a real camera, for `async def` pytest-qt stories on Qt's loop: a MainWindow whose
camera list holds test cameras (added as a user adds them, passwords in an in-memory keyring), and helpers
that wait for what the user would wait for."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from app.cameras.config import CameraConfig
from app.cameras.fleet import CameraState, Fleet
from app.cameras.secrets import SecretStore
from app.paths import AppPaths
from tests.support.device_process import CREDENTIALS, RunningDevice
from tests.support.memory_keyring import MemoryKeyring
from tests.support.waiting import until
from ui.controllers.cameras import CamerasController
from ui.controllers.storage import StorageController
from ui.main_window import DISKS_TAB, SHARES_TAB, MainWindow

JOB_TIMEOUT = 60.0


class ActionWatch:
    """Listens to the controller from before the click that starts an action until it has ended."""

    def __init__(self, storage: StorageController) -> None:
        self.storage = storage
        self.steps: list[str] = []
        self.percents: list[int] = []
        self.results: list[tuple[bool, str]] = []
        storage.progress.connect(self._progress)
        storage.finished.connect(self._finished)

    def _progress(self, step: str, percent: int) -> None:
        self.steps.append(step)
        self.percents.append(percent)

    def _finished(self, ok: bool, message: str) -> None:
        self.results.append((ok, message))

    def stop(self) -> None:
        self.storage.progress.disconnect(self._progress)
        self.storage.finished.disconnect(self._finished)


@dataclass
class Desktop:
    window: MainWindow
    qtbot: object
    loop: asyncio.AbstractEventLoop | None = None

    @property
    def storage(self) -> StorageController:
        return self.window.storage

    async def wait(self, predicate: Callable[[], object], timeout: float = 20.0) -> None:
        await until(predicate, timeout)

    async def add_camera(self, device: RunningDevice, name: str, role: str = "admin") -> str:
        user, password = CREDENTIALS[role]
        config = CameraConfig(name, device.host, device.http_port, user)
        self.window.controller.add(config, password)
        controller = self.window.controller
        await self.wait(lambda: (e := controller.entry(config.id)) is not None and e.state is CameraState.ONLINE)
        if controller.fleet.live_events:
            # Followed too (the Disks tab says "Live events"): a fixture that returns with the follower's
            # connections half-made leaves them to qasync's last event pass, which runs outside the loop.
            await self.wait(lambda: controller.fleet.is_live(config.id))
        return config.id

    async def open_camera(self, camera_id: str, tab: int = DISKS_TAB) -> None:
        """Select the camera in the list and its tab, and wait until its storage has been read."""
        self.window.table.selectRow(self.window.model.row_of(camera_id))
        self.window.tabs.setCurrentIndex(tab)
        await self.wait(lambda: self.storage.overview is not None and self.storage.camera_id == camera_id)

    async def open_shares(self, camera_id: str) -> None:
        await self.open_camera(camera_id, SHARES_TAB)

    def watch_action(self) -> ActionWatch:
        """Start listening before the click that starts an action; then `await desktop.finish_action(watch)`."""
        return ActionWatch(self.storage)

    async def finish_action(self, watch: ActionWatch, timeout: float = JOB_TIMEOUT) -> tuple[bool, str, list[int]]:
        """Wait for the action to end: (ok, the sentence shown, every progress percent seen)."""
        await self.wait(lambda: watch.results, timeout)
        await self.wait(lambda: not self.storage.busy, timeout)
        watch.stop()
        ok, message = watch.results[0]
        return ok, message, watch.percents

    def click(self, widget: QWidget) -> None:
        self.qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)  # type: ignore[attr-defined]

    async def close(self) -> None:
        await self.window.controller.shutdown()


def make_desktop(qtbot, tmp_path: Path) -> Desktop:
    fleet = Fleet(AppPaths(tmp_path / "config", tmp_path / "data"), SecretStore(MemoryKeyring()))
    controller = CamerasController(fleet)
    controller.storage.poll_seconds = 0.5  # the user sees changes within a poll; tests need not wait 5 s
    window = MainWindow(controller)
    qtbot.addWidget(window)
    window.show()
    return Desktop(window, qtbot)
