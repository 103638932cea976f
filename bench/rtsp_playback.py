"""RTSP playback of a recording (issue #5): seek latency against gst-rtsp-server, and concurrent real-time sessions.
Run by hand from the repository root: `.venv/bin/python -m bench.rtsp_playback [--runs 20] [--sessions 16,32,64,96]`
(about 2 minutes, Linux; everything goes to a temporary folder removed at the end). ``--ramp 0.3`` spaces the
sessions' PLAYs to see their steady state apart from the cost of starting them; ``--profile`` then samples the
camera with py-spy (``.venv/bin/pip install py-spy``) during seeks and during 64 sessions.

Needs, besides the venv (Debian packages, for the reference server only; not in scripts/os-packages.sh, as
benchmarks are run by hand): ``apt-get install gstreamer1.0-rtsp gir1.2-gst-rtsp-server-1.0 python3-gi
gstreamer1.0-plugins-good gstreamer1.0-plugins-bad`` (rtph264pay and matroskademux are in -good, h264parse in
-bad). bench/gst_rtsp_server.py runs under the SYSTEM /usr/bin/python3, which has the ``gi`` bindings.

Targets:

1. PLAY to the first complete key frame, seeking into the middle of a five-minute block (``Range: npt=150-``):
   the camera's median at most 1.2x gst-rtsp-server's on the same block in the same run, and at most 150 ms, on
   loopback.
2. Concurrent real-time sessions of a 2 Mbit/s stream on the machine's 2 cores without falling behind: at least 64.

The data: a recording of one five-minute block at about 2 Mbit/s. Backfill's synthetic video is far too small for
that (320x180 at 5 fps, ~4 kB/s), so, the same way as the export benchmark, a few seconds of busy 1280x720 H.264
(a random texture scrolling, plus fresh noise, VBV-capped at --bitrate) are encoded once with PyAV and their
packets fed in a loop, capture times advancing at the frame rate, through the recorder's own RecordingSession into
a data dir the camera mounts: block, sidecar, index and key-frame rows are exactly what the live recorder writes.
A key frame every 2 s, as the camera's default GOP. gst-rtsp-server serves that very block file.

Seek latency: a small raw RTSP client here (asyncio, RTP over TCP interleaved; Digest MD5 as the viewer for the
camera, no auth for GStreamer) does DESCRIBE and SETUP on a new connection, then times from writing PLAY (with
``Range: npt=150-``) until the RTP packet with the marker bit that completes the first access unit holding an IDR
slice (NAL type 5, in a single NAL unit packet, a STAP-A or FU-A fragments) has been read. The two servers take
turns, after warm-up rounds that do not count; each round is a fresh connection, torn down after.

Sessions: for each N, a freshly started camera, N connections each with SETUP (interleaved), then PLAY on all
(each from its own position, real-time pacing, no ``pull``), then --seconds of reading. A session "falls behind"
when, at the end, the media time received (its last RTP timestamp against RTP-Info's rtptime, 90 kHz) lags the
wall time since its PLAY by more than 1 s. Only the first connection DESCRIBEs (DESCRIBE is timed in the seek
part, and at first it read a whole block); the others SETUP the track URL it gave, which the camera accepts. The
camera's CPU comes from /proc/PID/stat (utime + stime, all threads), its memory from VmRSS sampled every 0.5 s.
The client runs on the same 2 cores: one asyncio loop reading 64 KiB at a time and looking only at the 4-byte
interleave header and the RTP timestamp, and its own CPU is printed too. The camera refuses SETUP beyond 64
sessions (503): for N above that, the table says how many were refused and measures the ones accepted.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import math
import os
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urljoin

from bench.clips import Clip, bitrate, encode_clip, looped
from device.backfill import WRITING_APP, backfill
from device.identity import load_identity
from device.media.synthetic import parse_resolution
from device.recorder import keyframes
from device.recorder.session import RecordingSession
from device.storage.files import tree_size
from device.storage.layout import INDEX_NAME, RecordingMeta, VideoAttributes, make_token
from device.storage.space import Space
from device.storage.store import RecordingStore
from tests.support.device_process import CREDENTIALS, DEFAULT_USERS, SERIAL, RunningDevice

TICK = os.sysconf("SC_CLK_TCK")
SD_SIZE = 32 * 1024**3
"""The camera's default card (``--sd-size``), so the free space backfill checks is the one the camera sees."""
BLOCK_SECONDS = 300
SEEK = 150.0
"""Where the seek lands: the middle of the five-minute block."""
LATENCY_TARGET = 0.150
RATIO_TARGET = 1.2
SESSIONS_TARGET = 64
BEHIND = 1.0
"""Seconds of lag at which a session counts as fallen behind."""
CLOCK_RATE = 90_000
STREAM = "/axis-media/media.amp"
GST_SERVER = Path(__file__).with_name("gst_rtsp_server.py")
SYSTEM_PYTHON = "/usr/bin/python3"
IDR, STAP_A, FU_A = 5, 24, 28
READ_SIZE = 1 << 16


