"""A viewer exports recordings from the virtual camera: properties first, then one playable Matroska file (or an
AES-256 ZIP holding it) streamed over HTTP, or written to the camera's USB disk as a job.

The camera runs on history made by ``device backfill`` (real recorder blocks, time strip in every frame), so the
exported frames can be checked against the times the API gives.
"""

from __future__ import annotations

import io
import itertools
import json
import shutil
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import httpx
import pytest
import pyzipper
from lxml import etree

from device.backfill import backfill
from device.media import timestrip
from device.recorder import keyframes
from device.storage.layout import INDEX_NAME
from tests.conftest import _start
from tests.device.disk_client import MATROSKA_MAGIC, card, get, get_xml, mkv_files, sample, until
from tests.device.test_recording_api import cgi, wait_recorded
from tests.support.device_process import CREDENTIALS, SERIAL

pytestmark = pytest.mark.functional

EXPORT = "/axis-cgi/record/export"
CUES = bytes.fromhex("1C53BB6B")  # the Matroska seek index
GOP = timedelta(seconds=2)  # the backfill's key frame interval (device/backfill.py), as the camera's default
needs_7zip = pytest.mark.skipif(shutil.which("7zz") is None and shutil.which("7z") is None, reason="7-Zip missing")


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory):
    """A camera with 20 minutes of backfilled history in one-minute blocks; tests leave its recordings as they
    found them."""
    data = tmp_path_factory.mktemp("export-camera")
    (data / "params.json").write_text(json.dumps({"Recording.DefaultSplitDuration": "60"}))
    end = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    backfill(data, 0.35, end=end, seed=3, serial=SERIAL)
    device = _start(data, ["--usb-size", "64M"])
    yield device
    device.stop()


@pytest.fixture
def usb(history):
    """The history camera's USB disk, attached, writable, fast and empty; put back so after the test."""
    root = Path(scenario(history, "attach")["path"])
    for item in root.iterdir():
        shutil.rmtree(item) if item.is_dir() else item.unlink()
    yield root
    for verb, params in (("attach", {}), ("readonly", {"state": "no"}), ("speed", {"bytespersecond": "0"})):
        scenario(history, verb, **params)


