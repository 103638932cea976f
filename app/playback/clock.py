"""RTP timestamps to wall-clock time, from the latest RTCP sender report (RFC 3550 §6.4.1).

A sender report pairs an NTP moment with the RTP timestamp that stands for it; any other timestamp is that
moment plus the difference in clock ticks (90 000 a second for video). The difference is taken modulo 2^32 as
a signed number, so a timestamp that wrapped around (every 13 hours at 90 kHz, from a random start) still lands
on the right side of the report: frames up to 6.6 hours either side of it are dated correctly.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from app.playback.rtp import SenderReport

_WRAP = 1 << 32
_HALF = 1 << 31


def tick_difference(later: int, earlier: int) -> int:
    """`later - earlier` in RTP ticks, across a wrap-around of the 32-bit timestamp."""
    return (later - earlier + _HALF) % _WRAP - _HALF


class WallClock:
    def __init__(self, clock_rate: int) -> None:
        if clock_rate <= 0:
            raise ValueError("an RTP clock rate is positive")
        self.clock_rate = clock_rate
        self._report: SenderReport | None = None

    @property
    def synchronized(self) -> bool:
        return self._report is not None

    def update(self, report: SenderReport) -> None:
        self._report = report

    def reset(self) -> None:
        """Forget the mapping: after a seek a camera may restart its timestamps or date them anew."""
        self._report = None

    def wall_clock(self, rtp_timestamp: int) -> datetime | None:
        """When the frame with `rtp_timestamp` was taken, or None before any sender report."""
        if self._report is None:
            return None
        ticks = tick_difference(rtp_timestamp, self._report.rtp_timestamp)
        return self._report.wall_clock + timedelta(microseconds=round(ticks * 1_000_000 / self.clock_rate))