# --- the block ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    recording_id: str
    path: Path
    bytes: int
    seconds: float
    key_frames: int

    @property
    def bitrate(self) -> float:
        return self.bytes * 8 / self.seconds


def build_block(data_dir: Path, clip: Clip) -> Block:
    """A finished recording of exactly one five-minute block, ending a minute ago, written by the recorder's own
    session into a data dir `python -m device` mounts (``backfill`` with no hours lays the data dir out)."""
    backfill(data_dir, 0, serial=SERIAL, sd_size=SD_SIZE)
    identity = load_identity(data_dir)
    root = data_dir / "sdcard"
    store = RecordingStore(root, Space(SD_SIZE, tree_size(root)), identity.zone, identity.serial)
    frames = BLOCK_SECONDS * clip.fps
    end = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    start = end - timedelta(seconds=BLOCK_SECONDS)
    video = VideoAttributes(clip.width, clip.height, f"{clip.fps}:1", "video/x-h264")
    token = make_token(start, store.zone, store.serial)
    meta = RecordingMeta(token, "1", start, None, "continuous", "continuous", "continuous", video)
    db = keyframes.ensure_keyframe_table(root / INDEX_NAME)
    try:
        session = RecordingSession(store, meta, BLOCK_SECONDS, WRITING_APP, keyframe_db=db)
        for frame in looped(clip, start, frames):
            session.feed(frame)
        session.finish()
        blocks = store.index.blocks(meta.id)
    finally:
        db.close()
        store.close()
    if len(blocks) != 1:
        raise RuntimeError(f"expected one block, the recorder wrote {len(blocks)}")
    keys = sum(1 for n in range(frames) if clip.packets[n % len(clip.packets)][1])
    return Block(meta.id, root / blocks[0].mkv, blocks[0].size, frames / clip.fps, keys)


# --- a raw RTSP client ----------------------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


def digest_params(challenge: str) -> dict[str, str]:
    pairs = re.findall(r'(\w+)=(?:"([^"]*)"|([^,\s]*))', challenge.removeprefix("Digest "))
    return {key: quoted or bare for key, quoted, bare in pairs}


def md5_authorization(user: str, password: str, challenge: dict[str, str], method: str, uri: str) -> str:
    """RFC 2069 Digest (no qop), as live555 answers: one nonce serves every request of the connection."""

    def md5(text: str) -> str:
        return hashlib.md5(text.encode()).hexdigest()

    ha1 = md5(f"{user}:{challenge['realm']}:{password}")
    response = md5(f"{ha1}:{challenge['nonce']}:{md5(f'{method}:{uri}')}")
    return (
        f'Digest username="{user}", realm="{challenge["realm"]}", nonce="{challenge["nonce"]}", uri="{uri}", '
        f'response="{response}"'
    )


