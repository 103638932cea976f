"""The timeline's horizontal scale, from seconds to weeks across the view, and its ticks in the camera's time.

Ticks and day boundaries are laid out in the camera's local wall-clock time (an operator reads "14:00 at the
entrance", not UTC), stepping through local time so a daylight-saving change gives a short or long day
rather than ticks at 01:00 and 03:00.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta, tzinfo

MIN_SECONDS_PER_PX = 0.01  # 10 s across a 1000 px view: single frames are a few pixels apart
MAX_SECONDS_PER_PX = 2600.0  # four weeks across a 1000 px view
DAY = 86400
TICK_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, DAY, 2 * DAY, 7 * DAY)
MIN_TICK_PX = 90.0  # a label "23:45:30" needs about this much room


@dataclass(frozen=True)
class TimeScale:
    left: float  # the time at x = 0, seconds since the epoch
    seconds_per_px: float

    def x(self, moment: float) -> float:
        return (moment - self.left) / self.seconds_per_px

    def time(self, x: float) -> float:
        return self.left + x * self.seconds_per_px

    def right(self, width: float) -> float:
        return self.time(width)

    def zoomed(self, factor: float, anchor_x: float) -> TimeScale:
        """Zoom in (factor > 1) or out around the pixel under the pointer, which keeps showing the same time."""
        anchor = self.time(anchor_x)
        per_px = min(MAX_SECONDS_PER_PX, max(MIN_SECONDS_PER_PX, self.seconds_per_px / factor))
        return TimeScale(anchor - anchor_x * per_px, per_px)

    def panned(self, dx: float) -> TimeScale:
        """Dragging the view right by dx pixels shows earlier times."""
        return replace(self, left=self.left - dx * self.seconds_per_px)

    def centred(self, moment: float, width: float) -> TimeScale:
        return replace(self, left=moment - width / 2 * self.seconds_per_px)

    @classmethod
    def spanning(cls, t0: float, t1: float, width: float) -> TimeScale:
        per_px = min(MAX_SECONDS_PER_PX, max(MIN_SECONDS_PER_PX, (t1 - t0) / max(width, 1.0)))
        return cls(t0, per_px)


@dataclass(frozen=True)
class Tick:
    moment: float
    label: str


def tick_step(seconds_per_px: float, min_px: float = MIN_TICK_PX) -> int:
    """The smallest step whose ticks are at least `min_px` apart."""
    return next((step for step in TICK_STEPS if step / seconds_per_px >= min_px), TICK_STEPS[-1])


def ticks(scale: TimeScale, width: float, zone: tzinfo) -> list[Tick]:
    """Ticks across the view at a step that leaves room for the labels, aligned to round local times."""
    step = tick_step(scale.seconds_per_px)
    t0, t1 = scale.left, scale.right(width)
    fmt = "%H:%M:%S" if step < 60 else "%H:%M" if step < DAY else "%a %d %b"
    found: list[Tick] = []
    for local in _local_steps(t0, t1, step, zone):
        moment = local.timestamp()
        if t0 <= moment <= t1:
            found.append(Tick(moment, local.strftime(fmt)))
    return found


def day_boundaries(t0: float, t1: float, zone: tzinfo) -> list[Tick]:
    """Local midnights in [t0, t1], labelled with the day they begin."""
    found = []
    day = datetime.fromtimestamp(t0, zone).replace(hour=0, minute=0, second=0, microsecond=0)
    while day.timestamp() <= t1:
        if day.timestamp() >= t0:
            found.append(Tick(day.timestamp(), day.strftime("%a %d %b %Y")))
        day = _local_midnight_after(day, zone)
    return found


def _local_midnight_after(day: datetime, zone: tzinfo) -> datetime:
    naive = day.replace(tzinfo=None) + timedelta(days=1)
    return naive.replace(tzinfo=zone)


def _local_steps(t0: float, t1: float, step: int, zone: tzinfo) -> list[datetime]:
    """Local wall-clock times that are multiples of `step` (days counted from local midnight, weeks from Monday)."""
    start = datetime.fromtimestamp(t0, zone)
    times: list[datetime] = []
    if step >= DAY:
        day = start.replace(hour=0, minute=0, second=0, microsecond=0)
        if step == 7 * DAY:
            day = (day.replace(tzinfo=None) - timedelta(days=day.weekday())).replace(tzinfo=zone)
        while day.timestamp() <= t1 and len(times) < 1000:
            times.append(day)
            day = (day.replace(tzinfo=None) + timedelta(seconds=step)).replace(tzinfo=zone)
        return times
    midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
    into_day = (start.replace(tzinfo=None) - midnight.replace(tzinfo=None)).total_seconds()
    naive = midnight.replace(tzinfo=None) + timedelta(seconds=(into_day // step) * step)
    while len(times) < 2000:
        local = naive.replace(tzinfo=zone)
        if local.timestamp() > t1:
            break
        if datetime.fromtimestamp(local.timestamp(), zone).replace(tzinfo=None) == naive:
            times.append(local)  # 02:00 on a spring-forward night does not exist: no tick for it
        naive += timedelta(seconds=step)
    return times
