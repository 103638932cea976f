"""The NAS goes away in the middle of a recording and comes back: the camera (in-process, with its event bus)
reports the NetworkShare disk disconnected with a storage disruption, ends the recording at what reached the NAS,
keeps trying with backoff, and starts a new recording for its continuous profile once the share answers again.
Nothing already written is damaged: the first recording closes at its last whole frame and both play."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from device.events.bus import RECORDING, STORAGE_DISRUPTION, Event
from device.runtime import Device, DeviceConfig
from device.shares.registry import ShareConfig
from device.storage.disk import DiskStatus
from device.storage.layout import parse_block_xml, parse_recording_xml
from tests.device.test_recorder import decode_times
from tests.support.samba import RECORDINGS, SambaServer, samba, samba_clean  # noqa: F401

pytestmark = pytest.mark.functional
SERIAL = "ACCC8E0000AA"
SHARE = "NetworkShare"


async def until(probe: Callable[[], object], timeout: float = 20.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or probe}")
        await asyncio.sleep(0.05)


@pytest.fixture
async def camera(tmp_path: Path, samba_clean: SambaServer) -> AsyncIterator[Device]:  # noqa: F811
    device = Device(DeviceConfig(data_dir=tmp_path / "camera", serial=SERIAL))
    device.state.params.put("Storage.S1.ExtraMountOptions", f"port={samba_clean.port}")
    await device.services.disks.start()
    await device.services.shares.start()
    yield device
    await device.services.recorder.stop()
    await device.services.disks.stop()
    await device.services.shares.stop()


def disruption(events: list[Event]) -> list[str]:
    states = [e.data["disruption"] for e in events if e.topic == STORAGE_DISRUPTION and e.source["disk_id"] == SHARE]
    return [s for n, s in enumerate(states) if n == 0 or states[n - 1] != s]


async def test_an_outage_ends_the_recording_cleanly_and_recording_resumes_when_the_nas_returns(
    camera: Device,
    samba_clean: SambaServer,  # noqa: F811
):
    services = camera.services
    events: list[Event] = []
    services.bus.subscribe(events.append)
    registry = services.shares.registry
    registry.add(ShareConfig("1", "NAS", samba_clean.host, RECORDINGS, samba_clean.user, samba_clean.password), True)
    await services.shares.bind("1", automatic=True)
    share = services.disks.disk(SHARE)
    assert share.status is DiskStatus.OK
    await services.recorder.add_profile(SHARE, "resolution=320x180&fps=10", "continuous")
    [first] = services.recorder.active
    await asyncio.sleep(2.5)  # a couple of seconds of video on the NAS

    samba_clean.stop()
    await until(lambda: share.status is DiskStatus.DISCONNECTED, what="the disk to report the lost share")
    assert disruption(events)[-1] == "1"
    assert services.bus.state(RECORDING, {}) == {"recording": "0"}  # Storage/Recording has no source
    assert services.recorder.active == {}
    await asyncio.sleep(2)  # a few failed attempts to reconnect

    samba_clean.start()
    await until(lambda: services.recorder.active, timeout=40, what="a new recording once the NAS is back")
    [second] = services.recorder.active
    assert second != first
    assert disruption(events)[-2:] == ["1", "0"]
    await asyncio.sleep(1.5)
    await services.recorder.stop()

    folder = samba_clean.local(RECORDINGS, f"axis-{SERIAL}")
    meta = parse_recording_xml(next(folder.glob(f"*/*/{first}/recording.xml")).read_bytes())
    assert meta.stop is not None  # closed when the share came back (recovery), not left running
    sidecars = sorted(folder.glob(f"*/*/{first}/*/*.xml"))
    blocks = [parse_block_xml(p.read_bytes()) for p in sidecars]
    assert [b.status for b in blocks] == ["Complete"] * len(blocks)
    times = [t for p in sidecars for t in decode_times(p.with_suffix(".mkv").read_bytes())]
    assert len(times) >= 15  # the seconds before the outage survived, whole frames only
    assert times == sorted(times)
    assert times[-1] < blocks[-1].stop <= meta.stop
    indexed = {m.id: m for m, _folder, _locked in share.store.index.recordings()} if share.store else {}
    assert indexed[first].stop == meta.stop
    assert second in indexed
    second_times = [t for p in folder.glob(f"*/*/{second}/*/*.mkv") for t in decode_times(p.read_bytes())]
    assert second_times
    assert second_times[0] > times[-1]


async def test_a_nas_that_hangs_is_noticed_within_seconds_not_minutes(camera: Device, samba_clean: SambaServer):  # noqa: F811
    """A frozen NAS keeps the connection open and answers nothing: smbprotocol alone would wait ten minutes."""
    services = camera.services
    services.shares.registry.add(
        ShareConfig("1", "NAS", samba_clean.host, RECORDINGS, samba_clean.user, samba_clean.password), True
    )
    await services.shares.bind("1", automatic=True)
    share = services.disks.disk(SHARE)
    await services.recorder.add_profile(SHARE, "resolution=320x180&fps=10", "continuous")
    [first] = services.recorder.active
    await asyncio.sleep(1.5)

    samba_clean.freeze()
    try:
        # Within half a minute, where smbprotocol's own keep-alive would take twenty.
        await until(lambda: share.status is DiskStatus.DISCONNECTED, timeout=30, what="the hung NAS to be noticed")
        assert services.recorder.active == {}
    finally:
        samba_clean.thaw()
    await until(lambda: services.recorder.active, timeout=60, what="recording to resume after the NAS thaws")
    assert first not in services.recorder.active
