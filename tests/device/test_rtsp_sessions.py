"""RTSP sessions beyond one straight play: seeking, ranges with a stop, PAUSE and resume, Scale, UDP sessions that
outlive their control connection, and sessions that expire. A real camera process, real sockets, real FFmpeg."""

from __future__ import annotations

import asyncio
import itertools
import re
import struct
import subprocess
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import cast

import av
import pytest

from device.media import timestrip
from device.rtsp import rtp
from device.rtsp.ranges import parse_range
from tests.device.disk_client import get_xml, mkv_files, param_update
from tests.device.test_recorder import FPS, decode_times
from tests.device.test_recording_api import cgi, wait_recorded
from tests.device.test_rtsp_core import Reply, RtspClient, digest_params, md5_authorization
from tests.device.test_rtsp_playback import needs_ffmpeg, playback_url
from tests.support.device_process import VIEWER

pytestmark = pytest.mark.functional

STREAM = "/axis-media/media.amp"
SR, BYE = 200, 203
SLACK = 0.002  # the reply's Range has milliseconds
GOP = 2 * FPS
"""Frames from one key frame to the next: the recorded frames 0, 30, 60 and 90 are key frames."""
TOLERANCE = 3 * rtp.CLOCK_RATE // 1000
"""How far a frame's RTP time may be from its capture time, in ticks: both are whole milliseconds, rounded apart,
a block's start adds a fraction, and the reply's Range has milliseconds. A frame lasts 22 times as long."""


@dataclass(frozen=True)
class Recorded:
    camera: object
    recording_id: str
    start: datetime
    times: list[datetime]
    """Every frame's capture time, read from the recording's own blocks."""

    def assert_played(self, frames: list[int], first_time: float, within: int = TOLERANCE) -> int:
        """`frames` (RTP timestamps, one per access unit) are recorded frames one after the other, each once and
        none left out, as their capture times show; the index of the first one in the recording. `first_time`
        (seconds from the recording start, from the PLAY reply's Range) says which is first, to `within` ticks
        (smpte has 1/30 s)."""
        ticks = [round((t - self.start).total_seconds() * rtp.CLOCK_RATE) for t in self.times]
        anchor = round(first_time * rtp.CLOCK_RATE)
        starts = [i for i, t in enumerate(ticks) if abs(t - anchor) <= within]
        assert len(starts) == 1, (first_time, starts)
        run = [t - ticks[starts[0]] for t in ticks[starts[0] : starts[0] + len(frames)]]
        played = [(f - frames[0]) & 0xFFFFFFFF for f in frames]
        assert len(run) == len(played)
        assert all(abs(t - p) <= TOLERANCE for t, p in zip(run, played, strict=True)), (played, run)
        return starts[0]

    def seconds(self, index: int) -> float:
        """Frame `index`'s capture time in seconds from the recording start."""
        return (self.times[index] - self.start).total_seconds()


@pytest.fixture(scope="module")
def recorded(shared_device) -> Recorded:
    """The module's camera with one finished 640x360 H.264 recording of about 6 s: key frames every 2 s, a block
    from each (split duration 1 s), so seeks and resumes cross blocks."""
    camera = shared_device
    param_update(camera, **{"root.Recording.DefaultSplitDuration": "1"})
    started = cgi(camera, "record.cgi", diskid="SD_DISK", options="resolution=640x360&fps=15")
    recording_id = started.get("recordingid")
    wait_recorded(camera, recording_id, 6.0)
    assert cgi(camera, "stop.cgi", recordingid=recording_id).get("result") == "OK"
    assert len(mkv_files(camera, recording_id)) >= 3
    entry = get_xml(camera, "/axis-cgi/record/list.cgi", recordingid=recording_id).find(".//recording")
    times = [t for mkv in mkv_files(camera, recording_id) for t in decode_times(mkv.read_bytes())]
    return Recorded(camera, recording_id, datetime.fromisoformat(entry.get("starttime")), times)


# --- a raw player ------------------------------------------------------------------------------------------------


@dataclass
class Packet:
    channel: int
    """Interleaved: the channel. UDP: 0 for RTP, 1 for RTCP."""
    data: bytes
    at: float
    source: int = 0
    """UDP: the port it came from."""


def strip_time(access_unit: bytes) -> datetime:
    """The capture time painted into one H.264 key frame (Annex B)."""
    codec = av.CodecContext.create("h264", "r")
    pictures = codec.decode(av.Packet(access_unit)) + codec.decode(None)
    luma = pictures[0].planes[0]
    millis = timestrip.read_strip(bytes(luma), pictures[0].width, pictures[0].height, luma.line_size)
    return timestrip.from_millis(millis)


