"""The disk manager in-process with its event bus and a manual clock: the storage disruption and storage alert
states an event subscriber sees (vapix-edge-storage.txt "Storage disruption detection", V-4, V-6), cleanup
over time, and the retention rule `choose_blocks` on its own."""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from device.clock import ManualClock
from device.events.bus import STORAGE_ALERT, STORAGE_DISRUPTION, Event
from device.runtime import Device, DeviceConfig
from device.storage.cleanup import BlockInfo, Rules, choose_blocks
from device.storage.index import RecordingIndex
from device.storage.manager import DiskError, DiskManager
from device.users import Role

SD = "SD_DISK"
SHARE = "NetworkShare"
MIB = 1024 * 1024
NOW = datetime(2024, 6, 21, 7, 17, 25, tzinfo=UTC)


@dataclass
class Camera:
    device: Device
    events: list[Event]
    clock: ManualClock

    @property
    def disks(self) -> DiskManager:
        return self.device.services.disks

    def state(self, topic: str = STORAGE_DISRUPTION, disk_id: str = SD) -> str | None:
        data = self.device.services.bus.state(topic, {"disk_id": disk_id})
        if data is None:
            return None
        return data["disruption" if topic == STORAGE_DISRUPTION else "alert"]

    def alert(self, disk_id: str = SD) -> str | None:
        return self.state(STORAGE_ALERT, disk_id)

    def history(self, topic: str = STORAGE_DISRUPTION, disk_id: str = SD) -> list[str]:
        return [next(iter(e.data.values())) for e in self.events if e.topic == topic and e.source["disk_id"] == disk_id]


def make_device(tmp_path: Path, clock: ManualClock) -> Device:
    return Device(DeviceConfig(data_dir=tmp_path / "camera", serial="ACCC8E000001", sd_capacity=64 * MIB), clock)


async def no_periodic_cleaner(_self: DiskManager, interval: float = 60.0) -> None:
    """These tests call cleanup() themselves; the periodic cleaner's own race is tested on its own below."""


@pytest.fixture
async def camera(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Camera]:
    monkeypatch.setattr(DiskManager, "run_cleaner", no_periodic_cleaner)
    clock = ManualClock(NOW)
    device = make_device(tmp_path, clock)
    events: list[Event] = []
    device.services.bus.subscribe(events.append)
    await device.services.disks.start()
    yield Camera(device, events, clock)
    await device.services.jobs.stop()
    await device.services.disks.stop()


# --- storage disruption ----------------------------------------------------------------------------------------


async def test_a_mounted_card_is_not_disrupted_and_an_unbound_share_is(camera):
    assert camera.state() == "0"
    assert camera.state(disk_id=SHARE) == "1"
    assert camera.alert() == "0"


async def test_unmounting_disrupts_storage_and_mounting_read_write_ends_it(camera):
    await camera.disks.unmount(SD)
    assert camera.state() == "1"
    await camera.disks.mount(SD)
    assert camera.state() == "0"
    assert camera.history() == ["0", "1", "0"]


async def test_locking_disrupts_storage_and_unlocking_ends_it(camera):
    camera.disks.lock(SD, True)
    assert camera.state() == "1"
    camera.disks.lock(SD, False)
    assert camera.state() == "0"


async def test_locking_through_the_parameter_disrupts_storage_too(camera):
    camera.device.state.params.update({"root.Storage.S0.Locked": "yes"}, Role.ADMIN)
    assert camera.state() == "1"
    camera.device.state.params.update({"root.Storage.S0.Locked": "no"}, Role.ADMIN)
    assert camera.state() == "0"


async def test_a_read_only_card_disrupts_storage(camera):
    await camera.disks.set_readonly(SD, True)
    assert camera.state() == "1"
    await camera.disks.set_readonly(SD, False)
    assert camera.state() == "0"


