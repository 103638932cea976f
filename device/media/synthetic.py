"""The camera's default video source: a synthetic picture, encoded once, shared by every recording and stream.

Each frame carries its capture time twice, as text for people and as a machine-readable strip for tests (see
:mod:`device.media.timestrip`), and shows a moving box so motion is visible and the encoder has real work to do.
Frames are encoded once per source and the packets fanned out, because a camera with several recordings and
live viewers must not pay the encoder once per consumer (and real Axis cameras do not either: all consumers of
one stream profile share one encoder).

Rendering is pure Python over bytearrays (no numpy in the frozen app); the costly parts (background, colour
planes) are prepared once per source and copied, and everything else is drawn with row slices, never per pixel.
Measured on a 2-core machine: render + encode about 1.3 ms per frame at 640x360 H.264 and 7 ms at 1920x1080, so
one core sustains 1080p at 30 fps with room to spare.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Literal

import av
from av.codec.context import Flags
from av.video.codeccontext import VideoCodecContext
from av.video.frame import PictureType

from device.clock import Clock
from device.media import timestrip
from device.media.font import GLYPH_HEIGHT, draw_text

log = logging.getLogger(__name__)

VideoCodec = Literal["h264", "jpeg"]
CODECS: tuple[VideoCodec, ...] = ("h264", "jpeg")

MAX_WIDTH, MAX_HEIGHT = 1920, 1080
MIN_WIDTH, MIN_HEIGHT = 320, 180
"""The strip needs a few pixels per bit to survive compression at its worst (see timestrip.MIN_WIDTH); 320x180
keeps a margin and is the smallest 16:9 resolution Axis cameras commonly offer that fits."""
MIN_FPS, MAX_FPS = 1, 30

DEFAULT_MAXSIZE_GOPS = 2
"""A subscriber's queue holds two GOPs by default: enough to ride out a stall of a GOP's length (a disk flush, a
slow client) without losing anything, small enough that a dead subscriber costs only a few hundred KB."""
MIN_KEY_INTERVAL = Fraction(1, 2)
"""Seconds from one key frame to a key frame a consumer asks for (:meth:`SyntheticSource.request_key_frame`), at
the least. A source is shared: a viewer that asked on every frame would make a recording of it all key frames."""


# --- Stream parameters ----------------------------------------------------------------------------------------


def crf_for(compression: int) -> int:
    """Axis compression 0..100 (higher = smaller files) onto x264's useful CRF span, 18 (visually lossless) to 40
    (very blocky but still readable, strip included)."""
    return 18 + round(compression * 22 / 100)


def qscale_for(compression: int) -> int:
    """Axis compression 0..100 onto the MJPEG quantiser span 2 (best) .. 31 (worst)."""
    return 2 + round(compression * 29 / 100)


def _int_in(name: str, raw: str, low: int, high: int) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise ValueError(f"{name} must be a whole number from {low} to {high}, not {raw!r}") from None
    if not low <= value <= high:
        raise ValueError(f"{name} must be from {low} to {high}, not {value}")
    return value


@dataclass(frozen=True, slots=True)
class SourceOptions:
    """What a client may ask of the video, in the VAPIX stream-parameter vocabulary."""

    width: int = 640
    height: int = 360
    fps: int = 15
    codec: VideoCodec = "h264"
    compression: int = 30
    """Axis default; see :func:`crf_for` and :func:`qscale_for`."""

    @classmethod
    def parse(cls, query: Mapping[str, str], defaults: SourceOptions | None = None) -> SourceOptions:
        """Options from query arguments (``resolution``, ``fps``, ``videocodec``, ``compression``); anything
        else in the query belongs to someone else and is ignored. Raises ValueError naming the bad argument."""
        base = defaults or cls()
        width, height, fps, codec, compression = base.width, base.height, base.fps, base.codec, base.compression
        if "resolution" in query:
            width, height = parse_resolution(query["resolution"])
        if "fps" in query:
            fps = _int_in("fps", query["fps"], MIN_FPS, MAX_FPS)
        if "videocodec" in query:
            raw = query["videocodec"].strip().lower()
            if raw not in CODECS:
                raise ValueError(f"videocodec must be one of {', '.join(CODECS)}, not {query['videocodec']!r}")
            codec = raw
        if "compression" in query:
            compression = _int_in("compression", query["compression"], 0, 100)
        return cls(width, height, fps, codec, compression)

    @property
    def resolution(self) -> str:
        return f"{self.width}x{self.height}"


def parse_resolution(raw: str) -> tuple[int, int]:
    """``WxH`` with even numbers (4:2:0 chroma halves both) from 320x180 up to 1920x1080."""
    parts = raw.strip().lower().split("x")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise ValueError(f"resolution must look like 640x360, not {raw!r}")
    width, height = int(parts[0]), int(parts[1])
    if not (MIN_WIDTH <= width <= MAX_WIDTH and MIN_HEIGHT <= height <= MAX_HEIGHT):
        raise ValueError(
            f"resolution must be from {MIN_WIDTH}x{MIN_HEIGHT} to {MAX_WIDTH}x{MAX_HEIGHT}, not {width}x{height}"
        )
    if width % 2 or height % 2:
        raise ValueError(f"resolution must have even width and height, not {width}x{height}")
    return width, height


# --- Encoded frames and their fan-out -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EncodedFrame:
    """One access unit as the encoder made it.

    For H.264, ``data`` is Annex B (start codes), and every key frame repeats SPS and PPS in band, so a consumer
    may start at any key frame; ``extradata`` holds the same SPS/PPS, Annex B too, for containers (Matroska
    ``avcC``) and SDP (``sprop-parameter-sets``) that want them up front. For JPEG ``data`` is one whole JPEG
    image, every frame is a key frame and ``extradata`` is None.
    """

    data: bytes
    pts: int
    time_base: Fraction
    keyframe: bool
    capture_time: datetime
    codec: VideoCodec
    extradata: bytes | None

    @property
    def timestamp(self) -> Fraction:
        """Presentation time in seconds since the source's first frame."""
        return self.pts * self.time_base


