"""The camera's local time as its recordings tell it: a time zone made of the UTC offsets list.cgi reports.

The Edge storage API gives no zone name, only each recording's ``starttimelocal`` with its UTC offset. One
offset for everything (the newest recording's) puts a winter recording's midnight an hour off once summer time
has begun. So every offset seen is kept with the moment it was seen at, and a moment's offset is that of the
nearest observation at or before it: exact at every recording's start, and right across a daylight-saving
change as soon as a recording began on each side of it.
"""

from __future__ import annotations

import bisect
from datetime import UTC, datetime, timedelta, tzinfo


class ObservedZone(tzinfo):
    """A tzinfo from (moment, UTC offset) observations. Immutable once made, so it is safe to share."""

    def __init__(self, observations: dict[float, timedelta]) -> None:
        moments = sorted(observations)
        self._moments = moments
        self._offsets = [observations[m] for m in moments]

    def __repr__(self) -> str:
        return f"ObservedZone({len(self._moments)} observations)"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ObservedZone) and (self._moments, self._offsets) == (other._moments, other._offsets)

    def __hash__(self) -> int:
        return hash(tuple(self._moments))

    @property
    def empty(self) -> bool:
        return not self._moments

    def offset_at(self, moment: float) -> timedelta:
        """The UTC offset in force at `moment` (seconds since the epoch)."""
        if not self._moments:
            return timedelta(0)
        index = bisect.bisect_right(self._moments, moment) - 1
        return self._offsets[max(index, 0)]  # before the first observation: the first offset

    def fromutc(self, dt: datetime) -> datetime:
        """UTC to local: exact, since the UTC moment is known."""
        moment = dt.replace(tzinfo=UTC).timestamp()
        return dt + self.offset_at(moment)

    def utcoffset(self, dt: datetime | None) -> timedelta:
        """For a local wall time: the offset of the observation before it, looked up by the wall time taken as
        UTC and corrected once (ambiguous or skipped hours at a change resolve to the earlier offset)."""
        if dt is None:
            return self._offsets[-1] if self._offsets else timedelta(0)
        wall = dt.replace(tzinfo=UTC).timestamp()
        guess = self.offset_at(wall)
        return self.offset_at(wall - guess.total_seconds())

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None  # unknown: list.cgi reports the total offset only

    def tzname(self, dt: datetime | None) -> str:
        offset = self.utcoffset(dt)
        minutes = int(offset.total_seconds() // 60)
        sign = "+" if minutes >= 0 else "-"
        return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
