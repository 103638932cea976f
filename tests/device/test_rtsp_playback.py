"""A recording plays back over RTSP (interleaved TCP or UDP) to FFmpeg: the recorded frames, in order, and nothing
else."""

from __future__ import annotations

import asyncio
import base64
import io
import itertools
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import pytest

from device.backfill import backfill
from device.rtsp import rtp
from device.rtsp.playback import Recording, from_keyframe, parameter_sets, read_block, start_block
from device.rtsp.sdp import h264_sdp
from device.storage.layout import RecordingMeta, VideoAttributes, make_token
from tests.conftest import _start
from tests.device.disk_client import get_xml, mkv_files, param_update
from tests.device.test_backfill import open_store
from tests.device.test_recorder import FPS, decode_times, frames, make_store, new_session
from tests.device.test_recording_api import cgi, wait_recorded
from tests.device.test_rtsp_core import RtspClient, digest_params, md5_authorization
from tests.support.device_process import SERIAL, VIEWER

STREAM = "/axis-media/media.amp"
needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="FFmpeg is not installed")


def playback_url(device, recording_id: str, user: str = VIEWER[0], password: str = VIEWER[1], pull: bool = True) -> str:
    query = f"recordingid={recording_id}" + ("&pull=1" if pull else "")
    return f"rtsp://{user}:{password}@{device.host}:{device.rtsp_port}{STREAM}?{query}"


def probe(url: str, transport: str = "tcp") -> subprocess.CompletedProcess[str]:
    command = [
        "ffprobe",
        "-v",
        "error",
        "-rtsp_transport",
        transport,
        "-show_entries",
        "stream=codec_name,width,height",
    ]
    return subprocess.run([*command, "-of", "csv=p=0", url], capture_output=True, text=True, timeout=30)


# --- rtp.py and sdp.py ------------------------------------------------------------------------------------------


def test_small_nal_units_travel_whole_and_large_ones_in_fu_a_fragments_that_reassemble():
    small = bytes([0x67]) + bytes(range(20))
    large = bytes([0x65]) + bytes(i % 251 for i in range(5000))
    payloads = rtp.access_unit_payloads([small, large], mtu=1400)
    assert payloads[0] == (small, False)
    fragments = [p for p, _ in payloads[1:]]
    assert len(fragments) == 4
    assert all(len(p) <= 1400 for p in fragments)
    assert all(p[0] & 0x1F == rtp.FU_A and p[0] & 0xE0 == 0x60 for p in fragments)
    assert [p[1] & 0xC0 for p in fragments] == [0x80, 0, 0, 0x40]
    assert [marker for _, marker in payloads] == [False, False, False, False, True]
    assert rtp.reassemble([p for p, _ in payloads]) == [small, large]


def test_annex_b_splits_on_three_and_four_byte_start_codes():
    unit = b"\x00\x00\x00\x01\x67\x42\x00\x00\x01\x68\xce\x00\x00\x00\x01\x65\x88"
    assert rtp.split_annex_b(unit) == [b"\x67\x42", b"\x68\xce", b"\x65\x88"]
    assert rtp.split_annex_b(rtp.annex_b([b"\x67\x42", b"\x65\x88"])) == [b"\x67\x42", b"\x65\x88"]


def test_rtp_headers_wrap_sequence_and_timestamp_and_carry_the_marker():
    packet = rtp.rtp_packet(b"xy", 0x1FFFF, (1 << 32) + 5, 0xABCDEF01, True)
    assert packet[0] == 0x80
    assert packet[1] == 0x80 | 96
    assert rtp.parse_rtp(packet) == (0xFFFF, 5, 0xABCDEF01, True, b"xy")
    wrapped = rtp.rtp_packet(b"", 0x10000, 0, 1, False)
    assert rtp.parse_rtp(wrapped)[0] == 0
    assert not rtp.parse_rtp(wrapped)[3]


