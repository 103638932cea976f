"""The weekly recording grid (7 days x 24 hours) and the iCalendar schedules a camera evaluates it with.

The camera, not the app, decides when to record: the grid is saved as interval schedules (EVENTS.md §2.2) that the
camera evaluates in its own time zone, so recording follows the week even while no desktop is running. Days with
the same hours share one schedule (`RRULE:FREQ=WEEKLY;BYDAY=MO,TU,...`), which keeps the camera's list short and
reads back the way an installer drew it. Times carry no zone: "time zone information is not supported" (§2.2).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

DAYS = 7
HOURS = 24
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
ANCHOR = date(1970, 1, 1)  # the built-in schedules' anchor (a Thursday); BYDAY picks the days, not DTSTART
_TIME = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:T(\d{2}):?(\d{2})(?::?(\d{2}))?)?Z?$")

Cell = tuple[int, int]  # (day 0 = Monday .. 6, hour 0..23)


class UnsupportedSchedule(ValueError):
    """A schedule the week grid cannot show (a pulse, an hourly or monthly rule, an unreadable time)."""


@dataclass(frozen=True)
class HourRun:
    """Hours [start, end) of one day; `end` may be 24 (until midnight)."""

    start: int
    end: int


@dataclass(frozen=True)
class WeekGrid:
    """The hours of the week in which the camera records; immutable so a panel can compare and undo."""

    cells: frozenset[Cell] = frozenset()

    @classmethod
    def of(cls, cells: Iterable[Cell]) -> WeekGrid:
        found = frozenset(cells)
        bad = [c for c in found if not (0 <= c[0] < DAYS and 0 <= c[1] < HOURS)]
        if bad:
            raise ValueError(f"cells outside the week: {sorted(bad)}")
        return cls(found)

    @classmethod
    def rectangle(cls, days: range, hours: range) -> WeekGrid:
        return cls.of((d, h) for d in days for h in hours)

    def painted(self, corner: Cell, other: Cell, on: bool) -> WeekGrid:
        """The grid with the rectangle between two corners set (`on`) or cleared: what a drag does."""
        days = range(min(corner[0], other[0]), max(corner[0], other[0]) + 1)
        hours = range(min(corner[1], other[1]), max(corner[1], other[1]) + 1)
        area = WeekGrid.rectangle(days, hours).cells
        return WeekGrid(self.cells | area if on else self.cells - area)

    def runs(self, day: int) -> list[HourRun]:
        """The contiguous hour runs of one day, in order."""
        runs: list[HourRun] = []
        for hour in range(HOURS):
            if (day, hour) not in self.cells:
                continue
            if runs and runs[-1].end == hour:
                runs[-1] = HourRun(runs[-1].start, hour + 1)
            else:
                runs.append(HourRun(hour, hour + 1))
        return runs

    def __or__(self, other: WeekGrid) -> WeekGrid:
        return WeekGrid(self.cells | other.cells)

    @property
    def hours(self) -> int:
        return len(self.cells)


@dataclass(frozen=True)
class WeeklyWindow:
    """One scheduled event: the same hours on a set of weekdays."""

    run: HourRun
    days: tuple[int, ...]

    def ical(self) -> str:
        start = datetime.combine(ANCHOR, datetime.min.time()) + timedelta(hours=self.run.start)
        end = datetime.combine(ANCHOR, datetime.min.time()) + timedelta(hours=self.run.end)
        byday = ",".join(WEEKDAYS[d] for d in self.days)
        return f"DTSTART:{start:%Y%m%dT%H%M%S}\nDTEND:{end:%Y%m%dT%H%M%S}\nRRULE:FREQ=WEEKLY;BYDAY={byday}"

    def describe(self) -> str:
        days = ", ".join(DAY_NAMES[d][:3] for d in self.days)
        return f"{days} {self.run.start:02d}:00–{self.run.end:02d}:00"


def windows(grid: WeekGrid) -> list[WeeklyWindow]:
    """One window per distinct hour run, with every day that has it, ordered by first day and hour."""
    days_of: dict[HourRun, list[int]] = {}
    for day in range(DAYS):
        for run in grid.runs(day):
            days_of.setdefault(run, []).append(day)
    found = [WeeklyWindow(run, tuple(days)) for run, days in days_of.items()]
    return sorted(found, key=lambda w: (w.days[0], w.run.start))


def to_icals(grid: WeekGrid) -> list[str]:
    return [w.ical() for w in windows(grid)]


def cells_of(ical: str) -> frozenset[Cell]:
    """The hours an interval schedule covers in a week, for schedules of whole hours (ours, and the built-ins).
    An occurrence may run past midnight (After Hours, 18:00 to 08:00) or over days (Weekends). Raises
    UnsupportedSchedule for what a week grid cannot show."""
    fields = _fields(ical)
    start = _time(fields.get("DTSTART", ""))
    end = _time(fields["DTEND"]) if "DTEND" in fields else start
    if end <= start:
        raise UnsupportedSchedule("a pulse schedule has no hours to show")
    if start.minute or start.second or end.minute or end.second:
        raise UnsupportedSchedule("the schedule does not start and end on whole hours")
    length = min(int((end - start).total_seconds()) // 3600, DAYS * HOURS)
    cells: set[Cell] = set()
    for day in _days(fields, start):
        first = day * HOURS + start.hour
        cells.update(((first + n) // HOURS % DAYS, (first + n) % HOURS) for n in range(length))
    return frozenset(cells)


def _fields(ical: str) -> dict[str, str]:
    """DTSTART, DTEND and RRULE, separated by LF, CRLF or spaces as real clients send them (EVENTS.md §2.2)."""
    fields: dict[str, str] = {}
    for token in re.split(r"\s+(?=[A-Za-z]+[:;])|\r?\n", ical.strip()):
        name, sep, value = token.strip().partition(":")
        if sep:
            fields[name.strip().upper()] = value.strip()
    return fields


def _time(text: str) -> datetime:
    found = _TIME.match(text.strip())
    if not found:
        raise UnsupportedSchedule(f"not a date-time: {text!r}")
    year, month, day, hour, minute, second = (int(g) if g else 0 for g in found.groups())
    try:
        return datetime(year, month, day, hour, minute, second)
    except ValueError:
        raise UnsupportedSchedule(f"not a date-time: {text!r}") from None


def _days(fields: dict[str, str], start: datetime) -> list[int]:
    """The weekdays occurrences start on: BYDAY of a weekly rule, every day of a daily one, else DTSTART's."""
    rule = dict(p.split("=", 1) for p in fields.get("RRULE", "").upper().split(";") if "=" in p)
    freq = rule.get("FREQ")
    if freq is None:
        raise UnsupportedSchedule("a one-off schedule does not repeat every week")
    if freq == "DAILY" and rule.get("INTERVAL", "1") == "1":
        return list(range(DAYS))
    if freq != "WEEKLY" or rule.get("INTERVAL", "1") != "1":
        raise UnsupportedSchedule(f"FREQ={freq} does not repeat every week")
    names = [d.strip() for d in rule.get("BYDAY", "").split(",") if d.strip()]
    if any(n not in WEEKDAYS for n in names):
        raise UnsupportedSchedule(f"BYDAY={rule['BYDAY']} is not a set of weekdays")
    return [WEEKDAYS.index(n) for n in names] or [start.weekday()]


def grid_of(icals: Iterable[str]) -> WeekGrid:
    """The union of several schedules' hours; raises UnsupportedSchedule for any it cannot show."""
    cells: set[Cell] = set()
    for ical in icals:
        cells |= cells_of(ical)
    return WeekGrid(frozenset(cells))
