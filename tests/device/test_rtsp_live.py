"""Live view over RTSP: ``media.amp`` without a recording ID streams the camera's source, with the stream parameters
of its query. Real FFmpeg and a raw player read it; the pictures' time strips say when each frame was captured,
and the RTCP sender reports must say the same. The source is the recorder's: shared with a recording that asks
for the same, and stopped when the last viewer leaves."""

from __future__ import annotations

import asyncio
import itertools
import struct
import subprocess
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from device.recorder.service import parse_stream_options
from device.recorder.sources import Source
from device.rtsp import live as live_module
from device.rtsp import rtp
from device.runtime import Device, DeviceConfig
from device.storage.manager import GIB
from device.users import UserSpec
from tests.device.test_recorder import decode_times
from tests.device.test_rtsp_core import RtspClient, digest_params
from tests.device.test_rtsp_playback import needs_ffmpeg
from tests.device.test_rtsp_sessions import Packet, Played, Player, first_access_unit, strip_time
from tests.support.device_process import DEFAULT_USERS, SERIAL, VIEWER
from tests.support.waiting import until

pytestmark = pytest.mark.functional

STREAM = "/axis-media/media.amp"
SR = 200
NTP_EPOCH_OFFSET = 2_208_988_800
SMALL = "resolution=320x180&fps=10"
"""Small and slow, so FFmpeg and the camera share two cores with room to spare; 10 fps: a key frame every 2 s."""


def live_url(host: str, port: int, query: str, credentials: bool = True) -> str:
    user = f"{VIEWER[0]}:{VIEWER[1]}@" if credentials else ""
    return f"rtsp://{user}{host}:{port}{STREAM}?{query}"


async def open_player(host: str, port: int, query: str) -> Player:
    """A raw player signed in as the viewer on the live URL with `query`."""
    reader, writer = await asyncio.open_connection(host, port)
    client = RtspClient(reader, writer)
    url = live_url(host, port, query, credentials=False)
    challenge = digest_params((await client.request("DESCRIBE", url)).header("WWW-Authenticate") or "")
    return Player(client, url, challenge)


def sender_report(packet: Packet) -> tuple[float, int]:
    """(Unix time, RTP timestamp) of an RTCP sender report."""
    ntp_seconds, ntp_fraction, rtp_time = struct.unpack("!III", packet.data[8:20])
    return ntp_seconds - NTP_EPOCH_OFFSET + ntp_fraction / 2**32, rtp_time


# --- the camera as a process -------------------------------------------------------------------------------------


@needs_ffmpeg
def test_ffmpeg_plays_live_h264_captured_just_now_in_order(shared_device, tmp_path: Path):
    """Unknown parameters (what the Axis web client adds) are tolerated; the strip says every frame is from the
    last seconds, newer than the one before, at the frame rate asked for."""
    camera = shared_device
    out = tmp_path / "live.mkv"
    url = live_url(camera.host, camera.rtsp_port, f"{SMALL}&videocodec=h264&timestamp=0&Axis-Orig-Sw=true")
    began = datetime.now(UTC)
    command = ["ffmpeg", "-v", "error", "-rtsp_transport", "tcp", "-i", url, "-frames:v", "20", "-c", "copy"]
    done = subprocess.run([*command, str(out)], capture_output=True, text=True, timeout=30)
    ended = datetime.now(UTC)
    assert done.returncode == 0, done.stderr
    times = decode_times(out.read_bytes())
    assert len(times) == 20
    assert all(a < b for a, b in itertools.pairwise(times)), times
    assert times[0] >= began - timedelta(seconds=1), (began, times[0])
    assert times[-1] <= ended, (times[-1], ended)
    assert times[-1] - times[0] >= timedelta(seconds=1.7)  # 20 frames at 10 fps, not a burst of old ones


