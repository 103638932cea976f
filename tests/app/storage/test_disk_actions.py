"""An installer's disk actions against the virtual camera: each guided sequence leaves the disk as the installer
asked, with progress that only moves forward and a sentence at the end."""

from __future__ import annotations

import pytest

from app.cameras.capabilities import ApiSupport
from app.storage.disk_actions import ActionFailed, DiskActions
from app.storage.overview import read_overview
from app.vapix.disks import DiskStatus
from app.vapix.recordings import RecordingControl
from tests.conftest import transport_for
from tests.device.disk_client import SD, sample, scenario

pytestmark = pytest.mark.functional

ALL_APIS = ApiSupport(True, True, True, True, True, True, discovered=True)


class Steps:
    def __init__(self) -> None:
        self.seen: list[tuple[str, int]] = []

    def __call__(self, step: str, percent: int) -> None:
        self.seen.append((step, percent))

    @property
    def percents(self) -> list[int]:
        return [p for _, p in self.seen]

    @property
    def names(self) -> list[str]:
        return list(dict.fromkeys(s for s, _ in self.seen))


async def test_formatting_says_what_is_lost_then_empties_the_card(device):
    sample(device, seconds=6, blockseconds=2)
    steps = Steps()
    async with transport_for(device) as transport:
        actions = DiskActions(transport, steps)
        loss = await actions.loss_estimate(SD)
        assert loss.recordings == 1
        assert 5 <= loss.seconds <= 8
        assert "1 recording(s)" in loss.describe()
        message = await actions.format(SD, "vfat")
        after = await actions.loss_estimate(SD)
        disk = await actions.disks.disk(SD)
    assert "formatted" in message
    assert after.recordings == 0
    assert disk.filesystem == "vfat"
    assert disk.status is DiskStatus.OK
    assert steps.percents == sorted(steps.percents)
    assert steps.percents[-1] == 100


async def test_a_check_of_a_mounted_card_unmounts_checks_and_mounts_it_again(device):
    steps = Steps()
    async with transport_for(device) as transport:
        actions = DiskActions(transport, steps)
        report = await actions.check(SD)
        disk = await actions.disks.disk(SD)
    assert report
    assert disk.status is DiskStatus.OK
    assert steps.names == ["Unmounting", "Checking", "Mounting again"]
    assert steps.percents == sorted(steps.percents)


async def test_encryption_is_switched_on_and_off_in_the_order_the_api_needs(device):
    steps = Steps()
    async with transport_for(device) as transport:
        actions = DiskActions(transport, steps)
        await actions.enable_encryption(SD, "first secret", "ext4")
        on = await actions.disks.disk(SD)
        await actions.change_passphrase(SD, "first secret", "second secret")
        with pytest.raises(ActionFailed) as wrong:
            await actions.change_passphrase(SD, "not it", "third")
        await actions.disable_encryption(SD, "ext4")
        off = await actions.disks.disk(SD)
    assert (on.status, on.encryption_enabled, on.encrypted) == (DiskStatus.OK, True, True)
    assert "passphrase" in str(wrong.value).lower()
    assert (off.status, off.encryption_enabled, off.encrypted) == (DiskStatus.OK, False, False)
    assert steps.names[:4] == ["Unmounting", "Enabling encryption", "Mounting", "Formatting"]


async def test_settings_reach_the_camera_and_show_in_the_overview(device):
    async with transport_for(device) as transport:
        actions = DiskActions(transport)
        await actions.set_cleanup(SD, "fifo", 30)
        await actions.set_alert_levels(SD, 80, 70)
        await actions.set_limit(SD, 2 * 1024 * 1024)
        await actions.set_required_fs(SD, "ext4")
        await actions.set_locked(SD, True)
        with pytest.raises(ActionFailed) as locked:
            await actions.format(SD, "ext4")
        overview = await read_overview(transport, ALL_APIS)
        await actions.set_locked(SD, False)
        with pytest.raises(ActionFailed) as too_small:
            await actions.set_limit(SD, 1000)
    view = overview.disk(SD)
    assert view is not None
    assert (view.disk.cleanup_policy, view.disk.cleanup_max_age) == ("fifo", 30)
    assert view.alerts is not None
    assert (view.alerts.wear, view.alerts.temperature) == (80, 343)
    assert view.limit is not None
    assert view.limit.size_kb == 2 * 1024 * 1024
    assert view.disk.required_filesystem == "ext4"
    assert view.disk.locked
    assert "locked" in str(locked.value)
    assert "1 GiB" in str(too_small.value)


async def test_the_summary_counts_a_failed_card_and_an_ongoing_recording(device):
    async with transport_for(device) as transport:
        healthy = (await read_overview(transport, ALL_APIS)).summary()
        control = RecordingControl(transport)
        recording_id = await control.record(SD)
        recording = (await read_overview(transport, ALL_APIS)).summary()
        await control.stop(recording_id)
        scenario(device, "fail")
        failed = await read_overview(transport, ALL_APIS)
        scenario(device, "fail", state="no")
        await DiskActions(transport).set_alert_levels(SD, 90, 80)
        scenario(device, "wear", percent="95")
        worn = await read_overview(transport, ALL_APIS)
    assert (healthy.disks, healthy.ok, healthy.failed, healthy.recording) == (1, 1, 0, False)
    assert healthy.describe() == "1/1 OK · not recording"
    assert recording.recording
    assert failed.summary().failed == 1
    assert "has failed" in failed.problems[0]
    assert worn.problems == [  # the failure is over, but the camera let go of the card
        "SD card is not mounted: the camera does not record to it. Mount it to use it.",
        "SD card is worn to 95 % of its rated life (alert level 90 %).",
    ]
