"""Dating frames from sender reports, across the wrap-around of RTP timestamps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.playback.clock import WallClock, tick_difference
from app.playback.rtp import SenderReport

NOON = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def report(rtp_timestamp: int, wall_clock: datetime = NOON) -> SenderReport:
    return SenderReport(1, wall_clock, rtp_timestamp, 0, 0)


def test_tick_differences_are_signed_and_survive_the_wrap():
    assert tick_difference(100, 40) == 60
    assert tick_difference(40, 100) == -60
    assert tick_difference(5, 2**32 - 5) == 10
    assert tick_difference(2**32 - 5, 5) == -10


def test_frames_are_dated_from_the_latest_report_at_90_khz():
    clock = WallClock(90_000)
    assert not clock.synchronized
    assert clock.wall_clock(1234) is None
    clock.update(report(2**32 - 45_000))
    assert clock.synchronized
    assert clock.wall_clock(45_000) == NOON + timedelta(seconds=1)  # across the wrap
    assert clock.wall_clock(2**32 - 45_000 - 6000) == NOON - timedelta(milliseconds=66, microseconds=667)
    clock.update(report(0, NOON + timedelta(hours=1)))
    assert clock.wall_clock(9000) == NOON + timedelta(hours=1, milliseconds=100)
    clock.reset()
    assert clock.wall_clock(9000) is None


def test_a_clock_rate_must_be_positive():
    with pytest.raises(ValueError):
        WallClock(0)
