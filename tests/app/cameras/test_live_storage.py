"""A camera's storage events followed live: the decoding of each notification, the runner against the virtual
camera over a real WebSocket (a card pulled and inserted, a recording started and stopped, the camera going
away and coming back), and the Fleet re-reading a camera's storage as soon as an event says it changed."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest

from app.cameras.config import CameraConfig
from app.cameras.fleet import CameraState, Fleet
from app.cameras.live_storage import (
    POLL_SECONDS,
    SAFETY_POLL_SECONDS,
    DiskAlert,
    LiveChange,
    LiveStorage,
    LiveStorageRunner,
    StorageFeed,
    Topic,
    apply,
    live_problems,
    local_topic,
    poll_seconds,
)
from app.cameras.secrets import SecretStore
from app.paths import AppPaths
from app.storage.overview import SHARE_DISK, DiskView, StorageOverview
from app.vapix.disks import Disk, DiskStatus
from app.vapix.event_stream import EventNotification
from app.vapix.recordings import RecordingControl
from tests.conftest import transport_for
from tests.device.disk_client import SD, scenario
from tests.support.device_process import CREDENTIALS
from tests.support.memory_keyring import MemoryKeyring
from tests.support.waiting import until


def note(topic: str, data: dict[str, str], disk: str | None = None) -> EventNotification:
    return EventNotification(topic, {"disk_id": disk} if disk else {}, data, None)


# --- decoding, no camera -------------------------------------------------------------------------------------------


def test_each_storage_topic_changes_its_part_of_the_state_and_says_what_changed():
    state = LiveStorage()
    state, change = apply(state, note("tnsaxis:Storage/Disruption", {"disruption": "1"}, SD))
    assert change == LiveChange(Topic.DISRUPTION, SD, first=True)  # only learnt: the connection's current state
    assert state.disruption == {SD: True}
    assert state.disrupted == [SD]
    state, change = apply(state, note("tnsaxis:Storage/Disruption", {"disruption": "0"}, SD))
    assert change == LiveChange(Topic.DISRUPTION, SD)  # a change on the camera
    state, change = apply(state, note("tnsaxis:Storage/Recording", {"recording": "1"}))
    assert change == LiveChange(Topic.RECORDING, first=True)
    assert state.recording is True
    state, change = apply(state, note("tnsaxis:Storage/Recording", {"recording": "0"}))
    assert change == LiveChange(Topic.RECORDING)
    alert = {"overall_health": "1", "alert": "1", "wear": "95", "temperature": "315"}
    state, change = apply(state, note("tnsaxis:Storage/Alert", alert, SD))
    assert change == LiveChange(Topic.ALERT, SD, first=True)
    assert state.alerts[SD] == DiskAlert(True, wear=95, temperature=315, overall_health=1)
    state, change = apply(state, note("tnsaxis:Storage/Alert", {**alert, "alert": "0"}, SD))
    assert change == LiveChange(Topic.ALERT, SD)
    state, change = apply(state, note("tns1:Device/tnsaxis:HardwareFailure/StorageFailure", {"disruption": "1"}, SD))
    assert change == LiveChange(Topic.FAILURE, SD, first=True)
    assert state.failure == {SD: True}
    assert state.disruption == {SD: False}  # the failure is its own state, not the disruption's


def test_a_state_sent_again_is_no_change_and_other_topics_are_ignored():
    state, _ = apply(LiveStorage(), note("tnsaxis:Storage/Disruption", {"disruption": "0"}, SD))
    again, change = apply(state, note("tnsaxis:Storage/Disruption", {"disruption": "0"}, SD))  # a reconnect's burst
    assert change is None
    assert again is state
    for unrelated in (
        note("tns1:Device/tnsaxis:IO/VirtualInput", {"active": "1"}),
        note("tnsaxis:Storage/Disruption", {"disruption": "maybe"}, SD),
        note("tnsaxis:Storage/Disruption", {"disruption": "1"}),  # no disk: nothing to say it of
        note("tnsaxis:Storage/Alert", {"wear": "10"}, SD),  # no alert flag
    ):
        assert apply(state, unrelated) == (state, None)


def test_the_old_topic_spelling_and_spelled_out_booleans_are_read_the_same():
    assert local_topic("tns1:Storage/tnsaxis:Disruption") == local_topic("tnsaxis:Storage/Disruption")
    state, change = apply(LiveStorage(), note("tns1:Storage/tnsaxis:Recording", {"recording": "true"}))
    assert change == LiveChange(Topic.RECORDING, first=True)
    assert state.recording is True
    state, _ = apply(state, note("tnsaxis:Storage/Alert", {"alert": "0", "wear": "-1", "temperature": "x"}, SD))
    assert state.alerts[SD] == DiskAlert(False, wear=-1, temperature=None, overall_health=None)


def disk(disk_id: str = SD, status: DiskStatus = DiskStatus.OK, locked: bool = False) -> DiskView:
    total = 0 if status is DiskStatus.DISCONNECTED else 32_000_000
    return DiskView(
        Disk(disk_id, "", total, total, 0, "fifo", locked, False, False, status, "", "ext4", "S0", "none", False, False)
    )


def disrupt(state: LiveStorage, value: str, disk_id: str = SD) -> LiveStorage:
    return apply(state, note("tnsaxis:Storage/Disruption", {"disruption": value}, disk_id))[0]


def test_only_a_disruption_seen_to_begin_counts_as_a_loss():
    empty_slot = disrupt(LiveStorage(), "1")  # the first state heard: an empty slot says the same
    assert empty_slot.interrupted == frozenset()
    pulled = disrupt(disrupt(LiveStorage(), "0"), "1")
    assert pulled.interrupted == {SD}
    assert disrupt(pulled, "1").interrupted == {SD}  # sent again on a reconnect: still lost
    assert disrupt(pulled, "0").interrupted == frozenset()  # inserted again


def test_a_pulled_card_is_named_though_the_read_shows_only_an_empty_slot():
    pulled = disrupt(disrupt(LiveStorage(live=True), "0"), "1")
    empty = StorageOverview([disk(status=DiskStatus.DISCONNECTED)])
    assert empty.problems == []  # the read alone cannot tell a pulled card from no card
    assert live_problems(empty, pulled) == {
        SD: "SD card was removed or cannot be reached: the camera has stopped recording to it."
    }
    assert live_problems(empty, None) == {}  # polled: no events, nothing to add
    assert live_problems(empty, disrupt(LiveStorage(), "1")) == {}  # never seen writable
    locked = StorageOverview([disk(locked=True)])
    assert "cannot be written" in live_problems(locked, pulled)[SD]
    failed = StorageOverview([disk(status=DiskStatus.FAILED)])
    assert live_problems(failed, pulled) == {}  # the read says it better: "has failed"
    lost_nas = disrupt(disrupt(LiveStorage(live=True), "0", SHARE_DISK), "1", SHARE_DISK)
    unbound = StorageOverview([disk(SHARE_DISK, DiskStatus.DISCONNECTED)])
    assert live_problems(unbound, lost_nas) == {
        SHARE_DISK: "Network share was removed or cannot be reached: the camera has stopped recording to it."
    }


def test_a_camera_is_polled_often_unless_its_events_arrive_live_now():
    assert poll_seconds(None) == POLL_SECONDS == 5.0  # no stream offered: polled exactly as before
    assert poll_seconds(LiveStorage(live=False, recording=True)) == POLL_SECONDS  # offered, but down right now
    assert poll_seconds(LiveStorage(live=True)) == SAFETY_POLL_SECONDS
    assert poll_seconds(LiveStorage(live=True), polled=0.5, safety=600) == 600


# --- the runner against the virtual camera -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Heard:
    """What the runner told its listener, in order."""

    def __init__(self) -> None:
        self.changes: list[tuple[LiveStorage, LiveChange]] = []

    def __call__(self, state: LiveStorage, change: LiveChange) -> None:
        self.changes.append((state, change))

    @property
    def state(self) -> LiveStorage:
        return self.changes[-1][0] if self.changes else LiveStorage()


@pytest.mark.functional
async def test_the_runner_follows_the_card_and_the_recordings_and_knows_when_it_is_live(device_factory):
    device = device_factory("--http-port", str(free_port()))  # the restarted camera comes back on the same port
    heard = Heard()
    async with transport_for(device) as transport:
        runner = LiveStorageRunner(transport, heard, first_delay=0.2, max_delay=0.5)
        task = asyncio.ensure_future(runner.run())
        try:
            await until(lambda: heard.state.live and heard.state.disruption.get(SD) is False)
            assert heard.state.recording is False  # the current states arrive on connect
            assert heard.state.failure.get(SD) is False
            assert heard.state.alerts[SD].alert is False

            await asyncio.to_thread(scenario, device, "pull")
            await until(lambda: heard.state.disruption.get(SD) is True, 5)
            assert heard.changes[-1][1] == LiveChange(Topic.DISRUPTION, SD)
            await asyncio.to_thread(scenario, device, "insert")
            await until(lambda: heard.state.disruption.get(SD) is False, 5)

            control = RecordingControl(transport)
            recording_id = await control.record(SD)
            await until(lambda: heard.state.recording is True, 5)
            await control.stop(recording_id)
            await until(lambda: heard.state.recording is False, 5)

            connections = runner.connections
            stopping = asyncio.ensure_future(asyncio.to_thread(device.stop))
            await until(lambda: not heard.state.live, 10)  # the camera went away: polling must cover for it
            await stopping
            assert heard.changes[-1][1] == LiveChange(Topic.LIVE)
            await asyncio.to_thread(device.start)
            await until(lambda: heard.state.live, 15)  # EventStream reconnected by itself
            assert runner.connections == connections + 1
            assert heard.changes[-1][1] == LiveChange(Topic.LIVE)  # not `first`: what changed meanwhile is read
        finally:
            task.cancel()
            await asyncio.wait([task])
    assert task.cancelled()
    assert not runner.state.live


# --- the Fleet ------------------------------------------------------------------------------------------------------


@pytest.fixture
def fleet(tmp_path) -> Fleet:
    return Fleet(AppPaths(tmp_path / "config", tmp_path / "data"), SecretStore(MemoryKeyring()))


async def add(fleet: Fleet, device, name: str = "Entrance") -> str:
    user, password = CREDENTIALS["admin"]
    config = CameraConfig(name, device.host, device.http_port, user)
    await fleet.add(config, password)
    assert fleet.entries[config.id].state is CameraState.ONLINE
    return config.id


def storage_of(fleet: Fleet, camera_id: str) -> str:
    storage = fleet.entries[camera_id].storage
    return storage.describe() if storage else ""


@pytest.mark.functional
async def test_the_fleet_follows_an_online_camera_and_rereads_its_storage_on_an_event(fleet, device):
    heard: list[tuple[str, LiveChange]] = []
    fleet.subscribe_live(lambda camera_id, _state, change: heard.append((camera_id, change)))
    try:
        camera = await add(fleet, device)
        await until(lambda: fleet.is_live(camera))
        assert fleet.entries[camera].storage is None  # going live changed nothing on the camera: no read for it
        await fleet.read_storage(camera)  # as the camera list's first look does
        assert storage_of(fleet, camera) == "1/1 OK · not recording"
        # Nothing polls here (no watch_storage, no panel): only the event can bring the card's loss in.
        pulled = time.monotonic()
        await asyncio.to_thread(scenario, device, "pull")
        await until(lambda: storage_of(fleet, camera) == "No storage", 5)
        assert time.monotonic() - pulled < 2.0
        assert (camera, LiveChange(Topic.DISRUPTION, SD)) in heard
        assert fleet.live_storage(camera).disruption[SD] is True

        await asyncio.to_thread(scenario, device, "insert")
        await until(lambda: storage_of(fleet, camera) == "1/1 OK · not recording", 5)
        async with transport_for(device) as transport:
            control = RecordingControl(transport)
            recording_id = await control.record(SD)
            await until(lambda: storage_of(fleet, camera) == "1/1 OK · recording", 5)
            await control.stop(recording_id)
        await until(lambda: storage_of(fleet, camera) == "1/1 OK · not recording", 5)

        await fleet.remove(camera)
        assert not fleet.is_live(camera)
        assert heard[-1] == (camera, LiveChange(Topic.LIVE))  # said at once, not when the follower has ended
    finally:
        await fleet.close()
    assert not fleet._tasks  # every follower has ended


@pytest.mark.functional
async def test_a_camera_that_goes_offline_is_no_longer_followed_and_is_again_once_online(fleet, device_factory):
    device = device_factory("--http-port", str(free_port()))
    try:
        camera = await add(fleet, device)
        await until(lambda: fleet.is_live(camera))
        follower = fleet._followers[camera].task
        await asyncio.to_thread(device.stop)
        await until(lambda: not fleet.is_live(camera), 10)  # the stream dropped: polled until it is back
        await fleet.refresh(camera)
        assert fleet.entries[camera].state is CameraState.OFFLINE
        assert camera not in fleet._followers
        await asyncio.wait([follower], timeout=5)
        assert follower.done()

        await asyncio.to_thread(device.start)
        await fleet.refresh(camera)
        assert fleet.entries[camera].state is CameraState.ONLINE
        await until(lambda: fleet.is_live(camera), 10)
        assert fleet._followers[camera].task is not follower
    finally:
        await fleet.close()


@pytest.mark.functional
async def test_with_live_events_off_every_camera_is_polled(fleet, device):
    fleet.live_events = False
    try:
        camera = await add(fleet, device)
        await asyncio.sleep(0.5)
        assert fleet.live_storage(camera) is None
        assert not fleet.is_live(camera)
        assert poll_seconds(fleet.live_storage(camera)) == POLL_SECONDS
    finally:
        await fleet.close()


def test_the_feed_says_live_only_while_the_stream_is_and_takes_recording_from_it_then():
    live = LiveStorage(live=True, recording=True)
    assert StorageFeed.of(live, read_recording=False) == StorageFeed(True, True, POLL_SECONDS)
    assert StorageFeed.of(live, False).describe() == "Live events"
    assert StorageFeed.of(LiveStorage(live=True), read_recording=False).recording is False  # not heard yet
    dropped = LiveStorage(live=False, recording=True)  # the last heard, not the current state
    assert StorageFeed.of(dropped, read_recording=False) == StorageFeed(False, False, POLL_SECONDS)
    assert StorageFeed.of(None, None, polled=5.0).describe() == "Checked every 5 s"
    assert StorageFeed.of(None, None, polled=0.5).describe() == "Checked every 0.5 s"


@pytest.mark.functional
@pytest.mark.parametrize("live_events", [True, False])
async def test_the_camera_list_polls_a_camera_only_while_its_events_do_not_arrive_live(fleet, device, live_events):
    fleet.live_events = live_events  # off: as a camera whose apidiscovery does not list the stream
    camera = await add(fleet, device)
    watch = asyncio.ensure_future(fleet.watch_storage(interval=0.4, live_interval=600))
    try:
        await until(lambda: storage_of(fleet, camera) == "1/1 OK · not recording")
        await until(lambda: fleet.is_live(camera) == live_events)
        await asyncio.sleep(0.5)  # the reads that going live asks for are over
        reads: set[float] = set()
        for _ in range(20):  # 2 s
            reads.add(fleet._read_started[camera])
            await asyncio.sleep(0.1)
        if live_events:
            assert len(reads) == 1  # nothing read it: no event, and the safety net is 600 s away
        else:
            assert len(reads) >= 4  # every 0.4 s, as every camera was polled before
    finally:
        watch.cancel()
        await asyncio.wait([watch])
        await fleet.close()
