"""An installer records a camera to a NAS from the Shares tab, against a real Samba server: the connection is
tested before anything is saved, a refusal is a sentence, and bind, unbind, rename and remove leave the camera
in the state asked for. Then one NAS is split between two cameras."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox

from app.storage.share_actions import ShareActions, ShareSettings
from tests.conftest import transport_for
from tests.device.disk_client import disk, limit_of, param
from tests.support.samba import RECORDINGS, samba, samba_clean  # noqa: F401
from tests.ui.desktop import Desktop

pytestmark = [pytest.mark.gui, pytest.mark.functional]

SHARE_DISK = "NetworkShare"


def shares_on(device) -> list[dict[str, str]]:
    from tests.device.disk_client import get_xml

    root = get_xml(device, "/axis-cgi/disks/networkshare/list.cgi", schemaversion="1")
    return [dict(e.attrib) for e in root.iter() if str(e.tag).endswith("NetworkShare")]


def nas_settings(server, name: str) -> ShareSettings:
    return ShareSettings(name, server.host, RECORDINGS, server.user, server.password, "", server.port)


async def fill_share_dialog(desktop: Desktop, server, password: str):
    panel = desktop.window.shares_panel
    panel.actions_by_name["add"].trigger()
    dialog = panel.dialog
    await desktop.wait(lambda: dialog.options_loaded)
    desktop.qtbot.keyClicks(dialog.nice_name, "Office NAS")
    desktop.qtbot.keyClicks(dialog.address, server.host)
    desktop.qtbot.keyClicks(dialog.share_name, RECORDINGS)
    desktop.qtbot.keyClicks(dialog.user, server.user)
    desktop.qtbot.keyClicks(dialog.password, password)
    dialog.version.setCurrentIndex(dialog.version.findData("3.0"))
    dialog.port.setValue(server.port)
    return dialog


async def test_a_share_is_tested_before_it_is_added_and_a_refusal_is_explained(desktop, device, samba_clean):  # noqa: F811
    camera = await desktop.add_camera(device, "Entrance")
    await desktop.open_shares(camera)
    dialog = await fill_share_dialog(desktop, samba_clean, "wrong password")
    assert dialog.save_button.text() == "Test and add"

    desktop.click(dialog.test_button)
    await desktop.wait(lambda: dialog.outcome.text(), timeout=60)
    assert "refused the user name or password" in dialog.outcome.text()
    assert dialog.outcome.property("kind") == "error"

    desktop.click(dialog.save_button)
    await desktop.wait(lambda: dialog.outcome.text() and dialog.save_button.isEnabled(), timeout=60)
    assert dialog.isVisible()  # the installer's typing stays, next to the reason
    assert shares_on(device) == []

    dialog.password.setText(samba_clean.password)
    desktop.click(dialog.save_button)
    await desktop.wait(lambda: not dialog.isVisible(), timeout=60)
    (share,) = shares_on(device)
    assert (share["NiceName"], share["Address"], share["Share"]) == ("Office NAS", samba_clean.host, RECORDINGS)
    assert share.get("DiskId", share.get("DiskID")) == SHARE_DISK
    assert disk(device, SHARE_DISK)["status"] == "OK"
    assert param(device, "Storage.S1.ExtraMountOptions") == f"vers=3.0,port={samba_clean.port}"
    panel = desktop.window.shares_panel
    await desktop.wait(lambda: panel.model.rowCount() == 1)
    assert panel.model.index(0, 4).data() == "yes — OK"
    assert "pass" not in share  # the camera never sends a share's password back


async def test_rename_unbind_bind_and_remove_take_the_steps_the_camera_needs(desktop, device, samba_clean):  # noqa: F811
    async with transport_for(device) as transport:
        await ShareActions(transport).add(
            ShareSettings(
                "Office NAS", samba_clean.host, RECORDINGS, samba_clean.user, samba_clean.password, "", samba_clean.port
            ),
            bind=True,
        )
    camera = await desktop.add_camera(device, "Entrance")
    await desktop.open_shares(camera)
    panel = desktop.window.shares_panel
    await desktop.wait(lambda: panel.selected() is not None)

    panel.actions_by_name["edit"].trigger()
    dialog = panel.dialog
    await desktop.wait(lambda: dialog.options_loaded)
    assert dialog.password.text() == ""
    dialog.nice_name.setText("Archive")
    watch = desktop.watch_action()
    desktop.click(dialog.save_button)
    ok, message, _ = await desktop.finish_action(watch)
    assert ok, message
    assert disk(device, SHARE_DISK)["name"] == "Archive"
    assert disk(device, SHARE_DISK)["status"] == "OK"  # renaming never unbinds

    await desktop.wait(lambda: panel.actions_by_name["unbind"].isEnabled())
    watch = desktop.watch_action()
    panel.actions_by_name["unbind"].trigger()
    ok, message, percents = await desktop.finish_action(watch)
    assert ok, message
    assert percents == sorted(percents)
    assert disk(device, SHARE_DISK)["status"] == "disconnected"
    assert "DiskId" not in shares_on(device)[0]

    await desktop.wait(lambda: panel.actions_by_name["bind"].isEnabled())
    watch = desktop.watch_action()
    panel.actions_by_name["bind"].trigger()
    assert (await desktop.finish_action(watch))[0]
    assert disk(device, SHARE_DISK)["status"] == "OK"

    await desktop.wait(lambda: panel.actions_by_name["remove"].isEnabled() and panel.model.index(0, 4).data() != "no")
    panel.actions_by_name["remove"].trigger()
    assert "unmounted and unbound first" in panel.dialog.text()
    watch = desktop.watch_action()
    desktop.click(panel.dialog.button(QMessageBox.StandardButton.Yes))
    ok, message, _ = await desktop.finish_action(watch)
    assert ok, message
    assert "Recordings on the NAS are kept" in message
    assert shares_on(device) == []
    assert disk(device, SHARE_DISK)["status"] == "disconnected"


async def test_one_nas_is_split_between_two_cameras_by_their_storage_limits(desktop, device_factory, samba_clean):  # noqa: F811
    cameras = [device_factory(), device_factory()]
    for number, camera_device in enumerate(cameras):
        async with transport_for(camera_device) as transport:
            settings = ShareSettings(
                f"NAS {number}",
                samba_clean.host,
                RECORDINGS,
                samba_clean.user,
                samba_clean.password,
                "",
                samba_clean.port,
            )
            await ShareActions(transport).add(settings, bind=True)
    hall = await desktop.add_camera(cameras[1], "Hall")
    entrance = await desktop.add_camera(cameras[0], "Entrance")
    await desktop.open_shares(hall)
    await desktop.open_shares(entrance)
    panel = desktop.window.shares_panel
    await desktop.wait(lambda: len(panel.nas_uses()) == 2)
    await desktop.wait(lambda: panel.actions_by_name["split"].isEnabled())

    panel.actions_by_name["split"].trigger()
    dialog = panel.dialog
    assert sorted(dialog.percents) == sorted([hall, entrance])
    assert [spin.value() for spin in dialog.percents.values()] == [50.0, 50.0]
    dialog.percents[entrance].setValue(80)
    assert not dialog.ok.isEnabled()  # 80 + 50 is more than the NAS
    assert "may not exceed 100 %" in dialog.summary.text()
    dialog.percents[hall].setValue(20)
    total_kb = dialog.total_kb
    watch = desktop.watch_action()
    desktop.click(dialog.ok)
    ok, message, _ = await desktop.finish_action(watch)
    assert ok, message
    assert int(limit_of(cameras[0], SHARE_DISK)["size"]) == int(total_kb * 0.8)
    assert int(limit_of(cameras[1], SHARE_DISK)["size"]) == int(total_kb * 0.2)


async def test_a_nas_outage_shows_as_it_happens_and_clears_when_the_nas_returns(desktop, device, samba_clean):  # noqa: F811
    async with transport_for(device) as transport:
        await ShareActions(transport).add(nas_settings(samba_clean, "Office NAS"), bind=True)
    camera = await desktop.add_camera(device, "Entrance")
    await desktop.open_camera(camera)
    panel = desktop.window.disks_panel
    assert not panel.banner.isVisible()
    samba_clean.stop()
    await desktop.wait(lambda: panel.banner.isVisible(), timeout=60)
    assert "Office NAS cannot be reached" in panel.banner.text()
    await desktop.wait(lambda: "1 failed" in (desktop.window.model.index(0, 4).data() or ""))
    samba_clean.start()
    await desktop.wait(lambda: not panel.banner.isVisible(), timeout=90)
    assert disk(device, SHARE_DISK)["status"] == "OK"
