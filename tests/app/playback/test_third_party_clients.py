"""Real third-party RTSP clients play the camera's recordings (issue #5's acceptance): aiortsp seeks with
``Range: clock=`` and reads the clock Range back; GStreamer's rtspsrc decodes the recording from its first frame.
What they receive is checked by the time strip in the pictures, not by what the protocol claims."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiortsp.rtsp.connection import RTSPConnection
from aiortsp.rtsp.session import RTSPMediaSession
from aiortsp.transport import RTPTransportClient, TCPTransport

from app.playback.h264 import H264Depacketizer
from app.playback.rtp import RtpPacket
from tests.app.playback.conftest import HEIGHT, WIDTH, Recorded, decode_annex_b, strip_time

pytestmark = pytest.mark.functional
needs_gstreamer = pytest.mark.skipif(shutil.which("gst-launch-1.0") is None, reason="GStreamer is not installed")


class Collector(RTPTransportClient):
    """What aiortsp hands its subscribers: RTP packets (dpkt) and RTCP reports."""

    def __init__(self) -> None:
        self.packets: list[RtpPacket] = []
        self.reports: list[object] = []
        self.frames = 0
        self.enough = asyncio.Event()

    def handle_rtp(self, rtp) -> None:
        self.packets.append(RtpPacket(rtp.pt, bool(rtp.m), rtp.seq, rtp.ts, rtp.ssrc, bytes(rtp.data)))
        self.frames += bool(rtp.m)
        if self.frames >= 5:
            self.enough.set()

    def handle_rtcp(self, rtcp) -> None:
        self.reports.append(rtcp)


async def test_aiortsp_seeks_with_a_clock_range_and_reads_the_clock_range_back(recorded: Recorded, viewer):
    camera = recorded.camera
    asked = recorded.start + timedelta(seconds=3.5)
    collector = Collector()
    async with asyncio.timeout(20), RTSPConnection(camera.host, camera.rtsp_port, *viewer) as connection:
        transport = TCPTransport(connection)
        transport.subscribe(collector)
        async with transport, RTSPMediaSession(connection, recorded.url(), transport) as media:
            reply = await media.play(seek=asked.timestamp())
            await collector.enough.wait()
            keep_alive = await media.keep_alive()
            played = media.response_to_ts(reply, None)
            last_ntp = transport.stats.last_ntp

    expected = recorded.keyframe_before(asked)
    assert reply.status == 200
    assert reply.headers["range"].startswith("clock=")
    assert played is not None
    assert abs(datetime.fromtimestamp(played, UTC) - expected) <= timedelta(milliseconds=2)
    assert asked - recorded.gop <= datetime.fromtimestamp(played, UTC) <= asked
    assert keep_alive.status == 200  # GET_PARAMETER, which the camera lists in Public
    assert last_ntp is not None  # a sender report arrived
    depacketizer = H264Depacketizer()
    units = [unit for packet in collector.packets for unit in depacketizer.push(packet)]
    assert units[0].keyframe
    assert depacketizer.dropped == 0
    assert decode_annex_b([u.annex_b for u in units])[0] == expected


EOS_AFTER = 10


@needs_gstreamer
def test_gstreamer_rtspsrc_decodes_the_recording_from_its_first_frame(recorded: Recorded, viewer, tmp_path: Path):
    out = tmp_path / "frames.i420"
    user, password = viewer
    command = [
        "gst-launch-1.0",
        "-q",
        "rtspsrc",
        f"location={recorded.url()}",
        "protocols=tcp",
        f"user-id={user}",
        f"user-pw={password}",
        "!",
        "rtph264depay",
        "!",
        "avdec_h264",
        "!",
        "identity",
        f"eos-after={EOS_AFTER}",
        "!",
        "videoconvert",
        "!",
        f"video/x-raw,format=I420,width={WIDTH},height={HEIGHT}",
        "!",
        "filesink",
        f"location={out}",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    data = out.read_bytes()
    size = WIDTH * HEIGHT * 3 // 2  # I420: the luma plane, then two quarter-size chroma planes
    assert len(data) % size == 0
    count = len(data) // size
    assert count >= EOS_AFTER - 1
    times = [strip_time(data[i * size : i * size + WIDTH * HEIGHT], WIDTH, HEIGHT, WIDTH) for i in range(count)]
    assert times == [f.captured for f in recorded.frames[:count]]
