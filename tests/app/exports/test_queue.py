"""The export queue against the virtual camera: a range across two recordings becomes two playable files, an
AES-256 ZIP opens with its password, a cancelled job leaves nothing, the USB disk reports its job's progress, and
one camera exports one job at a time while another camera goes on beside it."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import pyzipper

from app.exports.jobs import ExportFormat, ExportJob, JobState, LocalDestination, UsbDestination
from app.exports.plan import Piece, pieces
from app.exports.queue import ExportQueue
from app.timeline.spans import Span
from tests.conftest import _start, transport_for
from tests.device.disk_client import SD, sample
from tests.device.test_recording_api import listing
from tests.support.device_process import CREDENTIALS
from tests.support.waiting import until

pytestmark = pytest.mark.functional

GOP = 2.0  # sample recordings start a block, and so a key frame, every `blockseconds`
MATROSKA_MAGIC = bytes.fromhex("1A45DFA3")


@pytest.fixture(scope="module")
def camera(tmp_path_factory):
    """A camera with two recordings 20 s apart: an older 8 s one and a newer 8 s one."""
    device = _start(tmp_path_factory.mktemp("export-queue"), [])
    older = sample(device, seconds=8, blockseconds=2, agedays=20 / 86400)
    newer = sample(device, seconds=8, blockseconds=2)
    yield device, older, newer
    device.stop()


def spans_of(device) -> list[Span]:
    found = []
    for recording_id, entry in listing(device).items():
        stop = entry.get("stoptime")
        start = datetime.fromisoformat(entry["starttime"]).timestamp()
        found.append(Span(recording_id, start, datetime.fromisoformat(stop).timestamp() if stop else None))
    return sorted(found, key=lambda s: s.start)


def across_both(device, older: str, newer: str) -> list[Piece]:
    """From 3 s into the older recording to 3 s before the newer one's end."""
    spans = {s.recording_id: s for s in spans_of(device)}
    t0, t1 = spans[older].start + 3, spans[newer].stop - 3
    found = pieces(list(spans.values()), t0, t1, time.time())
    assert [p.recording_id for p in found] == [older, newer]
    return found


def queue_for(device, events: list[tuple[int, JobState, int]] | None = None, role: str = "admin") -> ExportQueue:
    def changed(job: ExportJob) -> None:
        if events is not None:
            events.append((job.number, job.state, job.percent))

    return ExportQueue(lambda _camera: transport_for(device, role), changed, poll_interval=0.05)


def job(found: list[Piece], destination, **kwargs) -> ExportJob:
    return ExportJob("cam", SD, "Entrance", tuple(found), destination, **kwargs)


async def ffprobe(path: Path) -> dict:
    command = ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)]
    done = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


async def test_a_range_across_two_recordings_downloads_as_two_playable_files(camera, tmp_path: Path):
    device, older, newer = camera
    found = across_both(device, older, newer)
    (tmp_path / "door.mkv").write_bytes(b"an earlier export the operator keeps")
    events: list[tuple[int, JobState, int]] = []
    queue = queue_for(device, events, role="viewer")
    exporting = queue.add(job(found, LocalDestination(tmp_path, "door")))
    await queue.join()

    assert exporting.state is JobState.DONE, exporting.message
    assert exporting.percent == 100
    assert [Path(f).name for f in exporting.files] == ["door (2).mkv", "door-2.mkv"]  # the old door.mkv is kept
    assert (tmp_path / "door.mkv").read_bytes() == b"an earlier export the operator keeps"
    for name, piece in zip(exporting.files, found, strict=True):
        probed = await ffprobe(Path(name))
        assert [s["codec_name"] for s in probed["streams"]] == ["h264"]
        assert abs(float(probed["format"]["duration"]) - piece.seconds) <= GOP, (name, piece)
    percents = [p for n, _s, p in events if n == exporting.number]
    assert percents == sorted(percents)
    assert any(0 < p < 100 for p in percents)  # the bar moved on the way, not only at the end
    assert sorted(os.listdir(tmp_path)) == ["door (2).mkv", "door-2.mkv", "door.mkv"]


async def test_an_aes_zip_opens_with_its_password_only(camera, tmp_path: Path):
    device, older, _newer = camera
    spans = {s.recording_id: s for s in spans_of(device)}
    found = pieces([spans[older]], spans[older].start + 1, spans[older].stop, time.time())
    queue = queue_for(device)
    exporting = queue.add(
        job(found, LocalDestination(tmp_path, "sealed"), format=ExportFormat.ZIP_AES256, password="correct horse")
    )
    assert "correct horse" not in repr(exporting)
    await queue.join()

    assert exporting.state is JobState.DONE, exporting.message
    (path,) = exporting.files
    assert Path(path).name == "sealed.zip"
    with pyzipper.AESZipFile(path) as archive:
        (entry,) = archive.namelist()
        assert entry.endswith(".mkv")
        with pytest.raises(RuntimeError):
            archive.read(entry, pwd=b"wrong")
        archive.setpassword(b"correct horse")
        video = archive.read(entry)
    assert video.startswith(MATROSKA_MAGIC)
    (tmp_path / "inside.mkv").write_bytes(video)
    probed = await ffprobe(tmp_path / "inside.mkv")
    assert probed["streams"][0]["codec_name"] == "h264"