async def test_pulling_the_card_disrupts_storage_and_putting_it_back_ends_it(camera):
    await camera.disks.pull_card(SD)
    assert camera.state() == "1"
    await camera.disks.insert_card(SD)  # MountOnBoot=yes mounts it again
    assert camera.state() == "0"


async def test_a_failed_card_disrupts_storage(camera):
    await camera.disks.set_failed(SD, True)
    assert camera.state() == "1"
    assert not camera.disks.disk(SD).mounted


async def test_formatting_a_mounted_card_disrupts_storage_until_it_is_mounted_again(camera):
    await camera.disks.format(SD, "vfat")
    assert camera.history() == ["0", "1", "0"]


async def test_only_changes_are_published(camera):
    camera.disks.lock(SD, True)
    camera.disks.lock(SD, True)
    await camera.disks.set_readonly(SD, True)  # still disrupted: no new event
    assert camera.history() == ["0", "1"]


async def test_every_disruption_event_names_its_disk(camera):
    await camera.disks.unmount(SD)
    disruptions = [e for e in camera.events if e.topic == STORAGE_DISRUPTION]
    assert {e.source["disk_id"] for e in disruptions} == {SD, SHARE}
    assert all(e.time == NOW for e in disruptions)


# --- storage alert ---------------------------------------------------------------------------------------------


async def test_wear_crossing_the_alert_level_raises_the_alert_and_a_higher_level_clears_it(camera):
    camera.disks.set_alert_levels(SD, wear=30, temperature=None)
    assert camera.alert() == "0"
    camera.disks.set_wear(SD, 20)
    assert camera.alert() == "0"
    camera.disks.set_wear(SD, 40)
    assert camera.alert() == "1"
    camera.disks.set_alert_levels(SD, wear=50, temperature=None)
    assert camera.alert() == "0"
    assert camera.history(STORAGE_ALERT) == ["0", "1", "0"]


async def test_wear_equal_to_the_level_is_an_alert(camera):
    camera.disks.set_wear(SD, 30)
    camera.disks.set_alert_levels(SD, wear=30, temperature=None)
    assert camera.alert() == "1"


async def test_a_card_that_is_not_there_raises_no_wear_alert(camera):
    camera.disks.set_wear(SD, 90)
    camera.disks.set_alert_levels(SD, wear=10, temperature=None)
    assert camera.alert() == "1"
    await camera.disks.pull_card(SD)
    assert camera.disks.health(camera.disks.disk(SD))[0] == -3
    assert camera.alert() == "0"


async def test_the_temperature_level_never_alerts_a_card_without_a_thermometer(camera):
    camera.disks.set_alert_levels(SD, wear=None, temperature=1)
    assert camera.alert() == "0"


# --- cleanup over time -----------------------------------------------------------------------------------------


def set_params(camera: Camera, **values: str) -> None:
    camera.device.state.params.update({f"root.Storage.S0.{k}": v for k, v in values.items()}, Role.ADMIN)


async def test_recordings_age_out_as_the_clock_moves(camera):
    set_params(camera, CleanupPolicyActive="none", CleanupMaxAge="2")
    old = camera.disks.write_sample(SD, 4, 2, age_days=3)
    fresh = camera.disks.write_sample(SD, 4, 2)
    set_params(camera, CleanupPolicyActive="fifo")
    store = camera.disks.disk(SD).store
    assert store is not None

    assert camera.disks.cleanup(SD) == 2
    assert {b.meta.recording_id for b in store.index.blocks()} == {fresh}
    assert old not in {meta.id for meta, _folder, _locked in store.index.recordings()}

    camera.clock.advance(timedelta(days=1).total_seconds())
    assert camera.disks.cleanup(SD) == 0
    camera.clock.advance(timedelta(days=1, minutes=1).total_seconds())
    assert camera.disks.cleanup(SD) == 2
    assert store.index.blocks() == []
    assert not any(camera.disks.disk(SD).root.glob("[0-9]*"))


