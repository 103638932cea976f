"""Live view: ``media.amp`` without ``recordingid`` streams the camera's source, through the recorder's SourceHub.

The stream parameters are the URL's query, in the VAPIX vocabulary recordings use (``resolution``, ``fps``,
``videocodec=h264|jpeg``, ``compression``, ``streamprofile``; device/recorder/service.py); anything else there
(``timestamp``, ``Axis-Orig-Sw``, ``pull``) is someone else's and is ignored. A viewer asking for what a recording
records shares its encoder, as a camera does, and a source stops when its last user (viewer or recording) leaves.

A DESCRIBE needs the source running to answer (an H.264 SDP carries the encoder's parameter sets), and the SETUP
and PLAY that follow within a moment would otherwise stop and start it again: :class:`LiveSources` keeps what a
DESCRIBE opened for `hold` seconds more.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from device.media.synthetic import EncodedFrame, FrameQueue, SourceOptions, SyntheticSource
from device.recorder.service import parse_stream_options
from device.recorder.sources import Source, SourceHub
from device.rtsp.rtp import split_annex_b

log = logging.getLogger(__name__)

HOLD = 5.0
"""Seconds a source a DESCRIBE opened stays open for the SETUP and PLAY that follow."""
MAX_STREAMS = 8
"""Distinct live streams (sets of stream parameters) viewers may have open at once. Each is an encoder; without a
limit, a viewer asking for one resolution after another would have the camera encode them all."""
FIRST_FRAME_WAIT = 5.0
"""Seconds a DESCRIBE waits for a source that learns its parameter sets from its first key frame (a file or a
camera's stream)."""
SPS, PPS = 7, 8


class TooManyStreams(Exception):
    """Viewers already have `MAX_STREAMS` different live streams open."""


@dataclass(frozen=True)
class LiveView:
    """What a live session plays: the source for `options`."""

    options: SourceOptions


def live_view(url: str) -> LiveView:
    """The live view a URL asks for; ValueError naming what is wrong with its stream parameters."""
    return LiveView(parse_stream_options(urlsplit(url).query))


@dataclass(frozen=True)
class StreamInfo:
    """What DESCRIBE says of a live source."""

    codec: str
    width: int
    height: int
    sps: bytes | None = None
    pps: bytes | None = None


@dataclass(frozen=True)
class _Subscription:
    """What a playing viewer's queue is fed from."""

    options: SourceOptions
    source: Source


@dataclass
class _Hold:
    queue: FrameQueue
    source: Source
    timer: asyncio.TimerHandle | None = None


def _parameter_sets(annexb: bytes | None) -> tuple[bytes | None, bytes | None]:
    nals = split_annex_b(annexb or b"")
    return next((n for n in nals if n[0] & 0x1F == SPS), None), next((n for n in nals if n[0] & 0x1F == PPS), None)


class LiveSources:
    """The RTSP server's use of the hub: subscriptions for playing sessions, and short holds for DESCRIBE."""

    def __init__(self, hub: SourceHub, hold: float | None = None) -> None:
        """`hold`: seconds a DESCRIBE keeps its source open; None: `HOLD`, as it is when the server is made."""
        self._hub = hub
        self._hold_seconds = HOLD if hold is None else hold
        self._holds: dict[SourceOptions, _Hold] = {}
        self._feeds: dict[FrameQueue, _Subscription] = {}
        self._releasing: set[asyncio.Task[None]] = set()

    def _admit(self, options: SourceOptions) -> None:
        open_now = set(self._holds) | {feed.options for feed in self._feeds.values()}
        if options not in open_now and len(open_now) >= MAX_STREAMS:
            raise TooManyStreams(f"{MAX_STREAMS} different live streams are open already")

    async def describe(self, options: SourceOptions) -> StreamInfo:
        """Open (or keep open) the source for `options` and say what it sends. Raises what opening it raises
        (OSError, ValueError, FFmpegError), TimeoutError when it sends no key frame in time, or TooManyStreams."""
        hold = self._holds.get(options)
        if hold is None:
            self._admit(options)
            queue, source = await self._hub.subscribe(options)
            hold = self._holds.setdefault(options, _Hold(queue, source))
            if hold.queue is not queue:  # another DESCRIBE got there while this one awaited
                await self._hub.unsubscribe(options, queue)
        if hold.timer is not None:
            hold.timer.cancel()
        hold.timer = asyncio.get_running_loop().call_later(self._hold_seconds, self._expire, options, hold)
        source = hold.source
        if source.codec != "h264":
            return StreamInfo(source.codec, source.width, source.height)
        sps, pps = _parameter_sets(source.extradata)
        if sps is None or pps is None:
            frame = await asyncio.wait_for(self._key_frame(hold.queue), FIRST_FRAME_WAIT)
            sps, pps = _parameter_sets(frame.extradata or frame.data)
        return StreamInfo(source.codec, source.width, source.height, sps, pps)

    @staticmethod
    async def _key_frame(queue: FrameQueue) -> EncodedFrame:
        while not (frame := await queue.get()).keyframe:
            continue  # a new viewer's picture can only begin at a key frame
        return frame

    async def subscribe(self, options: SourceOptions) -> FrameQueue:
        """A queue of the source's frames from its next key frame on; :meth:`release` it. Raises what opening the
        source raises, or TooManyStreams."""
        self._admit(options)
        queue, source = await self._hub.subscribe(options)
        self._feeds[queue] = _Subscription(options, source)
        return queue

    def renew(self, queue: FrameQueue) -> None:
        """Renew a subscribed viewer's stream (RTSP ``SET_PARAMETER`` ``Renew-Stream: yes``): what is queued is
        dropped, so the next frame it gets is a key frame, with SPS and PPS in band as every key frame from a
        source has them. A drawn source is asked for that key frame at once (SyntheticSource.request_key_frame:
        one frame period, at most one forced key frame per ``MIN_KEY_INTERVAL``, shared with whoever else uses
        the source); a file or camera source cannot be asked, so the viewer waits for its next key frame, at most
        a GOP. Either way a decoder that lost its reference frames gets a clean picture again."""
        feed = self._feeds.get(queue)
        if feed is None:
            return  # released meanwhile
        queue.restart()
        if isinstance(feed.source, SyntheticSource):
            feed.source.request_key_frame()

    async def release(self, options: SourceOptions, queue: FrameQueue) -> None:
        """Stop feeding `queue`; the source stops if nothing else uses it. Harmless twice."""
        self._feeds.pop(queue, None)
        await self._hub.unsubscribe(options, queue)

    def release_soon(self, options: SourceOptions, queue: FrameQueue) -> None:
        """:meth:`release` from code that cannot await (a timer, a synchronous teardown); :meth:`stop` waits."""
        self._feeds.pop(queue, None)  # at once: the stream is no longer open, whenever the hub hears of it
        task = asyncio.get_running_loop().create_task(self.release(options, queue))
        self._releasing.add(task)
        task.add_done_callback(self._releasing.discard)

    def _expire(self, options: SourceOptions, hold: _Hold) -> None:
        if self._holds.get(options) is hold:
            del self._holds[options]
            self.release_soon(options, hold.queue)

    async def stop(self) -> None:
        """Release every hold, and wait for every release."""
        for options, hold in list(self._holds.items()):
            if hold.timer is not None:
                hold.timer.cancel()
            self.release_soon(options, hold.queue)
        self._holds.clear()
        while self._releasing:
            with contextlib.suppress(Exception):
                await asyncio.gather(*self._releasing)
