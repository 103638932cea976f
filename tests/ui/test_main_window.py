"""An installer opens Edgestore: the camera list, a camera's details, and adding a camera by hand."""

from __future__ import annotations

import pytest
from keyring.backends import fail
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from app.cameras.config import EMBEDDED_ID
from app.cameras.fleet import CameraState, Fleet
from app.cameras.secrets import SERVICE, SecretStore
from app.paths import AppPaths
from tests.support.device_process import SERIAL
from tests.support.memory_keyring import MemoryKeyring
from tests.support.waiting import until
from ui.controllers.cameras import CamerasController
from ui.main_window import MainWindow

pytestmark = [pytest.mark.gui, pytest.mark.functional]


@pytest.fixture
def make_window(qtbot, tmp_path):
    def make(keyring=None) -> MainWindow:
        fleet = Fleet(AppPaths(tmp_path / "config", tmp_path / "data"), SecretStore(keyring or MemoryKeyring()))
        window = MainWindow(CamerasController(fleet))
        qtbot.addWidget(window)
        window.show()
        return window

    return make


def test_a_fresh_install_shows_the_virtual_camera_online_with_its_details(make_window, qloop, qtmodeltester):
    window = make_window()
    controller = window.controller

    async def story() -> None:
        controller.start()
        await until(lambda: (e := controller.entry(EMBEDDED_ID)) is not None and e.state is CameraState.ONLINE)
        await until(lambda: window.selected_camera() == EMBEDDED_ID)
        await controller.shutdown()

    qloop.run_until_complete(story())
    assert window.model.rowCount() == 1
    assert window.model.index(0, 0).data() == "Virtual camera"
    assert window.model.index(0, 3).data() == "Online"
    details = window.details.values
    assert details["Model"].text() == "Edgestore VC"
    assert len(details["Serial number"].text()) == 12
    assert details["Signed in as"].text() == "edgestore (admin)"
    storage = {
        window.details.storage_form.itemAt(i, window.details.storage_form.ItemRole.LabelRole)
        .widget()
        .text(): window.details.storage_form.itemAt(i, window.details.storage_form.ItemRole.FieldRole).widget().text()
        for i in range(window.details.storage_form.rowCount())
    }
    assert storage["SD card:"] == "Yes"
    assert storage["Network share (SMB):"] == "Yes"
    assert not window.banner.isVisible()  # a keyring is there: nothing to warn about
    qtmodeltester.check(window.model)


def test_adding_a_camera_checks_it_first_and_says_what_is_wrong(make_window, qloop, qtbot, shared_device):
    keyring = MemoryKeyring()
    window = make_window(keyring)
    qtbot.mouseClick(window.table, Qt.MouseButton.LeftButton)  # focus the window as a user would
    window.add_action.trigger()
    dialog = window.add_dialog
    assert dialog is not None
    qtbot.keyClicks(dialog.name, "Entrance")
    qtbot.keyClicks(dialog.host, shared_device.host)
    dialog.port.setValue(shared_device.http_port)
    dialog.user.clear()
    qtbot.keyClicks(dialog.user, "op")
    qtbot.keyClicks(dialog.password, "wrong")

    async def check_and_wait() -> None:
        qtbot.mouseClick(dialog.check_button, Qt.MouseButton.LeftButton)
        await until(lambda: dialog.check_button.isEnabled() and dialog.check_result.text() not in ("", "Checking…"))

    qloop.run_until_complete(check_and_wait())
    assert "wrong user name or password" in dialog.check_result.text()
    assert not dialog.add_button.isEnabled()

    dialog.password.clear()
    qtbot.keyClicks(dialog.password, "operator-pass")
    qloop.run_until_complete(check_and_wait())
    assert SERIAL in dialog.check_result.text()
    assert dialog.add_button.isEnabled()

    async def add_and_wait() -> None:
        qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
        await until(lambda: window.model.rowCount() == 1 and window.model.index(0, 3).data() == "Online")

    qloop.run_until_complete(add_and_wait())
    assert window.model.index(0, 0).data() == "Entrance"
    assert window.model.index(0, 2).data() == "Edgestore VC"
    camera_id = window.model.camera_id(0)
    assert keyring.passwords[(SERVICE, camera_id)] == "operator-pass"


def test_changing_a_detail_after_a_check_asks_for_a_new_check(make_window, qloop, qtbot, shared_device):
    window = make_window()
    window.add_action.trigger()
    dialog = window.add_dialog
    qtbot.keyClicks(dialog.host, shared_device.host)
    dialog.port.setValue(shared_device.http_port)
    qtbot.keyClicks(dialog.password, "admin-pass")
    qtbot.mouseClick(dialog.check_button, Qt.MouseButton.LeftButton)
    qloop.run_until_complete(until(lambda: dialog.add_button.isEnabled()))
    qtbot.keyClicks(dialog.host, "x")
    assert not dialog.add_button.isEnabled()
    assert "check the connection again" in dialog.check_result.text()


def test_an_empty_host_gets_a_readable_message_not_a_request(make_window, qtbot):
    window = make_window()
    window.add_action.trigger()
    qtbot.mouseClick(window.add_dialog.check_button, Qt.MouseButton.LeftButton)
    assert window.add_dialog.check_result.text() == "Enter the camera's host name or IP address."


def test_without_a_keyring_the_window_says_passwords_are_not_remembered(make_window):
    window = make_window(fail.Keyring())
    assert window.banner.isVisible()
    assert "kept only until Edgestore closes" in window.banner.text()


def test_removing_the_virtual_camera_from_the_toolbar(make_window, qloop, qtbot):
    window = make_window()
    controller = window.controller

    async def story() -> None:
        controller.start()
        await until(lambda: (e := controller.entry(EMBEDDED_ID)) is not None and e.state is CameraState.ONLINE)
        await until(lambda: window.remove_action.isEnabled())
        window.remove_action.trigger()
        qtbot.mouseClick(window.confirm_box.button(QMessageBox.StandardButton.Yes), Qt.MouseButton.LeftButton)
        await until(lambda: window.model.rowCount() == 0)
        await controller.shutdown()

    qloop.run_until_complete(story())
    assert not controller.fleet._embedded.running
    assert window.details.heading.text() == "Select a camera"