async def test_a_locked_recording_is_never_cleaned_up(camera):
    set_params(camera, CleanupPolicyActive="none", CleanupMaxAge="1")
    kept = camera.disks.write_sample(SD, 2, 2, age_days=5)
    store = camera.disks.disk(SD).store
    assert store is not None
    store.index.set_locked(kept, True)
    set_params(camera, CleanupPolicyActive="fifo")
    assert camera.disks.cleanup(SD) == 0
    assert len(store.index.blocks(kept)) == 1


async def test_no_sample_is_written_to_a_card_that_cannot_take_it(camera):
    await camera.disks.set_readonly(SD, True)
    with pytest.raises(DiskError):
        camera.disks.write_sample(SD, 2, 2)
    await camera.disks.set_readonly(SD, False)
    await camera.disks.unmount(SD)
    with pytest.raises(DiskError):
        camera.disks.write_sample(SD, 2, 2)


async def test_stopping_the_camera_waits_for_a_running_cleanup_before_closing_the_index(tmp_path, monkeypatch):
    """Regression: DiskManager.stop() cancels the cleaner task, but the cleanup it started keeps running in its
    worker thread, and stop() then closes the SQLite connection under it. Here the cleanup is held inside the
    index until stop() has had its chance; when the close lands mid-query instead, the camera segfaults."""
    inside, release, left = threading.Event(), threading.Event(), threading.Event()
    errors: list[Exception] = []
    original = RecordingIndex.blocks

    def held_blocks(self: RecordingIndex, recording_id: str | None = None) -> list:
        if sys._getframe(1).f_code is not DiskManager._cleanup.__code__:  # only the cleaner's read is held
            return original(self, recording_id)
        inside.set()
        release.wait(10)
        try:
            return original(self, recording_id)
        except Exception as exc:
            errors.append(exc)
            raise
        finally:
            left.set()

    monkeypatch.setattr(RecordingIndex, "blocks", held_blocks)
    manager = make_device(tmp_path, ManualClock(NOW)).services.disks
    await manager.start()  # the periodic cleaner's first round starts at once, in a worker thread
    assert await asyncio.to_thread(inside.wait, 10)
    stopping = asyncio.create_task(manager.stop())
    await asyncio.wait({stopping}, timeout=0.5)  # a correct stop() is still waiting for the cleanup here
    release.set()
    await stopping
    assert await asyncio.to_thread(left.wait, 10)
    assert errors == []


# --- choose_blocks ---------------------------------------------------------------------------------------------

GIB = 1024 * MIB


def block(token: str, age_days: float, size: int = MIB, protected: bool = False, ongoing: bool = False) -> BlockInfo:
    start = NOW - timedelta(days=age_days)
    stop = None if ongoing else start + timedelta(minutes=5)
    return BlockInfo(token, f"rec-{token}", start, stop, size, protected)


def rules(policy: str = "fifo", max_age: int = 0, limit: int = 0, capacity: int = GIB, floor: int = 0) -> Rules:
    return Rules(policy, max_age, limit, capacity, floor)


def test_policy_none_deletes_nothing_for_age():
    blocks = [block("a", 100), block("b", 50)]
    assert choose_blocks(blocks, NOW, rules("none", max_age=1), used=2 * MIB) == []


def test_policy_none_still_makes_room_when_the_disk_is_nearly_full():
    """S-6: "recordings will be deleted if the free amount of storage space becomes low" (setcleanuppolicy)."""
    blocks = [block(str(n), 10 - n, size=100) for n in range(5)]
    assert choose_blocks(blocks, NOW, rules("none", capacity=1000, floor=700), used=500) == ["0", "1"]


def test_blocks_older_than_the_max_age_go_oldest_first_and_the_rest_stay():
    blocks = [block("new", 0.5), block("old", 3), block("older", 5)]
    assert choose_blocks(blocks, NOW, rules(max_age=1), used=3 * MIB) == ["older", "old"]


