"""An installer works on the camera list: renames a camera, watches its storage summary follow the camera, restarts
and resets the virtual camera, and switches to the dark theme. Every step is taken as a user takes it (the toolbar,
the dialog's buttons, the confirmation box, the View menu), and the assertions are on what the list, the keyring,
the saved settings and the cameras themselves end up with."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox

from app.cameras.config import EMBEDDED_ID, SettingsStore
from app.cameras.fleet import CameraState
from app.vapix.recordings import RecordingControl, Recordings
from tests.conftest import transport_for
from tests.device.disk_client import SD, scenario
from tests.support.device_process import CREDENTIALS, SERIAL
from tests.ui.desktop import Desktop, make_desktop
from ui.cameras.list_model import COLUMNS
from ui.controllers.cameras import CamerasController
from ui.main_window import DISKS_TAB
from ui.theme import Theme, apply_theme, current_is_dark, saved_theme

pytestmark = [pytest.mark.gui, pytest.mark.functional]

# The virtual camera is a Python subprocess; on a busy two-core machine a start takes 10 s or more.
EMBEDDED_TIMEOUT = 90.0
FAILED_RED = QColor("#b3261e")


def cell(desktop: Desktop, camera_id: str, column: str, role: int = Qt.ItemDataRole.DisplayRole) -> object:
    model = desktop.window.model
    return model.index(model.row_of(camera_id), COLUMNS.index(column)).data(role)


def storage_text(desktop: Desktop, camera_id: str) -> str:
    return str(cell(desktop, camera_id, "Storage") or "")


def select(desktop: Desktop, camera_id: str) -> None:
    desktop.window.table.selectRow(desktop.window.model.row_of(camera_id))


def watch_states(controller: CamerasController, camera_id: str) -> list[CameraState]:
    """Every state the camera's row goes through from now on, to tell "back online" from "never went away"."""
    seen: list[CameraState] = []

    def changed(changed_id: str) -> None:
        entry = controller.entry(changed_id)
        if changed_id == camera_id and entry is not None:
            seen.append(entry.state)

    controller.camera_changed.connect(changed)
    return seen


async def wait_online_again(desktop: Desktop, seen: list[CameraState]) -> None:
    controller = desktop.window.controller
    await desktop.wait(
        lambda: (
            CameraState.CONNECTING in seen
            and (entry := controller.entry(EMBEDDED_ID)) is not None
            and entry.state is CameraState.ONLINE
        ),
        EMBEDDED_TIMEOUT,
    )


async def embedded_recordings(desktop: Desktop) -> list[str]:
    """The virtual camera's recordings, read over its own API with the password of its current run."""
    transport = desktop.window.controller.fleet.transport(EMBEDDED_ID)
    assert transport is not None
    async with transport:
        return [recording.recording_id async for recording in Recordings(transport).iterate()]


async def record_sample_on_embedded(desktop: Desktop) -> str:
    """A short real recording on the virtual camera's SD card, through its admin-only scenario hook."""
    fleet = desktop.window.controller.fleet
    entry = fleet.entries[EMBEDDED_ID]
    password = fleet.saved_password(EMBEDDED_ID)
    assert password
    url = f"http://{entry.config.host}:{entry.config.port}/local/edgestore/scenario/disks/{SD}/sample-recording"
    async with httpx.AsyncClient(auth=httpx.DigestAuth(entry.config.username, password), timeout=60) as client:
        response = await client.post(url, params={"seconds": "4", "blockseconds": "2"})
    assert response.status_code == 200, response.text
    return response.json()["recordingid"]