def is_bye(packet: Packet) -> bool:
    return packet.channel % 2 == 1 and BYE in [kind for kind, _ in rtp.rtcp_packets(packet.data)]


@dataclass
class Played:
    """What the RTP packets among `packets` say."""

    sequences: list[int] = field(default_factory=list)
    timestamps: list[int] = field(default_factory=list)
    ssrcs: set[int] = field(default_factory=set)
    frames: list[int] = field(default_factory=list)
    """The RTP timestamp of each whole access unit (the marker ends one)."""

    @classmethod
    def of(cls, packets: list[Packet]) -> Played:
        played = cls()
        for packet in packets:
            if packet.channel % 2:
                continue
            sequence, timestamp, ssrc, marker, _payload = rtp.parse_rtp(packet.data)
            played.sequences.append(sequence)
            played.timestamps.append(timestamp)
            played.ssrcs.add(ssrc)
            if marker:
                played.frames.append(timestamp)
        return played

    def assert_in_sequence(self) -> None:
        """Every packet once, in order: no sequence number repeats or is left out."""
        assert all((b - a) & 0xFFFF == 1 for a, b in itertools.pairwise(self.sequences)), self.sequences


def rtp_info(reply: Reply) -> dict[str, str]:
    return dict(part.split("=", 1) for part in (reply.header("RTP-Info") or "").split(";") if "=" in part)


class Player:
    """One RTSP connection signed in as the viewer. It sends without waiting, and reads replies and interleaved
    packets in the order they come, keeping the packets."""

    def __init__(self, client: RtspClient, url: str, challenge: dict[str, str]) -> None:
        self.client, self.url, self.challenge = client, url, challenge
        self.track = url.replace(STREAM + "?", STREAM + "/trackID=1?")
        self.packets: list[Packet] = []

    @classmethod
    async def open(cls, recorded: Recorded, pull: bool = False) -> Player:
        camera = recorded.camera
        client = await RtspClient.connect(camera)
        query = f"recordingid={recorded.recording_id}" + ("&pull=1" if pull else "")
        url = f"rtsp://{camera.host}:{camera.rtsp_port}{STREAM}?{query}"  # type: ignore[attr-defined]
        challenge = digest_params((await client.request("DESCRIBE", url)).header("WWW-Authenticate") or "")
        return cls(client, url, challenge)

    async def close(self) -> None:
        await self.client.close()

    async def send(
        self, method: str, headers: dict[str, str] | None = None, target: str | None = None, body: bytes = b""
    ) -> None:
        target = target or self.url
        self.client.cseq += 1
        authorization = md5_authorization(*VIEWER, self.challenge, method, target)
        lines = [f"{method} {target} RTSP/1.0", f"CSeq: {self.client.cseq}", f"Authorization: {authorization}"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        if body:
            lines.append(f"Content-Length: {len(body)}")
        await self.client.send_raw(("\r\n".join(lines) + "\r\n\r\n").encode() + body)

    async def next(self, timeout: float = 5.0) -> Reply | Packet:
        reader = self.client.reader
        first = await asyncio.wait_for(reader.readexactly(1), timeout)
        if first == b"$":
            head = await reader.readexactly(3)
            data = await reader.readexactly(int.from_bytes(head[1:3], "big"))
            packet = Packet(head[0], data, asyncio.get_running_loop().time())
            self.packets.append(packet)
            return packet
        text = (first + await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)).decode()
        status_line, *header_lines = text.split("\r\n")
        version, status, reason = status_line.split(" ", 2)
        headers = [(k.strip(), v.strip()) for k, _, v in (line.partition(":") for line in header_lines if line)]
        reply = Reply(version, int(status), reason, headers, b"")
        length = int(reply.header("Content-Length") or 0)
        reply.body = await reader.readexactly(length) if length else b""
        return reply

    async def request(
        self, method: str, headers: dict[str, str] | None = None, target: str | None = None, body: bytes = b""
    ) -> Reply:
        """Send, then read up to the reply; packets before it are kept."""
        await self.send(method, headers, target, body)
        while not isinstance(item := await self.next(), Reply):
            pass
        return item

    async def setup(self, transport: str = "RTP/AVP/TCP;unicast;interleaved=0-1") -> tuple[str, Reply]:
        reply = await self.request("SETUP", {"Transport": transport}, self.track)
        assert reply.status == 200, reply
        return (reply.header("Session") or "").split(";")[0], reply

    async def until_bye(self, timeout: float = 10.0) -> float:
        """Read until the RTCP BYE; the time it came."""
        while True:
            item = await self.next(timeout)
            assert isinstance(item, Packet), item
            if is_bye(item):
                return item.at