async def test_live_describe_has_no_range_and_says_what_the_query_asks_for(shared_device):
    camera = shared_device
    player = await open_player(camera.host, camera.rtsp_port, SMALL)
    try:
        h264 = await player.request("DESCRIBE", {"Accept": "application/sdp"})
        jpeg = await player.request("DESCRIBE", target=player.url + "&videocodec=jpeg")
        bad = await player.request("DESCRIBE", target=player.url.replace("320x180", "321x180"))
        unknown = await player.request("DESCRIBE", target=player.url.replace("?", "?recordingid=nothing&"))
    finally:
        await player.close()
    assert h264.status == 200
    lines = h264.body.decode().split("\r\n")
    assert not [line for line in lines if line.startswith("a=range")]
    assert "m=video 0 RTP/AVP 96" in lines
    assert any(line.startswith("a=fmtp:96 packetization-mode=1") and "sprop-parameter-sets=" in line for line in lines)
    assert f"a=control:{player.track}" in lines  # the stream parameters ride along to SETUP and PLAY
    assert jpeg.status == 200
    assert {"m=video 0 RTP/AVP 26", "a=rtpmap:26 JPEG/90000", "a=x-dimensions:320,180"} <= set(
        jpeg.body.decode().split("\r\n")
    )
    assert bad.status == 400
    assert "even" in bad.body.decode()
    assert unknown.status == 404


async def test_live_play_starts_at_a_key_frame_and_sender_reports_carry_its_capture_time(shared_device):
    camera = shared_device
    player = await open_player(camera.host, camera.rtsp_port, SMALL)
    try:
        session, _ = await player.setup()
        refused = await player.request("PLAY", {"Session": session, "Scale": "2"})
        played = await player.request("PLAY", {"Session": session, "Range": "npt=10-"})
        while len(Played.of(player.packets).frames) < 3:
            await player.next()
        await player.request("TEARDOWN", {"Session": session})
    finally:
        await player.close()
    assert refused.status == 456
    assert played.status == 200
    assert played.header("Range") == "npt=now-"  # live: nothing to seek, the Range asked is not honoured
    assert played.header("RTP-Info")
    first_rtp = next(i for i, p in enumerate(player.packets) if p.channel == 0)
    reports = [p for p in player.packets[:first_rtp] if p.channel == 1]
    assert reports, "a sender report comes with the first frame"
    assert SR in [kind for kind, _ in rtp.rtcp_packets(reports[-1].data)]
    report_time, report_rtp = sender_report(reports[-1])
    unit = []
    for packet in player.packets[first_rtp:]:
        _sequence, timestamp, _ssrc, marker, payload = rtp.parse_rtp(packet.data)
        unit.append(payload)
        if marker:
            break
    nals = rtp.reassemble(unit)
    assert {5, 7, 8} <= {nal[0] & 0x1F for nal in nals}  # an IDR with its parameter sets: decodable on its own
    said = report_time + ((timestamp - report_rtp + 2**31) % 2**32 - 2**31) / rtp.CLOCK_RATE
    painted = strip_time(rtp.annex_b(nals)).timestamp()
    assert abs(said - painted) <= 0.002, (said, painted)
    assert abs(painted - time.time()) < 5


async def test_renewing_a_live_stream_sends_a_fresh_key_frame_at_once(shared_device):
    """``SET_PARAMETER`` with ``Renew-Stream: yes`` (WIRE.md §7), as a client that lost packets sends it: the next
    frame after the reply is an IDR with its parameter sets, made for the request, not the next one due (the
    source makes one every 2 s). Renewed 0.6 s into a GOP, it comes a frame or two later, not 1.4 s later."""
    camera = shared_device
    player = await open_player(camera.host, camera.rtsp_port, SMALL)
    try:
        session, _ = await player.setup()
        assert (await player.request("PLAY", {"Session": session})).status == 200
        while len(Played.of(player.packets).frames) < 7:  # play starts at a key frame: 0.6 s past it at 10 fps
            await player.next()
        body = b"Renew-Stream: yes\r\n"
        headers = {"Session": session, "Content-Type": "text/parameters"}
        renewed = await player.request("SET_PARAMETER", headers, body=body)
        before = Played.of(player.packets)
        replied_at = len(player.packets)
        while len(Played.of(player.packets[replied_at:]).frames) < 3:
            await player.next()
        await player.request("TEARDOWN", {"Session": session})
    finally:
        await player.close()
    assert (renewed.status, renewed.header("Session")) == (200, session)
    first_frame = first_access_unit(player.packets[replied_at:])
    assert {5, 7, 8} <= {nal[0] & 0x1F for nal in first_frame}  # an IDR with SPS and PPS: decodable on its own
    after = Played.of(player.packets[replied_at:])
    waited = ((after.frames[0] - before.frames[-1]) & 0xFFFFFFFF) / rtp.CLOCK_RATE  # capture time between them
    assert 0 < waited < 0.7, waited
    painted = strip_time(rtp.annex_b(first_frame)).timestamp()
    assert abs(painted - time.time()) < 5  # made now, not an old key frame kept somewhere
    Played.of(player.packets).assert_in_sequence()