async def test_renaming_a_camera_keeps_its_saved_password_and_it_stays_online(desktop, device):
    window = desktop.window
    fleet = window.controller.fleet
    user, password = CREDENTIALS["admin"]
    camera = await desktop.add_camera(device, "Entrance")
    select(desktop, camera)
    assert window.edit_action.isEnabled()
    assert not window.restart_action.isEnabled()  # only the virtual camera restarts from here, and the button says so
    assert "only it can be restarted or reset" in window.restart_action.toolTip()
    assert not window.reset_action.isEnabled()
    assert "only it can be restarted or reset" in window.reset_action.toolTip()

    window.edit_action.trigger()
    dialog = window.add_dialog
    assert dialog is not None
    assert dialog.isVisible()
    assert dialog.windowTitle() == "Edit camera"
    assert dialog.name.text() == "Entrance"
    assert dialog.host.text() == device.host
    assert dialog.port.value() == device.http_port
    assert dialog.protocol.currentText() == "HTTP"
    assert dialog.user.text() == user
    assert dialog.password.text() == ""
    assert dialog.password.placeholderText() == "unchanged"
    assert dialog.add_button.text() == "Save"
    assert not dialog.add_button.isEnabled()  # not before the changes are checked

    dialog.name.clear()
    desktop.qtbot.keyClicks(dialog.name, "Loading dock")
    desktop.click(dialog.check_button)
    await desktop.wait(lambda: dialog.check_result.property("kind") in ("ok", "error"))
    assert dialog.check_result.property("kind") == "ok", dialog.check_result.text()  # checked with the saved password
    assert SERIAL in dialog.check_result.text()
    assert dialog.add_button.isEnabled()

    desktop.click(dialog.add_button)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert not dialog.isVisible()
    await desktop.wait(lambda: cell(desktop, camera, "Name") == "Loading dock")
    await desktop.wait(lambda: cell(desktop, camera, "Status") == "Online")
    assert window.model.rowCount() == 1
    assert cell(desktop, camera, "Address") == f"{device.host}:{device.http_port}"
    assert fleet.secrets.get(camera) == password
    (saved,) = SettingsStore(fleet.paths.config_dir).load().cameras
    assert saved.id == camera
    assert saved.name == "Loading dock"
    assert (saved.host, saved.port, saved.username) == (device.host, device.http_port, user)


async def test_the_storage_column_follows_a_recording_and_a_failing_card(desktop, device):
    window = desktop.window
    camera = await desktop.add_camera(device, "Entrance")
    select(desktop, camera)
    await desktop.wait(lambda: storage_text(desktop, camera) == "1/1 OK · not recording")
    assert cell(desktop, camera, "Storage", Qt.ItemDataRole.ToolTipRole) == "All disks are fine."
    assert cell(desktop, camera, "Storage", Qt.ItemDataRole.ForegroundRole) is None

    async with transport_for(device) as transport:
        control = RecordingControl(transport)
        recording_id = await control.record(SD)
        await desktop.wait(lambda: storage_text(desktop, camera) == "1/1 OK · recording")
        await control.stop(recording_id)
    await desktop.wait(lambda: storage_text(desktop, camera) == "1/1 OK · not recording")

    scenario(device, "fail")
    await desktop.wait(lambda: "1 failed" in storage_text(desktop, camera))
    assert storage_text(desktop, camera).startswith("0/1 OK · 1 failed")
    assert cell(desktop, camera, "Storage", Qt.ItemDataRole.ToolTipRole) == (
        "SD card has failed; run a check, or replace it."
    )
    assert cell(desktop, camera, "Storage", Qt.ItemDataRole.ForegroundRole).color() == FAILED_RED

    scenario(device, "fail", state="no")  # the card answers again, but the camera has let go of it
    await desktop.wait(lambda: "failed" not in storage_text(desktop, camera))
    assert storage_text(desktop, camera) == "0/1 OK · 1 not mounted · not recording"
    assert cell(desktop, camera, "Storage", Qt.ItemDataRole.ToolTipRole) == (
        "SD card is not mounted: the camera does not record to it. Mount it to use it."
    )
    assert cell(desktop, camera, "Storage", Qt.ItemDataRole.ForegroundRole).color() == FAILED_RED

    window.tabs.setCurrentIndex(DISKS_TAB)
    panel = window.disks_panel
    await desktop.wait(lambda: panel.selected() is not None)
    panel.select_disk(SD)
    await desktop.wait(lambda: panel.actions_by_name["mount"].isEnabled())
    watch = desktop.watch_action()
    panel.actions_by_name["mount"].trigger()
    ok, message, _ = await desktop.finish_action(watch)
    assert ok, message
    await desktop.wait(lambda: storage_text(desktop, camera) == "1/1 OK · not recording")
    assert cell(desktop, camera, "Storage", Qt.ItemDataRole.ToolTipRole) == "All disks are fine."


