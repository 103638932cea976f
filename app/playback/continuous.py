"""Playing on across recordings: the spec's loop over list.cgi results, as one unbroken stream for the player.

A recording ends where the camera stopped (a restart, a schedule, an event's post-buffer); the next one starts
minutes or days later. The operator presses play once. So the segments to play are the recording at the chosen
moment and every later one, each fetched with its own RTSP session (``recordingid=…`` and ``Range: clock=``),
and their frames are joined into one stream: each new recording's RTP timestamps are shifted to go on one frame
after the last one, so the player neither waits out the gap nor sees time run backwards.

`StreamClock` keeps what the joining hides: which wall-clock moment each stream time stands for, so the player
can show the true time of the frame on screen (`player.get_time()` counts stream time).
"""

from __future__ import annotations

import bisect
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from app.playback.auth import Credentials
from app.playback.clock import tick_difference
from app.playback.ranges import ClockRange
from app.playback.session import Frame, RtspSession
from app.timeline.spans import Span

CLOCK_RATE = 90_000
DEFAULT_STEP = CLOCK_RATE // 15  # one frame at 15 fps, until a stream shows its own
_WRAP = 1 << 32


@dataclass(frozen=True)
class Segment:
    recording_id: str
    start: datetime  # UTC: where to begin in it
    stop: datetime | None  # None: to its end (an ongoing recording: follow it live)


def segments_from(spans: Sequence[Span], moment: float) -> list[Segment]:
    """The recording covering `moment` (from `moment`), or the next one after it, then every later one in order.

    `spans` are one track's recordings by start (SpanTrack.spans); overlapping ones play from where the previous
    stopped, so no moment is shown twice.
    """
    segments: list[Segment] = []
    position = moment
    for span in spans:
        end = span.stop
        if end is not None and end <= position:
            continue
        begin = max(span.start, position)
        segments.append(
            Segment(span.recording_id, _utc(begin), _utc(end) if end is not None else None),
        )
        if end is None:
            break  # an ongoing recording is followed to its end: nothing after it yet
        position = end
    return segments


def _utc(moment: float) -> datetime:
    return datetime.fromtimestamp(moment, UTC)


class StreamClock:
    """Stream time (seconds since the first key frame fed) to the wall-clock time of the frame it shows."""

    def __init__(self, speed: float = 1.0) -> None:
        self._stream: list[float] = []
        self._wall: list[datetime] = []
        self.speed = speed  # stream seconds per wall-clock second of the recording

    def add(self, stream_seconds: float, wall_clock: datetime) -> None:
        if self._stream and stream_seconds <= self._stream[-1]:
            return
        self._stream.append(stream_seconds)
        self._wall.append(wall_clock)

    @property
    def times(self) -> list[datetime]:
        return list(self._wall)

    def wall_clock(self, stream_seconds: float) -> datetime | None:
        """The capture time at `stream_seconds`: that of the last frame at or before it, plus the time since."""
        index = bisect.bisect_right(self._stream, stream_seconds) - 1
        if index < 0:
            return None
        return self._wall[index] + timedelta(seconds=(stream_seconds - self._stream[index]) * self.speed)


class ContinuousFrames:
    """The frames of several recordings as one stream (iterate it once, e.g. into VlcFeed.feed)."""

    def __init__(
        self,
        url_for: Callable[[str], str],
        credentials: Credentials | None,
        segments: Sequence[Segment],
        on_segment: Callable[[Segment], object] | None = None,
        speed: float = 1.0,
    ) -> None:
        """`speed`: 1/8 to 16; the timestamps are scaled by it, since libvlc cannot change the rate of a stream it
        is fed (its rate control needs an input it can pace, which a pipe is not)."""
        self._url_for = url_for
        self._credentials = credentials
        self.segments = list(segments)
        self._on_segment = on_segment
        self.speed = speed
        self.clock = StreamClock(speed)
        self.current: Segment | None = None
        self._last_out: int | None = None
        self._step = DEFAULT_STEP
        self._origin: int | None = None  # the first key frame's timestamp: stream time 0
        self.yielded = 0

    async def __aiter__(self) -> AsyncIterator[Frame]:
        for segment in self.segments:
            self.current = segment
            if self._on_segment is not None:
                self._on_segment(segment)
            async with RtspSession(self._url_for(segment.recording_id), self._credentials) as session:
                await session.play(ClockRange(segment.start, segment.stop))
                previous_in: int | None = None
                async for frame in session.frames():
                    if previous_in is None:  # this recording's first frame goes on one frame after the last
                        if self._origin is None and not frame.keyframe:
                            continue  # the player starts at a key frame: so does stream time
                        out = 0 if self._last_out is None else self._after(self._step)
                    else:
                        step = tick_difference(frame.rtp_timestamp, previous_in)
                        if 0 < step < CLOCK_RATE:
                            self._step = step
                        out = self._after(step)
                    previous_in = frame.rtp_timestamp
                    if self._origin is None:
                        self._origin = out
                    self._last_out = out
                    if frame.wall_clock is not None:
                        self.clock.add(tick_difference(out, self._origin) / CLOCK_RATE, frame.wall_clock)
                    self.yielded += 1
                    yield replace(frame, rtp_timestamp=out)

    def _after(self, step: int) -> int:
        """The output timestamp `step` input ticks after the last one, at the playing speed (always later)."""
        assert self._last_out is not None
        return (self._last_out + max(1, round(step / self.speed))) % _WRAP
