"""The RTSP server component: connections, framing, authentication, and playback of recordings.

``rtsp://host/axis-media/media.amp?recordingid=ID`` plays a recording (WIRE.md §7) over RTSP interleaved TCP:
DESCRIBE answers an H.264 SDP, SETUP takes ``RTP/AVP/TCP;unicast;interleaved=N-M`` (UDP gets 461), PLAY streams
RTP paced in real time, or as fast as the client reads with ``pull=1`` in the URL, an RTCP sender report first
and an RTCP BYE (in a compound packet with a last SR) at the end; the connection then stays until TEARDOWN or
close. ``Range`` (npt, clock or smpte; device/rtsp/ranges.py) starts at the key frame at or before the asked
time; the reply's Range gives what is played, in the unit asked. A range's stop is not honoured yet.

Not here: live streams (no recordingid: 404), MJPEG recordings (415 with a reason), PAUSE (501), UDP and
multicast transports (461). A session lives on its connection: it ends when the connection closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit, urlunsplit

from device.http.access import RTSP_PLAYBACK_ROLE
from device.rtsp import rtp
from device.rtsp.messages import RtspProtocolError, RtspRequest, RtspResponse, read_request
from device.rtsp.playback import (
    PlaybackError,
    PlaybackFrame,
    Recording,
    find_recording,
    from_keyframe,
    parameter_sets,
    read_block,
    start_block,
)
from device.rtsp.ranges import format_range, parse_range
from device.rtsp.sdp import h264_sdp
from device.services import Services
from device.state import DeviceState

log = logging.getLogger(__name__)

PUBLIC = "OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER"
SESSION_METHODS = {"SETUP", "PLAY", "PAUSE", "TEARDOWN", "GET_PARAMETER", "SET_PARAMETER"}
SERVER_NAME = "Edgestore RTSP Server"
SESSION_TIMEOUT = 60
STREAM_PATH = "/axis-media/media.amp"


@dataclass
class _Session:
    id: str
    recording: Recording
    track_url: str
    channel: int
    ssrc: int = field(default_factory=lambda: secrets.randbits(32))
    sequence: int = field(default_factory=lambda: secrets.randbits(16))
    rtp_base: int = field(default_factory=lambda: secrets.randbits(32))
    playing: bool = False
    task: asyncio.Task[None] | None = None

    def rtp_time(self, seconds: float) -> int:
        return (self.rtp_base + round(seconds * rtp.CLOCK_RATE)) & 0xFFFFFFFF


@dataclass
class _Connection:
    writer: asyncio.StreamWriter
    session: _Session | None = None
    start_playing: tuple[_Session, list[PlaybackFrame], float, bool, int] | None = None

    def end_session(self) -> None:
        if self.session is not None and self.session.task is not None:
            self.session.task.cancel()
        self.session = None


def _query(url: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}


def _recording_id(url: str) -> str | None:
    value = _query(url).get("recordingid")
    return value.strip().strip('"') if value and value.strip().strip('"') else None


class RtspServer:
    def __init__(self, state: DeviceState, host: str, port: int, services: Services | None = None) -> None:
        self._state = state
        self._services = services
        self._host, self._port = host, port
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() first"
        host, port = self._server.sockets[0].getsockname()[:2]
        return f"rtsp://{f'[{host}]' if ':' in host else host}:{port}"

    @property
    def port(self) -> int:
        assert self._server is not None, "start() first"
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._on_connection, self._host, self._port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._connections):
                task.cancel()
            await asyncio.gather(*self._connections, return_exceptions=True)
            await self._server.wait_closed()
            self._server = None

    async def _on_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        connection = _Connection(writer)
        try:
            await self._serve(reader, connection)
        except (RtspProtocolError, ConnectionError) as exc:
            log.info("RTSP connection closed: %s", exc)
        except asyncio.CancelledError:
            pass  # stop(): end quietly; asyncio on 3.11 logs a cancelled connection callback as an error
        finally:
            streaming = connection.session.task if connection.session is not None else None
            connection.end_session()
            if streaming is not None:
                with contextlib.suppress(BaseException):
                    await streaming
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                await writer.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, connection: _Connection) -> None:
        writer = connection.writer
        while (request := await read_request(reader)) is not None:
            response = await self.handle(request, connection)
            response.headers.append(("Server", SERVER_NAME))
            writer.write(response.encode(request.cseq))
            await writer.drain()
            if connection.start_playing is not None:  # after the PLAY reply, so RTP never precedes it
                session, frames, start, pull, next_block = connection.start_playing
                connection.start_playing = None
                session.task = asyncio.create_task(self._stream(writer, session, frames, start, pull, next_block))

    async def handle(self, request: RtspRequest, connection: _Connection | None = None) -> RtspResponse:
        if request.version != "RTSP/1.0":
            return RtspResponse(505)
        if request.method == "OPTIONS":
            return RtspResponse(200, [("Public", PUBLIC)])
        if request.method not in SESSION_METHODS | {"DESCRIBE"}:
            return RtspResponse(501)
        denied = self._authenticate(request)
        if denied is not None:
            return denied
        if request.method == "DESCRIBE":
            return await self._describe(request)
        if connection is None:
            return RtspResponse(454)
        if request.method == "SETUP":
            return await self._setup(request, connection)
        session = connection.session
        requested = (request.headers.get("Session") or "").split(";", 1)[0].strip()
        if session is None or requested != session.id:
            return RtspResponse(454)
        if request.method == "PLAY":
            return await self._play(request, connection, session)
        if request.method == "TEARDOWN":
            connection.end_session()
            return RtspResponse(200)
        if request.method == "GET_PARAMETER":  # a keep-alive (FFmpeg, aiortsp)
            return RtspResponse(200, [("Session", session.id)])
        return RtspResponse(501, [("Session", session.id)])  # PAUSE, SET_PARAMETER

    # --- methods ------------------------------------------------------------------------------------------

    async def _recording(self, url: str) -> Recording | RtspResponse:
        recording_id = _recording_id(url)
        if recording_id is None or self._services is None:
            return RtspResponse(404)  # live streams are not served
        recording = await asyncio.to_thread(find_recording, self._services.disks, recording_id)
        if recording is None:
            return RtspResponse(404)
        return recording

    @staticmethod
    def _urls(request: RtspRequest, recording_id: str) -> tuple[str, str, str]:
        """(Content-Base, session control URL, track control URL), on the host the client addressed, keeping the
        request's query (``recordingid``, ``pull`` and any stream parameters) so SETUP and PLAY carry it."""
        parts = urlsplit(request.url)
        netloc = parts.netloc.rsplit("@", 1)[-1]
        scheme = parts.scheme or "rtsp"
        query = parts.query or f"recordingid={recording_id}"
        base = urlunsplit((scheme, netloc, STREAM_PATH + "/", "", ""))
        session_url = urlunsplit((scheme, netloc, STREAM_PATH, query, ""))
        track_url = urlunsplit((scheme, netloc, STREAM_PATH + "/trackID=1", query, ""))
        return base, session_url, track_url

    async def _describe(self, request: RtspRequest) -> RtspResponse:
        found = await self._recording(request.url)
        if isinstance(found, RtspResponse):
            return found
        try:
            sps, pps = await asyncio.to_thread(parameter_sets, found)
        except PlaybackError as exc:
            return RtspResponse(415, [("Content-Type", "text/plain")], f"{exc}\n".encode())
        base, session_url, track_url = self._urls(request, found.meta.id)
        address = urlsplit(request.url).hostname or "0.0.0.0"
        sdp = h264_sdp(session_url, track_url, sps, pps, found.duration, secrets.randbits(31), address)
        headers = [("Content-Base", base), ("Content-Type", "application/sdp")]
        return RtspResponse(200, headers, sdp.encode())

    async def _setup(self, request: RtspRequest, connection: _Connection) -> RtspResponse:
        transport = request.headers.get("Transport", "")
        options = [t.strip() for t in transport.split(",")[0].split(";")]
        if not options or options[0].upper() != "RTP/AVP/TCP":
            return RtspResponse(461)  # UDP and multicast are not offered yet
        if connection.session is not None:
            requested = (request.headers.get("Session") or "").split(";", 1)[0].strip()
            if requested != connection.session.id:
                return RtspResponse(459)
            if connection.session.playing:
                return RtspResponse(455)
        found = await self._recording(request.url)
        if isinstance(found, RtspResponse):
            return found
        if found.meta.video.encoding != "video/x-h264":
            return RtspResponse(415, [("Content-Type", "text/plain")], b"only H.264 recordings play over RTSP\n")
        channel = 0
        for option in options[1:]:
            name, _, value = option.partition("=")
            if name.strip().lower() == "interleaved":
                try:
                    channel = int(value.split("-", 1)[0])
                except ValueError:
                    return RtspResponse(400)
        if not 0 <= channel <= 254:
            return RtspResponse(400)
        session_id = connection.session.id if connection.session is not None else f"{secrets.randbits(32):08X}"
        _base, _session_url, track_url = self._urls(request, found.meta.id)
        session = _Session(session_id, found, track_url, channel)
        connection.session = session
        return RtspResponse(
            200,
            [
                ("Transport", f"RTP/AVP/TCP;unicast;interleaved={channel}-{channel + 1};ssrc={session.ssrc:08X}"),
                ("Session", f"{session_id};timeout={SESSION_TIMEOUT}"),
            ],
        )

    async def _play(self, request: RtspRequest, connection: _Connection, session: _Session) -> RtspResponse:
        if session.playing:
            return RtspResponse(455, [("Session", session.id)])
        recording = session.recording
        wanted = parse_range(request.headers.get("Range"), recording.meta.start)
        start = wanted.start
        pull = _query(request.url).get("pull") == "1" or _query(session.track_url).get("pull") == "1"
        index = start_block(recording, start)
        frames: list[PlaybackFrame] = []
        while index < len(recording.blocks) and not frames:
            frames = from_keyframe(await asyncio.to_thread(read_block, recording, recording.blocks[index]), start)
            index += 1
        first = frames[0].time if frames else 0.0
        headers = [
            ("Session", session.id),
            ("Range", format_range(wanted.unit, first, recording.duration, recording.meta.start)),
            ("RTP-Info", f"url={session.track_url};seq={session.sequence};rtptime={session.rtp_time(first)}"),
        ]
        connection.start_playing = (session, frames, first, pull, index)
        session.playing = True
        return RtspResponse(200, headers)

    # --- streaming ----------------------------------------------------------------------------------------

    async def _stream(
        self,
        writer: asyncio.StreamWriter,
        session: _Session,
        frames: list[PlaybackFrame],
        start: float,
        pull: bool,
        next_block: int,
    ) -> None:
        """RTP from `frames` (the first block's, from its start key frame) and then the blocks from `next_block`."""
        recording = session.recording
        loop = asyncio.get_running_loop()
        packets = octets = 0
        last_time = start
        try:
            writer.write(rtp.interleaved(session.channel + 1, self._report(session, start, 0, 0)))
            began = loop.time()
            while True:
                for frame in frames:
                    if not pull:
                        delay = began + (frame.time - start) - loop.time()
                        if delay > 0:
                            await asyncio.sleep(delay)
                    timestamp = session.rtp_time(frame.time)
                    chunks = []
                    for payload, marker in rtp.access_unit_payloads(rtp.split_annex_b(frame.data)):
                        packet = rtp.rtp_packet(payload, session.sequence, timestamp, session.ssrc, marker)
                        session.sequence = (session.sequence + 1) & 0xFFFF
                        chunks.append(rtp.interleaved(session.channel, packet))
                        packets, octets = packets + 1, octets + len(payload)
                    writer.write(b"".join(chunks))
                    await writer.drain()
                    last_time = frame.time
                if next_block >= len(recording.blocks):
                    break
                frames = await asyncio.to_thread(read_block, recording, recording.blocks[next_block])
                frames = [f for f in frames if f.time > last_time]
                next_block += 1
            report = self._report(session, last_time, packets, octets) + rtp.bye(session.ssrc)
            writer.write(rtp.interleaved(session.channel + 1, report))
            await writer.drain()
        except ConnectionError as exc:
            log.info("RTSP playback ended: %s", exc)
        except Exception:
            log.exception("RTSP playback of %s failed", recording.meta.id)
            writer.close()

    @staticmethod
    def _report(session: _Session, media_time: float, packets: int, octets: int) -> bytes:
        return rtp.sender_report(session.ssrc, time.time(), session.rtp_time(media_time), packets, octets)

    def _authenticate(self, request: RtspRequest) -> RtspResponse | None:
        params = self._state.params
        if params.get("Network.RTSP.ProtViewer") == "anonymous":
            return None
        policy = self._state.http_auth_policy
        auth = self._state.auth
        outcome = auth.authenticate(policy, request.method, request.path_qs, request.headers.get("Authorization"))
        if outcome.user is not None and outcome.user.role >= RTSP_PLAYBACK_ROLE:
            return None
        # RTSP clients (live555, FFmpeg) speak MD5 Digest only.
        challenges = auth.challenge_headers(policy, outcome.stale, algorithms=("MD5",))
        return RtspResponse(401, [("WWW-Authenticate", c) for c in challenges])
