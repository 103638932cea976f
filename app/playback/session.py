"""One RTSP playback session over one TCP connection: DESCRIBE, SETUP (RTP/AVP/TCP interleaved), PLAY from a
wall-clock or npt position, GET_PARAMETER keep-alives, TEARDOWN; H.264 access units out, each with its wall-clock
time from the latest RTCP sender report.

Why not aiortsp (which the tests drive as a third-party client): its connection is an asyncio Protocol that reads
everything the camera sends as fast as it comes and hands each packet to a callback, so a player that falls behind
(or a ``pull=1`` URL, which sends as fast as the client reads) can only grow memory or drop frames. Here one task
reads the connection and puts whole access units into a bounded queue; when the player stops taking them the
task stops reading and TCP slows the camera down. aiortsp also answers Digest without ``qop`` only, picks Basic
over Digest when offered both, carries no H.264 depacketizer, and is untyped.

Control requests and media share the connection, so every response is read by the same task and handed to its
request by CSeq. A PLAY that seeks while frames are queued must not deliver the old ones: each PLAY starts a new
*generation*, frames of an older one are dropped, and the reader switches generation the moment it reads the PLAY
reply (the camera stops the old stream before it answers and starts the new one after).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import unquote, urlsplit, urlunsplit

from app.playback.auth import Credentials, RtspAuth
from app.playback.clock import WallClock
from app.playback.errors import RtspConnectionError, RtspError, RtspTimeout, status_error
from app.playback.h264 import AccessUnit, H264Depacketizer
from app.playback.messages import (
    Interleaved,
    RtspProtocolError,
    RtspResponse,
    ServerRequest,
    encode_request,
    read_message,
)
from app.playback.ranges import PlayRange, parse_range
from app.playback.rtp import Bye, RtpError, SenderReport, parse_rtcp, parse_rtp
from app.playback.sdp import MediaDescription, SessionDescription, parse_sdp, resolve_control

JPEG_PAYLOAD_TYPE = 26
"""RFC 3551's static payload type for RFC 2435 JPEG, which needs no rtpmap line."""

log = logging.getLogger(__name__)

DEFAULT_PORT = 554
USER_AGENT = "Edgestore"
DEFAULT_SESSION_TIMEOUT = 60
"""Seconds, when SETUP's Session header names none (RFC 2326 §12.37)."""
MAX_HELD = 150
"""Access units kept back while waiting for the first sender report after a PLAY (10 s at 15 fps); past that
they go on undated rather than stalling the picture."""


@dataclass(frozen=True)
class Frame:
    data: bytes
    """One access unit in Annex B (start codes), SPS and PPS before every key frame."""
    keyframe: bool
    rtp_timestamp: int
    wall_clock: datetime | None
    """When the camera captured it (UTC), from the RTCP sender reports; None if the camera sent none."""


@dataclass(frozen=True)
class RtpInfo:
    url: str
    sequence: int | None
    rtp_timestamp: int | None


@dataclass(frozen=True)
class PlayReply:
    range: PlayRange | None
    """What the camera really plays, in the unit asked; it starts at the key frame before the asked time.
    None when the reply has no Range or one in a unit not understood here."""
    rtp_info: tuple[RtpInfo, ...]
    scale: float | None


@dataclass
class _Waiter:
    future: asyncio.Future[RtspResponse]
    on_reply: Callable[[RtspResponse], None] | None


@dataclass(frozen=True)
class _End:
    """The stream ended: the camera said BYE (`error` None) or the connection failed."""

    error: Exception | None = None


@dataclass
class _Setup:
    control_url: str
    media: MediaDescription
    session_id: str = ""
    timeout: int = DEFAULT_SESSION_TIMEOUT
    rtp_channel: int = 0
    rtcp_channel: int = 1
    public: set[str] = field(default_factory=set)


def split_credentials(url: str) -> tuple[str, Credentials | None]:
    """`url` without ``user:password@``, and those credentials: they are sent in answer to a challenge, never in
    a request line or a log."""
    parts = urlsplit(url)
    if parts.username is None:
        return url, None
    host = parts.netloc.rsplit("@", 1)[1]
    credentials = Credentials(unquote(parts.username), unquote(parts.password or ""))
    return urlunsplit(parts._replace(netloc=host)), credentials


