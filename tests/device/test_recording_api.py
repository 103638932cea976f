"""An operator records on the virtual camera: record/stop, continuous profiles, remove, locks, and power cuts."""

from __future__ import annotations

import signal
from datetime import datetime, timedelta

import httpx
import pytest

from tests.device.disk_client import get_xml, lock, mkv_files, param_update, until
from tests.device.test_recorder import decode_times
from tests.support.device_process import CREDENTIALS

pytestmark = pytest.mark.functional


def cgi(device, name: str, role: str = "operator", **params: str):
    root = get_xml(device, f"/axis-cgi/record/{name}", role=role, **params)
    return root[0] if len(root) else root


def listing(device, **params: str) -> dict[str, dict[str, str]]:
    root = get_xml(device, "/axis-cgi/record/list.cgi", role="viewer", recordingid="all", **params)
    return {r.get("recordingid"): dict(r.attrib) for r in root.find("recordings")}


def seconds_recorded(device, recording_id: str) -> float:
    entry = listing(device).get(recording_id)
    if entry is None:
        return 0.0
    start, stop = (datetime.fromisoformat(entry[k]) for k in ("starttime", "stoptime"))
    return (stop - start).total_seconds()


def wait_recorded(device, recording_id: str, seconds: float = 2.5) -> None:
    """Until the recording's first block has been written for a while (list.cgi reports 'now' as stop)."""
    until(
        lambda: (
            mkv_files(device, recording_id)
            and mkv_files(device, recording_id)[0].stat().st_size > 4096
            and seconds_recorded(device, recording_id) >= seconds
        )
    )


def test_record_then_stop_makes_a_recording_that_plays_from_its_start_to_its_stop(camera):
    started = cgi(camera, "record.cgi", diskid="SD_DISK", options="resolution=640x360&fps=15")
    assert (started.tag, started.get("result")) == ("record", "OK")
    recording_id = started.get("recordingid")
    assert listing(camera)[recording_id]["recordingstatus"] == "recording"
    wait_recorded(camera, recording_id)
    stopped = cgi(camera, "stop.cgi", recordingid=recording_id)
    assert (stopped.tag, stopped.get("recordingid"), stopped.get("result")) == ("stop", recording_id, "OK")
    entry = listing(camera)[recording_id]
    assert entry["recordingstatus"] == "completed"
    start = datetime.fromisoformat(entry["starttime"])
    stop = datetime.fromisoformat(entry["stoptime"])
    times = [t for mkv in mkv_files(camera, recording_id) for t in decode_times(mkv.read_bytes())]
    assert len(times) >= 15
    assert times == sorted(times)
    assert start - timedelta(milliseconds=1) <= times[0] <= start + timedelta(seconds=1)
    assert times[-1] <= stop
    video = get_xml(camera, "/axis-cgi/record/list.cgi", recordingid=recording_id).find(".//video")
    assert (video.get("width"), video.get("height"), video.get("framerate")) == ("640", "360", "15:1")


def test_record_without_a_disk_uses_the_default_disk_and_refusals_say_why(camera):
    started = cgi(camera, "record.cgi", options="videocodec=jpeg")
    assert started.get("result") == "OK"
    assert listing(camera)[started.get("recordingid")]["diskid"] == "SD_DISK"
    for params, words in (
        ({"diskid": "USB_DISK"}, "Unknown disk"),
        ({"diskid": "NetworkShare"}, "cannot be recorded"),
        ({"options": "fps=99"}, "fps"),
        ({"options": "streamprofile=Cinema"}, "streamprofile"),
    ):
        refused = cgi(camera, "record.cgi", **params)
        assert refused.get("result") == "ERROR"
        assert words in refused.get("errormsg")
    unknown = cgi(camera, "stop.cgi", recordingid="20000101_000000_0000_ACCC8E000001")
    assert (unknown.get("result"), unknown.get("recordingid")) == ("ERROR", "20000101_000000_0000_ACCC8E000001")