class FrameQueue(asyncio.Queue[EncodedFrame]):
    """A subscriber's bounded queue, with the drop policy that keeps it decodable.

    * It starts empty and stays so until the next key frame: an H.264 delta frame is useless without the frames
      before it, so a new subscriber's first frame is always a key frame.
    * When it is full, the oldest frames are dropped up to the next key frame in the queue (at least one frame);
      if no key frame is left, everything queued and the incoming frame are dropped and the queue waits for the
      next key frame again. A slow reader therefore loses whole GOPs, never the reference frames of what it
      still gets, and its memory stays bounded by ``maxsize`` frames.
    * Dropping happens in the publisher, never by waiting: one stuck reader cannot hold up the others.

    ``dropped`` counts frames lost to overflow so a recorder can log the gap; frames skipped before the first
    key frame are not counted, they were never owed.
    """

    def __init__(self, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError(f"a frame queue needs room for at least one frame, not {maxsize}")
        super().__init__(maxsize)
        self.waiting_for_key = True
        self.dropped = 0
        self._joined = False

    def _init(self, maxsize: int) -> None:
        # asyncio.Queue keeps its items in `_queue`; owning the deque lets the drop policy look at the head.
        self._queue: deque[EncodedFrame] = deque()

    def offer(self, frame: EncodedFrame) -> None:
        """Queue `frame` if the policy allows; never blocks, never raises QueueFull."""
        if self.waiting_for_key:
            if not frame.keyframe:
                if self._joined:  # lost to an earlier overflow; before joining nothing was owed
                    self.dropped += 1
                return
            self.waiting_for_key = False
            self._joined = True
        if self.full():
            self._drop_to_next_key()
            if self.waiting_for_key:
                if not frame.keyframe:
                    self.dropped += 1
                    return
                self.waiting_for_key = False
        self.put_nowait(frame)

    def restart(self) -> None:
        """Drop what is queued and wait for the next key frame, as a new subscriber does: for a reader that wants
        its picture anew (an RTSP viewer renewing its stream). Not counted in ``dropped``: the reader gave those
        frames up, nothing was lost to overflow."""
        while self._queue:
            self._queue.popleft()
            self.task_done()
        self.waiting_for_key = True
        self._joined = False

    def _drop_to_next_key(self) -> None:
        self._drop_oldest()
        while self._queue and not self._queue[0].keyframe:
            self._drop_oldest()
        if not self._queue:
            self.waiting_for_key = True

    def _drop_oldest(self) -> None:
        self._queue.popleft()
        self.dropped += 1
        self.task_done()  # keep join() honest: a dropped frame is as finished as it will ever be


# --- Rendering ------------------------------------------------------------------------------------------------

_BOX_LUMA, _BOX_U, _BOX_V = 210, 16, 146  # yellow
_PLATE_LUMA = 16
_NEUTRAL = 128
_BOX_PERIOD_X_MS, _BOX_PERIOD_Y_MS = 4000, 3000


def _triangle(millis: int, period: int) -> Fraction:
    """0 → 1 → 0 over `period` ms: the box bounces off the edges rather than jumping back."""
    phase = Fraction(millis % period, period)
    return 2 * phase if phase < Fraction(1, 2) else 2 - 2 * phase


def _gradient_row(length: int, low: int, high: int) -> bytes:
    return bytes(low + (high - low) * i // max(1, length - 1) for i in range(length))


def _shift_table(delta: int) -> bytes:
    """A bytes.translate table adding `delta`: shifts a whole row in C instead of per pixel in Python."""
    return bytes(min(255, max(0, v + delta)) for v in range(256))


def format_time(capture_time: datetime) -> str:
    """The overlay text, to the millisecond the strip holds, so text and strip always agree."""
    moment = timestrip.from_millis(timestrip.to_millis(capture_time))
    return f"{moment:%Y-%m-%d %H:%M:%S}.{moment.microsecond // 1000:03d} UTC"


class _Canvas:
    """Per-resolution constants: the background planes and the layout, built once so a frame is mostly copies."""

    def __init__(self, width: int, height: int, pix_fmt: str) -> None:
        probe = av.VideoFrame(width, height, pix_fmt)
        self.line_sizes = tuple(plane.line_size for plane in probe.planes)
        self.width, self.height, self.pix_fmt = width, height, pix_fmt
        self.scale = max(1, height // 180)
        self.strip_rows = timestrip.strip_height(height)
        pad = 2 * self.scale
        self.text_x = 3 * self.scale
        self.text_y = self.strip_rows + pad
        self.line_step = (GLYPH_HEIGHT + 3) * self.scale
        self.plate_bottom = self.text_y + 2 * self.line_step - 2 * self.scale + pad  # room for time and label
        self.plate_bottom += self.plate_bottom % 2
        self.box = max(16, (height // 5) & ~1)
        self.luma = self._luma_background()
        self.chroma = tuple(self._chroma_background(i) for i in (1, 2))

    def _luma_background(self) -> bytes:
        stride = self.line_sizes[0]
        base = _gradient_row(self.width, 48, 160) + bytes(stride - self.width)
        rows = [base.translate(_shift_table(48 * y // self.height)) for y in range(self.height)]
        plate = bytes([_PLATE_LUMA]) * stride
        for y in range(self.strip_rows, min(self.height, self.plate_bottom)):
            rows[y] = plate
        return b"".join(rows)

    def _chroma_background(self, index: int) -> bytes:
        stride = self.line_sizes[index]
        width, height = self.width // 2, self.height // 2
        neutral = bytes([_NEUTRAL]) * stride
        if index == 1:  # U: blue towards the right
            rows = [_gradient_row(width, 104, 152) + bytes(stride - width)] * height
        else:  # V: red towards the bottom
            rows = [bytes([152 - 48 * y // max(1, height - 1)]) * width + bytes(stride - width) for y in range(height)]
        for y in range(min(height, self.plate_bottom // 2)):
            rows[y] = neutral  # strip and text on grey: colour there would only cost bits
        return b"".join(rows)

    def box_position(self, millis: int) -> tuple[int, int]:
        """Top-left of the moving box at `millis`, driven by the capture time so motion tracks real time even
        when frames are skipped, and two frames of the same moment look the same."""
        top = self.plate_bottom
        x = int(_triangle(millis, _BOX_PERIOD_X_MS) * (self.width - self.box))
        y = top + int(_triangle(millis, _BOX_PERIOD_Y_MS) * max(0, self.height - top - self.box))
        return x & ~1, y & ~1


def _fill(plane: bytearray, stride: int, x: int, y: int, width: int, height: int, value: int) -> None:
    run = bytes([value]) * width
    for row in range(y, y + height):
        plane[row * stride + x : row * stride + x + width] = run


# --- The source -----------------------------------------------------------------------------------------------


class FanOut:
    """The subscribers of one encoded stream, each with its own bounded queue (policy: :class:`FrameQueue`).

    Shared by every source (drawn, file or camera) so they all fan out alike; subclasses set ``gop``.
    """

    gop: int

    def __init__(self) -> None:
        self._subscribers: list[FrameQueue] = []

    def subscribe(self, maxsize: int | None = None) -> FrameQueue:
        """A new queue that receives every encoded frame from the next key frame on. Default size: two GOPs."""
        queue = FrameQueue(maxsize if maxsize is not None else DEFAULT_MAXSIZE_GOPS * self.gop)
        self._subscribers.append(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[EncodedFrame]) -> None:
        """Stop feeding `queue`; unknown queues are ignored so cleanup paths may call this twice."""
        if queue in self._subscribers:
            self._subscribers.remove(queue)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def publish(self, frame: EncodedFrame) -> None:
        """Offer `frame` to every subscriber, on the event loop thread (asyncio queues are not thread-safe)."""
        for queue in list(self._subscribers):
            queue.offer(frame)


class SyntheticSource(FanOut):
    """Renders, encodes and fans out one video stream.

    Two ways to drive it:

    * live: ``await start()`` runs a task that makes a frame every 1/fps seconds of the clock's monotonic time,
      stamped with ``clock.now()``, and offers it to every :meth:`subscribe`-d queue; ``await stop()`` ends it.
      Rendering and encoding run in a worker thread so the HTTP and RTSP servers on the loop stay responsive;
      when a frame takes longer than its period the loop skips ticks (the pts jumps) instead of drifting.
    * synchronous, for tests and backfilling recordings faster than real time: :meth:`render`, :meth:`encode`,
      :meth:`produce` and :meth:`frames`. Do not mix with a running live loop on the same source: the encoder is
      one stream and its GOP would interleave; a backfill uses its own source.
    """

    def __init__(
        self,
        clock: Clock,
        width: int = 640,
        height: int = 360,
        fps: Fraction | int = 15,
        codec: VideoCodec = "h264",
        compression: int = 30,
        gop: int | None = None,
        label: str = "",
    ) -> None:
        parse_resolution(f"{width}x{height}")
        rate = Fraction(fps)
        if not MIN_FPS <= rate <= MAX_FPS:
            raise ValueError(f"fps must be from {MIN_FPS} to {MAX_FPS}, not {rate}")
        if codec not in CODECS:
            raise ValueError(f"codec must be one of {', '.join(CODECS)}, not {codec!r}")
        if not 0 <= compression <= 100:
            raise ValueError(f"compression must be from 0 to 100, not {compression}")
        self.clock = clock
        self.width, self.height, self.fps, self.codec, self.compression = width, height, rate, codec, compression
        self.gop = gop if gop is not None else max(1, round(2 * rate))
        if self.gop < 1:
            raise ValueError(f"gop must be at least 1, not {self.gop}")
        self.label = label
        self.time_base = 1 / rate
        self.pix_fmt = "yuv420p" if codec == "h264" else "yuvj420p"  # MJPEG is full range by definition
        self._canvas = _Canvas(width, height, self.pix_fmt)
        self._encoder = self._open_encoder()
        self._encoder_lock = threading.Lock()
        super().__init__()
        self._task: asyncio.Task[None] | None = None
        self._work: asyncio.Future[list[EncodedFrame]] | None = None
        self.next_pts = 0
        self.skipped = 0
        """Ticks the live loop skipped because a frame took longer than its period."""
        self._key_wanted = False
        self._last_key_pts: int | None = None

    @classmethod
    def from_options(
        cls, options: SourceOptions, clock: Clock, gop: int | None = None, label: str = ""
    ) -> SyntheticSource:
        return cls(clock, options.width, options.height, options.fps, options.codec, options.compression, gop, label)

    # --- encoder

    def _open_encoder(self) -> VideoCodecContext:
        if self.codec == "h264":
            ctx = av.CodecContext.create("libx264", "w")
            ctx.gop_size = self.gop
            ctx.max_b_frames = 0
            # Global header puts SPS/PPS in extradata for containers and SDP; repeat-headers keeps them in front of
            # every key frame too, so a subscriber joining mid-stream or a file cut at a key frame is self-contained.
            ctx.flags |= Flags.global_header
            ctx.options = {
                "preset": "veryfast",
                "tune": "zerolatency",  # no lookahead, no B-frames: one packet out per frame in, immediately
                "crf": str(crf_for(self.compression)),
                "x264-params": f"keyint={self.gop}:min-keyint={self.gop}:scenecut=0:repeat-headers=1",
            }
        else:
            ctx = av.CodecContext.create("mjpeg", "w")
            # Pinning the quantiser range fixes the quality; the qscale flag alone does nothing here, because
            # libavcodec then reads the quantiser from each frame's `quality`, which PyAV does not expose.
            ctx.qmin = ctx.qmax = qscale_for(self.compression)
            # The standard Huffman tables: RTP/JPEG (RFC 2435) has no room for others, and FFmpeg optimises them
            # whenever it encodes on a single thread (one-core machines), which receivers would decode as garbage.
            ctx.options = {"huffman": "default"}
        ctx.width, ctx.height, ctx.pix_fmt = self.width, self.height, self.pix_fmt
        ctx.time_base = self.time_base
        ctx.framerate = self.fps
        ctx.copy_opaque = True  # the capture time rides from frame to packet through the encoder
        ctx.open()
        return ctx

    @property
    def extradata(self) -> bytes | None:
        """H.264 SPS and PPS (Annex B), known as soon as the source exists; None for JPEG."""
        data = self._encoder.extradata
        return bytes(data) if data else None

    # --- synchronous production

    def render(self, n: int, capture_time: datetime) -> av.VideoFrame:
        """The picture of frame `n` (its pts) captured at `capture_time`: background, moving box, time text,
        and the strip holding the capture time in ms."""
        canvas = self._canvas
        millis = timestrip.to_millis(capture_time)
        luma = bytearray(canvas.luma)
        u, v = bytearray(canvas.chroma[0]), bytearray(canvas.chroma[1])
        stride, chroma_stride = canvas.line_sizes[0], canvas.line_sizes[1]

        x, y = canvas.box_position(millis)
        size = canvas.box
        _fill(luma, stride, x, y, size, size, _BOX_LUMA)
        _fill(u, chroma_stride, x // 2, y // 2, size // 2, size // 2, _BOX_U)
        _fill(v, canvas.line_sizes[2], x // 2, y // 2, size // 2, size // 2, _BOX_V)

        timestrip.paint_strip(luma, canvas.width, canvas.height, stride, millis)
        draw_text(luma, stride, canvas.text_x, canvas.text_y, format_time(capture_time), canvas.scale)
        if self.label:  # clipped at the right edge if too long: a label is for people, not worth failing a frame
            draw_text(luma, stride, canvas.text_x, canvas.text_y + canvas.line_step, self.label, canvas.scale)

        frame = av.VideoFrame(canvas.width, canvas.height, canvas.pix_fmt)
        if tuple(p.line_size for p in frame.planes) != canvas.line_sizes:  # pragma: no cover - PyAV allocates alike
            raise RuntimeError("PyAV changed the plane layout between frames")
        for plane, data in zip(frame.planes, (luma, u, v), strict=True):
            plane.update(bytes(data))
        frame.pts, frame.time_base = n, self.time_base
        frame.opaque = capture_time
        return frame

    def encode(self, frame: av.VideoFrame) -> list[EncodedFrame]:
        """Encode a frame from :meth:`render`. With zerolatency and no B-frames this returns exactly one packet per
        frame, at once; the list type is for encoders that might hold one back."""
        with self._encoder_lock:
            packets = self._encoder.encode(frame)
        out = []
        for packet in packets:
            capture_time = packet.opaque
            if not isinstance(capture_time, datetime) or packet.pts is None:  # pragma: no cover - encoder contract
                raise RuntimeError("the encoder lost a frame's timing")
            out.append(
                EncodedFrame(
                    data=bytes(packet),
                    pts=packet.pts,
                    time_base=self.time_base,
                    keyframe=packet.is_keyframe,
                    capture_time=capture_time,
                    codec=self.codec,
                    extradata=self.extradata,
                )
            )
        return out

    def request_key_frame(self) -> None:
        """Make the next frame a key frame (H.264: an IDR with SPS and PPS in band; every JPEG is one already), or
        the first one `MIN_KEY_INTERVAL` after the last key frame. The encoder's GOP then counts from it. Safe
        from the event loop while a worker thread encodes: the frame after the one being encoded is forced."""
        self._key_wanted = True

    def produce(self, pts: int, capture_time: datetime) -> list[EncodedFrame]:
        """Render and encode one frame."""
        if pts < self.next_pts:
            raise ValueError(f"pts {pts} is not after the previous frame's {self.next_pts - 1}")
        self.next_pts = pts + 1
        frame = self.render(pts, capture_time)
        if self._key_wanted and (
            self._last_key_pts is None or (pts - self._last_key_pts) * self.time_base >= MIN_KEY_INTERVAL
        ):
            frame.pict_type = PictureType.I
        encoded = self.encode(frame)
        if any(e.keyframe for e in encoded):
            self._key_wanted = False
            self._last_key_pts = pts
        return encoded

    def frames(self, start: datetime, count: int) -> Iterator[EncodedFrame]:
        """`count` frames captured at start, start + 1/fps, ... as fast as they encode: the backfill mode."""
        first = self.next_pts
        for i in range(count):
            offset = timedelta(microseconds=round(i * self.time_base * 1_000_000))
            yield from self.produce(first + i, start + offset)

    # --- live lifecycle

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        """Begin producing frames in real time; a no-op when already running."""
        if self.running:
            return
        self._task = asyncio.create_task(self._run(), name=f"synthetic-source-{self.width}x{self.height}")

    async def stop(self) -> None:
        """Stop producing and wait until no frame is being encoded, so the encoder is free for the synchronous API
        or a new start; a frame finished after the stop is not published. Subscribers keep their queues (and
        whatever is in them) until they unsubscribe."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise
        finally:
            work, self._work = self._work, None
            if work is not None:
                await asyncio.wait({work})
                if not work.cancelled():
                    work.exception()  # seen: the loop already logged it, or it never got to care

    async def _run(self) -> None:
        period = float(self.time_base)
        origin_pts = self.next_pts
        origin = self.clock.monotonic()
        tick = 0
        try:
            while True:
                delay = origin + tick * period - self.clock.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                elif (behind := int(-delay / period)) > 0:
                    tick += behind
                    self.skipped += behind
                capture_time = self.clock.now()  # read on the loop thread: test clocks are not thread-safe
                # Shielded: cancelling the loop cannot stop a thread mid-encode, so stop() waits for it instead.
                self._work = asyncio.ensure_future(asyncio.to_thread(self.produce, origin_pts + tick, capture_time))
                frames = await asyncio.shield(self._work)
                self._work = None
                for frame in frames:
                    self.publish(frame)
                tick += 1
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("synthetic video source %sx%s stopped", self.width, self.height)
