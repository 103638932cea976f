"""RTSP Range values (RFC 2326 §3.6, §3.7, §12.29) a player sends in PLAY and reads back from the reply.

Two units: ``clock`` (absolute UTC, ``YYYYMMDDTHHMMSS.fffZ``, what VAPIX documents for recordings, WIRE.md §7)
to seek to a wall-clock moment, and ``npt`` (seconds from the recording start, or ``now``). The camera answers
with the range it really plays, in the unit asked: it starts at the key frame before the asked time, so the
reply is how a player learns where the picture it is about to show was taken.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

_CLOCK = re.compile(r"^(\d{8})T(\d{6})(?:\.(\d+))?Z$")


def format_clock(moment: datetime) -> str:
    """`moment` as ``YYYYMMDDTHHMMSS.fffZ`` in UTC, to the millisecond (truncated, so the asked moment is never
    later than `moment`); naive datetimes are taken as UTC."""
    utc = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return utc.strftime("%Y%m%dT%H%M%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_clock(text: str) -> datetime:
    """``YYYYMMDDTHHMMSS[.fraction]Z`` as an aware UTC datetime; ValueError when it is not one."""
    match = _CLOCK.match(text.strip())
    if match is None:
        raise ValueError(f"not a clock time: {text!r}")
    day, time_of_day, fraction = match.groups()
    moment = datetime.strptime(day + time_of_day, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    if fraction:
        moment += timedelta(microseconds=round(int(fraction) * 10 ** (6 - len(fraction))))
    return moment


@dataclass(frozen=True)
class ClockRange:
    start: datetime
    stop: datetime | None = None

    def header(self) -> str:
        return f"clock={format_clock(self.start)}-{format_clock(self.stop) if self.stop is not None else ''}"


@dataclass(frozen=True)
class NptRange:
    start: float | None
    """Seconds from the start of the recording; None is ``now``: where a paused session stands."""
    stop: float | None = None

    def header(self) -> str:
        start = "now" if self.start is None else f"{self.start:.3f}"
        return f"npt={start}-{f'{self.stop:.3f}' if self.stop is not None else ''}"


PlayRange = ClockRange | NptRange


def _npt_point(text: str) -> float:
    """npt-sec (``12.5``) or npt-hhmmss (``0:00:12.5``)."""
    if ":" in text:
        hours, minutes, seconds = text.split(":")
        return int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    return float(text)


def parse_range(value: str) -> PlayRange:
    """A Range header's value; ValueError for units a player does not act on (smpte) or malformed values.
    A ``;time=`` suffix (RFC 2326 §12.29) is ignored."""
    unit, sep, spec = value.strip().partition("=")
    if not sep:
        raise ValueError(f"not a range: {value!r}")
    start_text, dash, stop_text = (p.strip() for p in spec.split(";", 1)[0].partition("-"))
    if not dash:
        raise ValueError(f"not a range: {value!r}")
    unit = unit.strip().lower()
    if unit == "clock":
        return ClockRange(parse_clock(start_text), parse_clock(stop_text) if stop_text else None)
    if unit == "npt":
        start = None if start_text == "now" else _npt_point(start_text)
        return NptRange(start, _npt_point(stop_text) if stop_text else None)
    raise ValueError(f"a range in {unit!r} is not understood here")