class RtspConnection:
    """RTSP/1.0 over one TCP connection, with RTP interleaved on it. Reads into one buffer 64 KiB at a time and
    splits it into replies and ``$``-framed packets itself, so a reply and the first RTP behind it in the same
    read are both seen, and the arrival time of a packet is the time of the read that completed it."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, credentials: tuple[str, str] | None
    ) -> None:
        self.reader, self.writer = reader, writer
        self.credentials = credentials
        self.challenge: dict[str, str] | None = None
        self.buffer = bytearray()
        self.cseq = 0
        self.sent_at = 0.0
        """perf_counter just before the last request was written."""
        self.read_at = 0.0
        """perf_counter just after the last read returned."""
        self.early: list[tuple[float, int, bytes]] = []
        """Packets that came before a reply: (arrival, channel, packet)."""

    @classmethod
    async def open(cls, host: str, port: int, credentials: tuple[str, str] | None) -> RtspConnection:
        reader, writer = await asyncio.open_connection(host, port, limit=READ_SIZE)
        return cls(reader, writer, credentials)

    def close(self) -> None:
        self.writer.close()

    async def _fill(self) -> None:
        chunk = await self.reader.read(READ_SIZE)
        self.read_at = time.perf_counter()
        if not chunk:
            raise ConnectionError("the server closed the connection")
        self.buffer += chunk

    def _frame(self) -> tuple[int, bytes] | None:
        """The interleaved packet at the head of the buffer, if it is all there."""
        if len(self.buffer) < 4:
            return None
        size = int.from_bytes(self.buffer[2:4], "big")
        if len(self.buffer) < 4 + size:
            return None
        channel, packet = self.buffer[1], bytes(self.buffer[4 : 4 + size])
        del self.buffer[: 4 + size]
        return channel, packet

    async def _reply(self) -> Reply:
        while True:
            if self.buffer[:1] == b"$":
                frame = self._frame()
                if frame is None:
                    await self._fill()
                else:
                    self.early.append((self.read_at, *frame))
                continue
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                await self._fill()
                continue
            status_line, *lines = self.buffer[:end].decode("latin-1").split("\r\n")
            headers = {}
            for line in lines:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            total = end + 4 + int(headers.get("content-length", "0"))
            while len(self.buffer) < total:
                await self._fill()
            body = bytes(self.buffer[end + 4 : total])
            del self.buffer[:total]
            return Reply(int(status_line.split()[1]), headers, body)

    async def request(self, method: str, url: str, headers: dict[str, str] | None = None) -> Reply:
        """Send and read the reply; a 401 is answered once with Digest (a new or stale nonce)."""
        for _attempt in range(2):
            self.cseq += 1
            lines = [f"{method} {url} RTSP/1.0", f"CSeq: {self.cseq}", "User-Agent: edgestore-bench"]
            lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
            if self.challenge is not None and self.credentials is not None:
                lines.append(f"Authorization: {md5_authorization(*self.credentials, self.challenge, method, url)}")
            self.sent_at = time.perf_counter()
            self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
            reply = await self._reply()
            if reply.status != 401 or self.credentials is None:
                return reply
            self.challenge = digest_params(reply.header("WWW-Authenticate"))
        return reply

    async def next_packet(self) -> tuple[float, int, bytes]:
        """The next interleaved packet and when it arrived (packets that came before the last reply first)."""
        if self.early:
            return self.early.pop(0)
        while True:
            if self.buffer and self.buffer[0] != 0x24:  # "$"
                raise RuntimeError(f"unexpected data between packets: {bytes(self.buffer[:60])!r}")
            frame = self._frame()
            if frame is not None:
                return (self.read_at, *frame)
            await self._fill()


def track_url(describe: Reply, url: str) -> str:
    """The media-level ``a=control`` of the SDP, resolved against Content-Base (RFC 2326 C.1.1)."""
    controls = [line[10:].strip() for line in describe.body.decode().splitlines() if line.startswith("a=control:")]
    control = controls[-1] if len(controls) > 1 else "*"  # the session-level one comes first
    base = describe.header("Content-Base") or url
    return control if control.startswith("rtsp://") else urljoin(base if base.endswith("/") else base + "/", control)


def rtp_info_time(reply: Reply) -> int:
    match = re.search(r"rtptime=(\d+)", reply.header("RTP-Info"))
    if match is None:
        raise RuntimeError(f"PLAY answered no RTP-Info rtptime: {reply.headers}")
    return int(match.group(1))


def nal_types(packet: bytes) -> tuple[set[int], bool]:
    """The NAL unit types an RTP H.264 packet carries, and whether it may begin an access unit (not an FU-A
    continuation)."""
    offset = 12 + 4 * (packet[0] & 0x0F)
    if packet[0] & 0x10:  # header extension
        offset += 4 + 4 * int.from_bytes(packet[offset + 2 : offset + 4], "big")
    payload = packet[offset:]
    kind = payload[0] & 0x1F
    if kind == FU_A:
        return {payload[1] & 0x1F}, bool(payload[1] & 0x80)
    if kind == STAP_A:
        types, i = set(), 1
        while i + 2 < len(payload):
            size = int.from_bytes(payload[i : i + 2], "big")
            types.add(payload[i + 2] & 0x1F)
            i += 2 + size
        return types, True
    return {kind}, True


# --- seek latency ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seek:
    describe: float
    """DESCRIBE round trip, seconds (after the Digest challenge)."""
    reply: float
    """PLAY written to its reply read."""
    key_frame: float
    """PLAY written to the last packet of the first IDR access unit read: the measure."""
    media: float
    """Where that key frame is, seconds of media after the start RTP-Info names (0 when play starts on it)."""
    range: str


async def seek_once(host: str, port: int, url: str, credentials: tuple[str, str] | None, seek: float) -> Seek:
    connection = await RtspConnection.open(host, port, credentials)
    try:
        await connection.request("OPTIONS", url)
        if credentials is not None:  # take the Digest challenge now, so DESCRIBE is timed as one round trip
            await connection.request("DESCRIBE", url, {"Accept": "application/sdp"})
        began = time.perf_counter()
        describe = await connection.request("DESCRIBE", url, {"Accept": "application/sdp"})
        described = time.perf_counter() - began
        if describe.status != 200:
            raise RuntimeError(f"DESCRIBE {url}: {describe.status}")
        setup = await connection.request(
            "SETUP", track_url(describe, url), {"Transport": "RTP/AVP/TCP;unicast;interleaved=0-1"}
        )
        if setup.status != 200:
            raise RuntimeError(f"SETUP: {setup.status}")
        session = setup.header("Session").split(";", 1)[0]
        play = await connection.request("PLAY", url, {"Session": session, "Range": f"npt={seek:.3f}-"})
        sent, replied = connection.sent_at, time.perf_counter()
        if play.status != 200:
            raise RuntimeError(f"PLAY: {play.status}")
        base = rtp_info_time(play)
        unit_ts: int | None = None
        idr = whole = False
        next_seq: int | None = None
        while True:
            arrived, channel, packet = await asyncio.wait_for(connection.next_packet(), 10)
            if channel != 0 or len(packet) < 13:
                continue  # RTCP
            seq, ts, marker = int.from_bytes(packet[2:4], "big"), int.from_bytes(packet[4:8], "big"), packet[1] & 0x80
            types, starts = nal_types(packet)
            if ts != unit_ts:
                unit_ts, idr, whole = ts, False, starts
            elif next_seq is not None and seq != next_seq:
                whole = False  # a gap: not a complete access unit
            next_seq = (seq + 1) & 0xFFFF
            idr = idr or IDR in types
            if marker and idr and whole:
                media = ((ts - base) & 0xFFFFFFFF) / CLOCK_RATE
                with_range = play.header("Range")
                await connection.request("TEARDOWN", url, {"Session": session})
                return Seek(described, replied - sent, arrived - sent, media, with_range)
    finally:
        connection.close()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def start_gst(block: Path) -> tuple[subprocess.Popen[str], int]:
    if not Path(SYSTEM_PYTHON).exists():
        raise SystemExit(f"{SYSTEM_PYTHON} with python3-gi is needed for the GStreamer reference")
    process = subprocess.Popen([SYSTEM_PYTHON, str(GST_SERVER), str(block)], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("listening on "):
        process.kill()
        raise SystemExit(f"gst-rtsp-server did not start ({line.strip()!r}); see the module docstring for packages")
    return process, int(line.split()[-1])


async def seek_latency(
    device: RunningDevice, gst_port: int, recording_id: str, runs: int, warmup: int
) -> dict[str, list[Seek]]:
    """Camera and GStreamer in turns, so a slow moment of the machine hits both alike."""
    camera_url = f"rtsp://{device.host}:{device.rtsp_port}{STREAM}?recordingid={recording_id}"
    gst_url = f"rtsp://127.0.0.1:{gst_port}/block"
    results: dict[str, list[Seek]] = {"camera": [], "gst": []}
    for n in range(warmup + runs):
        camera = await seek_once(device.host, device.rtsp_port, camera_url, CREDENTIALS["viewer"], SEEK)
        await asyncio.sleep(0.2)
        gst = await seek_once("127.0.0.1", gst_port, gst_url, None, SEEK)
        await asyncio.sleep(0.2)
        if n >= warmup:
            results["camera"].append(camera)
            results["gst"].append(gst)
        label = "warm-up" if n < warmup else f"run {n + 1 - warmup}"
        print(
            f"{label}: camera {camera.key_frame * 1000:.1f} ms (reply {camera.reply * 1000:.1f} ms), "
            f"gst {gst.key_frame * 1000:.1f} ms (reply {gst.reply * 1000:.1f} ms)",
            flush=True,
        )
    return results


# --- concurrent sessions --------------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14 and 15 of the whole line)


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def client_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Follower:
    """One playing session, as the load client sees it: only the RTP timestamps matter."""

    connection: RtspConnection
    sent: float = 0.0
    base_ts: int = 0
    first_at: float | None = None
    last_ts: int | None = None
    octets: int = 0
    closed: bool = False

    def media(self) -> float:
        return 0.0 if self.last_ts is None else ((self.last_ts - self.base_ts) & 0xFFFFFFFF) / CLOCK_RATE

    async def follow(self) -> None:
        """Read until cancelled, walking whole ``$`` frames in place and deleting them once per read: no copy per
        packet, so the client stays cheap next to the camera on the same cores."""
        buffer, reader = self.connection.buffer, self.connection.reader
        now = time.perf_counter()
        while True:
            pos, end = 0, len(buffer)
            while end - pos >= 4:
                if buffer[pos] != 0x24:
                    raise RuntimeError(f"unexpected data between packets: {bytes(buffer[pos : pos + 60])!r}")
                size = (buffer[pos + 2] << 8) | buffer[pos + 3]
                if end - pos - 4 < size:
                    break
                if buffer[pos + 1] == 0 and size >= 12:
                    if self.first_at is None:
                        self.first_at = now
                    self.last_ts = int.from_bytes(buffer[pos + 8 : pos + 12], "big")
                    self.octets += size
                pos += 4 + size
            del buffer[:pos]
            chunk = await reader.read(READ_SIZE)
            now = time.perf_counter()
            if not chunk:
                self.closed = True
                return
            buffer += chunk


@dataclass
class Load:
    requested: int
    refused: int
    lags: list[float] = field(default_factory=list)
    """Per session: wall time since PLAY minus media received, at the end."""
    startups: list[float] = field(default_factory=list)
    """Per session: PLAY written to its first RTP packet."""
    steady: list[float] = field(default_factory=list)
    """Per session: the lag gained after its first packet (pacing that slips)."""
    closed: int = 0
    cpu: float = 0.0
    """Camera CPU seconds per second over the whole window (1.0 = one core)."""
    cpu_late: float = 0.0
    """The same over the second half of the window (at most its last 10 s)."""
    client: float = 0.0
    rss_peak: int = 0
    rss_before: int = 0
    mbit: float = 0.0

    @property
    def behind(self) -> int:
        return sum(1 for lag in self.lags if lag > BEHIND) + self.closed


async def load(device: RunningDevice, recording_id: str, n: int, seconds: float, ramp: float) -> Load:
    """N sessions playing at once for `seconds` after the last PLAY; PLAYs `ramp` seconds apart (0: all at once)."""
    url = f"rtsp://{device.host}:{device.rtsp_port}{STREAM}?recordingid={recording_id}"
    credentials = CREDENTIALS["viewer"]
    assert device.process is not None
    pid = device.process.pid
    followers: list[Follower] = []
    sessions: list[str] = []
    refused = 0
    track = ""
    for i in range(n):
        connection = await RtspConnection.open(device.host, device.rtsp_port, credentials)
        if not track:
            describe = await connection.request("DESCRIBE", url, {"Accept": "application/sdp"})
            track = track_url(describe, url)
        setup = await connection.request("SETUP", track, {"Transport": "RTP/AVP/TCP;unicast;interleaved=0-1"})
        if setup.status == 503:
            refused += 1
            connection.close()
            continue
        if setup.status != 200:
            raise RuntimeError(f"SETUP {i}: {setup.status} {setup.body!r}")
        followers.append(Follower(connection))
        sessions.append(setup.header("Session").split(";", 1)[0])
    result = Load(n, refused, rss_before=rss_bytes(pid))

    async def play(i: int, follower: Follower) -> None:
        await asyncio.sleep(i * ramp)
        position = (i * 37) % (BLOCK_SECONDS - 2 * seconds - 10)  # viewers at different places in the block
        headers = {"Session": sessions[i], "Range": f"npt={position}-"}
        follower.sent = time.perf_counter()  # before the write: a PLAY still unanswered at the end counts from here
        reply = await follower.connection.request("PLAY", url, headers)
        if reply.status != 200:
            raise RuntimeError(f"PLAY {i}: {reply.status}")
        follower.base_ts = rtp_info_time(reply)
        await follower.follow()

    cpu0, client0, began = cpu_seconds(pid), client_cpu(), time.perf_counter()
    tasks = [asyncio.create_task(play(i, f)) for i, f in enumerate(followers)]
    seconds += (len(followers) - 1) * ramp
    half = seconds - min(seconds / 2, 10.0)
    rss_peak = 0
    cpu_half, at_half = cpu0, 0.0
    while (elapsed := time.perf_counter() - began) < seconds:
        rss_peak = max(rss_peak, rss_bytes(pid))
        if not at_half and elapsed >= half:
            cpu_half, at_half = cpu_seconds(pid), time.perf_counter()
        failed = [t for t in tasks if t.done() and t.exception() is not None]
        if failed:
            raise RuntimeError("a session failed") from failed[0].exception()
        await asyncio.sleep(min(0.5, seconds - elapsed))
    ended, cpu1, client1 = time.perf_counter(), cpu_seconds(pid), client_cpu()
    rss_peak = max(rss_peak, rss_bytes(pid))
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for follower in followers:
        follower.connection.close()
        if follower.closed:
            result.closed += 1
        result.lags.append(ended - follower.sent - follower.media())
        if follower.first_at is not None:
            result.startups.append(follower.first_at - follower.sent)
            result.steady.append((ended - follower.first_at) - follower.media())
    result.cpu = (cpu1 - cpu0) / (ended - began)
    result.cpu_late = (cpu1 - cpu_half) / (ended - at_half)
    result.client = (client1 - client0) / (ended - began)
    result.rss_peak = rss_peak
    result.mbit = sum(f.octets for f in followers) * 8 / (ended - began) / 1e6
    return result


# --- where the camera's time goes -----------------------------------------------------------------------------


SPY_FRAME = re.compile(r"^(?P<name>.*) \((?P<file>[^()]*?):(?P<line>\d+)\)$")
PLUMBING = {
    *("Thread._bootstrap", "Thread._bootstrap_inner", "Thread.run", "_worker", "_WorkItem.run", "Handle._run"),
    *("BaseEventLoop.run_forever", "BaseEventLoop._run_once", "BaseEventLoop.run_until_complete", "Runner.run"),
    *("run", "main", "<module>", "_run_code", "_run_module_as_main"),
}
"""Frames every sample of a thread passes through: left out of the inclusive ranking, where they would lead."""


def summarize_spy(raw: Path, top: int) -> str:
    """py-spy's raw output (one ``thread;frame;...;frame count`` line per distinct stack) as the `top` lines of
    code by own samples and the `top` functions by inclusive samples, all threads together (worker threads read
    blocks, the event loop sends)."""
    own: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        functions: set[str] = set()
        where = ""
        for frame in stack.split(";")[1:]:  # the first is the thread
            match = SPY_FRAME.match(frame)
            name, file, number = (match["name"], Path(match["file"]).name, match["line"]) if match else (frame, "", "")
            where = f"{name} ({file}:{number})"
            if name not in PLUMBING:
                functions.add(f"{name} ({file})")
        if where:
            own[where] = own.get(where, 0) + n
        for function in functions:
            inclusive[function] = inclusive.get(function, 0) + n
    if not total:
        return "  (no samples)"
    lines = [f"  {total} samples (threads that were running); own time, by line:"]
    lines += [f"    {v / total * 100:5.1f} %  {k}" for k, v in sorted(own.items(), key=lambda kv: -kv[1])[:top]]
    lines.append("  inclusive, by function:")
    lines += [f"    {v / total * 100:5.1f} %  {k}" for k, v in sorted(inclusive.items(), key=lambda kv: -kv[1])[:top]]
    return "\n".join(lines)


async def profile_camera(data_dir: Path, block: Block, sessions: int, seconds: float, work: Path) -> str:
    """py-spy (pip install py-spy into the venv; it needs ptrace rights on the camera) sampling a fresh camera
    process, not this one: first during 10 seeks like those timed, then during `sessions` sessions started at
    once. ``--nonblocking``: the camera is not paused to be sampled, so it runs as it did when timed. Not timed
    itself: the numbers above come from runs without it."""
    spy = Path(sys.executable).parent / "py-spy"  # beside the venv's python, where pip puts it
    if not spy.exists():
        return "py-spy not found: `.venv/bin/pip install py-spy` for --profile"
    out: list[str] = []
    device = start_camera(data_dir)
    try:
        assert device.process is not None
        pid = str(device.process.pid)
        url = f"rtsp://{device.host}:{device.rtsp_port}{STREAM}?recordingid={block.recording_id}"
        for phase in ("seeks", "sessions"):
            raw = work / f"spy-{phase}.txt"
            command = [str(spy), "record", "--nonblocking", "--threads", "-r", "250", "-f", "raw", "-o", str(raw)]
            recorder = await asyncio.create_subprocess_exec(
                *command, "-p", pid, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
            await asyncio.sleep(1)  # attached
            if phase == "seeks":
                for _ in range(10):
                    await seek_once(device.host, device.rtsp_port, url, CREDENTIALS["viewer"], SEEK)
                label = f"camera during 10 seeks to npt={SEEK:g} (DESCRIBE, SETUP, PLAY, first key frame, TEARDOWN)"
            else:
                await load(device, block.recording_id, sessions, seconds, 0.0)
                label = f"camera during {sessions} sessions started at once, {seconds:g} s"
            recorder.send_signal(signal.SIGINT)  # py-spy writes what it has and exits
            _out, err = await asyncio.wait_for(recorder.communicate(), 30)
            out.append(f"{label}:")
            out.append(summarize_spy(raw, 12) if raw.exists() else f"  py-spy failed: {err.decode()[-300:]}")
    finally:
        device.stop()
    return "\n".join(out)


# --- the run --------------------------------------------------------------------------------------------------


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def ms(value: float) -> str:
    return f"{value * 1000:.1f} ms"


def start_camera(data_dir: Path) -> RunningDevice:
    users = [a for user in DEFAULT_USERS for a in ("--user", user)]
    device = RunningDevice(data_dir, [*users, "--serial", SERIAL]).start(timeout=60)
    time.sleep(1)  # mount-time work done
    return device


def report_seeks(results: dict[str, list[Seek]]) -> None:
    print()
    print("| server | PLAY -> first whole key frame, median | p90 | PLAY reply, median | DESCRIBE, median |")
    print("|---|---|---|---|---|")
    for name, label in (("camera", "camera"), ("gst", "gst-rtsp-server")):
        seeks = results[name]
        key = [s.key_frame for s in seeks]
        print(
            f"| {label} | {ms(statistics.median(key))} | {ms(percentile(key, 0.9))} "
            f"| {ms(statistics.median(s.reply for s in seeks))} | {ms(statistics.median(s.describe for s in seeks))} |"
        )
    for name in ("camera", "gst"):
        ranges = sorted({s.range for s in results[name]})
        offsets = sorted({round(s.media, 3) for s in results[name]})
        print(f"{name}: PLAY Range answered {ranges}; key frame at +{offsets} s of RTP-Info's start")
    camera = statistics.median(s.key_frame for s in results["camera"])
    gst = statistics.median(s.key_frame for s in results["gst"])
    print(f"ratio camera/gst (medians): {camera / gst:.2f} (target <= {RATIO_TARGET}): {verdict(camera / gst <= 1.2)}")
    print(f"camera median {ms(camera)} (target <= {ms(LATENCY_TARGET)}): {verdict(camera <= LATENCY_TARGET)}")


def report_loads(loads: list[Load], seconds: float, ramp: float) -> None:
    print()
    print(
        f"| sessions asked | playing | behind (> {BEHIND:.0f} s) | worst lag at end | PLAY -> first RTP, median / max "
        "| lag gained after first RTP, max | received | camera CPU (whole / last 10 s) | camera RSS before / peak "
        "| client CPU |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in loads:
        playing = r.requested - r.refused
        refused = f" ({r.refused} refused, 503)" if r.refused else ""
        print(
            f"| {r.requested} | {playing}{refused} | {r.behind} | {max(r.lags):.2f} s "
            f"| {statistics.median(r.startups):.2f} / {max(r.startups):.2f} s | {max(r.steady):.2f} s "
            f"| {r.mbit:.0f} Mbit/s | {r.cpu * 100:.0f} % / {r.cpu_late * 100:.0f} % "
            f"| {r.rss_before / 2**20:.0f} / {r.rss_peak / 2**20:.0f} MiB | {r.client * 100:.0f} % |"
        )
    held = max((r.requested - r.refused for r in loads if r.behind == 0), default=0)
    start = f"PLAYs {ramp:g} s apart, then {seconds:.0f} s" if ramp else f"all PLAYs at once, {seconds:.0f} s window"
    print(f"(CPU: % of one core, 200 % = both; {start}; client and camera share the 2 cores)")
    print(
        f"most sessions held without falling behind: {held} (target >= {SESSIONS_TARGET}): "
        f"{verdict(held >= SESSIONS_TARGET)}"
    )


async def run(args: argparse.Namespace, work: Path) -> None:
    data_dir = work / "camera"
    began = time.perf_counter()
    width, height = args.resolution
    clip = encode_clip(
        width, height, args.fps, args.clip_seconds, args.bitrate, args.gop_seconds * args.fps, vbv_seconds=1.0
    )
    block = build_block(data_dir, clip)
    print(
        f"block: {block.bytes / 2**20:.1f} MiB, {block.seconds:.0f} s of {width}x{height} @ {args.fps} fps H.264, "
        f"{block.bitrate / 1e6:.2f} Mbit/s, {block.key_frames} key frames "
        f"(made in {time.perf_counter() - began:.1f} s)",
        flush=True,
    )
    print("load average (1, 5, 15 min): " + ", ".join(f"{load:.2f}" for load in os.getloadavg()), flush=True)
    if args.runs:
        gst, gst_port = start_gst(block.path)
        device = start_camera(data_dir)
        try:
            results = await seek_latency(device, gst_port, block.recording_id, args.runs, args.warmup)
        finally:
            device.stop()
            gst.terminate()
            gst.wait(10)
        report_seeks(results)
    loads: list[Load] = []
    for n in (int(s) for s in args.sessions.split(",") if s):
        device = start_camera(data_dir)
        try:
            loads.append(await load(device, block.recording_id, n, args.seconds, args.ramp))
        finally:
            device.stop()
        r = loads[-1]
        print(
            f"{n} sessions: {r.requested - r.refused} playing, {r.behind} behind, worst lag {max(r.lags):.2f} s, "
            f"camera CPU {r.cpu * 100:.0f} %, peak RSS {r.rss_peak / 2**20:.0f} MiB",
            flush=True,
        )
    if loads:
        report_loads(loads, args.seconds, args.ramp)
    if args.profile:
        print()
        print(await profile_camera(data_dir, block, args.profile_sessions, 10.0, work))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=20, help="counted seeks per server (default 20; 0 skips the part)")
    p.add_argument("--warmup", type=int, default=2, help="seeks per server before those, not counted (default 2)")
    p.add_argument("--sessions", default="16,32,64,96", help="session counts to try (default 16,32,64,96)")
    p.add_argument(
        "--seconds", type=float, default=20.0, help="seconds each load runs after its last PLAY (default 20)"
    )
    p.add_argument(
        "--ramp",
        type=float,
        default=0.0,
        help="seconds between one session's PLAY and the next (default 0: all at once); with it, the sessions' "
        "steady state is measured apart from the cost of starting them",
    )
    p.add_argument("--resolution", type=parse_resolution, default=(1280, 720))
    p.add_argument("--fps", type=int, default=30)
    p.add_argument("--bitrate", type=bitrate, default="2M", help="bits per second of the clip (default 2M)")
    p.add_argument("--gop-seconds", type=int, default=2, help="seconds between key frames (default 2)")
    p.add_argument("--clip-seconds", type=int, default=4, help="seconds encoded, then looped (default 4)")
    p.add_argument("--profile", action="store_true", help="then sample the camera with py-spy (seeks, sessions)")
    p.add_argument("--profile-sessions", type=int, default=64, help="sessions while sampling (default 64)")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="edgestore-bench-") as tmp:
        asyncio.run(run(args, Path(tmp)))


if __name__ == "__main__":
    main()