def test_rtcp_sender_report_and_bye_form_a_compound_packet_framed_interleaved():
    compound = rtp.sender_report(7, 1_700_000_000.5, 1234, 10, 5000) + rtp.bye(7)
    kinds = [(kind, len(packet)) for kind, packet in rtp.rtcp_packets(compound)]
    assert kinds == [(200, 28), (203, 8)]
    ntp = int.from_bytes(compound[8:16], "big")
    assert ntp >> 32 == 1_700_000_000 + 2_208_988_800
    assert ntp & 0xFFFFFFFF == 1 << 31
    framed = rtp.interleaved(1, compound)
    assert framed[:4] == b"$\x01\x00\x24"
    assert framed[4:] == compound


def test_sdp_names_h264_with_the_parameter_sets_and_the_recording_range():
    sps, pps = b"\x67\x64\x00\x16\xac", b"\x68\xee\x3c\x80"
    text = h264_sdp("rtsp://h/axis-media/media.amp?recordingid=R", "rtsp://h/t?recordingid=R", sps, pps, 3.25, 42)
    lines = text.split("\r\n")
    assert lines[0] == "v=0"
    assert "m=video 0 RTP/AVP 96" in lines
    assert "a=rtpmap:96 H264/90000" in lines
    assert "a=range:npt=0.000-3.250" in lines
    assert "a=control:rtsp://h/t?recordingid=R" in lines
    fmtp = next(line for line in lines if line.startswith("a=fmtp:96 "))
    assert "packetization-mode=1" in fmtp
    assert "profile-level-id=640016" in fmtp
    sprop = fmtp.split("sprop-parameter-sets=")[1]
    assert [base64.b64decode(p) for p in sprop.split(",")] == [sps, pps]
    assert "a=range:npt=0.000-\r\n" in h264_sdp("u", "t", sps, pps, None, 1)


# --- the camera --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def recorded(shared_device):
    """The module's camera with one finished 640x360 H.264 recording of about 3 s, in two blocks (split at the
    key frame after 1 s: the one at 2 s), so playback crosses a block boundary."""
    camera = shared_device
    param_update(camera, **{"root.Recording.DefaultSplitDuration": "1"})
    started = cgi(camera, "record.cgi", diskid="SD_DISK", options="resolution=640x360&fps=15")
    recording_id = started.get("recordingid")
    wait_recorded(camera, recording_id, 3.0)
    assert cgi(camera, "stop.cgi", recordingid=recording_id).get("result") == "OK"
    assert len(mkv_files(camera, recording_id)) >= 2
    return camera, recording_id


@pytest.mark.functional
@needs_ffmpeg
@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_ffprobe_sees_the_recording_as_h264_640x360(recorded, transport: str):
    camera, recording_id = recorded
    done = probe(playback_url(camera, recording_id), transport)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["h264,640,360"]


