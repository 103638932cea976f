"""Many playback sessions at once, some of them clients that stop reading, leave the camera answering its HTTP
API and recording, and do not make it hold more and more memory."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.device.test_recording_api import cgi, listing, wait_recorded
from tests.device.test_rtsp_core import RtspClient, digest_params, md5_authorization
from tests.support.device_process import VIEWER

pytestmark = pytest.mark.functional

STREAM = "/axis-media/media.amp"


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


async def stalled_session(device, recording_id: str) -> RtspClient:
    """A session that PLAYs as fast as it may read (pull=1) and then never reads."""
    client = await RtspClient.connect(device)
    url = f"rtsp://{device.host}:{device.rtsp_port}{STREAM}?recordingid={recording_id}&pull=1"
    challenge = await client.request("DESCRIBE", url)
    params = digest_params(challenge.header("WWW-Authenticate"))

    def auth(method: str) -> dict[str, str]:
        return {"Authorization": md5_authorization(*VIEWER, params, method, url)}

    described = await client.request("DESCRIBE", url, auth("DESCRIBE"))
    assert described.status == 200
    setup = await client.request(
        "SETUP", url + "/trackID=1", {**auth("SETUP"), "Transport": "RTP/AVP/TCP;unicast;interleaved=0-1"}
    )
    assert setup.status == 200
    session = setup.header("Session").split(";", 1)[0]
    played = await client.request("PLAY", url, {**auth("PLAY"), "Session": session, "Range": "npt=0-"})
    assert played.status == 200
    return client


@pytest.fixture
def big_recording(tmp_path_factory):
    """A camera holding a 40 MB, 40-second H.264 recording (one block), made by the recorder's own session."""
    from bench.clips import encode_clip
    from bench.export_throughput import build_span
    from tests.conftest import _start

    data = tmp_path_factory.mktemp("camera-with-a-big-block")
    span = build_span(data, encode_clip(640, 360, 15, 2, 8_000_000), 40 * 1024**2)
    device = _start(data, [])
    yield device, span.recording_id
    device.stop()


async def test_stalled_clients_neither_block_the_api_nor_grow_memory(big_recording):
    camera, recording_id = big_recording
    other = cgi(camera, "record.cgi", diskid="SD_DISK", options="resolution=320x180&fps=10").get("recordingid")
    try:
        before = rss(camera.process.pid)
        clients = [await stalled_session(camera, recording_id) for _ in range(16)]
        await asyncio.sleep(2)  # the camera fills each connection's buffers, then waits for the readers
        began = time.monotonic()
        entries = await asyncio.to_thread(listing, camera)
        assert time.monotonic() - began < 5  # answers, not stuck behind the sessions
        assert recording_id in entries
        grown = rss(camera.process.pid) - before
        # 16 sessions of a 40 MB block: a camera that held a block per session would grow by 640 MB
        assert grown < 128 * 1024**2, f"the camera grew by {grown / 1e6:.0f} MB for 16 stalled sessions"
        for client in clients:
            await client.close()
        await asyncio.to_thread(wait_recorded, camera, other, 3)  # the recording that ran meanwhile went on
    finally:
        cgi(camera, "stop.cgi", recordingid=other)