def _unplayable(description: SessionDescription) -> str:
    """Why a stream without H.264 video cannot be played, in words an operator can act on: Motion JPEG recordings
    exist (``videocodec=jpeg``), and the player's pipeline (H.264 into MPEG-TS for libvlc) does not carry them."""
    video = [m for m in description.media if m.media == "video"]
    if any(m.encoding == "JPEG" or m.payload_type == JPEG_PAYLOAD_TYPE for m in video):
        return "this recording is Motion JPEG, and the player plays H.264 only; export it to watch it in another player"
    if video:
        return f"the camera sends {video[0].encoding or 'unknown'} video, and the player plays H.264 only"
    return "the camera offers no video for this URL"


def _session_header(value: str) -> tuple[str, int]:
    session_id, *options = (p.strip() for p in value.split(";"))
    timeout = DEFAULT_SESSION_TIMEOUT
    for option in options:
        name, _, number = option.partition("=")
        if name.strip().lower() == "timeout" and number.strip().isdigit():
            timeout = int(number)
    return session_id, timeout


def _interleaved_channels(transport: str) -> tuple[int, int] | None:
    for part in transport.split(";"):
        name, _, value = part.strip().partition("=")
        if name.lower() == "interleaved":
            first, _, second = value.partition("-")
            if first.strip().isdigit():
                rtp = int(first)
                return rtp, int(second) if second.strip().isdigit() else rtp + 1
    return None


def parse_rtp_info(value: str) -> tuple[RtpInfo, ...]:
    found: list[RtpInfo] = []
    for entry in value.split(","):
        fields: dict[str, str] = {}
        for part in entry.split(";"):
            name, _, item = part.strip().partition("=")
            fields[name.strip().lower()] = item.strip()
        if "url" not in fields:
            continue
        seq, rtptime = fields.get("seq", ""), fields.get("rtptime", "")
        found.append(
            RtpInfo(fields["url"], int(seq) if seq.isdigit() else None, int(rtptime) if rtptime.isdigit() else None)
        )
    return tuple(found)


async def _reap(task: asyncio.Task[None]) -> None:
    """Wait for a cancelled helper task to end. Not `with suppress(CancelledError): await task`: that also
    swallows the cancellation of the task *waiting*, which then runs on (a player that was told to stop waits for
    the end of a stream that will never come)."""
    await asyncio.wait({task})
    if not task.cancelled():
        task.exception()  # retrieved: it was reported where it happened, or it is the failure being closed on


def keepalive_interval(timeout: int) -> float:
    """Well before the session would expire: 5 s early like Axis's own web client, but never later than
    halfway, so a short timeout survives a keep-alive whose answer is slow."""
    return max(0.5, timeout - 5.0 if timeout >= 20 else timeout / 2)


