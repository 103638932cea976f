"""RTSP takes the same users and roles as HTTP, with Basic as well as Digest when the camera's HTTP
authentication policy allows Basic (Network.HTTP.AuthenticationPolicy), as real cameras do."""

from __future__ import annotations

import base64
import shutil
import subprocess

import pytest

from tests.device.disk_client import param_update
from tests.device.test_recording_api import cgi, wait_recorded
from tests.device.test_rtsp_core import RtspClient
from tests.support.device_process import CREDENTIALS

pytestmark = pytest.mark.functional

STREAM = "/axis-media/media.amp"


def short_recording(device) -> str:
    recording_id = cgi(device, "record.cgi", diskid="SD_DISK", options="resolution=320x180&fps=10").get("recordingid")
    wait_recorded(device, recording_id, seconds=1.5)
    cgi(device, "stop.cgi", recordingid=recording_id)
    return recording_id


def basic(role: str, password: str | None = None) -> dict[str, str]:
    user, right = CREDENTIALS[role]
    token = base64.b64encode(f"{user}:{password or right}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


async def describe(device, recording_id: str, headers: dict[str, str]):
    client = await RtspClient.connect(device)
    try:
        url = f"rtsp://{device.host}:{device.rtsp_port}{STREAM}?recordingid={recording_id}"
        return await client.request("DESCRIBE", url, {"Accept": "application/sdp", **headers})
    finally:
        await client.close()


async def test_basic_works_only_where_the_policy_allows_it(camera):
    recording_id = short_recording(camera)
    refused = await describe(camera, recording_id, basic("viewer"))
    assert refused.status == 401
    assert all(v.startswith("Digest ") for k, v in refused.headers if k.lower() == "www-authenticate")

    param_update(camera, **{"root.Network.HTTP.AuthenticationPolicy": "basic_digest"})
    accepted = await describe(camera, recording_id, basic("viewer"))
    assert accepted.status == 200
    assert accepted.body.startswith(b"v=0")
    assert (await describe(camera, recording_id, basic("viewer", "wrong"))).status == 401
    challenges = [v for k, v in (await describe(camera, recording_id, {})).headers if k.lower() == "www-authenticate"]
    assert any(c.startswith("Basic ") for c in challenges)
    assert any(c.startswith("Digest ") for c in challenges)


@pytest.mark.skipif(shutil.which("ffprobe") is None, reason="FFmpeg is not installed")
def test_ffprobe_plays_with_basic_when_the_camera_offers_only_basic(camera):
    recording_id = short_recording(camera)
    param_update(camera, **{"root.Network.HTTP.AuthenticationPolicy": "basic"})
    user, password = CREDENTIALS["viewer"]
    url = f"rtsp://{user}:{password}@{camera.host}:{camera.rtsp_port}{STREAM}?recordingid={recording_id}"
    done = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-rtsp_transport",
            "tcp",
            "-show_entries",
            "stream=codec_name",
            "-of",
            "csv=p=0",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["h264"]
