"""MJPEG over RTSP (RFC 2435, payload type 26): the packetizer against the RFC's layout, FFmpeg's own RFC 2435
receiver decoding what it sends (with and without restart markers, and a JPEG that had to be re-encoded), and the
camera playing an MJPEG recording and live MJPEG to FFmpeg, frames dated by their time strips."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import socket
import struct
import subprocess
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import av
import pytest

from device.clock import SystemClock
from device.media import timestrip
from device.media.synthetic import SyntheticSource
from device.rtsp import jpeg, rtp
from tests.device.disk_client import mkv_files
from tests.device.test_recorder import decode_times
from tests.device.test_recording_api import cgi, wait_recorded
from tests.device.test_rtsp_live import live_url, open_player
from tests.device.test_rtsp_playback import needs_ffmpeg, playback_url

START = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def encode(source: SyntheticSource, n: int, threads: int) -> bytes:
    """Frame `n` of `source` as FFmpeg's MJPEG encoder makes it on `threads` threads: on several it writes a
    restart interval (slices) and the standard Huffman tables; on one, optimised tables RFC 2435 cannot carry."""
    encoder = av.CodecContext.create("mjpeg", "w")
    encoder.width, encoder.height, encoder.pix_fmt = source.width, source.height, "yuvj420p"
    encoder.time_base = Fraction(1, 10)
    encoder.qmin = encoder.qmax = 11
    encoder.thread_count = threads
    encoder.open()
    picture = source.render(n, START + n * timedelta(seconds=0.1))
    picture.pts = 0
    return bytes(encoder.encode(picture)[0])


def jpeg_time(data: bytes) -> datetime:
    codec = av.CodecContext.create("mjpeg", "r")
    picture = (codec.decode(av.Packet(data)) + codec.decode(None))[0]
    luma = picture.planes[0]
    return timestrip.from_millis(timestrip.read_strip(bytes(luma), picture.width, picture.height, luma.line_size))


@pytest.fixture(scope="module")
def source() -> SyntheticSource:
    return SyntheticSource(SystemClock(), 320, 180, 10, "jpeg")


# --- the payload format ------------------------------------------------------------------------------------------


def test_a_frame_travels_as_rfc_2435_fragments_with_its_tables_in_the_first(source: SyntheticSource):
    data = encode(source, 0, threads=2)
    frame = jpeg.parse(data)
    payloads = jpeg.payloads(frame, mtu=1000)
    assert len(payloads) > 2
    assert all(len(p) <= 1000 for p, _ in payloads)
    assert [marker for _, marker in payloads] == [False] * (len(payloads) - 1) + [True]
    scan = b""
    for index, (payload, _) in enumerate(payloads):
        specific, offset_high, offset_low, kind, q, width, height = struct.unpack("!BBHBBBB", payload[:8])
        assert (specific, q, width, height) == (0, 255, 320 // 8, 184 // 8)  # 180 rows rounded up to whole 8s
        assert (offset_high << 16 | offset_low) == len(scan)
        assert kind == 1 + 64  # 4:2:0, with restart markers in the data
        interval, flags = struct.unpack("!HH", payload[8:12])
        assert (interval, flags) == (320 // 16, 0xFFFF)  # a restart per MCU row; F = L = 1, count 0x3FFF
        body = payload[12:]
        if index == 0:
            mbz, precision, length = struct.unpack("!BBH", body[:4])
            assert (mbz, precision, length) == (0, 0, 128)
            assert body[4:132] == frame.tables
            body = body[132:]
        scan += body
    assert scan == frame.scan
    assert data.endswith(scan + b"\xff\xd9")  # the entropy-coded data, all of it and nothing else, EOI left out
    dqt = data.index(b"\xff\xdb")
    assert frame.tables == data[dqt + 5 : dqt + 69] * 2  # FFmpeg's one table serves luma and chroma


def test_optimised_huffman_tables_are_re_encoded_into_a_jpeg_the_format_carries(source: SyntheticSource):
    data = encode(source, 3, threads=1)
    with pytest.raises(jpeg.Unsupported, match="Huffman"):
        jpeg.parse(data)
    carried = jpeg.carried(data)
    assert carried.type == 1  # 4:2:0, re-encoded without restart markers
    rebuilt = jpeg.reencode(data)
    assert jpeg.parse(rebuilt) == carried
    assert jpeg_time(rebuilt) == jpeg_time(data) == START + 3 * timedelta(seconds=0.1)
    assert jpeg.quantiser(data[data.index(b"\xff\xdb") + 5 :][:64]) == 11  # about the original's quality


@pytest.mark.parametrize(
    "data", [b"not a jpeg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01"], ids=["no-soi", "no-frame-or-scan"]
)
def test_what_is_not_a_whole_jpeg_is_refused(data: bytes):
    with pytest.raises(jpeg.JpegError):
        jpeg.parse(data)


def free_even_port() -> int:
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as first:
            first.bind(("127.0.0.1", 0))
            port = first.getsockname()[1]
            if port % 2:
                continue
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
            return int(port)
    raise OSError("no even/odd UDP port pair")


@needs_ffmpeg
@pytest.mark.parametrize("threads", [2, 1], ids=["restart-markers", "re-encoded"])
async def test_ffmpegs_rfc_2435_receiver_decodes_what_is_sent(source: SyntheticSource, tmp_path: Path, threads: int):
    """RTP straight to FFmpeg, described by an SDP file: it rebuilds each JPEG from the payload headers alone, so a
    wrong type, size, table or offset shows as a picture whose strip does not read back."""
    port = free_even_port()
    sdp = tmp_path / "jpeg.sdp"
    sdp.write_text(
        f"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=t\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        f"m=video {port} RTP/AVP 26\r\na=rtpmap:26 JPEG/90000\r\n"
    )
    out = tmp_path / "received.mkv"
    ffmpeg = await asyncio.create_subprocess_exec(
        *("ffmpeg", "-v", "error", "-protocol_whitelist", "file,udp,rtp", "-i", str(sdp)),
        *("-frames:v", "5", "-c", "copy", "-y", str(out)),
        stderr=asyncio.subprocess.PIPE,
    )
    sent: list[datetime] = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        for n in range(200):  # until FFmpeg has its frames (it starts listening some time after it starts)
            if ffmpeg.returncode is not None:
                break
            frame = jpeg.carried(encode(source, n, threads))
            for payload, marker in jpeg.payloads(frame):
                sender.sendto(rtp.rtp_packet(payload, n * 10, n * 9000, 0x1234, marker, 26), ("127.0.0.1", port))
            sent.append(START + n * timedelta(seconds=0.1))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ffmpeg.wait(), 0.05)
    if ffmpeg.returncode is None:
        ffmpeg.kill()
    _, stderr = await ffmpeg.communicate()
    assert ffmpeg.returncode == 0, stderr.decode()
    received = decode_times(out.read_bytes())
    assert len(received) == 5
    assert set(received) <= set(sent)
    assert all(a < b for a, b in itertools.pairwise(received))


# --- the camera ----------------------------------------------------------------------------------------------------


@pytest.mark.functional
@needs_ffmpeg
async def test_an_mjpeg_recording_plays_to_ffmpeg_frame_for_frame(shared_device, tmp_path: Path):
    camera = shared_device
    options = "videocodec=jpeg&resolution=320x180&fps=10"
    recording_id = cgi(camera, "record.cgi", diskid="SD_DISK", options=options).get("recordingid")
    wait_recorded(camera, recording_id, 2.0)
    assert cgi(camera, "stop.cgi", recordingid=recording_id).get("result") == "OK"
    recorded = [t for mkv in mkv_files(camera, recording_id) for t in decode_times(mkv.read_bytes())]

    player = await open_player(camera.host, camera.rtsp_port, f"recordingid={recording_id}")
    try:
        described = await player.request("DESCRIBE", {"Accept": "application/sdp"})
    finally:
        await player.close()
    assert described.status == 200
    lines = described.body.decode().split("\r\n")
    assert {"m=video 0 RTP/AVP 26", "a=rtpmap:26 JPEG/90000", "a=x-dimensions:320,180"} <= set(lines)
    assert any(line.startswith("a=range:npt=0.000-") and len(line) > len("a=range:npt=0.000-") for line in lines)

    out = tmp_path / "played.mkv"
    command = ["ffmpeg", "-v", "error", "-rtsp_transport", "tcp", "-i", playback_url(camera, recording_id)]
    done = await asyncio.to_thread(
        subprocess.run, [*command, "-c", "copy", str(out)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert len(recorded) >= 15
    assert decode_times(out.read_bytes()) == recorded


@pytest.mark.functional
@needs_ffmpeg
def test_live_mjpeg_plays_to_ffmpeg_over_udp(shared_device, tmp_path: Path):
    camera = shared_device
    out = tmp_path / "live.mkv"
    url = live_url(camera.host, camera.rtsp_port, "videocodec=jpeg&resolution=320x180&fps=10")
    began = datetime.now(UTC)
    command = ["ffmpeg", "-v", "error", "-rtsp_transport", "udp", "-i", url, "-frames:v", "10", "-c", "copy"]
    done = subprocess.run([*command, str(out)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    with av.open(str(out)) as container:
        assert container.streams.video[0].codec_context.name == "mjpeg"
    times = decode_times(out.read_bytes())
    assert len(times) == 10
    assert all(a < b for a, b in itertools.pairwise(times))
    assert began - timedelta(seconds=1) <= times[0] <= times[-1] <= datetime.now(UTC)