async def test_cancelling_a_running_or_queued_job_leaves_no_file(camera, tmp_path: Path):
    device, older, newer = camera
    found = across_both(device, older, newer)
    running = job(found, LocalDestination(tmp_path, "half"))
    waiting = job(found, LocalDestination(tmp_path, "never"))
    cancels: list[int] = []

    def cancel_once_bytes_arrive(changed: ExportJob) -> None:
        if changed is running and changed.percent > 0 and changed.state is JobState.RUNNING and not cancels:
            cancels.append(changed.percent)
            queue.cancel(changed.number)

    queue = ExportQueue(lambda _camera: transport_for(device), cancel_once_bytes_arrive, poll_interval=0.05)
    queue.add(running)
    queue.add(waiting)
    queue.cancel(waiting.number)
    assert waiting.state is JobState.CANCELLED
    await queue.join()

    assert running.state is JobState.CANCELLED, running.message
    assert 0 < cancels[0] < 100  # cancelled while the file was being written
    assert running.files == []
    assert os.listdir(tmp_path) == []


async def test_a_refused_piece_fails_the_job_with_a_sentence(camera, tmp_path: Path):
    device, _older, _newer = camera
    now = datetime.now(UTC)
    gone = Piece("20200101_000000_ABCD_ACCC8E000001", now, now)
    queue = queue_for(device)
    failing = queue.add(job([gone], LocalDestination(tmp_path, "gone")))
    await queue.join()
    assert failing.state is JobState.FAILED
    assert failing.message == "The recording is not on that disk any more."
    assert os.listdir(tmp_path) == []


def usb(device, verb: str, **params: str) -> dict:
    response = httpx.post(
        f"{device.http_url}/local/edgestore/scenario/usb/{verb}",
        params=params,
        auth=httpx.DigestAuth(*CREDENTIALS["admin"]),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_an_export_to_the_usb_disk_follows_the_cameras_job_progress(camera):
    device, older, newer = camera
    found = across_both(device, older, newer)
    root = Path(usb(device, "attach")["path"])
    usb(device, "speed", bytespersecond="60000")
    events: list[tuple[int, JobState, int]] = []
    try:
        queue = queue_for(device, events, role="operator")
        exporting = queue.add(job(found, UsbDestination("clips/door.mkv")))
        await queue.join()
    finally:
        usb(device, "speed", bytespersecond="0")

    assert exporting.state is JobState.DONE, exporting.message
    assert exporting.files == ["clips/door.mkv", "clips/door-2.mkv"]
    for path, piece in zip(exporting.files, found, strict=True):
        probed = await ffprobe(root / path)
        assert abs(float(probed["format"]["duration"]) - piece.seconds) <= GOP
    percents = [p for n, _s, p in events if n == exporting.number]
    assert any(0 < p < 50 for p in percents)
    assert any(50 <= p < 100 for p in percents)
    assert percents[-1] == 100


async def test_one_camera_exports_one_job_at_a_time_while_another_camera_goes_on(camera, tmp_path: Path):
    """Two camera IDs for the one virtual camera: the queue keys its order by camera, not by address."""
    device, older, newer = camera
    found = across_both(device, older, newer)
    events: list[tuple[int, JobState, int]] = []
    queue = queue_for(device, events)
    first = queue.add(ExportJob("a", SD, "A", tuple(found), LocalDestination(tmp_path, "a1")))
    second = queue.add(ExportJob("a", SD, "A", tuple(found), LocalDestination(tmp_path, "a2")))
    other = queue.add(ExportJob("b", SD, "B", tuple(found), LocalDestination(tmp_path, "b1")))
    await until(lambda: first.state is JobState.RUNNING and other.state is JobState.RUNNING)
    assert second.state is JobState.QUEUED
    await queue.join()

    states = [(n, s) for n, s, _p in events]
    assert all(j.state is JobState.DONE for j in (first, second, other))
    assert states.index((second.number, JobState.RUNNING)) > states.index((first.number, JobState.DONE))
    assert states.index((other.number, JobState.RUNNING)) < states.index((first.number, JobState.DONE))
    assert len(os.listdir(tmp_path)) == 6
