"""An installer opens a camera's Disks tab and works on its SD card: every action is clicked as a user clicks
it, and the assertions are on what the camera ends up with, read back over its own API."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox

from tests.device.disk_client import SD, disk, dp, health, limit_of, props, sample, scenario
from tests.ui.desktop import Desktop
from ui.disks.model import COLUMNS

pytestmark = [pytest.mark.gui, pytest.mark.functional]


async def open_sd_card(desktop: Desktop, device, role: str = "admin") -> None:
    camera = await desktop.add_camera(device, "Entrance", role)
    await desktop.open_camera(camera)
    desktop.window.disks_panel.select_disk(SD)


def row_text(desktop: Desktop, column: str) -> str:
    panel = desktop.window.disks_panel
    row = next(i for i, v in enumerate(panel.model.views) if v.disk_id == SD)
    return panel.model.index(row, COLUMNS.index(column)).data()


async def run_action(desktop: Desktop, name: str, timeout: float = 60) -> tuple[bool, str, list[int]]:
    watch = desktop.watch_action()
    desktop.window.disks_panel.actions_by_name[name].trigger()
    return await desktop.finish_action(watch, timeout)


async def accept(desktop: Desktop, timeout: float = 60) -> tuple[bool, str, list[int]]:
    """Click OK in the open dialog and wait for the action it starts."""
    watch = desktop.watch_action()
    desktop.click(desktop.window.disks_panel.dialog.ok_button)
    return await desktop.finish_action(watch, timeout)


async def test_the_card_is_listed_with_its_state_usage_and_settings(desktop, device):
    sample(device, seconds=4, blockseconds=2)
    await open_sd_card(desktop, device)
    await desktop.wait(lambda: "of 34.4 GB" in row_text(desktop, "Used"))
    assert row_text(desktop, "Disk") == "SD card"
    assert row_text(desktop, "Status") == "OK"
    assert row_text(desktop, "File system") == disk(device)["filesystem"]
    assert row_text(desktop, "Locked") == "no"
    assert row_text(desktop, "Encryption") == "off"
    assert row_text(desktop, "Storage limit") == "none"
    panel = desktop.window.disks_panel
    assert not panel.actions_by_name["mount"].isEnabled()
    assert panel.actions_by_name["mount"].toolTip() == "Mount: Already mounted."
    assert panel.actions_by_name["format"].isEnabled()
    assert not panel.banner.isVisible()
    await desktop.wait(lambda: "1/1 OK" in (desktop.window.model.index(0, 4).data() or ""))


async def test_formatting_says_what_is_lost_and_leaves_an_empty_card_of_the_chosen_type(desktop, device):
    sample(device, seconds=6, blockseconds=2)
    await open_sd_card(desktop, device)
    panel = desktop.window.disks_panel
    panel.actions_by_name["format"].trigger()
    dialog = panel.dialog
    await desktop.wait(lambda: "1 recording(s)" in dialog.intro.text())
    assert not dialog.ok_button.isEnabled()  # not before the installer confirms
    dialog.filesystem.setCurrentIndex(dialog.filesystem.findData("vfat"))
    desktop.click(dialog.confirm)
    ok, message, percents = await accept(desktop)
    assert ok, message
    assert "formatted" in message
    assert percents == sorted(percents)
    assert percents[-1] == 100
    assert panel.job_bar.result.text() == message
    assert disk(device)["filesystem"] == "vfat"
    await desktop.wait(lambda: row_text(desktop, "File system") == "vfat")


async def test_safe_eject_then_mount_again(desktop, device):
    await open_sd_card(desktop, device)
    panel = desktop.window.disks_panel
    ok, message, _ = await run_action(desktop, "unmount")
    assert ok, message
    assert "safe to remove" in message
    assert disk(device)["status"] == "connected"
    await desktop.wait(lambda: panel.actions_by_name["mount"].isEnabled())
    ok, message, _ = await run_action(desktop, "mount")
    assert ok, message
    assert disk(device)["status"] == "OK"


async def test_a_locked_card_cannot_be_formatted_and_the_button_says_why(desktop, device):
    await open_sd_card(desktop, device)
    panel = desktop.window.disks_panel
    assert (await run_action(desktop, "lock"))[0]
    assert disk(device)["locked"] == "yes"
    await desktop.wait(lambda: not panel.actions_by_name["format"].isEnabled())
    assert "locked" in panel.actions_by_name["format"].toolTip()
    await desktop.wait(lambda: panel.actions_by_name["unlock"].isEnabled())
    assert (await run_action(desktop, "unlock"))[0]
    assert disk(device)["locked"] == "no"


async def test_check_and_repair_unmount_the_card_and_mount_it_again(desktop, device):
    await open_sd_card(desktop, device)
    panel = desktop.window.disks_panel
    for name in ("check", "repair"):
        await desktop.wait(lambda n=name: panel.actions_by_name[n].isEnabled())
        ok, message, percents = await run_action(desktop, name)
        assert ok, message
        assert percents == sorted(percents)
        assert disk(device)["status"] == "OK"


async def test_encryption_is_switched_on_its_passphrase_changed_and_switched_off_from_one_dialog(desktop, device):
    await open_sd_card(desktop, device)
    panel = desktop.window.disks_panel
    panel.actions_by_name["encryption"].trigger()
    dialog = panel.dialog
    assert "formats it" in dialog.intro.text()
    desktop.qtbot.keyClicks(dialog.new, "first secret")
    desktop.qtbot.keyClicks(dialog.repeat, "first secreT")
    assert dialog.problem_label.text() == "The two passphrases differ."
    assert not dialog.ok_button.isEnabled()
    dialog.repeat.setText("first secret")
    ok, message, _ = await accept(desktop, timeout=90)
    assert ok, message
    card = disk(device)
    assert (card["status"], card["diskencrypted"]) == ("OK", "true")
    await desktop.wait(lambda: row_text(desktop, "Encryption") == "encrypted")

    panel.actions_by_name["encryption"].trigger()
    dialog = panel.dialog
    assert dialog.action == dialog.CHANGE
    dialog.old.setText("wrong")
    dialog.new.setText("second secret")
    dialog.repeat.setText("second secret")
    ok, message, _ = await accept(desktop)
    assert not ok
    assert "passphrase" in message.lower()
    assert panel.job_bar.result.property("kind") == "error"

    panel.actions_by_name["encryption"].trigger()
    dialog = panel.dialog
    dialog.old.setText("first secret")
    dialog.new.setText("second secret")
    dialog.repeat.setText("second secret")
    ok, message, _ = await accept(desktop)
    assert ok, message
    assert disk(device)["status"] == "OK"  # recording goes on: the card stays mounted

    panel.actions_by_name["encryption"].trigger()
    dialog = panel.dialog
    dialog.mode.setCurrentIndex(dialog.mode.findData(dialog.DISABLE))
    assert not dialog.new.isEnabled()
    ok, message, _ = await accept(desktop, timeout=90)
    assert ok, message
    card = disk(device)
    assert (card["status"], card["diskencrypted"]) == ("OK", "false")
    await desktop.wait(lambda: row_text(desktop, "Encryption") == "off")


async def test_cleanup_alert_levels_limit_and_required_file_system_reach_the_camera(desktop, device):
    await open_sd_card(desktop, device)
    panel = desktop.window.disks_panel

    panel.actions_by_name["cleanup"].trigger()
    panel.dialog.policy.setCurrentIndex(panel.dialog.policy.findData("none"))
    panel.dialog.max_age.setValue(14)
    assert (await accept(desktop))[0]
    card = disk(device)
    assert (card["cleanuppolicy"], card["cleanupmaxage"]) == ("none", "14")

    panel.actions_by_name["alerts"].trigger()
    panel.dialog.wear.setValue(75)
    panel.dialog.temperature.setValue(65)
    assert (await accept(desktop))[0]
    levels = props(device, "getdiskalertlevels").find(f".//{dp('AlertLevels')}")
    assert dict(levels.attrib) == {"Wear": "75", "Temperature": "338"}  # 65 °C in kelvin

    panel.actions_by_name["limit"].trigger()
    panel.dialog.limit_gib.setValue(0.5)
    assert not panel.dialog.ok_button.isEnabled()
    assert "at least 1 GiB" in panel.dialog.problem_label.text()
    panel.dialog.limit_gib.setValue(4)
    assert (await accept(desktop))[0]
    assert limit_of(device)["size"] == str(4 * 1024 * 1024)

    panel.actions_by_name["required_fs"].trigger()
    panel.dialog.filesystem.setCurrentIndex(panel.dialog.filesystem.findData("ext4"))
    assert (await accept(desktop))[0]
    assert disk(device)["requiredfilesystem"] == "ext4"
    await desktop.wait(lambda: row_text(desktop, "Storage limit").endswith("of 4.3 GB"))


async def test_a_failing_card_and_wear_over_the_alert_level_show_in_the_banner_and_the_camera_list(desktop, device):
    await open_sd_card(desktop, device)
    panel = desktop.window.disks_panel
    scenario(device, "fail")
    await desktop.wait(lambda: panel.banner.isVisible())
    assert "SD card has failed" in panel.banner.text()
    await desktop.wait(lambda: "1 failed" in (desktop.window.model.index(0, 4).data() or ""), timeout=30)
    scenario(device, "fail", state="no")
    scenario(device, "wear", percent="97")
    assert health(device)[SD]["wear"] == "97"
    panel.actions_by_name["alerts"].trigger()
    panel.dialog.wear.setValue(90)
    assert (await accept(desktop))[0]
    await desktop.wait(lambda: "worn to 97 %" in panel.banner.text())


async def test_an_operator_sees_admin_actions_disabled_with_the_reason(desktop, device):
    await open_sd_card(desktop, device, role="operator")
    panel = desktop.window.disks_panel
    await desktop.wait(lambda: panel.role.name == "OPERATOR")
    assert not panel.actions_by_name["format"].isEnabled()
    assert "administrator" in panel.actions_by_name["format"].toolTip()
    assert panel.actions_by_name["check"].isEnabled()


async def test_removing_a_camera_asks_first(desktop, device):
    camera = await desktop.add_camera(device, "Entrance")
    desktop.window.table.selectRow(desktop.window.model.row_of(camera))
    desktop.window.remove_action.trigger()
    desktop.click(desktop.window.confirm_box.button(QMessageBox.StandardButton.No))
    assert desktop.window.model.rowCount() == 1