@pytest.mark.functional
@needs_ffmpeg
@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_ffmpeg_copies_exactly_the_recorded_frames_in_order(recorded, tmp_path: Path, transport: str):
    """Over UDP `pull=1` is not honoured (nothing would slow the camera down to what the client reads), so this
    plays in real time there."""
    camera, recording_id = recorded
    recorded_times = [t for mkv in mkv_files(camera, recording_id) for t in decode_times(mkv.read_bytes())]
    out = tmp_path / "played.mkv"
    url = playback_url(camera, recording_id)
    command = ["ffmpeg", "-v", "error", "-rtsp_transport", transport, "-i", url]
    done = subprocess.run([*command, "-c", "copy", str(out)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    played = decode_times(out.read_bytes())
    assert len(recorded_times) >= 40
    assert abs(len(played) - len(recorded_times)) <= 2
    assert played == sorted(played)
    assert (played[0], played[-1]) == (recorded_times[0], recorded_times[-1])


@pytest.mark.functional
@needs_ffmpeg
def test_real_time_playback_from_a_range_starts_at_the_key_frame_before_it(recorded, tmp_path: Path):
    camera, recording_id = recorded
    recorded_times = [t for mkv in mkv_files(camera, recording_id) for t in decode_times(mkv.read_bytes())]
    out = tmp_path / "tail.mkv"
    url = playback_url(camera, recording_id, pull=False)
    command = ["ffmpeg", "-v", "error", "-rtsp_transport", "tcp", "-ss", "2", "-i", url, "-c", "copy", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    played = decode_times(out.read_bytes())
    assert played
    assert played[-1] == recorded_times[-1]
    offset = (played[0] - recorded_times[0]).total_seconds()
    assert 0 < offset <= 2.01, offset


@pytest.mark.functional
@needs_ffmpeg
def test_an_unknown_recording_is_404_and_a_wrong_password_401(recorded):
    camera, _recording_id = recorded
    unknown = probe(playback_url(camera, "20240101_000000_0000_ACCC8E000001"))
    assert unknown.returncode != 0
    assert "404" in unknown.stderr, unknown.stderr
    _, recording_id = recorded
    wrong = probe(playback_url(camera, recording_id, password="not-the-password"))
    assert wrong.returncode != 0
    assert "401" in wrong.stderr, wrong.stderr


def h265_clip(seconds: int) -> bytes:
    """Real H.265 in Matroska, 160x90 at 10 fps: what an Axis camera set to H.265 leaves on its card."""
    out = io.BytesIO()
    with av.open(out, "w", format="matroska") as container:
        stream = container.add_stream("libx265", rate=10)
        stream.width, stream.height, stream.pix_fmt = 160, 90, "yuv420p"
        stream.options = {"preset": "ultrafast", "x265-params": "log-level=error"}
        for n in range(seconds * 10):
            picture = av.VideoFrame(160, 90, "yuv420p")
            for plane in picture.planes:
                plane.update(bytes([(n * 9) % 200 + 16]) * plane.buffer_size)
            picture.pts = n
            container.mux(stream.encode(picture))
        container.mux(stream.encode(None))
    return out.getvalue()


@pytest.fixture(scope="module")
def h265_recording(tmp_path_factory):
    """A camera whose card holds a finished H.265 recording of 2 s, written through the store before it starts."""
    data = tmp_path_factory.mktemp("camera-with-h265")
    backfill(data, 0, serial=SERIAL)  # lays out the data dir: identity, params, a formatted card
    store = open_store(data)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    video = VideoAttributes(160, 90, "10:1", "video/x-h265")
    meta = RecordingMeta(make_token(start, store.zone, store.serial), "1", start, video=video)
    try:
        recording = store.begin_recording(meta)
        block = recording.begin_block(start)
        block.write(h265_clip(2))
        block.close(start + timedelta(seconds=2))
        recording.finish(start + timedelta(seconds=2))
    finally:
        store.close()
    camera = _start(data, [])
    yield camera, meta.id
    camera.stop()


@pytest.mark.functional
async def test_an_h265_recording_is_listed_but_refused_over_rtsp_as_unsupported_media(h265_recording):
    """415 Unsupported Media Type, with the reason, at DESCRIBE and at a SETUP sent without one (ffmpeg and
    GStreamer describe first; a client that knows the track URL need not)."""
    camera, recording_id = h265_recording
    listed = get_xml(camera, "/axis-cgi/record/list.cgi", recordingid=recording_id).find(".//recording/video")
    assert listed.get("mimetype") == "video/x-h265"  # the camera has it, and says what it is
    client = await RtspClient.connect(camera)
    try:
        url = f"rtsp://{camera.host}:{camera.rtsp_port}{STREAM}?recordingid={recording_id}"
        signed = await playback_signer(client, url)
        described = await signed("DESCRIBE", url, {"Accept": "application/sdp"})
        track = f"rtsp://{camera.host}:{camera.rtsp_port}{STREAM}/trackID=1?recordingid={recording_id}"
        set_up = await signed("SETUP", track, {"Transport": "RTP/AVP/TCP;unicast;interleaved=0-1"})
    finally:
        await client.close()
    for reply in (described, set_up):
        assert (reply.status, reply.reason) == (415, "Unsupported Media Type")
        assert "video/x-h265" in reply.body.decode()
        assert reply.header("Session") is None  # no session was made


async def playback_signer(client, url: str):
    """A function that signs requests on `client` as the viewer, answering the Digest challenge that a first
    DESCRIBE gets."""
    challenge = digest_params((await client.request("DESCRIBE", url)).header("WWW-Authenticate") or "")

    async def signed(method: str, target: str, headers: dict[str, str] | None = None):
        authorization = md5_authorization(*VIEWER, challenge, method, target)
        return await client.request(method, target, {"Authorization": authorization, **(headers or {})})

    return signed


@pytest.mark.functional
async def test_a_session_over_one_connection_streams_every_frame_between_sender_report_and_bye(recorded):
    camera, recording_id = recorded
    recorded_count = sum(len(decode_times(mkv.read_bytes())) for mkv in mkv_files(camera, recording_id))
    client = await RtspClient.connect(camera)
    try:
        url = f"rtsp://{camera.host}:{camera.rtsp_port}{STREAM}?recordingid={recording_id}&pull=1"
        signed = await playback_signer(client, url)

        described = await signed("DESCRIBE", url, {"Accept": "application/sdp"})
        assert described.status == 200
        assert described.header("Content-Type") == "application/sdp"
        assert described.header("Content-Base") == f"rtsp://{camera.host}:{camera.rtsp_port}{STREAM}/"
        track = next(line[10:] for line in described.body.decode().split("\r\n")[8:] if line.startswith("a=control:"))
        assert f"recordingid={recording_id}" in track
        assert (await signed("SETUP", track, {"Transport": "RTP/AVP;multicast;port=5000-5001"})).status == 461
        assert (await signed("PLAY", url, {"Session": "12345678"})).status == 454
        setup = await signed("SETUP", track, {"Transport": "RTP/AVP/TCP;unicast;interleaved=2-3"})
        assert setup.status == 200
        assert (setup.header("Transport") or "").startswith("RTP/AVP/TCP;unicast;interleaved=2-3")
        session, timeout = (setup.header("Session") or "").split(";")
        assert timeout == "timeout=60"
        assert (await signed("GET_PARAMETER", url, {"Session": session})).status == 200
        await client.send_raw(rtp.interleaved(3, rtp.bye(1)))  # a client's RTCP is read and dropped
        play = await signed("PLAY", url, {"Session": session, "Range": "npt=0.000-"})
        assert play.status == 200
        played_range = play.header("Range") or ""
        assert played_range.startswith("npt=")
        # From the first frame, captured within a frame of the recording start (record.cgi's moment), not at it.
        assert 0 <= float(played_range[4:].split("-")[0]) < 1 / 15
        rtp_info = dict(p.split("=", 1) for p in (play.header("RTP-Info") or "").split(";"))
        channels, payloads, markers, sequences, timestamps = [], [], [], [], []
        while True:
            head = await asyncio.wait_for(client.reader.readexactly(4), 5)
            assert head[:1] == b"$"
            packet = await client.reader.readexactly(int.from_bytes(head[2:4], "big"))
            channels.append(head[1])
            if head[1] == 3:
                kinds = [kind for kind, _ in rtp.rtcp_packets(packet)]
                if 203 in kinds:
                    break
                assert kinds == [200]
                continue
            sequence, timestamp, _ssrc, marker, payload = rtp.parse_rtp(packet)
            payloads.append(payload)
            markers.append(marker)
            sequences.append(sequence)
            timestamps.append(timestamp)
        assert channels[0] == 3  # a sender report comes first
        assert sequences[0] == int(rtp_info["seq"])
        assert timestamps[0] == int(rtp_info["rtptime"])
        assert all((b - a) & 0xFFFF == 1 for a, b in itertools.pairwise(sequences))
        assert markers[-1]
        assert sum(markers) == recorded_count
        assert len(set(timestamps)) == recorded_count
        nal_types = [nal[0] & 0x1F for nal in rtp.reassemble(payloads)]
        assert nal_types[:2] == [7, 8] or 7 in nal_types[:4]
        assert (await signed("TEARDOWN", url, {"Session": session})).status == 200
        assert (await signed("GET_PARAMETER", url, {"Session": session})).status == 454
    finally:
        await client.close()


@pytest.mark.functional
async def test_play_from_a_wall_clock_time_answers_in_clock_time_from_the_key_frame_before_it(recorded):
    camera, recording_id = recorded
    entry = get_xml(camera, "/axis-cgi/record/list.cgi", recordingid=recording_id).find(".//recording")
    start = datetime.fromisoformat(entry.get("starttime"))
    asked = start + timedelta(seconds=2.5)
    client = await RtspClient.connect(camera)
    try:
        url = f"rtsp://{camera.host}:{camera.rtsp_port}{STREAM}?recordingid={recording_id}&pull=1"
        signed = await playback_signer(client, url)

        described = await signed("DESCRIBE", url, {"Accept": "application/sdp"})
        track = next(line[10:] for line in described.body.decode().split("\r\n") if line.startswith("a=control:"))
        setup = await signed("SETUP", track, {"Transport": "RTP/AVP/TCP;unicast;interleaved=0-1"})
        session = (setup.header("Session") or "").split(";")[0]
        play = await signed("PLAY", url, {"Session": session, "Range": f"clock={asked:%Y%m%dT%H%M%S.%f}"[:-3] + "Z-"})
        assert play.status == 200
        reply = play.header("Range") or ""
        assert reply.startswith("clock=")
        first = datetime.strptime(reply[6:].split("-")[0], "%Y%m%dT%H%M%S.%fZ").replace(tzinfo=UTC)
        assert start <= first <= asked  # the key frame at or before the asked time
        assert asked - first < timedelta(seconds=2.1)  # key frames come every 2 s
    finally:
        await client.close()


@pytest.mark.functional
async def test_a_recording_id_in_quotes_as_the_rtsp_docs_write_it_names_the_same_recording(recorded):
    """The RTSP API's example 7 quotes the ID (WIRE.md §7): ``recordingid="myrecording"``; play.cgi takes the same
    form, through the same helper."""
    camera, recording_id = recorded
    client = await RtspClient.connect(camera)
    try:
        base = f"rtsp://{camera.host}:{camera.rtsp_port}{STREAM}"
        plain, quoted = f"{base}?recordingid={recording_id}", f'{base}?recordingid="{recording_id}"'
        signed = await playback_signer(client, quoted)
        described = [await signed("DESCRIBE", url, {"Accept": "application/sdp"}) for url in (plain, quoted)]
        assert [d.status for d in described] == [200, 200]
        ranges = [[line for line in d.body.decode().split("\r\n") if line.startswith("a=range:")] for d in described]
        assert ranges[0] == ranges[1]
        (finished,) = ranges[0]
        assert finished.startswith("a=range:npt=0.000-")
        assert finished != "a=range:npt=0.000-"  # the recording's own length: it was found
        unknown = await signed("DESCRIBE", f'{base}?recordingid="20240101_000000_0000_ACCC8E000001"')
        assert unknown.status == 404
    finally:
        await client.close()


# --- playback.py on a store --------------------------------------------------------------------------------------


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
def test_a_recording_reads_back_block_by_block_as_annex_b_in_recording_time(tmp_path: Path, encrypted: bool):
    store = make_store(tmp_path / "card", encrypted)
    session = new_session(store, split=1)
    for frame in frames(3.2):
        session.feed(frame)
    session.finish()
    [meta] = [m for m, _dir, _locked in store.index.recordings()]
    recording = Recording(meta, store, store.index.blocks(session.recording_id))
    assert len(recording.blocks) == 2  # split at the first key frame after a second: every 2 s
    read = [f for block in recording.blocks for f in read_block(recording, block)]
    assert len(read) == 48
    assert [round(f.time * FPS) for f in read] == list(range(48))
    assert all(f.data.startswith(b"\x00\x00\x00\x01") for f in read)
    assert read[0].keyframe
    sps, pps = parameter_sets(recording)
    assert (sps[0] & 0x1F, pps[0] & 0x1F) == (7, 8)
    later = start_block(recording, 2.5)
    assert recording.block_offset(recording.blocks[later]) <= 2.5
    tail = from_keyframe(read_block(recording, recording.blocks[later]), 2.5)
    assert tail[0].keyframe
    assert tail[0].time <= 2.5
    assert tail[-1].time == read[-1].time


@pytest.mark.functional
@needs_ffmpeg
def test_stream_parameters_real_clients_add_to_a_recording_url_are_tolerated(recorded):
    """Clients built for live view send their stream parameters along (WIRE.md §7); a recording plays as recorded."""
    camera, recording_id = recorded
    extra = "&videocodec=h264&resolution=1920x1080&timestamp=1700000000&Axis-Orig-Sw=true&fps=abc"
    done = probe(playback_url(camera, recording_id) + extra, "tcp")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["h264,640,360"]
