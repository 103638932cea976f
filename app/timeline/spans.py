"""One timeline track's recordings, kept so that painting any window of time costs about one rectangle per
pixel column, whatever the number of recordings.

A card that records events for a year holds 100 000 recordings; a week's view of it shows them all. Painting
each would cost far more than a frame (16 ms), so the track keeps, per kind of recording and per power-of-two
resolution, the recordings merged wherever their gap is under that resolution ("level of detail"). A view
picks the level whose resolution is just under one pixel and paints its intervals that overlap the window:
never more than a few per pixel column. Levels are built lazily and thrown away when recordings arrive.

Times are floats of seconds since the epoch (UTC): cheap to compare and to scale, and the wall-clock time of a
frame is what the operator cares about.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum


class SpanKind(StrEnum):
    CONTINUOUS = "continuous"
    SCHEDULED = "scheduled"
    TRIGGERED = "triggered"
    OTHER = "other"

    @classmethod
    def of(cls, recording_type: str) -> SpanKind:
        return next((kind for kind in cls if kind.value == recording_type.strip().lower()), cls.OTHER)


@dataclass(frozen=True)
class Span:
    """A recording as the timeline draws it; `stop` None while it is still recording."""

    recording_id: str
    start: float
    stop: float | None
    kind: SpanKind = SpanKind.CONTINUOUS

    def end(self, now: float) -> float:
        return self.stop if self.stop is not None else max(now, self.start)

    def covers(self, moment: float, now: float) -> bool:
        return self.start <= moment <= self.end(now)


@dataclass
class _Level:
    """Intervals of one kind merged at one resolution: sorted, disjoint."""

    starts: list[float] = field(default_factory=list)
    ends: list[float] = field(default_factory=list)

    def window(self, t0: float, t1: float) -> Iterator[tuple[float, float]]:
        first = bisect.bisect_left(self.ends, t0)  # ends are sorted too: the intervals are disjoint
        for i in range(first, len(self.starts)):
            if self.starts[i] > t1:
                return
            yield self.starts[i], self.ends[i]


class SpanTrack:
    """The recordings of one camera's disk, by start time."""

    def __init__(self) -> None:
        self._spans: dict[str, Span] = {}
        self._sorted: list[Span] | None = []
        self._max_end_prefix: list[float] = []
        self._levels: dict[tuple[SpanKind, int], _Level] = {}
        self._finished_max_end = -math.inf

    def __len__(self) -> int:
        return len(self._spans)

    def update(self, spans: Iterable[Span]) -> int:
        """Add or replace recordings (an ongoing one that has grown, one that has stopped); how many changed."""
        changed = 0
        for span in spans:
            if self._spans.get(span.recording_id) != span:
                self._spans[span.recording_id] = span
                changed += 1
        if changed:
            self._sorted = None
            self._levels.clear()
        return changed

    def remove(self, recording_ids: Iterable[str]) -> None:
        for recording_id in recording_ids:
            if self._spans.pop(recording_id, None) is not None:
                self._sorted = None
                self._levels.clear()

    @property
    def spans(self) -> list[Span]:
        if self._sorted is None:
            self._sorted = sorted(self._spans.values(), key=lambda s: (s.start, s.recording_id))
            ends = (s.stop if s.stop is not None else math.inf for s in self._sorted)
            prefix: list[float] = []
            highest = -math.inf
            for end in ends:
                highest = max(highest, end)
                prefix.append(highest)
            self._max_end_prefix = prefix
        return self._sorted

    @property
    def ongoing(self) -> list[Span]:
        return [span for span in self._spans.values() if span.stop is None]

    def at(self, moment: float, now: float) -> Span | None:
        """The recording covering `moment` (the latest started, if several do)."""
        spans = self.spans
        first = bisect.bisect_left(self._max_end_prefix, moment)  # none before it reaches `moment`
        for span in reversed(spans[first : self._start_index(moment)]):
            if span.covers(moment, now):
                return span
        return None

    def next_after(self, moment: float) -> Span | None:
        """The first recording starting after `moment`: where playback goes on across a gap."""
        spans = self.spans
        index = self._start_index(moment)
        return spans[index] if index < len(spans) else None

    def visible(self, t0: float, t1: float, now: float) -> list[Span]:
        """Every recording overlapping [t0, t1]; for hovering and for small windows, not for painting."""
        spans = self.spans
        first = bisect.bisect_left(self._max_end_prefix, t0)
        last = self._start_index(t1)
        return [s for s in spans[first:last] if s.end(now) >= t0]

    def intervals(
        self, kind: SpanKind, t0: float, t1: float, seconds_per_px: float, now: float
    ) -> list[tuple[float, float]]:
        """Intervals of `kind` to paint for the window, merged at about one pixel: at most a few per column.

        Ongoing recordings are not in the cached levels (they grow every frame): they are added as they are.
        """
        level = self._level(kind, seconds_per_px)
        found = list(level.window(t0, t1))
        for span in self.ongoing:
            if span.kind is kind and span.start <= t1:
                found.append((span.start, span.end(now)))
        return found

    def _level(self, kind: SpanKind, seconds_per_px: float) -> _Level:
        exponent = math.floor(math.log2(max(seconds_per_px, 1e-3)))
        key = (kind, exponent)
        level = self._levels.get(key)
        if level is None:
            level = self._levels[key] = self._merge(kind, 2.0**exponent)
        return level

    def _merge(self, kind: SpanKind, gap: float) -> _Level:
        level = _Level()
        for span in self.spans:
            if span.kind is not kind or span.stop is None:
                continue
            if level.ends and span.start - level.ends[-1] <= gap:
                level.ends[-1] = max(level.ends[-1], span.stop)
            else:
                level.starts.append(span.start)
                level.ends.append(span.stop)
        return level

    def _start_index(self, moment: float) -> int:
        """Index of the first recording starting after `moment`."""
        spans = self.spans
        lo, hi = 0, len(spans)
        while lo < hi:
            mid = (lo + hi) // 2
            if spans[mid].start <= moment:
                lo = mid + 1
            else:
                hi = mid
        return lo
