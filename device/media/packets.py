"""A source that is not drawn but read: a video file looped (`file:PATH`) or a real camera's stream
(`rtsp://…`), so the virtual camera can serve as an edge recorder for a camera that has no card.

H.264 is passed through untouched (stream copy), only rewritten to Annex B with SPS/PPS before every key frame,
which is what blocks and RTSP need; anything else is decoded and encoded once to H.264. Stream options from a
request (resolution, fps) cannot change what such a source sends and are ignored, as on a camera whose stream
is fixed. Reading runs in a thread; frames are handed to the event loop and fanned out like the synthetic ones.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import av

from device.clock import Clock
from device.media.synthetic import EncodedFrame, FanOut

log = logging.getLogger(__name__)
_START_CODE = b"\x00\x00\x00\x01"


def parameter_sets(annexb: bytes) -> bytes | None:
    """The SPS and PPS NAL units of an Annex B access unit, Annex B too (for extradata), or None."""
    units = [u for u in annexb.split(_START_CODE) if u]
    wanted = [u for u in units if u[0] & 0x1F in (7, 8)]
    return b"".join(_START_CODE + u for u in wanted) if wanted else None


class PacketSource(FanOut):
    def __init__(self, url: str, clock: Clock) -> None:
        self.url = url
        self.clock = clock
        self.live = not url.startswith("file:")
        self._path = url[5:] if url.startswith("file:") else url
        with self._open() as container:
            stream = container.streams.video[0]
            self.width, self.height = stream.codec_context.width, stream.codec_context.height
            rate = stream.average_rate or stream.guessed_rate or Fraction(15)
            self.fps = max(1, round(float(rate)))
            self.copy = stream.codec_context.name == "h264"
        if not (self.width and self.height):
            raise ValueError(f"{url}: no video size in the stream")
        self.codec = "h264"
        self.gop = 2 * self.fps
        self.extradata: bytes | None = None
        super().__init__()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    def _open(self) -> av.container.InputContainer:
        if not self._path.startswith("rtsp://"):
            return av.open(self._path, "r")
        try:  # interleaved TCP first, as cameras prefer through firewalls; UDP for servers without it
            return av.open(self._path, "r", options={"rtsp_transport": "tcp", "timeout": "5000000"})
        except av.FFmpegError:
            return av.open(self._path, "r", options={"rtsp_transport": "udp", "timeout": "5000000"})

    # --- lifecycle

    async def start(self) -> None:
        if self._thread is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name=f"packets-{self._path}", daemon=True)
        self._thread.start()

    async def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stopping.set()
            await asyncio.to_thread(thread.join, 10)

    def _run(self) -> None:
        """Read (and for a file, loop and pace) until stopped; a lost camera is retried with backoff."""
        backoff = 1.0
        pts_offset = 0
        while not self._stopping.is_set():
            try:
                last = pts_offset
                for frame in self._frames(pts_offset):
                    last = frame.pts
                    assert self._loop is not None
                    self._loop.call_soon_threadsafe(self.publish, frame)
                    backoff = 1.0
                pts_offset = last + 1
            except (OSError, av.FFmpegError) as exc:
                log.warning("video source %s: %s; retrying in %.0f s", self.url, exc, backoff)
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, 30.0)

    def _frames(self, pts_offset: int) -> Iterator[EncodedFrame]:
        time_base = Fraction(1, self.fps)
        with self._open() as container:
            stream = container.streams.video[0]
            convert = av.BitStreamFilterContext("h264_mp4toannexb", stream) if self.copy else None
            encoder = None if self.copy else _encoder(self.width, self.height, self.fps)
            origin = time.monotonic()
            n = 0
            for packet in container.demux(stream):
                if self._stopping.is_set():
                    return
                for data, keyframe in self._convert(packet, convert, encoder):
                    if self.extradata is None and keyframe:
                        self.extradata = parameter_sets(data)
                    if not self.live:  # a file plays at its own frame rate, as a camera would send it
                        delay = origin + n / self.fps - time.monotonic()
                        if delay > 0 and self._stopping.wait(delay):
                            return
                    yield EncodedFrame(
                        data, pts_offset + n, time_base, keyframe, self.clock.now(), "h264", self.extradata
                    )
                    n += 1

    def _convert(
        self,
        packet: Any,
        convert: av.BitStreamFilterContext | None,
        encoder: av.video.codeccontext.VideoCodecContext | None,
    ) -> Iterator[tuple[bytes, bool]]:
        if packet.size == 0:
            return
        if convert is not None:
            for out in convert.filter(packet):
                yield bytes(out), bool(out.is_keyframe)
            return
        assert encoder is not None
        for frame in packet.decode():
            video = frame.reformat(format="yuv420p")
            video.pts = None
            for out in encoder.encode(video):
                yield bytes(out), bool(out.is_keyframe)


def _encoder(width: int, height: int, fps: int) -> av.video.codeccontext.VideoCodecContext:
    """Encode once, for sources that are not H.264: the same settings the synthetic source uses."""
    context = av.CodecContext.create("libx264", "w")
    context.width, context.height, context.pix_fmt = width, height, "yuv420p"
    context.time_base = Fraction(1, fps)
    context.framerate = Fraction(fps)
    context.gop_size = 2 * fps
    context.max_b_frames = 0
    context.options = {"preset": "veryfast", "tune": "zerolatency", "x264-params": "repeat-headers=1:scenecut=0"}
    context.open()
    return context
