"""Time as the device sees it.

Everything that reads the time (nonce expiry now; recorder, cleaner and scheduler later) takes a Clock, so a
test can fix or advance time instead of sleeping.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current wall-clock time, timezone-aware, in UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards; for expiry and timeouts."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()


class ManualClock:
    """A clock that moves only when told to, for deterministic tests."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2024, 6, 21, 7, 17, 25, tzinfo=UTC)
        self._mono = 1000.0

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)
        self._mono += seconds


class SettableClock:
    """Another clock's time plus an offset that can be set, as a camera's time is set (by NTP, or by hand).

    The virtual camera runs on one of these so that a scenario can put it at any moment (just before a
    schedule's window, say) and the schedules, recordings and frame time strips all follow. Monotonic time is
    never moved: timeouts and nonce lifetimes must not jump.
    """

    def __init__(self, base: Clock | None = None) -> None:
        self._base = base or SystemClock()
        self._offset = timedelta(0)

    def now(self) -> datetime:
        return self._base.now() + self._offset

    def monotonic(self) -> float:
        return self._base.monotonic()

    def set_now(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("the camera's time must be timezone-aware")
        self._offset = moment - self._base.now()
