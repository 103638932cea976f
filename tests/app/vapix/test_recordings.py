"""The operator's recording search: golden list.cgi answers from real cameras, and paging the real camera."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import pytest
from lxml import etree

from app.vapix.errors import ApiError, ProtocolError, Unauthorized
from app.vapix.recordings import (
    Recording,
    RecordingControl,
    RecordingPage,
    RecordingQuery,
    Recordings,
    RecordingStatus,
)
from app.vapix.transport import VapixTransport
from tests.conftest import _start, endpoint_of, transport_for
from tests.device.disk_client import sample

# WIRE.md §5.1 (a real camera on a NAS, UTC+8), with a second recording as older firmware writes it.
REAL = (Path(__file__).parent / "golden" / "list_recordings_real.xml").read_bytes()


def test_a_real_cameras_answer_decodes_with_its_quirks():
    page = RecordingPage.from_xml(etree.fromstring(REAL))
    assert (page.total, page.matched) == (3, 2)
    live, old = page.recordings
    assert live.recording_id == "20241023_101735_6B94_B8A44FB7B878"
    assert live.start == datetime(2024, 10, 23, 2, 17, 35, 937374, tzinfo=UTC)
    assert live.ongoing
    assert live.status is RecordingStatus.RECORDING
    assert not live.locked
    assert live.video.framerate == Fraction(30)
    assert (live.video.width, live.video.height) == (1920, 1080)
    assert old.stop is None  # an empty stoptime, as the document allows
    assert old.event_id == "motion"  # spaces trimmed
    assert (old.video.width, old.video.height, old.video.framerate) == (1280, 720, Fraction(15))


@pytest.mark.parametrize(
    "body",
    [
        b"<root><recordings><recording recordingid='x'/></recordings></root>",  # no starttime
        b"<root><recordings totalnumberofrecordings='many'/></root>",
        b"<root><nothing/></root>",
        b"<root><recordings><recording recordingid='x' starttime='yesterday'/></recordings></root>",
    ],
)
def test_malformed_answers_raise_protocol_errors(body):
    with pytest.raises(ProtocolError):
        RecordingPage.from_xml(etree.fromstring(body))


def test_a_query_always_names_its_sort_order_and_sends_utc_times():
    query = RecordingQuery(start=datetime(2024, 1, 1, 8, 0, 0, 500000, tzinfo=UTC), disk_id="SD_DISK", ascending=True)
    assert query.params() == {
        "recordingid": "all",
        "sortorder": "ascending",
        "diskid": "SD_DISK",
        "starttime": "2024-01-01T08:00:00.5Z",
    }


@pytest.fixture(scope="module")
def camera_with_recordings(tmp_path_factory):
    device = _start(tmp_path_factory.mktemp("recordings"), ["--sd-size", "1G"])
    ids = [sample(device, seconds=2, blockseconds=2, agedays=age) for age in (5, 4, 3, 2, 1)]
    yield device, ids
    device.stop()


@pytest.mark.functional
async def test_iterating_pages_through_every_recording_newest_first(camera_with_recordings):
    device, ids = camera_with_recordings
    async with transport_for(device, "viewer") as transport:
        found = [r.recording_id async for r in Recordings(transport).iterate(page_size=2)]
    assert found == list(reversed(ids))


@pytest.mark.functional
async def test_a_time_window_and_ascending_order(camera_with_recordings):
    device, ids = camera_with_recordings
    async with transport_for(device, "viewer") as transport:
        api = Recordings(transport)
        everything = [r async for r in api.iterate(RecordingQuery(ascending=True))]
        assert [r.recording_id for r in everything] == ids
        third = everything[2]
        window = RecordingQuery(start=third.start - timedelta(hours=1), stop=third.stop, ascending=True)
        assert [r.recording_id async for r in api.iterate(window)] == [ids[2]]
        page = await api.page(RecordingQuery(), start_at=1, max_results=2)
        assert (page.matched, [r.recording_id for r in page.recordings]) == (5, [ids[3], ids[2]])
        assert await api.event_ids() == ["Sample"]
        assert await api.sources() == ["1"]
        assert isinstance(everything[0], Recording)
        assert everything[0].video.mimetype == "video/x-h264"


@pytest.mark.functional
async def test_listing_without_credentials_is_refused(camera_with_recordings):
    device, _ = camera_with_recordings
    async with VapixTransport(endpoint_of(device), None, None) as anonymous:
        with pytest.raises(Unauthorized):
            await Recordings(anonymous).page(RecordingQuery())


@pytest.mark.functional
async def test_an_operator_records_stops_and_removes_and_manages_profiles(device_factory):
    device = device_factory("--sd-size", "1G")
    async with transport_for(device, "operator") as transport:
        control, listing = RecordingControl(transport), Recordings(transport)
        recording_id = await control.record("SD_DISK", "resolution=640x360")
        assert (await listing.page(RecordingQuery(recording_id=recording_id))).recordings[0].ongoing
        await control.stop(recording_id)
        assert not (await listing.page(RecordingQuery(recording_id=recording_id))).recordings[0].ongoing
        with pytest.raises(ApiError, match="No active recording"):
            await control.stop(recording_id)
        with pytest.raises(ApiError, match="Unknown disk"):
            await control.record("USB_DISK")

        number = await control.add_profile("SD_DISK", "fps=10", "continuous_sd")
        assert [(p.profile, p.options, p.event_id) for p in await control.profiles()] == [
            (number, "fps=10", "continuous_sd")
        ]
        await control.remove_profile(number)
        assert await control.profiles() == []

        await control.remove([recording_id])
        remaining = [r.recording_id async for r in listing.iterate()]
        assert recording_id not in remaining
        assert len(remaining) == 1  # the profile's recording stays after the profile is removed
