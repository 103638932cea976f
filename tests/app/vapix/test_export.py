"""The operator's export client against the virtual camera: properties first, a download with progress that leaves
nothing behind when cancelled, an encrypted ZIP, and an export to the camera's USB disk followed to its end."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from lxml import etree

from app.vapix.errors import ApiError, ConnectionFailed
from app.vapix.export import (
    ExportCapabilities,
    ExportJobStatus,
    ExportRange,
    Exports,
    error_text,
    filename_from,
)
from app.vapix.jobs import JobFailedError
from tests.conftest import transport_for
from tests.device.disk_client import sample
from tests.device.test_export import assert_lasts, probe
from tests.support.device_process import CREDENTIALS

pytestmark = pytest.mark.functional


@pytest.fixture(scope="module")
def camera_with_clip(tmp_path_factory):
    from tests.conftest import _start

    device = _start(tmp_path_factory.mktemp("export-client"), [])
    recording_id = sample(device, seconds=40, blockseconds=10)
    yield device, recording_id
    device.stop()


async def run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, timeout=60)


def usb(device, verb: str, **params: str) -> dict:
    response = httpx.post(
        f"{device.http_url}/local/edgestore/scenario/usb/{verb}",
        params=params,
        auth=httpx.DigestAuth(*CREDENTIALS["admin"]),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_capabilities_from_the_documents_example_and_from_the_camera():
    example = etree.fromstring(
        b'<ExportRecordingResponse SchemaVersion="1.2"><ExportCapabilities ExportFormat="matroska">'
        b'<ExportEncryption EncryptionFormat="zip-aes256"/></ExportCapabilities></ExportRecordingResponse>'
    )
    assert ExportCapabilities.from_xml(example).encrypts()
    failed = etree.fromstring(
        b"<ExportRecordingResponse><GetJobStatusSuccess><GeneralError><ErrorCode>210</ErrorCode>"
        b"<ErrorDescription>detached</ErrorDescription></GeneralError></GetJobStatusSuccess></ExportRecordingResponse>"
    )
    status = ExportJobStatus.from_xml(failed)
    assert (status.finished, status.failed, status.code) == (True, True, 210)
    assert filename_from("attachment; filename=\"a.mkv\"; filename*=UTF-8''Entr%C3%A9e.mkv") == "Entrée.mkv"
    assert filename_from('attachment; filename="20241211_094509_20241211_101000.mkv"').startswith("2024")


async def test_properties_then_a_download_with_progress_into_a_folder(camera_with_clip, tmp_path: Path):
    device, recording_id = camera_with_clip
    async with transport_for(device, "viewer") as transport:
        exports = Exports(transport)
        versions = await exports.schema_versions()
        assert max(versions.versions).minor >= 2
        assert (await exports.capabilities()).encrypts()
        whole = ExportRange(recording_id, "SD_DISK")
        props = await exports.properties(whole)
        clip = ExportRange(
            recording_id, "SD_DISK", props.start + timedelta(seconds=12), props.start + timedelta(seconds=30)
        )
        clip_props = await exports.properties(clip)
        assert props.start <= clip_props.start <= clip.start
        seen: list[tuple[int, int | None]] = []
        done = await exports.download(
            ExportRange(recording_id, "SD_DISK", clip_props.start, clip_props.stop),
            tmp_path,
            progress=lambda got, expected: seen.append((got, expected)),
            expected=clip_props.estimated_bytes,
        )
    assert done.path.parent == tmp_path
    assert done.path.name == done.camera_name
    assert done.path.name == f"{clip_props.start:%Y%m%d_%H%M%S}_{clip_props.stop:%Y%m%d_%H%M%S}.mkv"
    assert done.size == done.path.stat().st_size
    assert [got for got, _ in seen] == sorted(got for got, _ in seen)
    assert seen[-1][0] == done.size
    assert abs(done.size - clip_props.estimated_bytes) <= 0.1 * done.size
    assert_lasts(await asyncio.to_thread(probe, done.path), clip_props.start, clip_props.stop)


async def test_a_cancelled_download_leaves_no_file(camera_with_clip, tmp_path: Path):
    device, recording_id = camera_with_clip
    async with transport_for(device, "viewer") as transport:
        exports = Exports(transport)
        started = asyncio.Event()

        def progress(_got: int, _expected: int | None) -> None:
            started.set()

        target = tmp_path / "clip.mkv"
        task = asyncio.ensure_future(exports.download(ExportRange(recording_id, "SD_DISK"), target, progress))
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert await asyncio.to_thread(os.listdir, tmp_path) == []


async def test_refusals_come_back_as_sentences_and_write_nothing(camera_with_clip, tmp_path: Path):
    device, recording_id = camera_with_clip
    async with transport_for(device, "viewer") as transport:
        exports = Exports(transport)
        with pytest.raises(ApiError) as missing:
            await exports.download(ExportRange("20200101_000000_ABCD_ACCC8E000001", "SD_DISK"), tmp_path)
        assert missing.value.code == 110
        assert error_text(missing.value) == "The recording is not on that disk any more."
        with pytest.raises(ApiError) as too_long:
            await exports.download(ExportRange(recording_id, "SD_DISK", password="x" * 600), tmp_path)
        assert too_long.value.code == 240
    assert await asyncio.to_thread(os.listdir, tmp_path) == []


@pytest.mark.skipif(shutil.which("7zz") is None, reason="7-Zip missing")
async def test_a_password_downloads_an_aes_zip_under_the_given_name(camera_with_clip, tmp_path: Path):
    device, recording_id = camera_with_clip
    async with transport_for(device, "viewer") as transport:
        done = await Exports(transport).download(
            ExportRange(recording_id, "SD_DISK", password="correct horse", filename="door"), tmp_path
        )
    assert done.path.name == "door.zip"
    tested = await run(["7zz", "t", "-pcorrect horse", str(done.path)])
    assert tested.returncode == 0, tested.stdout
    assert "door.mkv" in (await run(["7zz", "l", str(done.path)])).stdout


async def test_an_export_to_the_usb_disk_is_followed_to_its_end_or_its_failure(camera_with_clip):
    device, recording_id = camera_with_clip
    root = Path(usb(device, "attach")["path"])
    async with transport_for(device, "operator") as transport:
        exports = Exports(transport)
        job, path = await exports.export_to_usb(ExportRange(recording_id, "SD_DISK"), "clips/door.mkv")
        assert path == "clips/door.mkv"
        statuses: list[ExportJobStatus] = []
        final = await exports.wait_for_usb_export(job, statuses.append, interval=0.05, timeout=30)
        assert final.finished
        assert not final.failed
        assert (root / "clips" / "door.mkv").stat().st_size > 0

        usb(device, "speed", bytespersecond="20000")
        try:
            job, _path = await exports.export_to_usb(ExportRange(recording_id, "SD_DISK"), "slow.mkv")
            await asyncio.sleep(0.3)
            usb(device, "detach")
            with pytest.raises(JobFailedError) as failed:
                await exports.wait_for_usb_export(job, interval=0.05, timeout=30)
            assert "USB disk" in str(failed.value)
            assert not (root / "slow.mkv").exists()
        finally:
            usb(device, "attach")
            usb(device, "speed", bytespersecond="0")
        with pytest.raises(ApiError) as unknown:
            await exports.job_status(9999)
        assert unknown.value.code == 190


async def camera_with_a_big_recording(tmp_path_factory, name: str):
    """A camera whose one recording is a 40 MB block (40 s at 8 Mbit/s): a download of it is still on its way
    when something happens to the camera. (The camera, the recording's span)"""
    from bench.clips import encode_clip
    from bench.export_throughput import build_span
    from tests.conftest import _start

    data = tmp_path_factory.mktemp(name)
    span = await asyncio.to_thread(build_span, data, encode_clip(640, 360, 15, 2, 8_000_000), 40 * 1024**2)
    return _start(data, []), span


async def test_a_transfer_cut_short_leaves_no_file(tmp_path_factory, tmp_path: Path):
    """The camera dies while a 40 MB clip is on its way: the download fails as a lost connection, and the half
    file is gone."""
    device, span = await camera_with_a_big_recording(tmp_path_factory, "camera-that-dies")
    try:
        async with transport_for(device, "viewer") as transport:

            def progress(_got: int, _expected: int | None) -> None:
                if device.process is not None and device.process.poll() is None:
                    device.process.send_signal(signal.SIGKILL)

            with pytest.raises(ConnectionFailed):
                await Exports(transport).download(ExportRange(span.recording_id, "SD_DISK"), tmp_path, progress)
    finally:
        device.stop()
    assert await asyncio.to_thread(os.listdir, tmp_path) == []


async def test_a_block_removed_mid_transfer_cuts_the_download_short_and_leaves_no_file(
    tmp_path_factory, tmp_path: Path
):
    """Cleanup deletes the recording's block while the clip is on its way. The camera cannot finish the file and
    has already said 200, so it ends the connection before the end of the body: the download fails as a lost
    connection rather than saving half a video as a whole one, and the camera goes on answering."""
    device, span = await camera_with_a_big_recording(tmp_path_factory, "camera-losing-a-block")
    try:
        async with transport_for(device, "viewer") as transport:
            exports = Exports(transport)

            def progress(_got: int, _expected: int | None) -> None:
                for block in span.blocks:
                    block.unlink(missing_ok=True)

            with pytest.raises(ConnectionFailed):
                await exports.download(ExportRange(span.recording_id, "SD_DISK"), tmp_path, progress)
            with pytest.raises(ApiError) as gone:
                await exports.properties(ExportRange(span.recording_id, "SD_DISK"))
            assert gone.value.code == 10
    finally:
        device.stop()
    assert await asyncio.to_thread(os.listdir, tmp_path) == []