# --- the camera in this process: the recorder's source hub, seen through its own API ------------------------------


async def start_in_process(tmp_path: Path) -> Device:
    """A camera with the test users and a 1 GiB card, on free ports, running on this event loop."""
    users = [UserSpec.parse(spec) for spec in DEFAULT_USERS]
    config = DeviceConfig(tmp_path / "camera", http_port=0, rtsp_port=0, users=users, serial=SERIAL, sd_capacity=GIB)
    device = Device(config)
    await device.start()
    return device


@pytest.fixture
async def camera_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Device]:
    """The camera in this process, so a test can look at its source hub. What a DESCRIBE opens is kept only a
    moment after it, so a source's users are the sessions playing it."""
    monkeypatch.setattr(live_module, "HOLD", 0.2)
    device = await start_in_process(tmp_path)
    yield device
    await device.stop()


async def test_viewers_may_open_only_so_many_different_live_streams(
    camera_here: Device, monkeypatch: pytest.MonkeyPatch
):
    """Every set of stream parameters is an encoder of its own: past the limit, a new one is 503, while one that
    is open already is still described."""
    monkeypatch.setattr(live_module, "MAX_STREAMS", 2)
    player = await open_player("127.0.0.1", camera_here.rtsp.port, "resolution=320x180&fps=1")
    try:
        statuses = [
            (await player.request("DESCRIBE", target=player.url.replace("fps=1", f"fps={fps}"))).status
            for fps in (1, 2, 3, 1)
        ]
    finally:
        await player.close()
    assert statuses == [200, 200, 503, 200]


async def watch(port: int, query: str) -> Player:
    """A viewer playing live view over TCP, once its frames flow."""
    player = await open_player("127.0.0.1", port, query)
    session, _ = await player.setup()
    assert (await player.request("PLAY", {"Session": session})).status == 200
    while not Played.of(player.packets).frames:
        await player.next()
    return player


async def test_live_viewers_share_the_recorders_sources_and_the_last_to_leave_stops_one(camera_here: Device):
    """One viewer asks for what a recording records: the hub hands out the very source the recording uses, with
    one more subscriber for the viewer, which it loses when the viewer goes. Another viewer asks for what nothing
    else uses: when it disconnects (no TEARDOWN), that source stops."""
    hub, port = camera_here.services.recorder.hub, camera_here.rtsp.port
    await camera_here.services.recorder.record("SD_DISK", SMALL)
    alone = "resolution=480x270&fps=5"

    async def look(query: str) -> tuple[Source, int]:
        """The source the hub has for `query`, and how many use it, less this look itself."""
        options = parse_stream_options(query)
        queue, source = await hub.subscribe(options)
        users = source.subscriber_count - 1
        await hub.unsubscribe(options, queue)
        return source, users

    shared_viewer, lone_viewer = await watch(port, SMALL), await watch(port, alone)
    await asyncio.sleep(0.5)  # the DESCRIBE holds have lapsed
    recorded, with_viewer = await look(SMALL)
    lone, lone_users = await look(alone)
    assert (with_viewer, lone_users) == (2, 1)  # the recording and the viewer; the viewer alone
    assert lone.running

    await shared_viewer.close()
    await lone_viewer.close()
    await until(lambda: not lone.running, timeout=5)
    assert lone.subscriber_count == 0
    still, without_viewer = await look(SMALL)
    assert still is recorded
    assert still.running
    assert without_viewer == 1  # the recording alone