class UdpPorts(asyncio.DatagramProtocol):
    """A client's RTP and RTCP ports (even and odd), keeping what arrives."""

    def __init__(self) -> None:
        self.channel = 0
        self.packets: list[Packet] = []
        self.arrived = asyncio.Event()
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.packets.append(Packet(self.channel, data, asyncio.get_running_loop().time(), addr[1]))
        self.arrived.set()

    @classmethod
    async def open(cls) -> tuple[UdpPorts, UdpPorts]:
        loop = asyncio.get_running_loop()
        for _ in range(50):
            rtp_transport, rtp_end = await loop.create_datagram_endpoint(cls, local_addr=("127.0.0.1", 0))
            port = rtp_transport.get_extra_info("sockname")[1]
            if port % 2 == 0:
                try:
                    _, rtcp_end = await loop.create_datagram_endpoint(cls, local_addr=("127.0.0.1", port + 1))
                except OSError:
                    pass
                else:
                    rtcp_end.channel = 1
                    rtcp_end.packets = rtp_end.packets  # one list, in arrival order
                    rtcp_end.arrived = rtp_end.arrived
                    return rtp_end, rtcp_end
            rtp_transport.close()
        raise OSError("no even/odd port pair")

    @property
    def port(self) -> int:
        assert self.transport is not None
        port: int = self.transport.get_extra_info("sockname")[1]
        return port

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    async def wait(self, condition, timeout: float = 5.0) -> None:
        async def waiting() -> None:
            while not condition(self.packets):
                self.arrived.clear()
                await self.arrived.wait()

        await asyncio.wait_for(waiting(), timeout)


# --- seeking with FFmpeg -----------------------------------------------------------------------------------------


