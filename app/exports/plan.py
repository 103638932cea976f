"""A range selected on one disk's timeline, as the exports the camera can make of it.

exportrecording.cgi takes one recording ID, so a range that crosses several recordings becomes one piece per
recording, each clipped to the range. Recordings on one disk may overlap (a triggered recording during a
continuous one); as in playback (app.playback.continuous.segments_from), a later recording is taken only from
where the previous piece stopped, so no moment is exported twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from app.timeline.spans import Span


@dataclass(frozen=True)
class Piece:
    """One export request: a part of one recording, in UTC."""

    recording_id: str
    start: datetime
    stop: datetime

    @property
    def seconds(self) -> float:
        return (self.stop - self.start).total_seconds()


def pieces(spans: Sequence[Span], t0: float, t1: float, now: float) -> list[Piece]:
    """The pieces of [t0, t1] (epoch seconds) that recordings cover, in time order; an ongoing recording counts
    up to `now`, since nothing after that exists yet."""
    found: list[Piece] = []
    position = t0
    for span in sorted(spans, key=lambda s: s.start):
        begin = max(span.start, position)
        stop = min(span.end(now), t1) if span.stop is not None else min(t1, now)
        if begin >= t1:
            break
        if stop <= begin:
            continue
        found.append(Piece(span.recording_id, _utc(begin), _utc(stop)))
        position = stop
    return found


def _utc(moment: float) -> datetime:
    return datetime.fromtimestamp(moment, UTC)
