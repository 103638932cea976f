"""The virtual camera records a video file instead of its own picture (`--source file:PATH`), as an edge
recorder would record another camera: H.264 is copied untouched, anything else is encoded once to H.264."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import av
import pytest

from tests.device.disk_client import get_xml, mkv_files, until
from tests.device.test_recording_api import wait_recorded

pytestmark = [
    pytest.mark.functional,
    pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg makes the source files"),
]


def make_clip(path, codec: str, rate: int) -> None:
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"testsrc=size=320x240:rate={rate}",
            "-t",
            "2",
            "-c:v",
            codec,
            "-pix_fmt",
            "yuv420p" if codec == "libx264" else "yuvj420p",
            str(path),
        ],
        check=True,
        timeout=60,
    )


def record_for_a_while(camera) -> str:
    recording_id = get_xml(camera, "/axis-cgi/record/record.cgi", role="operator").find("record").get("recordingid")
    wait_recorded(camera, recording_id, 2.0)
    get_xml(camera, "/axis-cgi/record/stop.cgi", role="operator", recordingid=recording_id)
    return recording_id


def decoded(camera, recording_id: str) -> tuple[str, int, int, int]:
    frames = 0
    for mkv in mkv_files(camera, recording_id):
        with av.open(str(mkv)) as container:
            stream = container.streams.video[0]
            name, width, height = stream.codec_context.name, stream.codec_context.width, stream.codec_context.height
            frames += sum(1 for _ in container.decode(stream))
    return name, width, height, frames


@pytest.mark.parametrize(
    ("suffix", "codec", "rate"), [("mp4", "libx264", 25), ("avi", "mjpeg", 10)], ids=["h264-copied", "mjpeg-encoded"]
)
def test_a_file_source_is_recorded_as_h264_with_its_own_size_and_rate(device_factory, tmp_path, suffix, codec, rate):
    clip = tmp_path / f"clip.{suffix}"
    make_clip(clip, codec, rate)
    camera = device_factory("--sd-size", "1G", "--source", f"file:{clip}")
    recording_id = record_for_a_while(camera)
    video = get_xml(camera, "/axis-cgi/record/list.cgi", recordingid=recording_id).find(".//video")
    assert dict(video.attrib) == {
        "mimetype": "video/x-h264",
        "width": "320",
        "height": "240",
        "framerate": f"{rate}:1",
        "resolution": "320x240",
    }
    name, width, height, frames = decoded(camera, recording_id)
    assert (name, width, height) == ("h264", 320, 240)
    assert frames >= rate  # at least a second of it; the 2 s clip loops for as long as the recording runs


def test_an_unreadable_source_refuses_the_recording_with_a_reason(device_factory, tmp_path):
    camera = device_factory("--sd-size", "1G", "--source", f"file:{tmp_path / 'missing.mp4'}")
    refused = get_xml(camera, "/axis-cgi/record/record.cgi", role="operator").find("record")
    assert refused.get("result") == "ERROR"
    assert "video source cannot be read" in refused.get("errormsg")


def test_a_bad_source_argument_is_refused_at_start(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "device", "--data-dir", str(tmp_path), "--source", "webcam"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert "--source must be synthetic, file:PATH or rtsp://" in out.stderr


@pytest.fixture
def vlc_rtsp_server():
    """VLC serving a clip over RTSP: a real server, as another camera would be. VLC refuses to run as root,
    so as root (CI) it runs as `nobody`."""
    cvlc = shutil.which("cvlc")
    if cvlc is None:
        pytest.skip("VLC is installed by the README's test command")
    served = Path(tempfile.mkdtemp(prefix="edgestore-vlc-"))  # pytest's own temp dirs are private to root
    served.chmod(0o755)
    clip = served / "served.mp4"
    make_clip(clip, "libx264", 25)
    clip.chmod(0o644)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"rtsp://127.0.0.1:{port}/cam"
    command = [cvlc, "-I", "dummy", "--no-audio", "--loop", str(clip), "--sout", f"#rtp{{sdp={url}}}", "--sout-keep"]
    if os.geteuid() == 0:
        command = ["runuser", "-u", "nobody", "--", *command]
    server = subprocess.Popen(
        command, env={**os.environ, "HOME": str(served)}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        until(
            lambda: (
                subprocess.run(
                    ["ffprobe", "-v", "error", "-rtsp_transport", "udp", url], capture_output=True, timeout=10
                ).returncode
                == 0
            ),
            timeout=20,
            interval=0.5,
        )
        yield url
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(served, ignore_errors=True)


def test_an_rtsp_source_is_recorded_without_transcoding(device_factory, vlc_rtsp_server):
    camera = device_factory("--sd-size", "1G", "--source", vlc_rtsp_server)
    recording_id = record_for_a_while(camera)
    name, width, height, frames = decoded(camera, recording_id)
    assert (name, width, height) == ("h264", 320, 240)
    assert frames >= 25