async def test_the_virtual_camera_restarts_with_its_recordings_and_resets_to_a_new_empty_one(desktop):
    window = desktop.window
    controller = window.controller
    controller.start()
    await desktop.wait(
        lambda: (e := controller.entry(EMBEDDED_ID)) is not None and e.state is CameraState.ONLINE, EMBEDDED_TIMEOUT
    )
    await desktop.wait(lambda: window.selected_camera() == EMBEDDED_ID)
    assert cell(desktop, EMBEDDED_ID, "Name") == "Virtual camera"
    assert cell(desktop, EMBEDDED_ID, "Model") == "Edgestore VC"
    assert not window.edit_action.isEnabled()
    assert window.edit_action.toolTip() == "The virtual camera is set up by Edgestore itself."
    assert window.restart_action.isEnabled()
    assert window.reset_action.isEnabled()
    assert "recordings stay" in window.restart_action.toolTip()
    assert "recordings are deleted" in window.reset_action.toolTip()
    serial = controller.entry(EMBEDDED_ID).summary.info.serial
    assert len(serial) == 12

    recording = await record_sample_on_embedded(desktop)
    assert await embedded_recordings(desktop) == [recording]

    first_run = controller.fleet.saved_password(EMBEDDED_ID)
    seen = watch_states(controller, EMBEDDED_ID)
    window.restart_action.trigger()
    await wait_online_again(desktop, seen)
    assert controller.fleet.saved_password(EMBEDDED_ID) != first_run  # a new process: each start has a new password
    assert await embedded_recordings(desktop) == [recording]
    assert controller.entry(EMBEDDED_ID).summary.info.serial == serial  # the same camera, not a new one
    await desktop.wait(lambda: window.selected_camera() == EMBEDDED_ID)
    await desktop.wait(lambda: storage_text(desktop, EMBEDDED_ID) == "1/1 OK · not recording")

    window.reset_action.trigger()
    box = window.confirm_box
    assert box is not None
    assert box.isVisible()
    assert "recordings" in box.text()
    seen.clear()
    desktop.click(box.button(QMessageBox.StandardButton.Yes))
    await wait_online_again(desktop, seen)
    assert await embedded_recordings(desktop) == []
    # A new camera gets a new random serial (24 random bits: the same one comes back once in 16 million resets).
    assert controller.entry(EMBEDDED_ID).summary.info.serial != serial
    assert window.model.rowCount() == 1
    await desktop.wait(lambda: window.selected_camera() == EMBEDDED_ID)
    await desktop.wait(lambda: window.details.values["Serial number"].text() != serial)


@pytest.fixture
def theme_restored(qapp) -> Iterator[None]:
    """Put the application back as other tests expect it, even when the story stops half-way."""
    sheet = qapp.styleSheet()
    yield
    apply_theme(qapp, Theme.SYSTEM)
    qapp.setStyleSheet(sheet)


def window_is_dark(desktop: Desktop) -> bool:
    return desktop.window.palette().color(QPalette.ColorRole.Window).lightness() < 128


async def test_the_dark_theme_applies_at_once_and_is_remembered(desktop, qtbot, tmp_path, theme_restored):
    window = desktop.window
    app = QApplication.instance()
    config_dir = window.controller.fleet.paths.config_dir
    assert window.theme_actions[Theme.SYSTEM].isChecked()
    system_is_dark = current_is_dark(app)
    window.theme_actions[Theme.LIGHT].trigger()
    assert not current_is_dark(app)
    light_icon = window.add_action.icon().pixmap(16, 16).toImage()

    window.theme_actions[Theme.DARK].trigger()
    assert current_is_dark(app)
    await desktop.wait(lambda: window_is_dark(desktop))
    assert window.theme_actions[Theme.DARK].isChecked()
    assert not window.theme_actions[Theme.LIGHT].isChecked()
    assert window.add_action.icon().pixmap(16, 16).toImage() != light_icon  # icons re-tinted for the dark palette
    assert saved_theme(config_dir) is Theme.DARK
    reopened = make_desktop(qtbot, tmp_path)  # Edgestore started again on the same settings
    try:
        assert reopened.window.theme_actions[Theme.DARK].isChecked()
    finally:
        await reopened.close()

    window.theme_actions[Theme.SYSTEM].trigger()
    assert current_is_dark(app) == system_is_dark
    assert window.theme_actions[Theme.SYSTEM].isChecked()
    assert saved_theme(config_dir) is Theme.SYSTEM


async def test_editing_a_camera_keeps_it_selected(desktop, device_factory):
    first = await desktop.add_camera(device_factory(), "Entrance")
    second = await desktop.add_camera(device_factory(), "Hall")
    select(desktop, second)
    desktop.window.edit_action.trigger()
    dialog = desktop.window.add_dialog
    dialog.name.setText("Hall (north)")
    desktop.click(dialog.check_button)
    await desktop.wait(lambda: dialog.add_button.isEnabled())
    desktop.click(dialog.add_button)
    await desktop.wait(lambda: cell(desktop, second, "Name") == "Hall (north)")
    await desktop.wait(lambda: desktop.window.controller.entry(second).state is CameraState.ONLINE)
    assert desktop.window.selected_camera() == second
    assert desktop.window.details.heading.text() == "Hall (north)"
    assert cell(desktop, first, "Name") == "Entrance"