class RtspSession:
    def __init__(
        self,
        url: str,
        credentials: Credentials | None = None,
        *,
        timeout: float = 10.0,
        max_queued: int = 64,
    ) -> None:
        """`url` may carry ``user:password@`` (taken out of it) or get `credentials`; `timeout` bounds connecting
        and each request; `max_queued` access units wait for the player before reading stops."""
        self.url, in_url = split_credentials(url)
        self._auth = RtspAuth(credentials or in_url)
        self._timeout = timeout
        self._queue: asyncio.Queue[tuple[int, Frame | _End] | _End] = asyncio.Queue(max_queued)
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._read_task: asyncio.Task[None] | None = None
        self._keepalive_task: asyncio.Task[None] | None = None
        self._cseq = 0
        self._pending: dict[int, _Waiter] = {}
        self._setup: _Setup | None = None
        self._description: SessionDescription | None = None
        self._depacketizer = H264Depacketizer()
        self._clock = WallClock(90_000)
        self._held: list[AccessUnit] = []
        self._wanted = 0
        """The generation of frames the player wants: that of the last PLAY sent."""
        self._current = 0
        """The generation of the frames arriving: that of the last PLAY answered 200."""
        self._error: Exception | None = None

    # --- the public API ---------------------------------------------------------------------------------------

    async def __aenter__(self) -> RtspSession:
        try:
            await self.open()
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def description(self) -> SessionDescription:
        if self._description is None:
            raise RtspError("open() first")
        return self._description

    @property
    def video(self) -> MediaDescription:
        if self._setup is None:
            raise RtspError("open() first")
        return self._setup.media

    @property
    def session_id(self) -> str:
        return self._setup.session_id if self._setup is not None else ""

    @property
    def session_timeout(self) -> int:
        return self._setup.timeout if self._setup is not None else DEFAULT_SESSION_TIMEOUT

    @property
    def dropped(self) -> int:
        """Access units not delivered because they were damaged or had no key frame before them."""
        return self._depacketizer.dropped

    async def open(self) -> SessionDescription:
        """Connect, DESCRIBE and SETUP the H.264 track over interleaved TCP; the camera sends nothing until
        :meth:`play`."""
        parts = urlsplit(self.url)
        if parts.scheme.lower() not in ("rtsp", "rtspt") or not parts.hostname:
            raise RtspError(f"not an rtsp:// URL: {self.url}")
        host, port = parts.hostname, parts.port or DEFAULT_PORT
        try:
            async with asyncio.timeout(self._timeout):  # not wait_for: on 3.11 it can lose a cancellation
                self._reader, self._writer = await asyncio.open_connection(host, port)
        except (OSError, TimeoutError) as exc:
            raise RtspConnectionError(f"cannot connect to {host}:{port}: {exc}") from None
        self._read_task = asyncio.create_task(self._read_loop())
        options = await self._request("OPTIONS", self.url)
        public = {m.strip().upper() for m in (options.header("Public") or "").split(",") if m.strip()}
        described = self._check("DESCRIBE", await self._request("DESCRIBE", self.url, [("Accept", "application/sdp")]))
        base = described.header("Content-Base") or described.header("Content-Location") or self.url
        self._description = description = parse_sdp(described.body.decode("utf-8", "replace"))
        media = next((m for m in description.media if m.media == "video" and m.encoding == "H264"), None)
        if media is None:
            raise RtspError(_unplayable(description))
        control_url = resolve_control(base, description.control)
        setup = _Setup(control_url, media, public=public)
        track_url = resolve_control(base, media.control)
        reply = self._check(
            "SETUP", await self._request("SETUP", track_url, [("Transport", "RTP/AVP/TCP;unicast;interleaved=0-1")])
        )
        setup.session_id, setup.timeout = _session_header(reply.header("Session") or "")
        if not setup.session_id:
            raise RtspError("the camera answered SETUP without a session")
        channels = _interleaved_channels(reply.header("Transport") or "")
        if channels is None:
            raise RtspError("the camera did not set up interleaved TCP")
        setup.rtp_channel, setup.rtcp_channel = channels
        self._depacketizer = H264Depacketizer(media.parameter_sets)
        self._clock = WallClock(media.clock_rate or 90_000)
        self._setup = setup
        if setup.timeout > 0:
            self._keepalive_task = asyncio.create_task(self._keep_alive(keepalive_interval(setup.timeout)))
        return description

    async def play(self, start: PlayRange | None = None, *, scale: float | None = None) -> PlayReply:
        """PLAY from `start` (None: from the beginning, or on from where a PAUSE left off). Frames still queued
        from an earlier PLAY are dropped, so the next frame :meth:`frames` yields is this one's first."""
        setup = self._require_setup()
        self._wanted += 1
        generation = self._wanted
        self._drain()
        headers = [("Session", setup.session_id)]
        if start is not None:
            headers.append(("Range", start.header()))
        if scale is not None:
            headers.append(("Scale", f"{scale:g}"))

        def switched(reply: RtspResponse) -> None:  # in the reader, before it reads the new stream's first packet
            if reply.ok:
                self._current = generation
                self._depacketizer.reset()
                self._clock.reset()
                self._held.clear()

        reply = self._check("PLAY", await self._request("PLAY", setup.control_url, headers, switched))
        played: PlayRange | None = None
        if (text := reply.header("Range")) is not None:
            try:
                played = parse_range(text)
            except ValueError:
                log.info("the camera answered PLAY with a Range not understood here: %r", text)
        scale_text = reply.header("Scale")
        try:
            applied = float(scale_text) if scale_text is not None else None
        except ValueError:
            applied = None
        return PlayReply(played, parse_rtp_info(reply.header("RTP-Info") or ""), applied)

    async def pause(self) -> None:
        setup = self._require_setup()
        self._check("PAUSE", await self._request("PAUSE", setup.control_url, [("Session", setup.session_id)]))

    async def frames(self) -> AsyncIterator[Frame]:
        """The access units of the current PLAY, in order. Ends when the camera has played the range (RTCP BYE);
        raises :class:`RtspConnectionError` when the connection fails."""
        while True:
            item = await self._queue.get()
            if isinstance(item, _End):  # the connection failed: whatever the generation
                if item.error is not None:
                    raise item.error
                return
            generation, payload = item
            if generation != self._wanted:
                continue
            if isinstance(payload, _End):
                return
            yield payload

    async def close(self) -> None:
        """TEARDOWN (briefly waited for: a camera that does not answer still gets its connection closed, which
        ends an interleaved session too), then close."""
        if self._keepalive_task is not None:
            self._keepalive_task.cancel()
            await _reap(self._keepalive_task)
            self._keepalive_task = None
        setup, self._setup = self._setup, None
        if setup is not None and self._error is None and self._writer is not None:
            self._wanted += 1  # the reader must not block on frames no one will take while TEARDOWN is answered
            self._drain()
            with contextlib.suppress(RtspError, OSError):
                await self._request(
                    "TEARDOWN", setup.control_url, [("Session", setup.session_id)], timeout=min(self._timeout, 2.0)
                )
        if self._read_task is not None:
            self._read_task.cancel()
            await _reap(self._read_task)
            self._read_task = None
        self._wanted += 1
        self._drain()
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(_End())  # a player still waiting for frames stops waiting
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()
            self._writer = None

    # --- requests ---------------------------------------------------------------------------------------------

    def _require_setup(self) -> _Setup:
        if self._setup is None:
            raise RtspError("the session is not set up (open() first, or it was closed)")
        return self._setup

    @staticmethod
    def _check(method: str, reply: RtspResponse) -> RtspResponse:
        if not reply.ok:
            raise status_error(method, reply.status, reply.reason)
        return reply

    async def _request(
        self,
        method: str,
        url: str,
        headers: list[tuple[str, str]] | None = None,
        on_reply: Callable[[RtspResponse], None] | None = None,
        *,
        timeout: float | None = None,
    ) -> RtspResponse:
        """Send and wait for the reply; a 401 is answered once with the challenge it carries."""
        reply = await self._send(method, url, headers or [], on_reply, timeout)
        if reply.status == 401 and self._auth.challenged(reply.all("WWW-Authenticate")):
            reply = await self._send(method, url, headers or [], on_reply, timeout)
        return reply

    async def _send(
        self,
        method: str,
        url: str,
        headers: list[tuple[str, str]],
        on_reply: Callable[[RtspResponse], None] | None,
        timeout: float | None,
    ) -> RtspResponse:
        if self._error is not None:
            raise RtspConnectionError(f"the connection failed: {self._error}")
        writer = self._writer
        if writer is None:
            raise RtspConnectionError("not connected")
        self._cseq += 1
        cseq = self._cseq
        signed = [*headers, ("User-Agent", USER_AGENT)]
        if (authorization := self._auth.authorization(method, url)) is not None:
            signed.append(("Authorization", authorization))
        future: asyncio.Future[RtspResponse] = asyncio.get_running_loop().create_future()
        self._pending[cseq] = _Waiter(future, on_reply)
        log.debug("RTSP %s %s (CSeq %d)", method, url, cseq)
        try:
            writer.write(encode_request(method, url, cseq, signed))
            await writer.drain()
            # asyncio.timeout, not wait_for: Python 3.11's wait_for swallows a cancellation that arrives as the
            # answer does, and a player told to stop would then play on.
            async with asyncio.timeout(timeout or self._timeout):
                return await future
        except TimeoutError:
            raise RtspTimeout(f"the camera did not answer {method} in time") from None
        except OSError as exc:
            raise RtspConnectionError(f"sending {method} failed: {exc}") from None
        finally:
            self._pending.pop(cseq, None)

    async def _keep_alive(self, interval: float) -> None:
        """GET_PARAMETER when the camera lists it (Axis does), otherwise OPTIONS, which every server answers;
        both name the session, which is what keeps it alive."""
        while True:
            await asyncio.sleep(interval)
            setup = self._setup
            if setup is None:
                return
            method = "GET_PARAMETER" if "GET_PARAMETER" in setup.public or not setup.public else "OPTIONS"
            try:
                reply = await self._request(method, setup.control_url, [("Session", setup.session_id)])
            except RtspTimeout:
                log.info("keep-alive %s unanswered (the player may not be reading frames)", method)
                continue
            except RtspError as exc:
                log.info("keep-alive stopped: %s", exc)
                return
            if not reply.ok:
                log.warning("keep-alive %s answered %d %s", method, reply.status, reply.reason)

    # --- the reader -------------------------------------------------------------------------------------------

    async def _read_loop(self) -> None:
        assert self._reader is not None
        try:
            while True:
                message = await read_message(self._reader)
                if message is None:
                    raise RtspConnectionError("the camera closed the connection")
                if isinstance(message, RtspResponse):
                    self._dispatch(message)
                elif isinstance(message, Interleaved):
                    await self._on_packet(message)
                else:
                    self._refuse(message)
        except (RtspProtocolError, RtspConnectionError, OSError) as exc:
            await self._fail(exc if isinstance(exc, RtspConnectionError) else RtspConnectionError(str(exc)))
        except Exception as exc:  # a bug here must still end the player's wait, not leave it hanging
            log.exception("reading the RTSP connection failed")
            await self._fail(RtspConnectionError(f"reading the RTSP connection failed: {exc!r}"))

    async def _fail(self, error: RtspConnectionError) -> None:
        """Fail every request still waiting and end the frames with `error`."""
        self._error = error
        for waiter in self._pending.values():
            if not waiter.future.done():
                waiter.future.set_exception(error)
        await self._queue.put(_End(error))

    def _dispatch(self, reply: RtspResponse) -> None:
        waiter = self._pending.pop(reply.cseq, None) if reply.cseq is not None else None
        if waiter is None:
            log.debug("RTSP reply nobody waits for (CSeq %s, %d)", reply.cseq, reply.status)
            return
        if waiter.on_reply is not None:
            waiter.on_reply(reply)
        if not waiter.future.done():
            waiter.future.set_result(reply)

    def _refuse(self, request: ServerRequest) -> None:
        """Requests from the server (ANNOUNCE, ...) are answered 551 rather than left hanging."""
        cseq = next((v for k, v in request.headers if k.lower() == "cseq"), "0")
        if self._writer is not None:
            self._writer.write(f"RTSP/1.0 551 Option not supported\r\nCSeq: {cseq}\r\n\r\n".encode())

    async def _on_packet(self, message: Interleaved) -> None:
        setup = self._setup
        if setup is None:
            return
        try:
            if message.channel == setup.rtp_channel:
                packet = parse_rtp(message.packet)
                if packet.payload_type == setup.media.payload_type:
                    for unit in self._depacketizer.push(packet):
                        await self._deliver(unit)
            elif message.channel == setup.rtcp_channel:
                for report in parse_rtcp(message.packet):
                    if isinstance(report, SenderReport):
                        self._clock.update(report)
                        await self._release_held()
                    elif isinstance(report, Bye):
                        for unit in self._depacketizer.flush():
                            await self._deliver(unit)
                        await self._release_held()
                        await self._put(_End())
        except RtpError as exc:
            log.info("a malformed RTP or RTCP packet was skipped: %s", exc)

    async def _deliver(self, unit: AccessUnit) -> None:
        if self._current != self._wanted:
            return  # an earlier PLAY's frames, arriving before the reply to the latest one
        if not self._clock.synchronized and len(self._held) < MAX_HELD:
            self._held.append(unit)
            return
        await self._release_held()
        await self._put(self._frame(unit))

    async def _release_held(self) -> None:
        held, self._held = self._held, []
        for unit in held:
            await self._put(self._frame(unit))

    def _frame(self, unit: AccessUnit) -> Frame:
        return Frame(unit.annex_b, unit.keyframe, unit.timestamp, self._clock.wall_clock(unit.timestamp))

    async def _put(self, payload: Frame | _End) -> None:
        generation = self._current
        if generation == self._wanted:
            await self._queue.put((generation, payload))

    def _drain(self) -> None:
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if isinstance(item, _End):  # a failure must still reach the player
                self._queue.put_nowait(item)
                return