def test_a_continuous_profile_records_at_once_and_survives_removal_as_a_recording(camera):
    added = cgi(
        camera,
        "continuous/addconfiguration.cgi",
        diskid="SD_DISK",
        options="resolution%3D640x360",
        eventid="continuous_sd",
    )
    assert (added.tag, added.get("result")) == ("configure", "OK")
    profile = added.get("profile")
    listed = get_xml(camera, "/axis-cgi/record/continuous/listconfiguration.cgi", role="viewer")
    entry = listed.find("continuousrecordingconfigurations/continuousrecordingconfiguration")
    assert dict(entry.attrib) == {
        "profile": profile,
        "diskid": "SD_DISK",
        "options": "resolution=640x360",
        "eventid": "continuous_sd",
    }
    recording_id = until(lambda: next((i for i, r in listing(camera).items() if r["eventid"] == "continuous_sd"), None))
    assert listing(camera)[recording_id]["recordingtype"] == "continuous"
    removed = cgi(camera, "continuous/removeconfiguration.cgi", profile=profile)
    assert (removed.tag, removed.get("profile"), removed.get("result")) == ("remove", profile, "OK")
    assert listing(camera)[recording_id]["recordingstatus"] == "completed"  # stopped, and kept
    again = cgi(camera, "continuous/removeconfiguration.cgi", profile=profile)
    assert again.get("result") == "ERROR"


def test_the_camera_has_as_many_profiles_as_it_says(camera):
    text = httpx.get(
        f"{camera.http_url}/axis-cgi/param.cgi",
        params={"action": "list", "group": "Properties.LocalStorage.NbrOfContinuousRecordingProfiles"},
        auth=httpx.DigestAuth(*CREDENTIALS["viewer"]),
    ).text
    maximum = int(text.strip().split("=")[1])
    numbers = [
        cgi(camera, "continuous/addconfiguration.cgi", diskid="SD_DISK", options="").get("profile")
        for _ in range(maximum)
    ]
    assert numbers == [str(20 + n) for n in range(maximum)]  # increasing, as real cameras number them
    refused = cgi(camera, "continuous/addconfiguration.cgi", diskid="SD_DISK", options="")
    assert refused.get("result") == "ERROR"
    assert str(maximum) in refused.get("errormsg")


def test_locking_the_disk_stops_its_recordings_and_protects_them(camera):
    profile = cgi(camera, "continuous/addconfiguration.cgi", diskid="SD_DISK", options="").get("profile")
    first = until(lambda: next(iter(listing(camera)), None))
    lock(camera, "lock")
    assert listing(camera)[first]["recordingstatus"] == "completed"
    assert cgi(camera, "record.cgi", diskid="SD_DISK").get("result") == "ERROR"
    refused = cgi(camera, "remove.cgi", recordingid=first)
    assert refused.get("result") == "ERROR"
    assert "locked" in refused.get("errormsg")
    lock(camera, "unlock")
    resumed = until(lambda: [i for i, r in listing(camera).items() if r["recordingstatus"] == "recording"])
    assert first not in resumed  # the profile resumed as a new recording
    assert cgi(camera, "continuous/removeconfiguration.cgi", profile=profile).get("result") == "OK"


