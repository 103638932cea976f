"""The RTSP server component: connections, framing, authentication, sessions, and playback of recordings.

``rtsp://host/axis-media/media.amp?recordingid=ID`` plays a recording (WIRE.md §7). DESCRIBE answers an H.264 SDP.

SETUP takes, in the order the client prefers them (device/rtsp/transport.py):

* ``RTP/AVP/TCP;unicast;interleaved=N-M``: RTP and RTCP framed on the RTSP connection;
* ``RTP/AVP;unicast;client_port=A-B`` (or ``RTP/AVP/UDP``): datagrams from a bound even/odd server port pair,
  answered as ``...;client_port=A-B;server_port=C-D;ssrc=...``, to the address of the RTSP connection.

Multicast gets 461. PLAY streams RTP paced in real time, or as fast as the client reads with ``pull=1`` in the URL
over TCP (over UDP nothing tells the camera how fast the client reads, so ``pull`` is not honoured there: it would
only lose packets). RTCP: a sender report when play starts, one about every 5 s, and a last one in a compound
packet with BYE when the range has been played.

* ``Range`` (npt, clock or smpte; device/rtsp/ranges.py) starts at the key frame at or before the asked time and
  ends with the last frame at or before the stop, if one is given; the reply's Range gives what is played, in the
  unit asked. A stop before the start, or a start past the end of a finished recording, is 457.
* ``Scale`` plays faster or slower in real time: the pacing is divided by it, RTP timestamps stay media time. It
  must be positive: reverse play and stills are not offered, so zero or a negative value is 456 (the header is
  understood but cannot be acted on for this resource), and a value that is not a number is 400. Values beyond
  1/16 to 16 are clamped, and the reply's ``Scale`` says what is applied (RFC 2326 §12.34). Each PLAY sets it: one
  without the header plays at 1.
* PAUSE stops sending at once, after a whole frame (a Range on PAUSE, a later pause point, is not honoured). PLAY
  without a Range (or with ``npt=now-``) resumes from the frame after the last one sent, with pacing anchored
  anew, the RTP sequence and timestamps running on, up to the stop of the PLAY it paused; PLAY with a Range seeks,
  whether paused or playing. Once the range has been played, a PLAY without Range starts from the beginning (RFC
  2326 §10.5).

Sessions belong to the server, not to a connection. ``Session: ID;timeout=T``: T is ``Network.RTSP.Timeout``
(60 unless changed; 0 means sessions never expire) unless the server was made with another `session_timeout`.
Any request that names the session (OPTIONS and GET_PARAMETER keep-alives included) and any RTCP the client
sends (interleaved on the connection, or to the server's RTCP port) keeps it alive; the camera's own RTP does
not (RFC 2326 §12.37). A session that hears nothing for T seconds is torn down, and then answers 454. An
interleaved session also ends when its connection closes and is only known on that connection; a UDP session
outlives the connection that set it up, so a client can reconnect to PLAY, PAUSE or TEARDOWN it. At most
64 sessions live at once; SETUP beyond that is 503.

Not here: live streams (no recordingid: 404), MJPEG recordings (415 with a reason), multicast (461).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import secrets
from collections.abc import Callable
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
from device.rtsp.transport import Interleaved, Sink, UdpPair, choose_transport, same_host
from device.services import Services
from device.state import DeviceState

log = logging.getLogger(__name__)

PUBLIC = "OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER"
SESSION_METHODS = {"SETUP", "PLAY", "PAUSE", "TEARDOWN", "GET_PARAMETER", "SET_PARAMETER"}
SERVER_NAME = "Edgestore RTSP Server"
SESSION_TIMEOUT = 60
"""Seconds, when ``Network.RTSP.Timeout`` cannot be read."""
STREAM_PATH = "/axis-media/media.amp"
MAX_SESSIONS = 64
"""Sessions at once; each UDP one holds two sockets, so a client that only sets up must not exhaust the ports."""
REPORT_INTERVAL = 5.0
"""Seconds between RTCP sender reports while playing."""
MIN_SCALE, MAX_SCALE = 1 / 16, 16.0
UDP_BYE_DELAY = 0.2
"""Seconds between the last RTP datagram and the BYE. RTP and RTCP travel on two sockets and a receiver may read
RTCP first when both have data (FFmpeg does): a BYE sent at once could end the stream before its last frames."""
_EPSILON = 1e-6


@dataclass(frozen=True)
class _Plan:
    """What one PLAY sends: `frames` (the first block's, from where play starts) and then the blocks from
    `next_block`, up to `stop`, paced at `scale` unless `pull`."""

    frames: list[PlaybackFrame]
    next_block: int
    first: float
    stop: float | None
    scale: float
    pull: bool


@dataclass(eq=False)
class _Session:
    """One client's play of one recording (RFC 2326 §3). It lives in the server, found by its ID, because a UDP
    session is not tied to a connection; compared by identity, as two are never the same."""

    id: str
    recording: Recording
    track_url: str
    sink: Sink
    timeout: int
    """Seconds without a request before the session is torn down; 0: never."""
    owner: _Connection | None
    """The connection an interleaved session lives on; None over UDP."""
    ssrc: int = field(default_factory=lambda: secrets.randbits(32))
    sequence: int = field(default_factory=lambda: secrets.randbits(16))
    rtp_base: int = field(default_factory=lambda: secrets.randbits(32))
    packets: int = 0
    """RTP packets and payload octets sent since SETUP, for the sender reports (RFC 3550 §6.4.1)."""
    octets: int = 0
    position: float | None = None
    """The time of the last frame sent; None before play and once the range has been played out. Where a PLAY
    without Range resumes."""
    unit: str = "npt"
    """The Range unit of the last PLAY that had one, for the replies of those that resume."""
    stop: float | None = None
    task: asyncio.Task[None] | None = None
    expiry: asyncio.TimerHandle | None = None
    closed: bool = False

    @property
    def playing(self) -> bool:
        return self.task is not None and not self.task.done()

    def rtp_time(self, seconds: float) -> int:
        return (self.rtp_base + round(seconds * rtp.CLOCK_RATE)) & 0xFFFFFFFF


@dataclass(eq=False)
class _Connection:
    """One RTSP connection: where replies, and interleaved sessions' media, are written."""

    writer: asyncio.StreamWriter
    sessions: dict[str, _Session] = field(default_factory=dict)
    """The interleaved sessions on this connection: they end with it."""
    after_reply: list[Callable[[], None]] = field(default_factory=list)
    """Run once the reply is written: PLAY starts streaming then, so RTP never precedes the reply."""


def _query(url: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}


def _recording_id(url: str) -> str | None:
    value = _query(url).get("recordingid")
    return value.strip().strip('"') if value and value.strip().strip('"') else None


def _session_id(request: RtspRequest) -> str:
    return (request.headers.get("Session") or "").split(";", 1)[0].strip()


def _text(status: int, reason: str, headers: list[tuple[str, str]] | None = None) -> RtspResponse:
    return RtspResponse(status, [*(headers or []), ("Content-Type", "text/plain")], f"{reason}\n".encode())


def _scale(value: str | None) -> float | RtspResponse:
    """The Scale to apply, or the error answer (see the module docstring)."""
    if value is None:
        return 1.0
    try:
        scale = float(value)
    except ValueError:
        return _text(400, f"Scale {value!r} is not a number")
    if not math.isfinite(scale):
        return _text(400, f"Scale {value!r} is not a number")
    if scale <= 0:
        return _text(456, "only forward play is offered: Scale must be positive")
    return min(max(scale, MIN_SCALE), MAX_SCALE)


class RtspServer:
    def __init__(
        self,
        state: DeviceState,
        host: str,
        port: int,
        services: Services | None = None,
        session_timeout: int | None = None,
    ) -> None:
        """`session_timeout`: seconds a session lives without a request; None follows ``Network.RTSP.Timeout``
        (60 unless changed), read at each SETUP."""
        self._state = state
        self._services = services
        self._host, self._port = host, port
        self._session_timeout = session_timeout
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._sessions: dict[str, _Session] = {}

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
            streams = [s.task for s in self._sessions.values() if s.task is not None]
            for session in list(self._sessions.values()):
                self._end_session(session)
            for task in list(self._connections):
                task.cancel()
            await asyncio.gather(*self._connections, *streams, return_exceptions=True)
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
            streams = [s.task for s in connection.sessions.values() if s.task is not None]
            for session in list(connection.sessions.values()):
                self._end_session(session)
            for streaming in streams:
                with contextlib.suppress(BaseException):
                    await streaming
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                await writer.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, connection: _Connection) -> None:
        writer = connection.writer

        def heard(_channel: int, _packet: bytes) -> None:  # the client's interleaved RTCP: it is still there
            for session in list(connection.sessions.values()):
                self._touch(session)

        while (request := await read_request(reader, heard)) is not None:
            response = await self.handle(request, connection)
            response.headers.append(("Server", SERVER_NAME))
            writer.write(response.encode(request.cseq))
            await writer.drain()
            actions, connection.after_reply = connection.after_reply, []
            for action in actions:
                action()

    async def handle(self, request: RtspRequest, connection: _Connection | None = None) -> RtspResponse:
        if request.version != "RTSP/1.0":
            return RtspResponse(505)
        session = self._lookup(_session_id(request), connection)
        if session is not None:
            self._touch(session)  # any request naming the session keeps it alive, OPTIONS included
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
            return await self._setup(request, connection, session)
        if session is None:
            return RtspResponse(454)
        if request.method == "PLAY":
            return await self._play(request, connection, session)
        if request.method == "PAUSE":
            await self._halt(session)
            return RtspResponse(200, [("Session", session.id)])
        if request.method == "TEARDOWN":
            self._end_session(session)
            return RtspResponse(200)
        if request.method == "GET_PARAMETER":  # a keep-alive (FFmpeg, aiortsp)
            return RtspResponse(200, [("Session", session.id)])
        return RtspResponse(501, [("Session", session.id)])  # SET_PARAMETER

    # --- sessions -----------------------------------------------------------------------------------------

    def _lookup(self, session_id: str, connection: _Connection | None) -> _Session | None:
        """The session a request names. An interleaved session is known only on its own connection: its media
        goes there, and another connection has no business with it."""
        session = self._sessions.get(session_id) if session_id else None
        if session is None or (session.owner is not None and session.owner is not connection):
            return None
        return session

    def _touch(self, session: _Session) -> None:
        """The client is there: the session lives another `timeout` seconds."""
        if session.closed or session.timeout <= 0:
            return
        if session.expiry is not None:
            session.expiry.cancel()
        session.expiry = asyncio.get_running_loop().call_later(session.timeout, self._expire, session)

    def _expire(self, session: _Session) -> None:
        log.info("RTSP session %s timed out after %d s without a request", session.id, session.timeout)
        self._end_session(session)

    def _end_session(self, session: _Session) -> None:
        """Tear down: stop streaming, release the transport, forget the ID. Synchronous, so a timer can call it;
        the streaming task is cancelled at an await, after a whole frame, and sends nothing more."""
        if session.closed:
            return
        session.closed = True
        self._sessions.pop(session.id, None)
        if session.owner is not None:
            session.owner.sessions.pop(session.id, None)
        if session.expiry is not None:
            session.expiry.cancel()
        if session.playing:
            assert session.task is not None
            session.task.cancel()
            if session.sink.datagrams:  # over TCP the client sees the connection; over UDP only a BYE says so
                session.sink.send_rtcp(self._report(session, session.position or 0.0) + rtp.bye(session.ssrc))
        session.sink.close()

    async def _halt(self, session: _Session) -> None:
        """Stop streaming where it is; `session.position` is then the last frame sent."""
        task, session.task = session.task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _timeout(self) -> int:
        if self._session_timeout is not None:
            return self._session_timeout
        try:
            return int(self._state.params.get("Network.RTSP.Timeout"))
        except (KeyError, ValueError):
            return SESSION_TIMEOUT

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
            return _text(415, str(exc))
        base, session_url, track_url = self._urls(request, found.meta.id)
        address = urlsplit(request.url).hostname or "0.0.0.0"
        sdp = h264_sdp(session_url, track_url, sps, pps, found.duration, secrets.randbits(31), address)
        headers = [("Content-Base", base), ("Content-Type", "application/sdp")]
        return RtspResponse(200, headers, sdp.encode())

    async def _setup(self, request: RtspRequest, connection: _Connection, session: _Session | None) -> RtspResponse:
        try:
            wanted = choose_transport(request.headers.get("Transport", ""))
        except ValueError as exc:
            return _text(400, f"bad Transport: {exc}")
        if wanted is None:
            return RtspResponse(461)  # multicast, or nothing this server speaks
        if _session_id(request) and session is None:
            return RtspResponse(454)
        if session is not None and session.playing:
            return RtspResponse(455, [("Session", session.id)])
        found = await self._recording(request.url)
        if isinstance(found, RtspResponse):
            return found
        if found.meta.video.encoding != "video/x-h264":
            return _text(415, "only H.264 recordings play over RTSP")
        if session is not None and found.meta.id != session.recording.meta.id:
            return RtspResponse(459, [("Session", session.id)])  # one recording per session
        if session is None and len(self._sessions) >= MAX_SESSIONS:
            return _text(503, "too many RTSP sessions")
        sink: Sink
        if wanted.interleaved:
            sink = Interleaved(connection.writer, wanted.channel)
        else:
            local = connection.writer.get_extra_info("sockname")
            peer = connection.writer.get_extra_info("peername")
            if not local or not peer:
                return RtspResponse(461)
            if wanted.destination and not same_host(wanted.destination, str(peer[0])):
                return _text(461, "RTP goes to the address the RTSP connection comes from")
            try:
                sink = await UdpPair.open(str(local[0]), str(peer[0]), wanted.client_ports)
            except OSError as exc:
                log.warning("RTSP SETUP: cannot bind UDP ports: %s", exc)
                return _text(503, "no free UDP port pair")
        if session is None:
            session_id = f"{secrets.randbits(32):08X}"
            while session_id in self._sessions:
                session_id = f"{secrets.randbits(32):08X}"
            _base, _session_url, track_url = self._urls(request, found.meta.id)
            session = _Session(session_id, found, track_url, sink, self._timeout(), None)
            self._sessions[session_id] = session
        else:  # a new transport for the same session (RFC 2326 §10.4)
            session.sink.close()
            session.sink = sink
            if session.owner is not None:
                session.owner.sessions.pop(session.id, None)
        session.owner = connection if wanted.interleaved else None
        if session.owner is not None:
            session.owner.sessions[session.id] = session
        current = session
        if isinstance(sink, UdpPair):
            sink.on_client_rtcp = lambda: self._touch(current)
        self._touch(session)
        timeout = f";timeout={session.timeout}" if session.timeout > 0 else ""
        return RtspResponse(
            200, [("Transport", sink.transport_header(session.ssrc)), ("Session", f"{session.id}{timeout}")]
        )

    async def _play(self, request: RtspRequest, connection: _Connection, session: _Session) -> RtspResponse:
        scale = _scale(request.headers.get("Scale"))
        if isinstance(scale, RtspResponse):
            scale.headers.insert(0, ("Session", session.id))
            return scale
        recording = session.recording
        header = request.headers.get("Range")
        wanted = parse_range(header, recording.meta.start) if header else None
        seek = wanted is not None and not wanted.now
        duration = recording.duration
        if wanted is not None and seek:
            if wanted.stop is not None and wanted.stop < wanted.start - _EPSILON:
                return _text(457, "the stop is before the start", [("Session", session.id)])
            if duration is not None and wanted.start > duration + _EPSILON:
                return _text(457, f"the recording is {duration:.3f} s long", [("Session", session.id)])
        await self._halt(session)  # a PLAY while playing stops where it is, then seeks or goes on
        resume = not seek and session.position is not None
        if wanted is not None:
            session.unit = wanted.unit
        if seek or not resume:
            start = wanted.start if wanted is not None and seek else 0.0
            stop = wanted.stop if wanted is not None else None
        else:
            assert session.position is not None
            start = session.position
            stop = wanted.stop if wanted is not None and wanted.stop is not None else session.stop
            if stop is not None and stop < start - _EPSILON:
                return _text(457, "the stop is before where play would resume", [("Session", session.id)])
        session.stop = stop
        frames, next_block = await self._frames_from(recording, start, resume)
        first = frames[0].time if frames else start
        end = stop if duration is None else duration if stop is None else min(stop, duration)
        headers = [
            ("Session", session.id),
            ("Range", format_range(session.unit, first, end, recording.meta.start)),
            ("RTP-Info", f"url={session.track_url};seq={session.sequence};rtptime={session.rtp_time(first)}"),
        ]
        if request.headers.get("Scale") is not None:
            headers.append(("Scale", f"{scale:g}"))
        pull = (_query(request.url).get("pull") == "1" or _query(session.track_url).get("pull") == "1") and not (
            session.sink.datagrams
        )
        plan = _Plan(frames, next_block, first, stop, scale, pull)
        connection.after_reply.append(lambda: self._start(session, plan))
        return RtspResponse(200, headers)

    @staticmethod
    async def _frames_from(recording: Recording, start: float, resume: bool) -> tuple[list[PlaybackFrame], int]:
        """The frames play begins with and the index of the block after theirs. A seek starts at the key frame at
        or before `start`; a resume with the first frame after `start` (the last one sent: the decoder has the
        rest). Blocks with nothing to play (cut short, no key frame) are skipped."""
        index = start_block(recording, start)
        frames: list[PlaybackFrame] = []
        while index < len(recording.blocks) and not frames:
            read = await asyncio.to_thread(read_block, recording, recording.blocks[index])
            frames = [f for f in read if f.time > start] if resume else from_keyframe(read, start)
            index += 1
        return frames, index

    # --- streaming ----------------------------------------------------------------------------------------

    def _start(self, session: _Session, plan: _Plan) -> None:
        if session.closed:
            return  # torn down (from another connection, or timed out) between the reply and now
        if session.task is not None:
            session.task.cancel()  # two PLAYs raced from two connections: the later one wins
        session.task = asyncio.create_task(self._stream(session, plan))

    def _send_frame(self, session: _Session, frame: PlaybackFrame) -> None:
        """One access unit as RTP, and the bookkeeping with it: nothing between them yields, so a PAUSE or
        TEARDOWN always finds the session at a frame boundary."""
        timestamp = session.rtp_time(frame.time)
        packets = []
        for payload, marker in rtp.access_unit_payloads(rtp.split_annex_b(frame.data)):
            packets.append(rtp.rtp_packet(payload, session.sequence, timestamp, session.ssrc, marker))
            session.sequence = (session.sequence + 1) & 0xFFFF
            session.packets += 1
            session.octets += len(payload)
        session.sink.send_rtp(packets)
        session.position = frame.time

    async def _stream(self, session: _Session, plan: _Plan) -> None:
        """RTP from `plan`, paced by `plan.scale` from the moment it starts, RTCP around and within it."""
        recording, sink = session.recording, session.sink
        loop = asyncio.get_running_loop()
        last = plan.first
        try:
            sink.send_rtcp(self._report(session, plan.first))
            began = loop.time()
            next_report = began + REPORT_INTERVAL
            frames, next_block, done = plan.frames, plan.next_block, False
            while not done:
                for frame in frames:
                    if plan.stop is not None and frame.time > plan.stop + _EPSILON:
                        done = True
                        break
                    if not plan.pull:
                        delay = began + (frame.time - plan.first) / plan.scale - loop.time()
                        if delay > 0:
                            await asyncio.sleep(delay)
                    now = loop.time()
                    if now >= next_report:
                        media = last if plan.pull else plan.first + (now - began) * plan.scale
                        sink.send_rtcp(self._report(session, media))
                        next_report = now + REPORT_INTERVAL
                    self._send_frame(session, frame)
                    last = frame.time
                    await sink.flush()
                if done or next_block >= len(recording.blocks):
                    break
                read = await asyncio.to_thread(read_block, recording, recording.blocks[next_block])
                frames = [f for f in read if f.time > last]
                next_block += 1
            if sink.datagrams:
                await asyncio.sleep(UDP_BYE_DELAY)
            sink.send_rtcp(self._report(session, last) + rtp.bye(session.ssrc))
            session.position = None  # played out: a PLAY without Range starts from the beginning
            await sink.flush()
        except ConnectionError as exc:
            log.info("RTSP playback ended: %s", exc)
        except Exception:
            log.exception("RTSP playback of %s failed", recording.meta.id)
            session.task = None  # ending here: the teardown must not cancel this very task
            if isinstance(sink, Interleaved):
                sink.writer.close()  # the client sees the connection close rather than waiting for frames
            else:
                sink.send_rtcp(rtp.bye(session.ssrc))
            self._end_session(session)

    def _report(self, session: _Session, media_time: float) -> bytes:
        """A sender report tying RTP time to the frame's capture time (not the time of sending), so a client can
        show the true wall-clock time of every recorded frame."""
        captured = session.recording.meta.start.timestamp() + media_time
        return rtp.sender_report(session.ssrc, captured, session.rtp_time(media_time), session.packets, session.octets)

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
