"""The iCalendar subset of Axis schedules (EVENTS.md §2.2), parsed and evaluated in the camera's local time.

    DTSTART:19700101T080000  DTEND:19700101T180000  RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR

Properties are separated by LF, CRLF or spaces; times are `YYYYMMDDTHHMMSS` or the `THH:MM` real clients also
send; "time zone information is not supported": times are the camera's wall-clock time. With a DTEND after
DTSTART the schedule is an *interval* (active from each occurrence's start to its end); without one, or with
DTEND equal to DTSTART, it is a *pulse* (an instant at each occurrence's start).

Evaluation is pure arithmetic on naive local datetimes, never iteration from 1970, so a `FREQ=SECONDLY` rule
costs as little as a weekly one. Occurrences lie on dates (DAILY and longer) or on a fixed period (HOURLY and
shorter); an interval's occurrence is found by looking back over at most its own length in days.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

FREQUENCIES = ("SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY")
_PERIOD_SECONDS = {"SECONDLY": 1, "MINUTELY": 60, "HOURLY": 3600}
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_TIME = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:T(\d{2}):?(\d{2})(?::?(\d{2}))?)?Z?$")
_BYDAY = re.compile(r"^([+-]?[1-5])?(MO|TU|WE|TH|FR|SA|SU)$")
_MAX_LENGTH = timedelta(days=366)


class ScheduleError(ValueError):
    """A schedule the camera cannot parse (InvalidScheduleFault)."""


@dataclass(frozen=True)
class Rule:
    freq: str
    interval: int = 1
    by_day: tuple[tuple[int, int], ...] = ()  # (nth in month or 0 for every, weekday 0=Monday)
    by_month: tuple[int, ...] = ()


@dataclass(frozen=True)
class Schedule:
    start: datetime  # naive, camera-local
    end: datetime | None
    rule: Rule | None

    @property
    def is_pulse(self) -> bool:
        return self.end is None or self.end == self.start

    @property
    def length(self) -> timedelta:
        return timedelta(0) if self.end is None else self.end - self.start

    def active_at(self, local: datetime) -> bool:
        """Is `local` inside an occurrence (interval schedules; a pulse is never "active")?"""
        if self.is_pulse:
            return False
        latest = self.latest_start(local)
        return latest is not None and local < latest + self.length

    def pulses_between(self, after: datetime, until: datetime) -> bool:
        """Did an occurrence start in (after, until]?"""
        latest = self.latest_start(until)
        return latest is not None and latest > after

    def latest_start(self, local: datetime) -> datetime | None:
        """The start of the last occurrence at or before `local`, or None before the first. For an interval the
        look-back is bounded by its length: an older occurrence has ended anyway, so it is not needed."""
        if local < self.start:
            return None
        rule = self.rule
        if rule is None:
            return self.start
        if rule.freq in _PERIOD_SECONDS:
            period = _PERIOD_SECONDS[rule.freq] * rule.interval
            elapsed = int((local - self.start).total_seconds())
            return self.start + timedelta(seconds=elapsed - elapsed % period)
        horizon = max(self.length, timedelta(days=1)) + timedelta(days=1)
        day = local.date()
        while day >= self.start.date() and local - datetime.combine(day, time()) <= horizon:
            begins = datetime.combine(day, self.start.time())
            if begins <= local and self._on(day):
                return begins
            day -= timedelta(days=1)
        return None

    def _on(self, day: date) -> bool:
        """Does an occurrence start on `day` (DAILY and longer)?"""
        rule, first = self.rule, self.start.date()
        assert rule is not None
        if rule.freq == "DAILY":
            return (day - first).days % rule.interval == 0
        if rule.freq == "WEEKLY":
            weeks = ((day - timedelta(days=day.weekday())) - (first - timedelta(days=first.weekday()))).days // 7
            days = {wd for _, wd in rule.by_day} or {first.weekday()}
            return weeks % rule.interval == 0 and day.weekday() in days
        if rule.freq == "MONTHLY":
            months = (day.year - first.year) * 12 + day.month - first.month
            if months % rule.interval:
                return False
            if not rule.by_day:
                return day.day == first.day
            return any(_nth_weekday(day, nth, wd) for nth, wd in rule.by_day)
        years = day.year - first.year  # YEARLY
        in_months = rule.by_month or (first.month,)
        return years % rule.interval == 0 and day.month in in_months and day.day == first.day


def _nth_weekday(day: date, nth: int, weekday: int) -> bool:
    if day.weekday() != weekday:
        return False
    if nth == 0:
        return True
    if nth > 0:
        return (day.day - 1) // 7 + 1 == nth
    following = day + timedelta(days=7 * -nth)
    return following.month != day.month and (day + timedelta(days=7 * (-nth - 1))).month == day.month


def parse_schedule(text: str) -> Schedule:
    """Raises ScheduleError with what is wrong."""
    fields: dict[str, str] = {}
    for token in re.split(r"[\s]+(?=[A-Z]+[:;])|\r?\n", text.strip()):
        token = token.strip()
        if not token:
            continue
        name, sep, value = token.partition(":")
        if not sep or name.upper() not in ("DTSTART", "DTEND", "RRULE"):
            raise ScheduleError(f"unexpected property {token!r}")
        if name.upper() in fields:
            raise ScheduleError(f"{name.upper()} is given twice")
        fields[name.upper()] = value.strip()
    if "DTSTART" not in fields:
        raise ScheduleError("DTSTART is required")
    start = _parse_time(fields["DTSTART"])
    end = _parse_time(fields["DTEND"]) if "DTEND" in fields else None
    if end is not None and end < start:
        raise ScheduleError("DTEND is before DTSTART")
    if end is not None and end - start > _MAX_LENGTH:
        raise ScheduleError("an occurrence may last at most a year")
    rule = _parse_rule(fields["RRULE"]) if "RRULE" in fields else None
    return Schedule(start, end, rule)


def _parse_time(text: str) -> datetime:
    found = _TIME.match(text.strip())
    if not found:
        raise ScheduleError(f"not a date-time: {text!r}")
    year, month, day, hour, minute, second = (int(g) if g else 0 for g in found.groups())
    try:
        return datetime(year, month, day, hour, minute, second)
    except ValueError as exc:
        raise ScheduleError(f"not a date-time: {text!r} ({exc})") from None


def _parse_rule(text: str) -> Rule:
    parts: dict[str, str] = {}
    for part in filter(None, text.strip().split(";")):
        key, sep, value = part.partition("=")
        if not sep:
            raise ScheduleError(f"RRULE part without a value: {part!r}")
        parts[key.strip().upper()] = value.strip().upper()
    freq = parts.pop("FREQ", "")
    if freq not in FREQUENCIES:
        raise ScheduleError(f"FREQ must be one of {', '.join(FREQUENCIES)}")
    interval = _positive(parts.pop("INTERVAL", "1"), "INTERVAL")
    by_day = tuple(_by_day(d) for d in filter(None, parts.pop("BYDAY", "").split(",")))
    by_month = tuple(_month(m) for m in filter(None, parts.pop("BYMONTH", "").split(",")))
    if parts:
        raise ScheduleError(f"unsupported RRULE parts: {', '.join(sorted(parts))}")
    if by_day and freq not in ("WEEKLY", "MONTHLY"):
        raise ScheduleError("BYDAY goes with FREQ=WEEKLY or FREQ=MONTHLY")
    if by_month and freq != "YEARLY":
        raise ScheduleError("BYMONTH goes with FREQ=YEARLY")
    if freq == "WEEKLY" and any(nth for nth, _ in by_day):
        raise ScheduleError("FREQ=WEEKLY takes plain weekdays in BYDAY")
    return Rule(freq, interval, by_day, by_month)


def _positive(text: str, name: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise ScheduleError(f"{name} must be a positive integer, not {text!r}")
    return int(text)


def _by_day(text: str) -> tuple[int, int]:
    found = _BYDAY.match(text.strip())
    if not found:
        raise ScheduleError(f"BYDAY value {text!r} is not [-]<1-5><MO..SU>")
    return int(found.group(1) or 0), WEEKDAYS.index(found.group(2))


def _month(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 12:
        raise ScheduleError(f"BYMONTH value {text!r} is not 1-12")
    return int(text)