def scenario(device, verb: str, **params: str) -> dict:
    response = httpx.post(
        f"{device.http_url}/local/edgestore/scenario/usb/{verb}",
        params=params,
        auth=httpx.DigestAuth(*CREDENTIALS["admin"]),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return json.loads(response.text)


def recordings(device) -> list[dict[str, str]]:
    root = get_xml(device, "/axis-cgi/record/list.cgi", role="viewer", recordingid="all", sortorder="ascending")
    return [dict(r.attrib) for r in root.find("recordings")]


def time_of(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.fixture(scope="module")
def long_recording(history) -> dict[str, str]:
    """The longest finished recording: several blocks."""
    done = [r for r in recordings(history) if r.get("stoptime")]
    longest = max(done, key=lambda r: time_of(r["stoptime"]) - time_of(r["starttime"]))
    assert time_of(longest["stoptime"]) - time_of(longest["starttime"]) > timedelta(seconds=150)
    return longest


def export_xml(device, cgi_name: str, role: str = "viewer", **params: str) -> etree._Element:
    root = get_xml(device, f"{EXPORT}/{cgi_name}.cgi", role, **params)
    assert root.tag == "ExportRecordingResponse"
    return root


def error_code(root: etree._Element) -> int | None:
    code = root.find(".//GeneralError/ErrorCode")
    return None if code is None else int(code.text)


def properties(device, recording: dict[str, str], **params: str) -> dict[str, str]:
    root = export_xml(
        device, "properties", schemaversion="1", recordingid=recording["recordingid"], diskid="SD_DISK", **params
    )
    found = root.find("PropertiesSuccess/ExportProperties")
    assert found is not None, etree.tostring(root)
    return dict(found.attrib)


def export(device, recording: dict[str, str], **params: str) -> httpx.Response:
    params = {"schemaversion": "1", "recordingid": recording["recordingid"], "diskid": "SD_DISK", **params}
    params.setdefault("exportformat", "matroska")
    return get(device, f"{EXPORT}/exportrecording.cgi", "viewer", **params)


def filename_of(response: httpx.Response) -> str:
    header = response.headers["content-disposition"]
    assert header.startswith("attachment; filename=")
    return header.split('filename="', 1)[1].split('"', 1)[0]


def probe(path: Path) -> dict:
    command = ["ffprobe", "-v", "error", "-of", "json", "-show_format", "-show_streams", "-show_packets"]
    result = subprocess.run([*command, str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def video_end(probed: dict) -> float:
    """Seconds from the file's first frame to the end of its last: the last packet's pts plus its duration. Not
    ffprobe's format.duration, which for a streamed export only echoes the DURATION tag the camera writes before
    the first frame."""
    last = max(probed["packets"], key=lambda p: float(p["pts_time"]))
    return float(last["pts_time"]) + float(last["duration_time"])


def longest_gop(probed: dict) -> float:
    """The longest stretch of the file from a key frame to the next (or to the end of the video)."""
    keys = [float(p["pts_time"]) for p in probed["packets"] if "K" in p["flags"]]
    return max(b - a for a, b in itertools.pairwise([*keys, video_end(probed)]))


def assert_lasts(probed: dict, start: datetime, stop: datetime) -> None:
    """The file's video lasts as long as the range from `start` to `stop`, within one of its GOPs."""
    assert abs(video_end(probed) - (stop - start).total_seconds()) <= longest_gop(probed)


def strip_times(data: bytes, limit: int | None = None) -> list[datetime]:
    """The capture time written into each decoded frame's time strip."""
    times = []
    with av.open(io.BytesIO(data)) as container:
        for frame in container.decode(video=0):
            luma = frame.planes[0]
            times.append(
                timestrip.from_millis(timestrip.read_strip(bytes(luma), frame.width, frame.height, luma.line_size))
            )
            if limit is not None and len(times) >= limit:
                break
    return times


# --- discovery ----------------------------------------------------------------------------------------------------


def test_schema_versions_and_capabilities_say_what_can_be_exported(history):
    versions = export_xml(history, "schemaversions")
    assert [v.text for v in versions.iter("VersionNumber")] == ["1.0", "1.1", "1.2"]
    assert versions.get("{http://www.w3.org/2001/XMLSchema-instance}noNamespaceSchemaLocation").endswith(
        "exportrecording1.xsd"
    )
    capabilities = export_xml(history, "capabilities", schemaversion="1")
    formats = {
        c.get("ExportFormat"): [e.get("EncryptionFormat") for e in c.iter("ExportEncryption")]
        for c in capabilities.iter("ExportCapabilities")
    }
    assert formats == {"matroska": ["zip-aes256"], "mp4": []}
    assert error_code(export_xml(history, "capabilities", schemaversion="2")) == 40
    assert error_code(export_xml(history, "capabilities")) == 20


# --- properties and the file ---------------------------------------------------------------------------------------


def test_a_whole_recording_exports_as_one_playable_file_across_its_blocks(history, long_recording, tmp_path):
    props = properties(history, long_recording, exportformat="matroska")
    start, stop = time_of(props["Starttime"]), time_of(props["Stoptime"])
    assert start == time_of(long_recording["starttime"])
    assert stop == time_of(long_recording["stoptime"])

    response = export(history, long_recording)
    assert response.status_code == 200
    assert response.headers["content-type"] == "video/x-matroska"
    assert filename_of(response) == f"{start:%Y%m%d_%H%M%S}_{stop:%Y%m%d_%H%M%S}.mkv"
    file = tmp_path / filename_of(response)
    file.write_bytes(response.content)

    estimated = int(props["EstimatedFileSize"]) * 1024
    assert abs(estimated - len(response.content)) <= 0.1 * len(response.content)

    probed = probe(file)
    assert probed["streams"][0]["codec_name"] == "h264"
    assert longest_gop(probed) == pytest.approx(GOP.total_seconds(), abs=0.25)
    assert_lasts(probed, start, stop)
    times = [float(p["pts_time"]) for p in probed["packets"]]
    steps = [b - a for a, b in itertools.pairwise(times)]
    assert min(steps) > 0  # timestamps run on, across the block boundaries too
    assert max(steps) < 1.0  # no jump where one block ends and the next begins
    assert abs(times[-1] - (stop - start).total_seconds()) <= 1.0
    first = strip_times(response.content, limit=1)[0]
    assert abs(first - start) < timedelta(milliseconds=2)


def test_a_clip_starts_at_the_key_frame_before_the_asked_start_and_ends_at_the_asked_stop(history, long_recording):
    start, stop = time_of(long_recording["starttime"]), time_of(long_recording["stoptime"])
    begin = start + (stop - start) * 0.45 + timedelta(seconds=0.4)  # not on a key frame
    end = begin + (stop - start) * 0.3
    asked = {"starttime": f"{begin:%Y-%m-%dT%H:%M:%S.%f}Z", "stoptime": f"{end:%Y-%m-%dT%H:%M:%SZ}"}
    props = properties(history, long_recording, **asked)
    start, stop = time_of(props["Starttime"]), time_of(props["Stoptime"])
    assert begin - GOP <= start <= begin
    assert stop == end.replace(microsecond=0)

    response = export(history, long_recording, starttime=props["Starttime"], stoptime=props["Stoptime"])
    assert filename_of(response) == f"{start:%Y%m%d_%H%M%S}_{stop:%Y%m%d_%H%M%S}.mkv"
    times = strip_times(response.content)
    assert abs(times[0] - start) < timedelta(milliseconds=2)  # the first frame is the key frame properties named
    assert stop - timedelta(seconds=1) <= times[-1] <= stop
    estimated = int(props["EstimatedFileSize"]) * 1024
    assert abs(estimated - len(response.content)) <= 0.1 * len(response.content)

    unsnapped = export(history, long_recording, **asked)  # a start between key frames snaps back all the same
    assert strip_times(unsnapped.content, limit=1)[0] == times[0]


def test_without_its_key_frame_rows_a_recording_still_exports_from_the_right_key_frame(history, long_recording):
    """A repair rebuilt the card's index without the key-frame rows: the camera finds the key frames in the blocks
    themselves, names the same start, sends its frame first, and puts the rows back."""
    start, stop = time_of(long_recording["starttime"]), time_of(long_recording["stoptime"])
    begin = start + (stop - start) * 0.6 + timedelta(seconds=0.7)
    asked = {
        "starttime": f"{begin:%Y-%m-%dT%H:%M:%S.%f}Z",
        "stoptime": f"{begin + timedelta(seconds=20):%Y-%m-%dT%H:%M:%SZ}",
    }
    indexed = properties(history, long_recording, **asked)
    db = keyframes.ensure_keyframe_table(card(history) / INDEX_NAME)
    try:
        rows = "SELECT token FROM blocks WHERE recording_id=?"
        tokens = [token for (token,) in db.execute(rows, (long_recording["recordingid"],))]
        assert len(tokens) > 1
        for token in tokens:
            keyframes.delete_keyframes(db, token)

        scanned = properties(history, long_recording, **asked)
        assert scanned["Starttime"] == indexed["Starttime"]
        first = strip_times(export(history, long_recording, **asked).content, limit=1)[0]
        assert abs(first - time_of(indexed["Starttime"])) < timedelta(milliseconds=2)
        properties(history, long_recording)  # the whole recording: every block scanned
        assert all(keyframes.keyframes_for(db, token) for token in tokens)
    finally:
        db.close()


def test_a_range_reaching_outside_the_recording_is_cut_to_it(history, long_recording, tmp_path):
    """An hour either side of the recording: properties and the download give "a best effort response", the
    whole recording, named by its own start and stop."""
    start, stop = time_of(long_recording["starttime"]), time_of(long_recording["stoptime"])
    wide = {
        "starttime": f"{start - timedelta(hours=1):%Y-%m-%dT%H:%M:%SZ}",
        "stoptime": f"{stop + timedelta(hours=1):%Y-%m-%dT%H:%M:%SZ}",
    }
    props = properties(history, long_recording, **wide)
    assert (time_of(props["Starttime"]), time_of(props["Stoptime"])) == (start, stop)

    response = export(history, long_recording, **wide)
    assert response.headers["content-type"] == "video/x-matroska"
    assert filename_of(response) == f"{start:%Y%m%d_%H%M%S}_{stop:%Y%m%d_%H%M%S}.mkv"
    file = tmp_path / "wide.mkv"
    file.write_bytes(response.content)
    assert_lasts(probe(file), start, stop)
    assert abs(strip_times(response.content, limit=1)[0] - start) < timedelta(milliseconds=2)


def test_filename_names_the_download_and_the_extension_is_added(history, long_recording):
    short = {"stoptime": f"{time_of(long_recording['starttime']) + timedelta(seconds=20):%Y-%m-%dT%H:%M:%SZ}"}
    assert filename_of(export(history, long_recording, filename="my_file", **short)) == "my_file.mkv"
    response = export(history, long_recording, filename="Entrée nord/2", **short)
    header = response.headers["content-disposition"]
    assert "filename*=UTF-8''Entr%C3%A9e%20nord_2.mkv" in header
    mp4 = export(history, long_recording, exportformat="mp4", **short)
    assert mp4.headers["content-type"] == "video/mp4"
    assert filename_of(mp4).endswith(".mp4")
    assert strip_times(mp4.content, limit=1)


@needs_7zip
def test_a_password_gives_an_aes_256_zip_that_7zip_opens_with_that_password_only(history, long_recording, tmp_path):
    stop = f"{time_of(long_recording['starttime']) + timedelta(seconds=30):%Y-%m-%dT%H:%M:%SZ}"
    props = properties(history, long_recording, stoptime=stop, encryptionformat="zip-aes256")
    assert props["EncryptionFormat"] == "zip-aes256"
    response = export(
        history, long_recording, stoptime=stop, password="pass_1 é", encryptionformat="zip-aes256", filename="clip"
    )
    assert response.headers["content-type"] == "application/zip"
    assert filename_of(response) == "clip.zip"
    archive = tmp_path / "clip.zip"
    archive.write_bytes(response.content)
    assert abs(int(props["EstimatedFileSize"]) * 1024 - len(response.content)) <= 0.1 * len(response.content)

    seven = shutil.which("7zz") or shutil.which("7z")
    listing = subprocess.run([seven, "l", "-slt", str(archive)], capture_output=True, text=True, check=True).stdout
    assert "Method = AES-256 Store" in listing
    assert "Path = clip.mkv" in listing
    wrong = subprocess.run([seven, "t", "-pwrong", str(archive)], capture_output=True, text=True)
    assert wrong.returncode != 0
    out = tmp_path / "out"
    subprocess.run([seven, "x", "-ppass_1 é", f"-o{out}", str(archive)], capture_output=True, check=True)
    assert probe(out / "clip.mkv")["streams"][0]["codec_name"] == "h264"

    longest = "é" * 256  # 512 bytes, the spec's maximum
    response = export(history, long_recording, stoptime=stop, password=longest, encryptionformat="zip-aes256")
    assert response.headers["content-type"] == "application/zip"
    # 7-Zip takes WinZip AES passwords of up to 99 bytes (hence the spec's advice to stay under 99 characters), so
    # pyzipper reads this one: the password verifier and the MAC hold for all 512 bytes, and for no fewer.
    with pyzipper.AESZipFile(io.BytesIO(response.content)) as archive:
        (entry,) = archive.namelist()
        with pytest.raises(RuntimeError, match="Bad password"):
            archive.read(entry, pwd=longest[:-1].encode())
        assert archive.read(entry, pwd=longest.encode()).startswith(MATROSKA_MAGIC)

    anonymous = export(history, long_recording, stoptime=stop, password="x", encryptionformat="zip-aes256")
    name = filename_of(anonymous)
    assert len(name) == 10
    assert name.endswith(".zip")
    assert name[:6].isalnum()


# --- refusals ------------------------------------------------------------------------------------------------------


def refusal(device, recording, **params: str) -> int | None:
    response = export(device, recording, **params)
    assert response.headers["content-type"].startswith("text/xml"), response.headers
    return error_code(etree.fromstring(response.content))


def test_every_refusal_of_exportrecording_has_its_code(history, long_recording):
    start, stop = time_of(long_recording["starttime"]), time_of(long_recording["stoptime"])
    iso = "{:%Y-%m-%dT%H:%M:%SZ}".format
    cases = {
        20: {"recordingid": ""},
        40: {"schemaversion": "2"},
        110: {"recordingid": "20200101_000000_ABCD_" + SERIAL},
        120: {"starttime": "yesterday"},
        130: {"stoptime": "2024-13-45T99:00:00Z"},
        140: {"starttime": iso(start + timedelta(seconds=60)), "stoptime": iso(start + timedelta(seconds=30))},
        150: {"starttime": iso(stop + timedelta(minutes=5))},
        160: {"stoptime": iso(start - timedelta(minutes=5))},
        170: {"exportformat": "avi"},
        240: {"password": "p" * 513, "encryptionformat": "zip-aes256"},
        250: {"password": "secret", "encryptionformat": "zip-des"},
        260: {"encryptionformat": "zip-aes256"},
        270: {"password": "secret"},
        280: {"password": "secret", "encryptionformat": "zip-aes256", "exportformat": "mp4"},
    }
    for code, params in cases.items():
        assert refusal(history, long_recording, **params) == code, params
    assert refusal(history, long_recording, diskid="NetworkShare") == 110
    assert refusal(history, long_recording, password="é" * 257, encryptionformat="zip-aes256") == 240  # 514 bytes


def test_properties_refuses_a_range_and_a_disk_with_the_codes_the_spec_maps(history, long_recording):
    """properties.cgi refuses what exportrecording.cgi refuses, with the codes of its own error list (and 180, a
    format the video does not fit, in the MJPEG test)."""
    start, stop = time_of(long_recording["starttime"]), time_of(long_recording["stoptime"])
    iso = "{:%Y-%m-%dT%H:%M:%SZ}".format
    cases = {
        110: {"diskid": "NO_SUCH_DISK"},
        120: {"starttime": "noon"},
        130: {"stoptime": "tomorrow"},
        140: {"starttime": iso(start + timedelta(seconds=60)), "stoptime": iso(start + timedelta(seconds=30))},
        150: {"starttime": iso(stop + timedelta(minutes=5))},
        160: {"stoptime": iso(start - timedelta(minutes=5))},
        170: {"exportformat": "avi"},
    }
    for code, params in cases.items():
        assert properties_code(history, long_recording, **params) == code, params
    assert properties_code(history, {"recordingid": "20200101_000000_ABCD_" + SERIAL}) == 110


def properties_code(device, recording, **params: str) -> int | None:
    params = {"schemaversion": "1", "recordingid": recording["recordingid"], "diskid": "SD_DISK", **params}
    return error_code(export_xml(device, "properties", **params))


def test_an_mjpeg_recording_exports_as_matroska_but_not_as_mp4(camera):
    started = cgi(camera, "record.cgi", diskid="SD_DISK", options="videocodec=jpeg&resolution=320x180&fps=5")
    recording_id = started.get("recordingid")
    wait_recorded(camera, recording_id, seconds=2)
    cgi(camera, "stop.cgi", recordingid=recording_id)
    recording = {"recordingid": recording_id}
    assert refusal(camera, recording, exportformat="mp4") == 180
    assert properties_code(camera, recording, exportformat="mp4") == 180
    response = export(camera, recording)
    assert response.headers["content-type"] == "video/x-matroska"
    with av.open(io.BytesIO(response.content)) as container:
        assert container.streams.video[0].codec_context.name == "mjpeg"
        assert sum(1 for _ in container.demux(video=0)) >= 5


def test_an_ongoing_recording_exports_up_to_now(camera):
    started = cgi(camera, "record.cgi", diskid="SD_DISK", options="resolution=320x180&fps=10")
    recording_id = started.get("recordingid")
    try:
        wait_recorded(camera, recording_id, seconds=3)
        recording = {"recordingid": recording_id}
        asked = datetime.now(UTC)
        props = properties(camera, recording)
        start, stop = time_of(props["Starttime"]), time_of(props["Stoptime"])
        assert abs(stop - asked) < timedelta(seconds=2)

        # As the spec advises, the export asks for the times properties gave: the file it estimated.
        clip = export(camera, recording, starttime=props["Starttime"], stoptime=props["Stoptime"])
        assert filename_of(clip) == f"{start:%Y%m%d_%H%M%S}_{stop:%Y%m%d_%H%M%S}.mkv"
        estimated = int(props["EstimatedFileSize"]) * 1024
        assert abs(estimated - len(clip.content)) <= 0.1 * len(clip.content)

        sent = datetime.now(UTC).replace(microsecond=0)
        response = export(camera, recording)  # up to the moment it is asked
        name = filename_of(response).removesuffix(".mkv")
        assert name[:15] == f"{start:%Y%m%d_%H%M%S}"
        ended = datetime.strptime(name[16:], "%Y%m%d_%H%M%S").replace(tzinfo=UTC)
        assert sent <= ended <= sent + timedelta(seconds=2)
        times = strip_times(response.content)
        assert abs(times[0] - start) < timedelta(milliseconds=2)
        assert len(times) >= 15  # about as many frames as recorded so far
    finally:
        cgi(camera, "stop.cgi", recordingid=recording_id)


# --- export to the USB disk ---------------------------------------------------------------------------------------


def to_usb(device, recording, **params: str) -> etree._Element:
    params = {"schemaversion": "1", "recordingid": recording["recordingid"], "diskid": "SD_DISK", **params}
    params.setdefault("exportformat", "matroska")
    params.setdefault("externaldiskid", "USB_DISK")
    return export_xml(device, "exporttoexternal", **params)


def job_status(device, job_id: str, role: str = "viewer") -> etree._Element:
    return export_xml(device, "getjobstatus", role, schemaversion="1", jobid=job_id)


def wait_done(device, job_id: str) -> etree._Element:
    def finished() -> tuple[etree._Element] | None:
        root = job_status(device, job_id)
        status = root.find("GetJobStatusSuccess/JobStatus")
        return (root,) if status is None or status.get("Status") == "Done" else None

    return until(finished, timeout=30, interval=0.1)[0]


def test_an_export_to_the_usb_disk_is_a_job_that_writes_a_playable_file(history, long_recording, usb):
    started = to_usb(history, long_recording, filepath="site 4/door/video.mkv")
    job = started.find("ExportToExternalSuccess/ExportToExternal")
    assert job is not None, etree.tostring(started)
    assert job.get("FilePath") == "site 4/door/video.mkv"
    done = wait_done(history, job.get("JobId"))
    assert dict(done.find("GetJobStatusSuccess/JobStatus").attrib) == {"Status": "Done", "Progress": "100"}
    written = usb / "site 4" / "door" / "video.mkv"
    probed = probe(written)
    start, stop = time_of(long_recording["starttime"]), time_of(long_recording["stoptime"])
    assert_lasts(probed, start, stop)
    assert abs(float(probed["format"]["duration"]) - video_end(probed)) < 0.01  # a file: the real duration
    assert [p.name for p in usb.rglob("*")] == ["site 4", "door", "video.mkv"]  # no partial file left
    assert CUES in written.read_bytes()  # a file, unlike a stream, gets a seek index

    default = to_usb(history, long_recording).find("ExportToExternalSuccess/ExportToExternal")
    wait_done(history, default.get("JobId"))
    assert default.get("FilePath") == f"{start:%Y%m%d_%H%M%S}_{stop:%Y%m%d_%H%M%S}.mkv"
    assert (usb / default.get("FilePath")).stat().st_size > 0


def test_a_slow_usb_disk_shows_progress_refuses_a_second_export_and_a_detach_leaves_no_partial_file(
    history, long_recording, usb
):
    scenario(history, "speed", bytespersecond="250000")
    job_id = to_usb(history, long_recording, filepath="slow.mkv").find(".//ExportToExternal").get("JobId")

    def progress() -> int:
        status = job_status(history, job_id).find(".//JobStatus")
        assert status.get("Status") == "In Progress"
        return int(status.get("Progress"))

    first = until(lambda: progress() > 0 and progress(), timeout=20)
    assert until(lambda: progress() > first, timeout=20)
    assert error_code(to_usb(history, long_recording, filepath="second.mkv")) == 220
    assert list(usb.glob(".slow.mkv.partial"))

    scenario(history, "detach")
    (failed,) = until(lambda: list(job_status(history, job_id).iter("GeneralError")), timeout=10)
    assert failed.findtext("ErrorCode") == "210"
    assert "detached" in failed.findtext("ErrorDescription")
    assert list(usb.iterdir()) == []
    assert error_code(to_usb(history, long_recording)) == 200


def test_every_refusal_of_exporttoexternal_has_its_code(history, long_recording, usb):
    assert error_code(to_usb(history, long_recording, externaldiskid="SD_DISK")) == 200
    assert error_code(to_usb(history, long_recording, externaldiskid="")) == 20
    assert error_code(to_usb(history, long_recording, filepath="what?.mkv")) == 230
    assert error_code(to_usb(history, long_recording, password="p" * 600, encryptionformat="zip-aes256")) == 240
    assert error_code(to_usb(history, long_recording, password="p", encryptionformat="rot13")) == 250
    assert error_code(to_usb(history, long_recording, encryptionformat="zip-aes256")) == 260
    assert error_code(to_usb(history, long_recording, password="p")) == 270
    mp4_zip = {"password": "p", "encryptionformat": "zip-aes256", "exportformat": "mp4"}
    assert error_code(to_usb(history, long_recording, **mp4_zip)) == 280
    scenario(history, "readonly", state="yes")
    assert error_code(to_usb(history, long_recording)) == 210
    scenario(history, "readonly", state="no")
    assert error_code(job_status(history, "999")) == 190
    assert error_code(job_status(history, "x")) == 20
    assert list(usb.iterdir()) == []


def test_a_file_path_stays_on_the_usb_disk(history, long_recording, usb):
    """ "No .. are allowed in the path", taken literally: any '..' is 230, wherever it is. Backslashes are folders,
    a leading slash is the disk's root, and a drive letter names nothing on the disk."""
    stop = f"{time_of(long_recording['starttime']) + timedelta(seconds=10):%Y-%m-%dT%H:%M:%SZ}"
    for path in ("../escape.mkv", "a/../../b.mkv", "a..b.mkv", "x/../y.mkv", "..\\y.mkv", "C:\\y.mkv", "c:/y.mkv"):
        code, description = error_of(to_usb(history, long_recording, stoptime=stop, filepath=path))
        assert code == 230, path
        assert description, path
    assert list(usb.iterdir()) == []

    for path, written in (("/clips/a.mkv", "clips/a.mkv"), ("\\site\\door.mkv", "site/door.mkv")):
        job = to_usb(history, long_recording, stoptime=stop, filepath=path).find(".//ExportToExternal")
        assert job.get("FilePath") == written
        wait_done(history, job.get("JobId"))
        assert (usb / written).stat().st_size > 0
    assert sorted(p.relative_to(usb).as_posix() for p in usb.rglob("*.mkv")) == ["clips/a.mkv", "site/door.mkv"]


def test_a_usb_disk_with_less_room_than_the_estimate_is_unusable(history, long_recording, usb):
    """The stick holds other files and has room for half the export properties.cgi estimates: 210, with the sizes,
    and nothing started. With the room back the same export goes ahead."""
    needed = int(properties(history, long_recording)["EstimatedFileSize"]) * 1024
    filler = usb / "holiday.mp4"
    with filler.open("wb") as f:  # sparse: it fills the stick's 64 MB, not the host's disk
        f.truncate(scenario(history, "attach")["free"] - needed // 2)
    code, description = error_of(to_usb(history, long_recording, filepath="door.mkv"))
    assert code == 210
    assert "free" in description
    assert list(usb.iterdir()) == [filler]

    filler.unlink()
    job = to_usb(history, long_recording, filepath="door.mkv").find(".//ExportToExternal")
    wait_done(history, job.get("JobId"))
    assert (usb / "door.mkv").stat().st_size > needed * 0.9


def test_a_usb_disk_whose_folder_vanished_on_the_host_is_unusable_not_an_internal_error(history, long_recording, usb):
    """Someone deleted the folder behind the virtual stick (or unplugged the real one --usb-dir points at): 210,
    the code for a disk that cannot be used, not the catch-all 10. With the folder back the export goes ahead."""
    usb.rmdir()
    try:
        code, description = error_of(to_usb(history, long_recording, filepath="door.mkv"))
    finally:
        usb.mkdir()
    assert code == 210
    assert "cannot be read" in description

    job = to_usb(history, long_recording, filepath="door.mkv").find(".//ExportToExternal")
    wait_done(history, job.get("JobId"))
    assert (usb / "door.mkv").stat().st_size > 0


@needs_7zip
def test_an_encrypted_export_to_usb_is_a_zip_and_only_the_last_five_jobs_are_remembered(history, long_recording, usb):
    stop = f"{time_of(long_recording['starttime']) + timedelta(seconds=15):%Y-%m-%dT%H:%M:%SZ}"
    ids = []
    for n in range(6):
        job = to_usb(
            history, long_recording, stoptime=stop, password="pw", encryptionformat="zip-aes256", filepath=f"c{n}.zip"
        ).find(".//ExportToExternal")
        wait_done(history, job.get("JobId"))
        ids.append(job.get("JobId"))
    assert len(set(ids)) == 6
    assert error_code(job_status(history, ids[0])) == 190
    assert all(job_status(history, i).find(".//JobStatus").get("Status") == "Done" for i in ids[1:])
    seven = shutil.which("7zz") or shutil.which("7z")
    tested = subprocess.run([seven, "t", "-ppw", str(usb / "c5.zip")], capture_output=True, text=True)
    assert tested.returncode == 0, tested.stdout


def zip_entries(archive: Path, password: str) -> list[str]:
    """The names an AES-256 ZIP holds, once 7-Zip has checked it opens with `password`."""
    seven = shutil.which("7zz") or shutil.which("7z")
    tested = subprocess.run([seven, "t", f"-p{password}", str(archive)], capture_output=True, text=True)
    assert tested.returncode == 0, tested.stdout
    listing = subprocess.run([seven, "l", "-slt", str(archive)], capture_output=True, text=True, check=True).stdout
    entries = listing.split("----------", 1)[1]  # after the archive's own properties
    return [line.removeprefix("Path = ") for line in entries.splitlines() if line.startswith("Path = ")]


@needs_7zip
def test_an_encrypted_export_to_usb_is_named_as_the_zip_it_is(history, long_recording, usb):
    """With a password the file on the stick is a ZIP, and its name says so: without filepath (or with a folder) a
    random name, holding the video under its start and stop; a filepath naming a video (v.mkv), or no extension at
    all, becomes a .zip holding the video under that name."""
    start = time_of(long_recording["starttime"])
    stop = start + timedelta(seconds=10)
    secret = {"stoptime": f"{stop:%Y-%m-%dT%H:%M:%SZ}", "password": "pw", "encryptionformat": "zip-aes256"}
    video = f"{start:%Y%m%d_%H%M%S}_{stop:%Y%m%d_%H%M%S}.mkv"

    def exported(**params: str) -> str:
        job = to_usb(history, long_recording, **secret, **params).find(".//ExportToExternal")
        wait_done(history, job.get("JobId"))
        return job.get("FilePath")

    at_root, in_folder = exported(), exported(filepath="night/")
    assert in_folder.startswith("night/")
    for random_name in (at_root, in_folder.removeprefix("night/")):
        assert len(random_name) == 10
        assert random_name.endswith(".zip")
        assert random_name[:6].isalnum()
    assert zip_entries(usb / at_root, "pw") == zip_entries(usb / in_folder, "pw") == [video]

    for filepath, name, entry in (
        ("clips/v.mkv", "clips/v.zip", "v.mkv"),
        ("w", "w.zip", "w.mkv"),
        ("x.zip", "x.zip", "x.mkv"),
    ):
        assert exported(filepath=filepath) == name
        assert zip_entries(usb / name, "pw") == [entry]
    files = sorted(p.relative_to(usb).as_posix() for p in usb.rglob("*") if p.is_file())
    assert files == sorted([at_root, in_folder, "clips/v.zip", "w.zip", "x.zip"])


def test_exports_do_not_hold_up_the_rest_of_the_api(history, long_recording):
    """A slow download (a client reading little by little) leaves list.cgi answering at once."""
    url = f"{history.http_url}{EXPORT}/exportrecording.cgi"
    params = {"schemaversion": "1", "recordingid": long_recording["recordingid"], "diskid": "SD_DISK"}
    params["exportformat"] = "matroska"
    with httpx.stream("GET", url, params=params, auth=httpx.DigestAuth(*CREDENTIALS["viewer"]), timeout=20) as slow:
        chunks = slow.iter_bytes(4096)
        next(chunks)
        began = time.monotonic()
        assert recordings(history)
        assert time.monotonic() - began < 5


def test_the_legacy_download_cgi_real_clients_use_gives_the_whole_recording(history, long_recording, tmp_path):
    """record/download.cgi is undocumented, but uploaders and EZcast call it (WIRE.md §5.5)."""
    response = get(history, "/axis-cgi/record/download.cgi", "viewer", recordingid=long_recording["recordingid"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "video/x-matroska"
    assert filename_of(response) == f"{long_recording['recordingid']}.mkv"
    file = tmp_path / "whole.mkv"
    file.write_bytes(response.content)
    start, stop = time_of(long_recording["starttime"]), time_of(long_recording["stoptime"])
    assert_lasts(probe(file), start, stop)
    unknown = get(history, "/axis-cgi/record/download.cgi", "viewer", recordingid="20200101_000000_ABCD_" + SERIAL)
    assert unknown.status_code == 404
    assert get(history, "/axis-cgi/record/download.cgi", "viewer").status_code == 400


def test_a_recording_whose_blocks_no_longer_read_is_error_10_and_leaves_nothing(camera):
    """Blocks damaged on the card after they were indexed: neither export can start, which the API says as 10,
    and nothing is left on the USB disk."""
    recording_id = sample(camera, seconds=6, blockseconds=2)
    for block in mkv_files(camera, recording_id):
        block.write_bytes(bytes(4096))  # what a failing card returns
    recording = {"recordingid": recording_id}
    assert refusal(camera, recording) == 10
    usb_root = Path(scenario(camera, "attach")["path"])
    assert error_code(to_usb(camera, recording)) == 10
    assert list(usb_root.iterdir()) == []


def test_blocks_that_fail_between_planning_and_reading_end_the_usb_job_with_10(camera):
    """The key-frame index still vouches for the blocks, the files no longer read: the download answers 10 before
    any byte, and the USB job fails with 10 and removes its partial file."""
    recording_id = cgi(camera, "record.cgi", diskid="SD_DISK", options="resolution=320x180&fps=10").get("recordingid")
    wait_recorded(camera, recording_id, seconds=2)
    cgi(camera, "stop.cgi", recordingid=recording_id)
    for block in mkv_files(camera, recording_id):
        block.write_bytes(bytes(block.stat().st_size))
    recording = {"recordingid": recording_id}
    assert refusal(camera, recording) == 10
    usb_root = Path(scenario(camera, "attach")["path"])
    job = to_usb(camera, recording).find(".//ExportToExternal")
    assert job is not None
    assert wait_done(camera, job.get("JobId")).findtext(".//GeneralError/ErrorCode") == "10"
    assert list(usb_root.iterdir()) == []


def error_of(root: etree._Element) -> tuple[int | None, str]:
    return error_code(root), root.findtext(".//GeneralError/ErrorDescription") or ""


def test_a_block_removed_after_the_recording_was_listed_is_error_10_and_the_camera_carries_on(camera):
    """Cleanup or remove.cgi deletes a block the viewer's list still shows. Properties, the download and the USB
    export answer the API's error 10 with words for it (not an HTTP 500 page), the traceback goes to the camera's
    log, and the camera goes on exporting its other recordings."""
    recording_id = cgi(camera, "record.cgi", diskid="SD_DISK", options="resolution=320x180&fps=10").get("recordingid")
    wait_recorded(camera, recording_id, seconds=2)
    cgi(camera, "stop.cgi", recordingid=recording_id)
    scanned_id = sample(camera, seconds=6, blockseconds=2)  # no key-frame rows: its blocks are scanned
    intact = {"recordingid": sample(camera, seconds=4, blockseconds=2)}
    (recorded_block,) = mkv_files(camera, recording_id)  # the recorder's: its key frames are in the index
    recorded_block.unlink()
    mkv_files(camera, scanned_id)[1].unlink()
    usb_root = Path(scenario(camera, "attach")["path"])

    for recording in ({"recordingid": recording_id}, {"recordingid": scanned_id}):
        code, description = error_of(export_xml(camera, "properties", schemaversion="1", diskid="SD_DISK", **recording))
        assert code == 10
        assert "no longer on the disk" in description
        assert "sdcard" not in description  # the host's paths stay in the log
        assert refusal(camera, recording) == 10
        assert error_code(to_usb(camera, recording)) == 10
    assert "Traceback" in (camera.data_dir / "stderr.log").read_text()

    assert list(usb_root.iterdir()) == []
    assert recordings(camera)
    assert properties(camera, intact)["RecordingId"] == intact["recordingid"]
    response = export(camera, intact)
    assert response.headers["content-type"] == "video/x-matroska"
    with av.open(io.BytesIO(response.content)) as container:
        assert sum(1 for _ in container.decode(video=0)) == 40  # 4 s at 10 fps, every frame


def test_a_block_removed_during_a_usb_export_fails_the_job_with_10_not_as_a_usb_fault(camera):
    """The stick is fine; the recording lost a block under the export. The job says so (10, not the USB disk's
    210) and leaves no partial file."""
    recording_id = sample(camera, seconds=6, blockseconds=2)
    usb_root = Path(scenario(camera, "attach")["path"])
    scenario(camera, "speed", bytespersecond="4000")
    job_id = to_usb(camera, {"recordingid": recording_id}, filepath="door.mkv").find(".//ExportToExternal").get("JobId")
    until(lambda: int(job_status(camera, job_id).find(".//JobStatus").get("Progress")) > 0, timeout=20)
    mkv_files(camera, recording_id)[-1].unlink()

    (failed,) = until(lambda: list(job_status(camera, job_id).iter("GeneralError")), timeout=60)
    assert failed.findtext("ErrorCode") == "10"
    assert "no longer on the disk" in failed.findtext("ErrorDescription")
    assert list(usb_root.iterdir()) == []