def test_a_max_age_of_zero_is_no_age_limit():
    assert choose_blocks([block("ancient", 6000)], NOW, rules(max_age=0), used=MIB) == []


def test_over_the_storage_limit_the_oldest_go_until_it_is_met():
    blocks = [block(str(n), 10 - n, size=100) for n in range(5)]  # "0" is the oldest
    assert choose_blocks(blocks, NOW, rules(limit=250), used=500) == ["0", "1", "2"]


def test_a_card_short_of_free_space_deletes_until_the_floor_is_free():
    blocks = [block(str(n), 10 - n, size=100) for n in range(5)]
    assert choose_blocks(blocks, NOW, rules(capacity=1000, floor=700), used=500) == ["0", "1"]


def test_protected_and_ongoing_blocks_are_skipped_and_free_nothing():
    blocks = [block("locked", 9, protected=True), block("recording", 8, ongoing=True), block("plain", 7)]
    assert choose_blocks(blocks, NOW, rules(max_age=1, limit=1), used=3 * MIB) == ["plain"]


def test_a_groups_retention_deletes_its_young_blocks_while_older_ordinary_ones_stay():
    """EVENTS.md §4.1: retention applies to the group's recordings, whatever the disk's policy."""
    kept_an_hour = replace(block("group", 0.1), keep_for=timedelta(hours=1))
    kept_a_day = replace(block("young group", 0.1), keep_for=timedelta(days=1))
    locked = replace(block("locked group", 0.2, protected=True), keep_for=timedelta(hours=1))
    blocks = [block("ordinary", 3), kept_an_hour, kept_a_day, locked]
    assert choose_blocks(blocks, NOW, rules("none"), used=4 * MIB) == ["group"]


blocks_strategy = st.lists(
    st.builds(
        block,
        token=st.uuids().map(str),
        age_days=st.floats(0, 30, allow_nan=False),
        size=st.integers(1, 10 * MIB),
        protected=st.booleans(),
        ongoing=st.booleans(),
    ),
    max_size=25,
    unique_by=lambda b: b.token,
)
rules_strategy = st.builds(
    rules,
    policy=st.sampled_from(["fifo", "none"]),
    max_age=st.integers(0, 30),
    limit=st.integers(0, 200 * MIB),
    capacity=st.integers(10 * MIB, 400 * MIB),
    floor=st.integers(0, 50 * MIB),
)


@settings(max_examples=300, deadline=None)
@given(blocks=blocks_strategy, chosen_rules=rules_strategy, extra=st.integers(0, 100 * MIB))
def test_choose_blocks_properties(blocks, chosen_rules, extra):
    used = sum(b.size for b in blocks) + extra
    chosen = choose_blocks(blocks, NOW, chosen_rules, used)
    by_token = {b.token: b for b in blocks}
    assert len(set(chosen)) == len(chosen)
    assert not any(by_token[t].protected or by_token[t].stop is None for t in chosen)
    # the oldest deletable blocks, in order: a prefix of the candidates sorted by start
    candidates = sorted((b for b in blocks if not b.protected and b.stop is not None), key=lambda b: b.start)
    assert chosen == [b.token for b in candidates[: len(chosen)]]
    # each deleted block was needed: too old, or the disk was over its limit or short of free space
    freed = 0
    cutoff = NOW - timedelta(days=chosen_rules.max_age_days)
    for token in chosen:
        b = by_token[token]
        remaining = used - freed
        by_age = chosen_rules.policy == "fifo" and chosen_rules.max_age_days > 0  # policy none: never by age
        too_old = by_age and b.stop is not None and b.stop < cutoff
        over = chosen_rules.limit_bytes > 0 and remaining > chosen_rules.limit_bytes
        short = chosen_rules.capacity - remaining < chosen_rules.free_floor
        assert too_old or over or short
        freed += b.size
