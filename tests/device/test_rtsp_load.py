"""Many playback sessions at once, some of them clients that stop reading, leave the camera answering its HTTP
API and recording, and do not make it hold more and more memory; and there is a limit to how many there are."""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from device.rtsp.server import MAX_SESSIONS
from tests.device.disk_client import mkv_files
from tests.device.test_recorder import decode_times
from tests.device.test_recording_api import cgi, listing, wait_recorded
from tests.device.test_rtsp_core import RtspClient, digest_params, md5_authorization
from tests.device.test_rtsp_playback import playback_signer
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


async def test_stalled_clients_neither_block_the_api_nor_the_recorder_nor_grow_memory(big_recording):
    """16 sessions that stop reading sit on the camera while it records: its HTTP API answers as fast as an idle
    camera's would, the recording does not lose a frame, and memory stays bounded."""
    camera, recording_id = big_recording
    other = cgi(camera, "record.cgi", diskid="SD_DISK", options="resolution=320x180&fps=10").get("recordingid")
    try:
        await asyncio.to_thread(wait_recorded, camera, other, 1)  # frames flow before the sessions come
        before = rss(camera.process.pid)
        stall_began = datetime.now(UTC)
        clients = [await stalled_session(camera, recording_id) for _ in range(16)]
        await asyncio.sleep(2)  # the camera fills each connection's buffers, then waits for the readers
        answers = []
        for _ in range(7):
            began = time.monotonic()
            entries = await asyncio.to_thread(listing, camera)
            answers.append(time.monotonic() - began)
            assert recording_id in entries
        # An idle camera lists in a few ms. The median rides out one request caught behind a GC pause or the
        # recorder's disk flush on a loaded 2-core machine; a camera stuck behind the sessions fails it by far.
        assert statistics.median(answers) < 0.5, answers
        assert max(answers) < 2, answers
        grown = rss(camera.process.pid) - before
        # 16 sessions of a 40 MB block: a camera that held a block per session would grow by 640 MB
        assert grown < 128 * 1024**2, f"the camera grew by {grown / 1e6:.0f} MB for 16 stalled sessions"
        for client in clients:
            await client.close()
        stall_ended = datetime.now(UTC)
        await asyncio.sleep(1)
    finally:
        cgi(camera, "stop.cgi", recordingid=other)
    captured = [t for mkv in mkv_files(camera, other) for t in decode_times(mkv.read_bytes())]
    assert captured[0] < stall_began  # recorded before the sessions came, through their stall, and after
    assert captured[-1] > stall_ended
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(captured)]
    # 10 fps: a frame every 0.1 s. A source that fell behind skips ticks, and a recorder that fell behind drops
    # whole GOPs (FrameQueue): either shows here as a longer step between capture times.
    assert max(gaps) < 0.15, [(captured[i], gap) for i, gap in enumerate(gaps) if gap >= 0.15]
    assert min(gaps) > 0.05  # and no frame twice


async def test_the_session_after_max_sessions_is_refused_until_one_ends(device):
    """At most `MAX_SESSIONS` sessions live at once, whichever connections made them: one more SETUP is 503
    (media-stream-library retries on that), and a TEARDOWN frees a place. SETUP alone: no video is sent."""
    url = f"rtsp://{device.host}:{device.rtsp_port}{STREAM}?resolution=320x180&fps=10"
    track = url.replace(STREAM + "?", STREAM + "/trackID=1?")
    first, second = await RtspClient.connect(device), await RtspClient.connect(device)
    try:
        on_first, on_second = await playback_signer(first, url), await playback_signer(second, url)
        sessions = []
        for n in range(MAX_SESSIONS):
            transport = {"Transport": f"RTP/AVP/TCP;unicast;interleaved={2 * n}-{2 * n + 1}"}
            setup = await on_first("SETUP", track, transport)
            assert setup.status == 200, (n, setup.status)
            sessions.append((setup.header("Session") or "").split(";")[0])
        assert len(set(sessions)) == MAX_SESSIONS
        transport = {"Transport": "RTP/AVP/TCP;unicast;interleaved=0-1"}
        refused = await on_second("SETUP", track, transport)
        assert (refused.status, refused.reason) == (503, "Service Unavailable")
        assert refused.header("Session") is None
        assert (await on_first("TEARDOWN", url, {"Session": sessions[17]})).status == 200
        taken = await on_second("SETUP", track, transport)
        assert taken.status == 200
        assert (await on_first("SETUP", track, {"Transport": "RTP/AVP/TCP;unicast;interleaved=200-201"})).status == 503
    finally:
        await first.close()
        await second.close()
