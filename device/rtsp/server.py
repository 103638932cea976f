"""The RTSP server component: connections, framing, authentication, sessions, live view, playback of recordings
and the metadata event stream.

``rtsp://host/axis-media/media.amp`` serves three things (WIRE.md §7, EVENTS.md §3.2):

* with ``recordingid=ID``: that recording, H.264 or MJPEG. A finished one has a range (``a=range:npt=0.000-D``);
  one still being recorded has an open range (``npt=0.000-``) and is followed to its end: once play reaches the
  last frame written, the stream waits for the next ones (the index and the growing block are polled every
  `FOLLOW_POLL` s, read in a worker thread; device/rtsp/playback.py), goes on into new blocks as they appear, and
  ends with a BYE once the recording has stopped and everything has been sent. A plain block is handed to the
  OS cluster by cluster, but on an encrypted card a block becomes readable a 64 KiB chunk at a time, so there
  play at the live edge runs that much behind the camera. A recording left open by a crash (no stop time, but
  not being recorded) ends `ORPHAN_GRACE` s after its last frame. Blocks are read a chunk at a time, the next
  chunk while the current one is sent, so a session holds about two `playback.READ_CHUNK` of video whatever the
  block's size and however slowly its client reads.
* without it: live view of the camera's source, with the stream parameters of the query (``resolution``, ``fps``,
  ``videocodec=h264|jpeg``, ``compression``, ``streamprofile``; others are ignored, bad values are 400;
  device/rtsp/live.py). It goes through the recorder's SourceHub, so a viewer asking for what a recording
  records shares its encoder, and a source stops when its last viewer (or recording) leaves; at most
  `live.MAX_STREAMS` different sets of parameters are open to viewers at once (503 beyond). DESCRIBE opens the
  source (the SDP carries the encoder's parameter sets) and keeps it `live.HOLD` s for the SETUP and PLAY that
  follow. The SDP has no range; PLAY starts at the source's next key frame (every JPEG is one) and answers
  ``Range: npt=now-``. RTP time and the RTCP sender reports follow each frame's capture time. A slow viewer
  costs a bounded amount: its frame queue drops whole GOPs when full (FrameQueue) and the transport holds about
  a frame (transport.py).

* with ``video=0&audio=0&event=on``: the event stream, ONVIF metadata documents (payload type 98,
  ``vnd.onvif.metadata/90000``; device/rtsp/metadata.py), optionally filtered by ``eventtopic`` (ConcreteSet
  alternatives separated by ``,`` or ``|``, ``onvif:``/``axis:`` or ``tns1:``/``tnsaxis:``, ``//.``) and
  ``eventcontent`` (an ItemFilter), percent-encoded; a filter that does not parse is 400 with the reason, at
  DESCRIBE and at SETUP. The SDP is one ``m=application`` track without a range. PLAY subscribes to the event bus
  (device/rtsp/eventfeed.py) and sends the empty ``tt:MetadataStream`` document (on the session's first PLAY),
  then one ``Initialized`` document for every current stateful event that passes the filters, then one
  ``Changed`` document for each later change of a stateful event and one without PropertyOperation for each
  stateless event. A document may span several packets (at most 1400 bytes each); the marker bit is on its last.
  RTP time is the event's time (never earlier than the PLAY or the document before), on the 90 kHz clock the
  sender reports tie to wall-clock time, sent at PLAY and about every 5 s even when no event comes. PAUSE
  unsubscribes; the next PLAY starts again from the current states, since changes were missed meanwhile. A client
  that stops reading fills its transport's buffer and then its feed's bounded queue (`eventfeed.MAX_QUEUED`
  events), and is then disconnected (TCP aborted; over UDP, BYE) rather than silently losing changes.
  Sessions, transports, keep-alives, expiry, authentication and the session limit are the video sessions'.
  ``event=on`` is served on its own: next to live video (``video`` absent or not 0) or with ``recordingid`` it
  is 501 with a reason (a session here carries one stream; a second track in one session is not offered).
  ``event`` absent or ``off`` is one of the two above, the event parameters ignored.

H.264 travels as RFC 6184 (payload type 96), JPEG as RFC 2435 (payload type 26, ``a=x-dimensions``;
device/rtsp/jpeg.py, which re-encodes the rare JPEG the format cannot carry as it is).

SETUP takes, in the order the client prefers them (device/rtsp/transport.py):

* ``RTP/AVP/TCP;unicast;interleaved=N-M``: RTP and RTCP framed on the RTSP connection;
* ``RTP/AVP;unicast;client_port=A-B`` (or ``RTP/AVP/UDP``): datagrams from a bound even/odd server port pair,
  answered as ``...;client_port=A-B;server_port=C-D;ssrc=...``, to the address of the RTSP connection.

Multicast gets 461. PLAY of a recording streams RTP paced in real time, or as fast as the client reads with
``pull=1`` in the URL over TCP (over UDP nothing tells the camera how fast the client reads, so ``pull`` is not
honoured there: it would only lose packets). RTCP: a sender report when play starts, one about every 5 s, and a
last one in a compound packet with BYE when the range has been played.

* ``Range`` (npt, clock or one of the smpte units; device/rtsp/ranges.py) starts at the key frame at or before the
  asked time and ends with the last frame at or before the stop, if one is given; the reply's Range gives what is
  played, in the unit asked. A Range that does not parse or is in another unit, a stop before the start, a range
  that ends before the recording starts, or a start past the end of a finished recording is 457 with the reason,
  never play from somewhere else. Live view has nothing to seek: its Range is ignored.
* ``Scale`` plays faster or slower in real time: the pacing is divided by it, RTP timestamps stay media time. It
  must be positive: reverse play and stills are not offered, so zero or a negative value is 456 (the header is
  understood but cannot be acted on for this resource), and a value that is not a number is 400. Values beyond
  1/16 to 16 are clamped, and the reply's ``Scale`` says what is applied (RFC 2326 §12.34). Each PLAY sets it: one
  without the header plays at 1. Live view plays at 1 only (456 for anything else).
* PAUSE stops sending at once, after a whole frame (a Range on PAUSE, a later pause point, is not honoured); a
  paused live session lets go of its source. PLAY without a Range (or with ``npt=now-``) resumes a recording
  from the frame after the last one sent, with pacing anchored anew, the RTP sequence and timestamps running on,
  up to the stop of the PLAY it paused; PLAY with a Range seeks, whether paused or playing. Once the range has
  been played, a PLAY without Range starts from the beginning (RFC 2326 §10.5).

Sessions belong to the server, not to a connection. ``Session: ID;timeout=T``: T is ``Network.RTSP.Timeout``
(60 unless changed; 0 means sessions never expire) unless the server was made with another `session_timeout`.
Any request that names the session (OPTIONS and GET_PARAMETER keep-alives included) and any RTCP the client
sends (interleaved on the connection, or to the server's RTCP port) keeps it alive; the camera's own RTP does
not (RFC 2326 §12.37). A session that hears nothing for T seconds is torn down, and then answers 454. An
interleaved session also ends when its connection closes and is only known on that connection; a UDP session
outlives the connection that set it up, so a client can reconnect to PLAY, PAUSE or TEARDOWN it. At most
64 sessions live at once; SETUP beyond that is 503.

Every reply carries ``Date`` (the camera's clock, RFC 1123 GMT) and ``Server``. A request that ``Require:``s an
option gets 551 with ``Unsupported:`` naming what is not served (RFC 2326 §12.32; `SUPPORTED_OPTIONS` is empty),
whatever the method. SET_PARAMETER in a session takes ``text/parameters`` (another body is 415): ``Renew-Stream:
yes`` makes a playing live session's next frame a key frame with its parameter sets and is answered, with nothing
to do, for a recording or the event stream; any other parameter is 451 and nothing is set
(device/rtsp/parameters.py).

Not here: multicast (461), audio, recordings in other codecs than H.264 and MJPEG (415 with a reason), an event
track next to video in one session (501 with a reason).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import av

from device.http.access import RTSP_PLAYBACK_ROLE
from device.media.synthetic import FrameQueue, SourceOptions
from device.recorder.ids import recording_id_argument
from device.rtsp import jpeg, metadata, rtp
from device.rtsp.eventfeed import EventFeed
from device.rtsp.live import LiveSources, LiveView, TooManyStreams, live_view
from device.rtsp.messages import RtspProtocolError, RtspRequest, RtspResponse, read_request
from device.rtsp.metadata import MetadataRequestError, MetadataView, metadata_view
from device.rtsp.parameters import CONTENT_TYPE, read_settings
from device.rtsp.playback import (
    CODECS,
    Batch,
    PlaybackError,
    PlaybackFrame,
    Recording,
    RecordingReader,
    find_recording,
    parameter_sets,
)
from device.rtsp.ranges import RangeError, format_range, parse_range
from device.rtsp.sdp import describe, h264_media, jpeg_media
from device.rtsp.transport import Interleaved, Sink, UdpPair, choose_transport, same_host
from device.services import Services
from device.state import DeviceState
from device.tasks import cancel_and_wait

log = logging.getLogger(__name__)

PUBLIC = "OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER"
SUPPORTED_OPTIONS: frozenset[str] = frozenset()
"""``Require:`` option tags served (RFC 2326 §12.32), lower case. None: VAPIX defines none for playback, and ONVIF's
``onvif-replay`` (what GStreamer's onvif-mode requires) changes what PLAY means, so it is refused rather than
silently half honoured. ``com.axis.parameters-in-header`` is what a real Axis camera refuses in WIRE.md §7."""
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
FOLLOW_POLL = 0.25
"""Seconds between looks for new frames of a recording that is still being recorded, once play has caught up."""
ORPHAN_GRACE = 5.0
"""Seconds a recording without a stop time that nothing records any more (a crash left it open) is waited for
before its play ends: stopping takes a moment between the recorder letting go and the stop time being written."""
METADATA = "metadata"
"""The "codec" of the event stream's documents, for `_send`."""
PAYLOAD_TYPES = {"h264": rtp.PAYLOAD_TYPE, "jpeg": jpeg.PAYLOAD_TYPE, METADATA: metadata.PAYLOAD_TYPE}
_EPSILON = 1e-6

Target = Recording | LiveView | MetadataView
"""What a session plays."""


@dataclass(frozen=True)
class _Plan:
    """What one PLAY of a recording sends: `frames` (the first read, from where play starts), then what `reader`
    reads, up to `stop`, paced at `scale` unless `pull`."""

    reader: RecordingReader
    frames: list[PlaybackFrame]
    ended: bool
    """The first read was also the last: the recording holds nothing more."""
    first: float
    stop: float | None
    scale: float
    pull: bool


@dataclass(frozen=True)
class _Feed:
    """A live session's subscription to its source, from PLAY until PAUSE or teardown."""

    options: SourceOptions
    queue: FrameQueue


@dataclass(eq=False)
class _Session:
    """One client's play of one recording or of live view (RFC 2326 §3). It lives in the server, found by its ID,
    because a UDP session is not tied to a connection; compared by identity, as two are never the same."""

    id: str
    target: Target
    track_url: str
    sink: Sink
    timeout: int
    """Seconds without a request before the session is torn down; 0: never."""
    owner: _Connection | None
    """The connection an interleaved session lives on; None over UDP."""
    origin: float
    """The capture time (Unix seconds) of media time 0: the recording's start, or the live or event session's
    SETUP. RTP timestamps count from it, and the sender reports tie them to it."""
    ssrc: int = field(default_factory=lambda: secrets.randbits(32))
    sequence: int = field(default_factory=lambda: secrets.randbits(16))
    rtp_base: int = field(default_factory=lambda: secrets.randbits(32))
    packets: int = 0
    """RTP packets and payload octets sent since SETUP, for the sender reports (RFC 3550 §6.4.1)."""
    octets: int = 0
    position: float | None = None
    """The media time of the last frame (or event document) sent; None before play and once the range has been
    played out. Where a PLAY without Range resumes; an event session sends its empty first document while None."""
    unit: str = "npt"
    """The Range unit of the last PLAY that had one, for the replies of those that resume."""
    stop: float | None = None
    task: asyncio.Task[None] | None = None
    feed: _Feed | None = None
    events: EventFeed | None = None
    """A metadata session's subscription to the event bus, from PLAY until PAUSE or teardown."""
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
    """The recording a URL names; "" when it has ``recordingid`` without one (no such recording), None when it
    has none (live view)."""
    query = _query(url)
    if "recordingid" not in query:
        return None
    return recording_id_argument(query["recordingid"])


def _unsupported(request: RtspRequest) -> list[str]:
    """The ``Require:`` option tags of `request` this server does not serve, in the order asked."""
    tags = [tag.strip() for value in request.headers.getall("Require", []) for tag in value.split(",")]
    return [tag for tag in tags if tag and tag.lower() not in SUPPORTED_OPTIONS]


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


def _forget(future: asyncio.Future[Any]) -> None:
    """Retrieve a read-ahead's outcome nobody waits for any more, so asyncio does not report it as lost."""
    if not future.cancelled():
        future.exception()


def _same_target(a: Target, b: Target) -> bool:
    if isinstance(a, Recording) and isinstance(b, Recording):
        return a.meta.id == b.meta.id
    return a == b  # two live views (the same stream parameters), or two event streams (the same filters)


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
        (60 unless changed), read at each SETUP. Without `services` nothing is served (404)."""
        self._state = state
        self._services = services
        self._live = LiveSources(services.recorder.hub) if services is not None else None
        self._host, self._port = host, port
        self._session_timeout = session_timeout
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._sessions: dict[str, _Session] = {}
        self._producer = metadata.producer_reference(state.identity.serial)

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
            if self._live is not None:
                await self._live.stop()  # every live source let go of before the recorder stops the hub
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
            response.headers.append(("Date", format_datetime(self._state.clock.now().astimezone(UTC), usegmt=True)))
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
        unsupported = _unsupported(request)
        if unsupported:  # before authentication: a client that needs an option learns at once it must go elsewhere
            headers = [("Unsupported", ", ".join(unsupported))]
            return RtspResponse(551, [*headers, ("Session", session.id)] if session is not None else headers)
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
        return self._set_parameter(request, session)

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
        """Tear down: stop streaming, let go of a live source, release the transport, forget the ID. Synchronous,
        so a timer can call it; the streaming task is cancelled at an await, after a whole frame, and sends
        nothing more."""
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
        feed, session.feed = session.feed, None
        if feed is not None and self._live is not None:
            self._live.release_soon(feed.options, feed.queue)
        if session.events is not None:
            session.events.close()
            session.events = None
        session.sink.close()

    async def _halt(self, session: _Session) -> None:
        """Stop streaming where it is; `session.position` is then the last frame sent. A live session lets go of
        its source (the next PLAY starts at a key frame anyway)."""
        task, session.task = session.task, None
        if task is not None and not task.done():
            await cancel_and_wait(task)
        if session.events is not None:
            session.events.close()
            session.events = None
        feed, session.feed = session.feed, None
        if feed is not None and self._live is not None:
            await self._live.release(feed.options, feed.queue)

    def _timeout(self) -> int:
        if self._session_timeout is not None:
            return self._session_timeout
        try:
            return int(self._state.params.get("Network.RTSP.Timeout"))
        except (KeyError, ValueError):
            return SESSION_TIMEOUT

    # --- methods ------------------------------------------------------------------------------------------

    async def _target(self, url: str) -> Target | RtspResponse:
        """The recording a URL names, or the live view or event stream it asks for; or the error answer."""
        if self._services is None:
            return RtspResponse(404)
        try:
            view = metadata_view(url)
        except MetadataRequestError as exc:
            return _text(exc.status, str(exc))
        if view is not None:
            return view
        recording_id = _recording_id(url)
        if recording_id is None:
            try:
                return live_view(url)
            except ValueError as exc:
                return _text(400, f"Invalid stream parameters: {exc}")
        if not recording_id:
            return RtspResponse(404)
        recording = await asyncio.to_thread(find_recording, self._services.disks, recording_id)
        if recording is None:
            return RtspResponse(404)
        return recording

    @staticmethod
    def _urls(request: RtspRequest) -> tuple[str, str, str]:
        """(Content-Base, session control URL, track control URL), on the host the client addressed, keeping the
        request's query (``recordingid``, ``pull`` and any stream parameters) so SETUP and PLAY carry it."""
        parts = urlsplit(request.url)
        netloc = parts.netloc.rsplit("@", 1)[-1]
        scheme = parts.scheme or "rtsp"
        base = urlunsplit((scheme, netloc, STREAM_PATH + "/", "", ""))
        session_url = urlunsplit((scheme, netloc, STREAM_PATH, parts.query, ""))
        track_url = urlunsplit((scheme, netloc, STREAM_PATH + "/trackID=1", parts.query, ""))
        return base, session_url, track_url

    async def _describe(self, request: RtspRequest) -> RtspResponse:
        target = await self._target(request.url)
        if isinstance(target, RtspResponse):
            return target
        duration: float | None = None
        if isinstance(target, MetadataView):
            media = metadata.sdp_media()
        elif isinstance(target, LiveView):
            assert self._live is not None
            try:
                info = await self._live.describe(target.options)
            except TooManyStreams as exc:
                return _text(503, str(exc))
            except (OSError, ValueError, TimeoutError, av.FFmpegError) as exc:
                return _text(503, f"The video source cannot be read: {exc}")
            media = h264_media(info.sps, info.pps) if info.codec == "h264" else jpeg_media(info.width, info.height)
        else:
            try:
                codec = target.codec
            except PlaybackError as exc:
                return _text(415, str(exc))
            duration = target.duration
            if codec == "jpeg":
                media = jpeg_media(target.meta.video.width, target.meta.video.height)
            else:
                try:
                    sps, pps = await asyncio.to_thread(parameter_sets, target)
                except PlaybackError as exc:
                    if not target.ongoing:
                        return _text(415, str(exc))
                    media = h264_media(None, None)  # just started: its first key frame is not written yet
                else:
                    media = h264_media(sps, pps)
        base, session_url, track_url = self._urls(request)
        address = urlsplit(request.url).hostname or "0.0.0.0"
        live = not isinstance(target, Recording)
        sdp = describe(session_url, track_url, media, duration, secrets.randbits(31), address, live)
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
        target = await self._target(request.url)
        if isinstance(target, RtspResponse):
            return target
        if isinstance(target, Recording) and target.meta.video.encoding not in CODECS:
            return _text(415, f"only H.264 and MJPEG recordings play over RTSP, not {target.meta.video.encoding}")
        if session is not None and not _same_target(session.target, target):
            return RtspResponse(459, [("Session", session.id)])  # one stream per session
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
            _base, _session_url, track_url = self._urls(request)
            origin = (
                target.meta.start.timestamp() if isinstance(target, Recording) else self._state.clock.now().timestamp()
            )
            session = _Session(session_id, target, track_url, sink, self._timeout(), None, origin)
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
        if isinstance(session.target, LiveView):
            return await self._play_live(request, connection, session, session.target, scale)
        if isinstance(session.target, MetadataView):
            return await self._play_metadata(connection, session, session.target, scale)
        assert self._services is not None
        recording = await asyncio.to_thread(find_recording, self._services.disks, session.target.meta.id)
        if recording is None:  # removed since SETUP
            return RtspResponse(404, [("Session", session.id)])
        session.target = recording  # the blocks, and the stop, as they are now
        header = request.headers.get("Range")
        try:
            wanted = parse_range(header, recording.meta.start) if header is not None else None
        except RangeError as exc:  # refused, not played from the start: see device/rtsp/ranges.py
            return _text(457, str(exc), [("Session", session.id)])
        seek = wanted is not None and not wanted.now
        duration = recording.duration
        if wanted is not None and seek:
            if wanted.stop is not None and wanted.stop < wanted.start - _EPSILON:
                return _text(457, "the range ends before the recording starts", [("Session", session.id)])
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
        reader = RecordingReader(recording, start, resume)
        batch = await asyncio.to_thread(reader.read)
        first = batch.frames[0].time if batch.frames else start
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
        plan = _Plan(reader, batch.frames, batch.ended, first, stop, scale, pull)
        connection.after_reply.append(lambda: self._start(session, self._stream(session, plan)))
        return RtspResponse(200, headers)

    async def _play_live(
        self, request: RtspRequest, connection: _Connection, session: _Session, live: LiveView, scale: float
    ) -> RtspResponse:
        """Subscribe to the source and stream from its next key frame; a Range is ignored (nothing to seek)."""
        if abs(scale - 1.0) > _EPSILON:
            return _text(456, "live video plays at Scale 1", [("Session", session.id)])
        await self._halt(session)
        assert self._live is not None
        try:
            queue = await self._live.subscribe(live.options)
        except TooManyStreams as exc:
            return _text(503, str(exc), [("Session", session.id)])
        except (OSError, ValueError, av.FFmpegError) as exc:
            return _text(503, f"The video source cannot be read: {exc}", [("Session", session.id)])
        feed = _Feed(live.options, queue)
        session.feed = feed
        now = self._state.clock.now().timestamp() - session.origin
        headers = [
            ("Session", session.id),
            ("Range", "npt=now-"),
            ("RTP-Info", f"url={session.track_url};seq={session.sequence};rtptime={session.rtp_time(now)}"),
        ]
        if request.headers.get("Scale") is not None:
            headers.append(("Scale", "1"))

        def start() -> None:
            if session.feed is feed:  # not released by a later PLAY or PAUSE, from another connection
                self._start(session, self._stream_live(session, feed.queue))

        connection.after_reply.append(start)
        return RtspResponse(200, headers)

    async def _play_metadata(
        self, connection: _Connection, session: _Session, view: MetadataView, scale: float
    ) -> RtspResponse:
        """Subscribe to the event bus (the current states are taken now) and stream once the reply is out; a
        Range is ignored (events are live)."""
        if abs(scale - 1.0) > _EPSILON:
            return _text(456, "the event stream plays at Scale 1", [("Session", session.id)])
        await self._halt(session)
        assert self._services is not None
        feed = EventFeed(self._services.bus, view.matches, lambda: self._overflowed(session))
        session.events = feed
        now = self._state.clock.now().timestamp() - session.origin
        headers = [
            ("Session", session.id),
            ("Range", "npt=now-"),
            ("RTP-Info", f"url={session.track_url};seq={session.sequence};rtptime={session.rtp_time(now)}"),
        ]

        def start() -> None:
            if session.events is feed:  # not stopped by a later PLAY or PAUSE, from another connection
                self._start(session, self._stream_metadata(session, feed))

        connection.after_reply.append(start)
        return RtspResponse(200, headers)

    def _set_parameter(self, request: RtspRequest, session: _Session) -> RtspResponse:
        """``Renew-Stream: yes`` renews a playing live session's picture (LiveSources.renew: its next frame is a
        key frame with the parameter sets). For a recording it does nothing more than answer: every key frame of
        a recording is sent with its SPS and PPS already, and a client that wants a new picture seeks. A paused
        session, or the event stream, has nothing to renew either. An empty body is a keep-alive."""
        headers = [("Session", session.id)]
        media_type = (request.headers.get("Content-Type") or CONTENT_TYPE).split(";", 1)[0].strip().lower()
        if request.body and media_type != CONTENT_TYPE:
            return _text(415, f"SET_PARAMETER takes {CONTENT_TYPE}, not {media_type}", headers)
        settings = read_settings(request.body)
        if isinstance(settings, list):
            body = "".join(f"{line}\r\n" for line in settings).encode()
            return RtspResponse(451, [*headers, ("Content-Type", CONTENT_TYPE)], body)
        if settings.renew_stream and session.feed is not None and self._live is not None:
            self._live.renew(session.feed.queue)
        return RtspResponse(200, headers)

    # --- streaming ----------------------------------------------------------------------------------------

    def _start(self, session: _Session, stream: Coroutine[Any, Any, None]) -> None:
        if session.closed:
            stream.close()
            return  # torn down (from another connection, or timed out) between the reply and now
        if session.task is not None:
            session.task.cancel()  # two PLAYs raced from two connections: the later one wins
        session.task = asyncio.create_task(stream)

    async def _payloads(
        self, codec: str, data: bytes, nals: list[bytes] | None = None
    ) -> list[tuple[bytes, bool]] | None:
        """The RTP payloads of one frame (an H.264 access unit as `nals` when the caller has them, else as Annex B
        `data`); None (with a warning) for a JPEG that cannot be sent at all."""
        if codec == "h264":
            return rtp.access_unit_payloads(nals if nals is not None else rtp.split_annex_b(data))
        try:
            try:
                return jpeg.payloads(jpeg.parse(data))
            except jpeg.Unsupported:  # rare and costly: not on the event loop
                return jpeg.payloads(await asyncio.to_thread(jpeg.carried, data))
        except jpeg.JpegError as exc:
            log.warning("RTSP: a JPEG frame is skipped: %s", exc)
            return None

    def _send(self, session: _Session, media_time: float, payloads: list[tuple[bytes, bool]], codec: str) -> None:
        """One frame as RTP, and the bookkeeping with it: nothing between them yields, so a PAUSE or TEARDOWN
        always finds the session at a frame boundary."""
        timestamp = session.rtp_time(media_time)
        payload_type = PAYLOAD_TYPES[codec]
        packets = []
        for payload, marker in payloads:
            packets.append(rtp.rtp_packet(payload, session.sequence, timestamp, session.ssrc, marker, payload_type))
            session.sequence = (session.sequence + 1) & 0xFFFF
            session.packets += 1
            session.octets += len(payload)
        session.sink.send_rtp(packets)
        session.position = media_time

    def _orphaned(self, recording_id: str) -> bool:
        """True when nothing records `recording_id`, though it has no stop time (yet)."""
        return self._services is not None and recording_id not in self._services.recorder.active

    async def _stream(self, session: _Session, plan: _Plan) -> None:
        """RTP from `plan`, paced by `plan.scale` from the moment it starts, RTCP around and within it; a
        recording still being recorded is followed until it stops.

        The next chunk is read ahead: its read starts in a worker thread as soon as the frames of the last one are
        in hand, so it is ready by the time they have been sent, and sessions that need a read at the same moment
        (started together) do not stall each other's streams. One read ahead at most: a session holds the frames
        being sent and those of the next chunk, about 2 x `playback.READ_CHUNK`."""
        recording, sink = plan.reader.recording, session.sink
        loop = asyncio.get_running_loop()
        last = plan.first
        ahead: asyncio.Future[Batch] | None = None
        try:
            codec = recording.codec
            sink.send_rtcp(self._report(session, plan.first))
            began = loop.time()
            next_report = began + REPORT_INTERVAL

            def media_now() -> float:
                return last if plan.pull else plan.first + (loop.time() - began) * plan.scale

            frames, ended, done = plan.frames, plan.ended, False
            orphan_since: float | None = None
            while True:
                if frames and not ended and (plan.stop is None or frames[-1].time <= plan.stop + _EPSILON):
                    ahead = asyncio.ensure_future(asyncio.to_thread(plan.reader.read))
                for frame in frames:
                    if plan.stop is not None and frame.time > plan.stop + _EPSILON:
                        done = True
                        break
                    if not plan.pull:
                        delay = began + (frame.time - plan.first) / plan.scale - loop.time()
                        if delay > 0:
                            await asyncio.sleep(delay)
                    if codec == "h264":
                        payloads = await self._payloads(codec, b"", frame.h264_nals())
                    else:
                        payloads = await self._payloads(codec, frame.payload)
                    if loop.time() >= next_report:
                        sink.send_rtcp(self._report(session, media_now()))
                        next_report = loop.time() + REPORT_INTERVAL
                    if payloads is not None:
                        self._send(session, frame.time, payloads, codec)
                    last = frame.time
                    await sink.flush()
                if done or ended:
                    break
                next_read, ahead = ahead, None
                batch = await (next_read if next_read is not None else asyncio.to_thread(plan.reader.read))
                frames, ended = batch.frames, batch.ended
                if frames or ended:
                    orphan_since = None
                    continue
                # Caught up with a recording that goes on: wait for what it records next.
                now = loop.time()
                if now >= next_report:
                    sink.send_rtcp(self._report(session, media_now()))
                    next_report = now + REPORT_INTERVAL
                if self._orphaned(recording.meta.id):
                    orphan_since = now if orphan_since is None else orphan_since
                    if now - orphan_since >= ORPHAN_GRACE:
                        log.info("RTSP: recording %s is open but nothing records it: play ends", recording.meta.id)
                        break
                else:
                    orphan_since = None
                await asyncio.sleep(FOLLOW_POLL)
            if sink.datagrams:
                await asyncio.sleep(UDP_BYE_DELAY)
            sink.send_rtcp(self._report(session, last) + rtp.bye(session.ssrc))
            session.position = None  # played out: a PLAY without Range starts from the beginning
            await sink.flush()
        except ConnectionError as exc:
            log.info("RTSP playback ended: %s", exc)
        except Exception:
            log.exception("RTSP playback of %s failed", recording.meta.id)
            self._failed(session)
        finally:
            if ahead is not None:  # stopped (PAUSE, TEARDOWN, the range played) with a read under way: let it go
                ahead.cancel()
                ahead.add_done_callback(_forget)

    async def _stream_live(self, session: _Session, queue: FrameQueue) -> None:
        """The source's frames as they come, from the next key frame on, timed by their capture; a sender report
        with the first and about every 5 s. The queue drops whole GOPs while the client is too slow to take
        them (the sink's flush waits for it), so a slow client loses video, never the camera its memory."""
        sink = session.sink
        loop = asyncio.get_running_loop()
        next_report = loop.time()
        try:
            while True:
                frame = await queue.get()
                media = frame.capture_time.timestamp() - session.origin
                payloads = await self._payloads(frame.codec, frame.data)
                if payloads is None:
                    continue
                if loop.time() >= next_report:
                    sink.send_rtcp(self._report(session, media))
                    next_report = loop.time() + REPORT_INTERVAL
                self._send(session, media, payloads, frame.codec)
                await sink.flush()
        except ConnectionError as exc:
            log.info("RTSP live view ended: %s", exc)
        except Exception:
            log.exception("RTSP live view failed")
            self._failed(session)

    async def _stream_metadata(self, session: _Session, feed: EventFeed) -> None:
        """The event documents as the bus delivers them: the empty one first on the session's first PLAY, then
        the feed's (current states, then changes). A sender report at the start and about every 5 s, events or
        not, so a client can place documents in time and the session shows it is alive.

        RTP time is the event's time, but never earlier than this PLAY or the document before: the current
        states, set long before, go out stamped with the moment of PLAY, so RTP time never runs backward."""
        sink = session.sink
        loop = asyncio.get_running_loop()

        def media_now() -> float:
            return self._state.clock.now().timestamp() - session.origin

        try:
            floor = media_now()
            sink.send_rtcp(self._report(session, floor))
            next_report = loop.time() + REPORT_INTERVAL
            if session.position is None:
                self._send(session, floor, metadata.payloads(metadata.empty_document()), METADATA)
            while True:
                await sink.flush()
                if loop.time() >= next_report:
                    sink.send_rtcp(self._report(session, media_now()))
                    next_report = loop.time() + REPORT_INTERVAL
                try:
                    async with asyncio.timeout_at(next_report):
                        event = await feed.get()
                except TimeoutError:
                    continue
                floor = max(floor, event.time.timestamp() - session.origin)
                self._send(session, floor, metadata.payloads(metadata.document(event, self._producer)), METADATA)
                await asyncio.sleep(0)  # a burst of current states leaves room for everything else on the loop
        except ConnectionError as exc:
            log.info("RTSP event stream ended: %s", exc)
        except Exception:
            log.exception("RTSP event stream failed")
            self._failed(session)

    def _overflowed(self, session: _Session) -> None:
        """The feed filled up: the client has stopped reading. End the session (soon: this runs inside whatever
        published the event), and over TCP the connection, aborted: a client that does not read would hold a
        graceful close, and what is buffered for it, open for ever."""

        def end() -> None:
            if session.closed or session.events is None or not session.events.overflowed:
                return  # stopped meanwhile (PAUSE, TEARDOWN), or a new PLAY has a new feed
            log.warning("RTSP event stream %s: the client is not reading events; it is disconnected", session.id)
            if isinstance(session.sink, Interleaved):
                session.sink.writer.transport.abort()
            self._end_session(session)

        asyncio.get_running_loop().call_soon(end)

    def _failed(self, session: _Session) -> None:
        """End a session whose stream broke: the client is told rather than left waiting for frames."""
        session.task = None  # ending here: the teardown must not cancel this very task
        sink = session.sink
        if isinstance(sink, Interleaved):
            sink.writer.close()  # the client sees the connection close
        else:
            sink.send_rtcp(rtp.bye(session.ssrc))
        self._end_session(session)

    def _report(self, session: _Session, media_time: float) -> bytes:
        """A sender report tying RTP time to the frame's capture time (not the time of sending), so a client can
        show the true wall-clock time of every frame."""
        captured = session.origin + media_time
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