@needs_ffmpeg
def test_ffmpeg_seeking_5_s_in_gets_the_tail_from_the_key_frame_before_it(recorded: Recorded, tmp_path: Path):
    out = tmp_path / "tail.mkv"
    url = playback_url(recorded.camera, recorded.recording_id)
    command = ["ffmpeg", "-v", "error", "-rtsp_transport", "tcp", "-ss", "5", "-i", url, "-c", "copy", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    played = decode_times(out.read_bytes())
    assert played
    assert played[0] == recorded.times[2 * GOP]  # the key frame at 4 s, the last one before 5 s
    assert played[-1] == recorded.times[-1]
    assert abs(len(played) - len(recorded.times[2 * GOP :])) <= 1


# --- a range with a stop -----------------------------------------------------------------------------------------


def clock(moment: datetime) -> str:
    return f"{moment:%Y%m%dT%H%M%S.%f}"[:-3] + "Z"


@pytest.mark.parametrize("unit", ["npt", "clock", "smpte"])
async def test_a_range_with_a_stop_ends_with_the_last_frame_before_it_and_a_bye(recorded: Recorded, unit: str):
    start, stop = 2.5, 4.5
    asked = {
        "npt": f"npt={start}-{stop}",
        "clock": f"clock={clock(recorded.start + timedelta(seconds=start))}-"
        f"{clock(recorded.start + timedelta(seconds=stop))}",
        "smpte": "smpte=0:00:02:15-0:00:04:15",
    }[unit]
    player = await Player.open(recorded, pull=True)
    try:
        session, _ = await player.setup()
        play = await player.request("PLAY", {"Session": session, "Range": asked})
        assert play.status == 200
        said = play.header("Range") or ""
        assert said.startswith(f"{unit}=")
        answered = parse_range(said, recorded.start)
        assert answered.stop == pytest.approx(stop, abs=SLACK)
        assert answered.start <= start
        await player.until_bye()
        played = Played.of(player.packets)
        played.assert_in_sequence()
        assert played.frames[0] == int(rtp_info(play)["rtptime"])
        within = rtp.CLOCK_RATE // 60 + TOLERANCE if unit == "smpte" else TOLERANCE
        assert recorded.assert_played(played.frames, answered.start, within) == GOP  # the key frame at 2 s
        last = GOP + len(played.frames) - 1
        assert recorded.seconds(last) <= stop + SLACK < recorded.seconds(last + 1) + 2 * SLACK
        assert player.packets[-1].channel == 1  # nothing after the BYE
    finally:
        await player.close()


async def test_a_stop_before_the_start_or_a_start_past_the_end_is_an_invalid_range(recorded: Recorded):
    player = await Player.open(recorded, pull=True)
    try:
        session, _ = await player.setup()
        assert (await player.request("PLAY", {"Session": session, "Range": "npt=3-2"})).status == 457
        assert (await player.request("PLAY", {"Session": session, "Range": "npt=600-"})).status == 457
        assert not player.packets
    finally:
        await player.close()


def in_zone(moment: datetime, offset: str, extended: bool = False) -> str:
    """`moment` as a clock time written at UTC offset `offset` (``+0200``, ``-05:00``, ``Z``), in the basic form
    VAPIX uses or the ISO 8601 extended one."""
    sign, digits = (1, "0000") if offset == "Z" else (-1 if offset[0] == "-" else 1, offset[1:].replace(":", ""))
    local = moment + sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
    text = f"{local:%Y-%m-%dT%H:%M:%S.%f}"[:-3] if extended else f"{local:%Y%m%dT%H%M%S.%f}"[:-3]
    return text + offset


def first_access_unit(packets: list[Packet]) -> list[bytes]:
    """The NAL units of the first whole access unit among the RTP `packets`."""
    unit = []
    for packet in packets:
        if packet.channel % 2 == 0:
            _sequence, _timestamp, _ssrc, marker, payload = rtp.parse_rtp(packet.data)
            unit.append(payload)
            if marker:
                return rtp.reassemble(unit)
    raise AssertionError("no whole access unit")


@pytest.mark.parametrize(
    ("form", "asked", "key"),
    [
        ("npt-hhmmss", 4.5, 2 * GOP),
        ("clock+0200", 2.5, GOP),
        ("clock+02:00", 2.5, GOP),
        ("clock-extended-05:00", 4.5, 2 * GOP),
        ("clock-extended-Z", 2.5, GOP),
        ("smpte-25", 2.48, GOP),
        ("smpte-30-drop", 4.5045, 2 * GOP),
    ],
)
async def test_a_seek_written_any_way_the_rfc_and_vapix_allow_lands_on_the_key_frame_before_it(
    recorded: Recorded, form: str, asked: float, key: int
):
    """Half a second from the asked time, in the unit asked; the first picture is the key frame at or before it,
    as its time strip shows, and the reply says so in the same unit."""
    begin, end = recorded.start + timedelta(seconds=asked), recorded.start + timedelta(seconds=asked + 0.5)
    header = {
        "npt-hhmmss": f"npt=0:00:{asked:04.1f}-0:00:{asked + 0.5:04.1f}",
        "clock+0200": f"clock={in_zone(begin, '+0200')}-{in_zone(end, '+0200')}",
        "clock+02:00": f"clock={in_zone(begin, '+02:00')}-",
        "clock-extended-05:00": f"clock={in_zone(begin, '-05:00', True)}-{in_zone(end, '-05:00', True)}",
        "clock-extended-Z": f"clock={in_zone(begin, 'Z', True)}-{in_zone(end, 'Z')}",
        "smpte-25": "smpte-25=0:00:02:12-0:00:02:24",
        "smpte-30-drop": "smpte-30-drop=0:00:04:15-0:00:05:00",  # frame 135 at 29.97 fps: 4.5045 s
    }[form]
    unit = header.split("=", 1)[0]
    player = await Player.open(recorded, pull=True)
    try:
        session, _ = await player.setup()
        play = await player.request("PLAY", {"Session": session, "Range": header})
        assert play.status == 200, play.body
        said = play.header("Range") or ""
        assert said.startswith(f"{unit}="), said  # the unit asked, drop-frame and offset forms included
        answered = parse_range(said, recorded.start)
        await player.until_bye()
    finally:
        await player.close()
    played = Played.of(player.packets)
    played.assert_in_sequence()
    within = rtp.CLOCK_RATE // 50 + TOLERANCE if unit.startswith("smpte") else TOLERANCE  # half a frame of 25
    assert recorded.assert_played(played.frames, answered.start, within) == key
    assert answered.start <= asked + SLACK
    nals = first_access_unit(player.packets)
    assert {5, 7, 8} <= {nal[0] & 0x1F for nal in nals}  # an IDR with its parameter sets
    assert strip_time(rtp.annex_b(nals)) == recorded.times[key]


@pytest.mark.parametrize(
    "header",
    [
        "utc=20240621T071735Z-",  # a unit not offered
        "clock=garbage-",
        "clock=yesterday-",
        "clock=20240621T071735-",  # no zone: camera-local or UTC?
        "clock=20240621T1071735Z-",  # three-digit hours
        "npt=1-soon",
        "npt=2-1",
        "smpte=0:00:01:30-",  # smpte counts frames 0 to 29
    ],
)
async def test_a_range_the_camera_cannot_read_is_refused_and_the_play_goes_on_as_it_was(recorded: Recorded, header):
    """457 Invalid Range with the reason, while the play already under way carries on untouched: no seek to
    the start instead, no frame skipped or sent twice."""
    player = await Player.open(recorded)  # real time: the play is still going when the bad seek comes
    try:
        session, _ = await player.setup()
        refused_first = await player.request("PLAY", {"Session": session, "Range": header})
        assert not player.packets  # nothing was played instead
        play = await player.request("PLAY", {"Session": session, "Range": "npt=0-1.2"})
        assert play.status == 200
        while len(Played.of(player.packets).frames) < 4:
            await player.next()
        refused = await player.request("PLAY", {"Session": session, "Range": header})
        await player.until_bye()
    finally:
        await player.close()
    for reply in (refused_first, refused):
        assert (reply.status, reply.reason) == (457, "Invalid Range")
        assert reply.header("Session") == session
        assert reply.body.strip()  # says why
    played = Played.of(player.packets)
    played.assert_in_sequence()
    assert recorded.assert_played(played.frames, parse_range(play.header("Range"), recorded.start).start) == 0
    last = len(played.frames) - 1
    assert recorded.seconds(last) <= 1.2 + SLACK < recorded.seconds(last + 1) + 2 * SLACK  # to the stop asked


# --- requests a session refuses ----------------------------------------------------------------------------------


async def test_a_new_transport_is_refused_while_playing_and_taken_while_paused(recorded: Recorded):
    """455 Method Not Valid in This State: SETUP cannot move a session that is sending. Paused, it can, and the
    play resumes on the new channels, no frame lost or sent twice."""
    player = await Player.open(recorded)  # real time
    try:
        session, _ = await player.setup()
        play = await player.request("PLAY", {"Session": session, "Range": "npt=0-1.2"})
        assert play.status == 200
        while len(Played.of(player.packets).frames) < 3:
            await player.next()
        moved = {"Session": session, "Transport": "RTP/AVP/TCP;unicast;interleaved=2-3"}
        refused = await player.request("SETUP", moved, player.track)
        assert (refused.status, refused.reason) == (455, "Method Not Valid in This State")
        assert refused.header("Session") == session
        assert (await player.request("PAUSE", {"Session": session})).status == 200
        paused_at = len(player.packets)
        taken = await player.request("SETUP", moved, player.track)
        assert taken.status == 200
        assert (taken.header("Transport") or "").startswith("RTP/AVP/TCP;unicast;interleaved=2-3")
        assert (await player.request("PLAY", {"Session": session})).status == 200
        await player.until_bye()
    finally:
        await player.close()
    assert {p.channel for p in player.packets[:paused_at]} == {0, 1}
    assert {p.channel for p in player.packets[paused_at:]} == {2, 3}
    played = Played.of(player.packets)
    played.assert_in_sequence()
    assert recorded.assert_played(played.frames, parse_range(play.header("Range"), recorded.start).start) == 0


async def test_one_session_plays_one_stream_so_setting_up_another_in_it_is_refused(recorded: Recorded):
    """459 Aggregate Operation Not Allowed: a SETUP naming the session for the live view (another stream) is not
    added to it; the session still plays its recording."""
    camera = recorded.camera
    player = await Player.open(recorded, pull=True)
    try:
        session, _ = await player.setup()
        host, port = camera.host, camera.rtsp_port  # type: ignore[attr-defined]
        live = f"rtsp://{host}:{port}{STREAM}/trackID=1?resolution=320x180&fps=10"
        other = {"Session": session, "Transport": "RTP/AVP/TCP;unicast;interleaved=2-3"}
        refused = await player.request("SETUP", other, live)
        assert (refused.status, refused.reason) == (459, "Aggregate Operation Not Allowed")
        assert refused.header("Session") == session
        play = await player.request("PLAY", {"Session": session, "Range": "npt=0-1"})
        assert play.status == 200
        await player.until_bye()
    finally:
        await player.close()
    played = Played.of(player.packets)
    assert {p.channel for p in player.packets} == {0, 1}
    assert recorded.assert_played(played.frames, parse_range(play.header("Range"), recorded.start).start) == 0


async def test_renewing_a_recordings_stream_is_answered_and_changes_nothing_in_its_play(recorded: Recorded):
    """``Renew-Stream: yes`` (WIRE.md §7) is 200 for a recording: every key frame already carries its parameter
    sets, so there is nothing to renew, and the play goes on frame after frame. A parameter the camera does not
    know is 451 with its line echoed (RFC 2326 §10.9), a body that is not text/parameters 415; neither is acted
    on."""
    player = await Player.open(recorded)  # real time: the play is still going when the requests come
    try:
        session, _ = await player.setup()
        play = await player.request("PLAY", {"Session": session, "Range": "npt=0-1.2"})
        while len(Played.of(player.packets).frames) < 3:
            await player.next()
        parameters = {"Session": session, "Content-Type": "text/parameters"}
        renewed = await player.request("SET_PARAMETER", parameters, body=b"Renew-Stream: yes\r\n")
        unknown = await player.request("SET_PARAMETER", parameters, body=b"Renew-Stream: yes\r\nBrightness: 70\r\n")
        as_json = {"Session": session, "Content-Type": "application/json"}
        wrong_type = await player.request("SET_PARAMETER", as_json, body=b'{"Renew-Stream": "yes"}')
        await player.until_bye()
    finally:
        await player.close()
    assert (renewed.status, renewed.header("Session")) == (200, session)
    assert (unknown.status, unknown.reason) == (451, "Parameter Not Understood")
    assert unknown.header("Content-Type") == "text/parameters"
    assert unknown.body.decode().split("\r\n") == ["Brightness: 70", ""]
    assert (wrong_type.status, wrong_type.reason) == (415, "Unsupported Media Type")
    played = Played.of(player.packets)
    played.assert_in_sequence()
    assert recorded.assert_played(played.frames, parse_range(play.header("Range"), recorded.start).start) == 0
    last = len(played.frames) - 1
    assert recorded.seconds(last) <= 1.2 + SLACK < recorded.seconds(last + 1) + 2 * SLACK


# --- PAUSE and resume --------------------------------------------------------------------------------------------


async def test_pause_stops_sending_and_play_resumes_with_the_next_frame(recorded: Recorded):
    loop = asyncio.get_running_loop()
    player = await Player.open(recorded)  # real time
    try:
        session, _ = await player.setup()
        play = await player.request("PLAY", {"Session": session, "Range": "npt=0-2.5"})
        assert play.status == 200
        while len(Played.of(player.packets).frames) < 12:  # about 0.8 s in
            await player.next()
        pause = await player.request("PAUSE", {"Session": session})
        assert pause.status == 200
        assert pause.header("Session") == session
        before = Played.of(player.packets)
        with pytest.raises(TimeoutError):  # nothing while paused
            await player.next(timeout=0.6)

        resume = await player.request("PLAY", {"Session": session})
        resumed_at = loop.time()
        assert resume.status == 200
        info = rtp_info(resume)
        assert int(info["seq"]) == (before.sequences[-1] + 1) & 0xFFFF
        assert 0.05 < ((int(info["rtptime"]) - before.frames[-1]) & 0xFFFFFFFF) / rtp.CLOCK_RATE < 0.09
        first = parse_range(play.header("Range"), recorded.start).start
        said = parse_range(resume.header("Range"), recorded.start)
        next_time = first + ((int(info["rtptime"]) - int(rtp_info(play)["rtptime"])) & 0xFFFFFFFF) / rtp.CLOCK_RATE
        assert said.start == pytest.approx(next_time, abs=SLACK)
        assert said.stop == pytest.approx(2.5)  # the stop of the PLAY that was paused holds
        sent_before = len(player.packets)
        bye_at = await player.until_bye()
        next_at = next(p.at for p in player.packets[sent_before:] if p.channel == 0)

        played = Played.of(player.packets)
        played.assert_in_sequence()
        assert recorded.assert_played(played.frames, first) == 0  # no frame twice, none skipped, across the pause
        assert played.frames[: len(before.frames)] == before.frames
        last = len(played.frames) - 1
        assert recorded.seconds(last) <= 2.5 + SLACK < recorded.seconds(last + 1) + 2 * SLACK
        remaining = ((played.frames[-1] - int(info["rtptime"])) & 0xFFFFFFFF) / rtp.CLOCK_RATE
        assert remaining > 1.0
        # Paced anew from the resume: the next frame at once, the rest in real time, not a burst to catch up.
        assert next_at - resumed_at < 0.3
        assert bye_at - resumed_at > 0.7 * remaining

        again = await player.request("PLAY", {"Session": session})  # played out: from the beginning
        assert parse_range(again.header("Range"), recorded.start).start == pytest.approx(first, abs=SLACK)
        assert (await player.request("TEARDOWN", {"Session": session})).status == 200
    finally:
        await player.close()


@pytest.mark.parametrize("paused", [True, False], ids=["paused", "playing"])
async def test_play_with_a_range_seeks_whether_paused_or_playing(recorded: Recorded, paused: bool):
    player = await Player.open(recorded)
    try:
        session, _ = await player.setup()
        assert (await player.request("PLAY", {"Session": session})).status == 200
        while len(Played.of(player.packets).frames) < 3:
            await player.next()
        if paused:
            assert (await player.request("PAUSE", {"Session": session})).status == 200
        await player.send("PLAY", {"Session": session, "Range": "npt=4.2-4.5"})
        while not isinstance(seek := await player.next(), Reply):
            pass  # RTP sent before the reply is the old play's
        before = Played.of(player.packets)
        assert seek.status == 200
        said = parse_range(seek.header("Range"), recorded.start)
        assert said.start <= 4.2
        assert int(rtp_info(seek)["seq"]) == (before.sequences[-1] + 1) & 0xFFFF
        await player.until_bye()
        played = Played.of(player.packets)
        played.assert_in_sequence()
        after = played.frames[len(before.frames) :]
        assert after[0] == int(rtp_info(seek)["rtptime"])
        assert recorded.assert_played(after, said.start) == 2 * GOP  # the key frame at 4 s, not where it was
        last = 2 * GOP + len(after) - 1
        assert recorded.seconds(last) <= 4.5 + SLACK < recorded.seconds(last + 1) + 2 * SLACK
    finally:
        await player.close()


# --- Scale -------------------------------------------------------------------------------------------------------


async def test_scale_4_plays_the_recording_clearly_faster_than_real_time(recorded: Recorded):
    loop = asyncio.get_running_loop()
    player = await Player.open(recorded)  # paced, not pull
    try:
        session, _ = await player.setup()
        play = await player.request("PLAY", {"Session": session, "Range": "npt=0-", "Scale": "4"})
        began = loop.time()
        assert play.status == 200
        assert play.header("Scale") == "4"
        ended = await player.until_bye()
        played = Played.of(player.packets)
        played.assert_in_sequence()
        assert recorded.assert_played(played.frames, parse_range(play.header("Range"), recorded.start).start) == 0
        assert len(played.frames) == len(recorded.times)
        span = ((played.frames[-1] - played.frames[0]) & 0xFFFFFFFF) / rtp.CLOCK_RATE  # media time, unscaled
        assert span > 5
        assert ended - began < span / 2, (ended - began, span)
    finally:
        await player.close()


@pytest.mark.parametrize(
    ("scale", "status", "applied"),
    [("-1", 456, None), ("0", 456, None), ("fast", 400, None), ("64", 200, "16"), ("0.5", 200, "0.5")],
)
async def test_scale_must_be_positive_and_is_clamped_to_16(recorded: Recorded, scale, status, applied):
    player = await Player.open(recorded)
    try:
        session, _ = await player.setup()
        reply = await player.request("PLAY", {"Session": session, "Scale": scale})
        assert reply.status == status
        assert reply.header("Scale") == applied
        if status != 200:
            assert reply.body  # says why
            assert not player.packets
        assert (await player.request("TEARDOWN", {"Session": session})).status == 200
    finally:
        await player.close()


# --- UDP sessions and expiry -------------------------------------------------------------------------------------


def transport_of(reply: Reply, ports: tuple[UdpPorts, UdpPorts]) -> tuple[int, int, int]:
    """(server RTP port, server RTCP port, SSRC) from a UDP SETUP reply, checked against the form Axis answers."""
    client = f"{ports[0].port}-{ports[1].port}"
    said = reply.header("Transport") or ""
    matched = re.fullmatch(rf"RTP/AVP;unicast;client_port={client};server_port=(\d+)-(\d+);ssrc=([0-9A-F]{{8}})", said)
    assert matched, said
    server_rtp, server_rtcp, ssrc = int(matched[1]), int(matched[2]), int(matched[3], 16)
    assert (server_rtp % 2, server_rtcp) == (0, server_rtp + 1)  # an even/odd pair
    return server_rtp, server_rtcp, ssrc


def sender_reports(packets: list[Packet]) -> list[Packet]:
    return [p for p in packets if p.channel == 1 and [k for k, _ in rtp.rtcp_packets(p.data)] == [SR]]


async def test_a_udp_session_outlives_its_control_connection_and_is_torn_down_from_another(recorded: Recorded):
    """Plays in real time for over 5 s, so a periodic sender report comes between the first and the BYE."""
    ports = await UdpPorts.open()
    rtp_port, _rtcp_port = ports
    try:
        first = await Player.open(recorded)
        session, setup = await first.setup(f"RTP/AVP/UDP;unicast;client_port={ports[0].port}-{ports[1].port}")
        await first.close()
        server_rtp, server_rtcp, ssrc = transport_of(setup, ports)

        second = await Player.open(recorded)  # a new connection plays the session
        play = await second.request("PLAY", {"Session": session})
        assert play.status == 200
        await rtp_port.wait(lambda packets: len(Played.of(packets).frames) >= 8)
        await second.close()
        seen = len(rtp_port.packets)
        await rtp_port.wait(lambda packets: len(packets) > seen + 20)  # still streaming without any connection
        await rtp_port.wait(lambda packets: len(sender_reports(packets)) >= 2, 7)

        third = await Player.open(recorded)
        try:
            assert (await third.request("TEARDOWN", {"Session": session})).status == 200
            await rtp_port.wait(lambda packets: any(is_bye(p) for p in packets), 2)
            await asyncio.sleep(0.3)
            assert is_bye(rtp_port.packets[-1])  # nothing after the BYE
            assert (await third.request("GET_PARAMETER", {"Session": session})).status == 454
        finally:
            await third.close()

        packets = rtp_port.packets
        assert sender_reports(packets)[0] is packets[0]  # a sender report first
        assert {p.source for p in packets if p.channel == 0} == {server_rtp}
        assert {p.source for p in packets if p.channel == 1} == {server_rtcp}
        played = Played.of(packets)
        assert played.ssrcs == {ssrc}
        assert played.sequences[0] == int(rtp_info(play)["seq"])
        played.assert_in_sequence()
        assert recorded.assert_played(played.frames, parse_range(play.header("Range"), recorded.start).start) == 0
        periodic = sender_reports(packets)[1]
        assert 4.5 < periodic.at - packets[0].at < 6.5
        sent = int.from_bytes(periodic.data[20:24], "big")  # the sender's packet count
        received = len([p for p in packets if p.channel == 0 and p.at <= periodic.at])
        assert abs(sent - received) <= 40  # two sockets: a frame's packets may be read either side of it
    finally:
        for port in ports:
            port.close()


async def test_a_session_without_requests_expires_and_keep_alives_hold_one(recorded: Recorded):
    """Timeout 2 s. One interleaved session is kept alive with OPTIONS, one UDP session by its client's RTCP
    receiver reports, and one UDP session, playing, hears nothing once its connection is closed."""
    camera = recorded.camera
    lapsed_ports, reporting_ports = await UdpPorts.open(), await UdpPorts.open()
    param_update(camera, **{"root.Network.RTSP.Timeout": "2"})
    players: list[Player] = []
    try:
        kept, lapsed, reporting = [await Player.open(recorded) for _ in range(3)]
        players += [kept, lapsed, reporting]
        kept_session, setup = await kept.setup()
        assert setup.header("Session") == f"{kept_session};timeout=2"
        lapsed_session, _ = await lapsed.setup(
            f"RTP/AVP;unicast;client_port={lapsed_ports[0].port}-{lapsed_ports[1].port}"
        )
        reporting_session, setup = await reporting.setup(
            f"RTP/AVP;unicast;client_port={reporting_ports[0].port}-{reporting_ports[1].port}"
        )
        _, server_rtcp, _ = transport_of(setup, reporting_ports)
    finally:
        param_update(camera, **{"root.Network.RTSP.Timeout": "60"})
    try:
        assert (await lapsed.request("PLAY", {"Session": lapsed_session})).status == 200
        await lapsed.close()  # a UDP session lives on without its connection, but only as long as its timeout
        await reporting.close()
        receiver_report = struct.pack("!BBHI", 0x80, 201, 1, 0x1234)  # RTCP RR without report blocks
        for _ in range(4):
            await asyncio.sleep(0.8)
            # OPTIONS naming the session keeps it alive (media-stream-library's keep-alive) ...
            assert (await kept.request("OPTIONS", {"Session": kept_session})).status == 200
            # ... and so does RTCP from the client, as live555 counts it
            assert reporting_ports[1].transport is not None
            reporting_ports[1].transport.sendto(receiver_report, ("127.0.0.1", server_rtcp))
        assert (await kept.request("GET_PARAMETER", {"Session": kept_session})).status == 200

        other = await Player.open(recorded)
        players.append(other)
        assert (await other.request("PLAY", {"Session": lapsed_session})).status == 454
        # an interleaved session is its connection's: another one neither sees nor keeps it alive
        assert (await other.request("GET_PARAMETER", {"Session": kept_session})).status == 454
        assert (await other.request("TEARDOWN", {"Session": reporting_session})).status == 200
        assert any(is_bye(p) for p in lapsed_ports[0].packets)  # the expired session said goodbye ...
        span = Played.of(lapsed_ports[0].packets)
        assert 1.0 < ((span.frames[-1] - span.frames[0]) & 0xFFFFFFFF) / rtp.CLOCK_RATE < 4.5  # ... before the end

        await asyncio.sleep(2.6)  # no request for longer than the timeout
        assert (await kept.request("GET_PARAMETER", {"Session": kept_session})).status == 454
    finally:
        for player in players:
            await player.close()
        for port in (*lapsed_ports, *reporting_ports):
            port.close()
