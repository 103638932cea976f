"""One virtual camera with one finished recording for every playback test: recording takes real time, so it is
made once for the package.

The recording is 640x360 at 15 fps, about 6 s long, with a key frame every 2 s (the synthetic source's GOP) and
blocks split at those key frames, so a seek into its middle lands in a later block than the first.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import av
import pytest

from device.media import timestrip
from tests.device.disk_client import mkv_files, param_update
from tests.device.test_recording_api import cgi, listing, wait_recorded
from tests.support.device_process import DEFAULT_USERS, SERIAL, VIEWER, RunningDevice

WIDTH, HEIGHT, FPS = 640, 360, 15
SECONDS = 6.0
STREAM = "/axis-media/media.amp"


@dataclass(frozen=True)
class RecordedFrame:
    captured: datetime
    """From the time strip in its pixels."""
    keyframe: bool


@dataclass(frozen=True)
class Recorded:
    camera: RunningDevice
    recording_id: str
    start: datetime
    """list.cgi's starttime."""
    frames: list[RecordedFrame]
    """Every frame on the card, in order, as the recorder wrote it."""

    @property
    def keyframes(self) -> list[datetime]:
        return [f.captured for f in self.frames if f.keyframe]

    @property
    def gop(self) -> timedelta:
        """The longest distance between two key frames: how far before a seek target playback may begin."""
        times = self.keyframes
        return max(b - a for a, b in itertools.pairwise(times))

    def url(self, pull: bool = True) -> str:
        """The playback URL, without credentials."""
        query = f"recordingid={self.recording_id}" + ("&pull=1" if pull else "")
        return f"rtsp://{self.camera.host}:{self.camera.rtsp_port}{STREAM}?{query}"

    def keyframe_before(self, moment: datetime) -> datetime:
        return max(t for t in self.keyframes if t <= moment)


def strip_time(luma: bytes, width: int, height: int, line_size: int) -> datetime:
    return timestrip.from_millis(timestrip.read_strip(luma, width, height, line_size))


def decode_annex_b(units: list[bytes]) -> list[datetime]:
    """The strip time of every picture decoded from Annex B access units (the first one a key frame)."""
    decoder = av.CodecContext.create("h264", "r")
    times = []
    for unit in units:
        for frame in decoder.decode(av.Packet(unit)):
            luma = frame.planes[0]
            times.append(strip_time(bytes(luma), frame.width, frame.height, luma.line_size))
    return times


def _recorded_frames(files: list[Path]) -> list[RecordedFrame]:
    found = []
    for path in files:
        with av.open(io.BytesIO(path.read_bytes()), "r") as container:
            for frame in container.decode(video=0):
                luma = frame.planes[0]
                captured = strip_time(bytes(luma), frame.width, frame.height, luma.line_size)
                found.append(RecordedFrame(captured, frame.key_frame))
    return found


@pytest.fixture(scope="package")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recorded]:
    args = [arg for user in DEFAULT_USERS for arg in ("--user", user)] + ["--serial", SERIAL]
    camera = RunningDevice(tmp_path_factory.mktemp("playback-camera"), args).start()
    try:
        param_update(camera, **{"root.Recording.DefaultSplitDuration": "1"})
        started = cgi(camera, "record.cgi", diskid="SD_DISK", options=f"resolution={WIDTH}x{HEIGHT}&fps={FPS}")
        recording_id = started.get("recordingid")
        wait_recorded(camera, recording_id, SECONDS)
        assert cgi(camera, "stop.cgi", recordingid=recording_id).get("result") == "OK"
        start = datetime.fromisoformat(listing(camera)[recording_id]["starttime"])
        frames = _recorded_frames(mkv_files(camera, recording_id))
        assert len(frames) >= SECONDS * FPS - 2
        yield Recorded(camera, recording_id, start, frames)
    finally:
        camera.stop()


@pytest.fixture
def viewer() -> tuple[str, str]:
    return VIEWER