def test_remove_by_id_by_time_and_all(camera):
    ids = []
    for _ in range(3):
        recording_id = cgi(camera, "record.cgi").get("recordingid")
        wait_recorded(camera, recording_id, 0.5)
        cgi(camera, "stop.cgi", recordingid=recording_id)
        ids.append(recording_id)
    removed = cgi(camera, "remove.cgi", recordingid=ids[0])
    assert (removed.get("recordingid"), removed.get("result")) == (ids[0], "OK")
    assert ids[0] not in listing(camera)
    assert mkv_files(camera, ids[0]) == []
    second_start = datetime.fromisoformat(listing(camera)[ids[1]]["starttime"])
    cgi(camera, "remove.cgi", beforetime=(second_start + timedelta(milliseconds=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    assert list(listing(camera)) == [ids[2]]
    for params in ({"recordingid": ids[2], "eventid": "x"}, {}, {"beforetime": "yesterday"}):
        assert cgi(camera, "remove.cgi", **params).get("result") == "ERROR"
    assert cgi(camera, "remove.cgi", recordingid="all").get("result") == "OK"
    assert listing(camera) == {}


def test_a_viewer_may_list_but_not_record(camera):
    response = httpx.get(f"{camera.http_url}/axis-cgi/record/record.cgi", auth=httpx.DigestAuth(*CREDENTIALS["viewer"]))
    assert response.status_code == 401


@pytest.mark.parametrize("cuts", [3])
def test_power_cuts_while_recording_lose_nothing_but_the_last_moment(camera, cuts):
    """SIGKILL while a profile records, restart, several times: every interrupted recording is closed where its
    video ends and plays to there, and each restart starts a new recording for the profile."""
    cgi(camera, "continuous/addconfiguration.cgi", diskid="SD_DISK", options="fps=15")
    for _ in range(cuts):
        live = until(lambda: [i for i, r in listing(camera).items() if r["recordingstatus"] == "recording"])
        wait_recorded(camera, live[0], 1.5)
        camera.stop(signal.SIGKILL)
        camera.start()
    recordings = listing(camera)
    completed = [i for i, r in recordings.items() if r["recordingstatus"] == "completed"]
    assert len(completed) == cuts
    for recording_id in completed:
        stop = datetime.fromisoformat(recordings[recording_id]["stoptime"])
        times = [t for mkv in mkv_files(camera, recording_id) for t in decode_times(mkv.read_bytes())]
        assert times, recording_id
        assert abs((stop - times[-1]).total_seconds()) < 0.2  # closed at its last frame
        for sidecar in (p.with_suffix(".xml") for p in mkv_files(camera, recording_id)):
            assert "<Status>Complete</Status>" in sidecar.read_text()
    assert until(lambda: [i for i, r in listing(camera).items() if r["recordingstatus"] == "recording"])


def test_apidiscovery_announces_the_recording_api(camera):
    answer = httpx.post(
        f"{camera.http_url}/axis-cgi/apidiscovery.cgi",
        json={"method": "getApiList"},
        auth=httpx.DigestAuth(*CREDENTIALS["viewer"]),
    ).json()
    assert {"id": "recording", "version": "1.0"}.items() <= next(
        a for a in answer["data"]["apiList"] if a["id"] == "recording"
    ).items()


def test_the_split_duration_parameter_splits_blocks(camera):
    param_update(camera, **{"root.Recording.DefaultSplitDuration": "1"})
    recording_id = cgi(camera, "record.cgi").get("recordingid")
    until(lambda: len(mkv_files(camera, recording_id)) >= 3, timeout=20)
    cgi(camera, "stop.cgi", recordingid=recording_id)


def test_a_full_card_makes_room_from_the_oldest_blocks_and_recording_goes_on(device_factory):
    small = device_factory("--sd-size", "16M")
    param_update(small, **{"root.Recording.DefaultSplitDuration": "1"})
    recording_id = cgi(small, "record.cgi", options="videocodec=jpeg&resolution=1920x1080&fps=30").get("recordingid")
    first = until(lambda: mkv_files(small, recording_id)[:1])[0]
    until(lambda: not first.exists(), timeout=60)  # the oldest block went to make room
    assert listing(small)[recording_id]["recordingstatus"] == "recording"
    until(lambda: any(p.stat().st_size > 0 for p in mkv_files(small, recording_id) if p.exists()))
    cgi(small, "stop.cgi", recordingid=recording_id)
    disk = get_xml(small, "/axis-cgi/disks/list.cgi", diskid="SD_DISK").find(".//disk")
    assert int(disk.get("freesize")) > 0


def test_axis_own_reader_vi3o_reads_a_recording_we_wrote(camera):
    vi3o = pytest.importorskip("vi3o")
    from vi3o.recording import read_recording_xml

    param_update(camera, **{"root.Recording.DefaultSplitDuration": "1"})
    recording_id = cgi(camera, "record.cgi", options="resolution=640x360&fps=15").get("recordingid")
    until(lambda: len(mkv_files(camera, recording_id)) >= 3, timeout=20)
    cgi(camera, "stop.cgi", recordingid=recording_id)
    xml = mkv_files(camera, recording_id)[0].parent.parent / "recording.xml"
    meta = read_recording_xml(str(xml))
    assert (meta.recording_id, meta.width, meta.height, meta.framerate) == (recording_id, 640, 360, 15.0)
    assert len(meta.blocks) == len(mkv_files(camera, recording_id))
    video = vi3o.Video(str(xml))
    assert len(video) >= 2 * 15
    assert video[-1].timestamp > video[0].timestamp


def test_the_number_of_profiles_is_configurable(device_factory):
    camera = device_factory("--sd-size", "1G", "--continuous-profiles", "1")
    assert cgi(camera, "continuous/addconfiguration.cgi", diskid="SD_DISK", options="").get("result") == "OK"
    refused = cgi(camera, "continuous/addconfiguration.cgi", diskid="SD_DISK", options="")
    assert refused.get("result") == "ERROR"
    assert "supports 1 continuous recording profile" in refused.get("errormsg")
