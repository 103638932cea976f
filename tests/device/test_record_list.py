"""An operator searches the card for recordings, the way VMSs and scripts call record/list.cgi."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from device.clock import ManualClock
from device.storage.index import RecordingFilter, RecordingIndex
from device.storage.layout import RecordingMeta
from tests.device.disk_client import SCHEMA_BASE, XSI, get, get_xml, sample
from tests.support.device_process import CREDENTIALS

pytestmark = pytest.mark.functional


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """A camera in Shanghai time with three sample recordings made 1, 2 and 3 days ago."""
    from tests.conftest import _start

    device = _start(tmp_path_factory.mktemp("archive"), ["--sd-size", "1G", "--timezone", "Asia/Shanghai"])
    ids = {age: sample(device, seconds=3, blockseconds=3, agedays=age) for age in (1, 2, 3)}
    yield device, ids
    device.stop()


def recordings(device, **params: str) -> tuple[dict[str, str], list[dict[str, str]]]:
    root = get_xml(device, "/axis-cgi/record/list.cgi", role="viewer", **params)
    wrapper = root.find("recordings")
    assert wrapper is not None, root
    return dict(wrapper.attrib), [dict(r.attrib) | {"video": dict(r.find("video").attrib)} for r in wrapper]


def test_a_viewer_lists_every_recording_newest_first_as_real_firmware_writes_them(archive):
    device, ids = archive
    root = get_xml(device, "/axis-cgi/record/list.cgi", role="viewer", recordingid="all")
    assert root.tag == "root"
    assert root.get(f"{{{XSI}}}noNamespaceSchemaLocation") == SCHEMA_BASE + "recording/list1.xsd"
    counts, found = recordings(device, recordingid="all")
    assert counts == {"totalnumberofrecordings": "3", "numberofrecordings": "3"}
    assert [r["recordingid"] for r in found] == [ids[1], ids[2], ids[3]]
    first = found[0]
    assert list(first)[:12] == [
        "diskid",
        "recordingid",
        "starttime",
        "starttimelocal",
        "stoptime",
        "stoptimelocal",
        "recordingtype",
        "eventid",
        "eventtrigger",
        "recordingstatus",
        "source",
        "locked",
    ]
    assert first["diskid"] == "SD_DISK"
    assert first["recordingstatus"] == "completed"
    assert first["locked"] == "No"
    start = datetime.strptime(first["starttime"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert datetime.fromisoformat(first["starttimelocal"]) == start
    assert first["starttimelocal"].endswith("+08:00")  # the camera's time zone, with microseconds
    assert first["recordingid"].startswith(
        start.astimezone(datetime.fromisoformat(first["starttimelocal"]).tzinfo).strftime("%Y%m%d_%H%M%S")
    )  # the ID is in local time
    assert first["video"] == {
        "mimetype": "video/x-h264",
        "width": "160",
        "height": "90",
        "framerate": "10:1",
        "resolution": "160x90",
    }


def test_ascending_order_and_paging_count_matches_before_the_page(archive):
    device, ids = archive
    counts, found = recordings(
        device, recordingid="all", sortorder="ascending", startatresultnumber="1", maxnumberofresults="1"
    )
    assert counts["numberofrecordings"] == "3"
    assert [r["recordingid"] for r in found] == [ids[2]]


def test_a_time_window_finds_recordings_with_any_part_inside_it(archive):
    device, ids = archive
    _, everything = recordings(device, recordingid="all")
    middle = next(r for r in everything if r["recordingid"] == ids[2])
    # A window that only touches the last second of the middle recording still finds it.
    stop = datetime.strptime(middle["stoptime"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    window = {
        "starttime": (stop - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "stoptime": (stop + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S"),
    }  # no Z: accepted as UTC
    counts, found = recordings(device, **window)
    assert [r["recordingid"] for r in found] == [ids[2]]
    assert counts == {"totalnumberofrecordings": "3", "numberofrecordings": "1"}


def test_filters_by_id_event_source_and_disk(archive):
    device, ids = archive
    assert [r["recordingid"] for r in recordings(device, recordingid=ids[3])[1]] == [ids[3]]
    assert len(recordings(device, recordingid="all", eventid="Sample")[1]) == 3
    assert recordings(device, recordingid="all", eventid="motion")[1] == []
    assert len(recordings(device, recordingid="all", source="1")[1]) == 3
    assert recordings(device, recordingid="all", diskid="NetworkShare") == (
        {"totalnumberofrecordings": "0", "numberofrecordings": "0"},
        [],
    )


def test_the_documents_listentity_recordingid_and_unknown_arguments_are_accepted(archive):
    device, _ids = archive
    counts, _ = recordings(
        device,
        listentity="recordingid",
        recordingid="all",
        recordingstatus="completed",
        maxnumberofrecordings="9",
        timestamp="123",
    )
    assert counts["numberofrecordings"] == "3"


def test_event_ids_and_sources_can_be_listed(archive):
    device, _ids = archive
    root = get_xml(device, "/axis-cgi/record/list.cgi", listentity="eventid")
    assert [e.text for e in root.find("eventids")] == ["Sample"]
    root = get_xml(device, "/axis-cgi/record/list.cgi", listentity="source")
    assert [e.text for e in root.find("sources")] == ["1"]


def test_post_works_like_get(archive):
    device, _ids = archive
    response = httpx.post(
        f"{device.http_url}/axis-cgi/record/list.cgi",
        data={"recordingid": "all"},
        auth=httpx.DigestAuth(*CREDENTIALS["viewer"]),
    )
    assert 'numberofrecordings="3"' in response.text


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("starttime", "2011-08-13T010:30:30Z"),
        ("sortorder", "sideways"),
        ("maxnumberofresults", "ten"),
        ("listentity", "cameras"),
    ],
)
def test_a_bad_argument_gets_a_readable_error(archive, name, value):
    device, _ids = archive
    root = get_xml(device, "/axis-cgi/record/list.cgi", recordingid="all", **{name: value})
    error = root.find("list")
    assert error.get("result") == "ERROR"
    assert name in error.get("errormsg")


def test_an_ongoing_recording_reaches_now_in_time_filters(tmp_path):
    """An ongoing recording has no stop yet: a window after its start still finds it."""
    clock = ManualClock(datetime(2026, 1, 1, 12, tzinfo=UTC))
    index = RecordingIndex(tmp_path / "index.db")
    index.put_recording(RecordingMeta("live", "1", clock.now() - timedelta(hours=2)), "x")
    index.put_recording(
        RecordingMeta("old", "1", clock.now() - timedelta(hours=5), clock.now() - timedelta(hours=4)), "y"
    )
    window = RecordingFilter(start=clock.now() - timedelta(minutes=10), now=clock.now())
    total, matched, page = index.query_recordings(window, descending=True, limit=None)
    assert (total, matched, [meta.id for meta, _ in page]) == (2, 1, ["live"])


def test_listing_needs_a_known_user(archive):
    device, _ids = archive
    assert get(device, "/axis-cgi/record/list.cgi", role="viewer", recordingid="all").status_code == 200
    assert httpx.get(f"{device.http_url}/axis-cgi/record/list.cgi").status_code == 401
