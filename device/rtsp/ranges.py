"""RTSP Range (RFC 2326 §3.5-3.7, §12.29) as recording playback uses it, each form with an optional stop:

* ``npt``: seconds from the recording start, as npt-sec (``4.5``) or npt-hhmmss (``0:00:04.5``); a start of
  ``now`` is where the session stands;
* ``clock``: absolute UTC. VAPIX documents ``YYYYMMDDTHHMMSS[.fff]Z`` (WIRE.md §7); per AMBIGUITIES.md T-3 a
  numeric offset (``+0200``, ``+02:00``, ``-05``) stands for ``Z`` too, and the ISO 8601 extended form
  (``2026-11-24T08:12:11Z``) is read as well. A time with neither ``Z`` nor an offset is refused: it could be
  camera-local time or UTC, and guessing would seek to the wrong hour;
* ``smpte``, ``smpte-30-drop``, ``smpte-25``: timecodes from the recording start (device/rtsp/smpte.py).

A Range that does not parse, in a unit not offered, or with a stop before its start raises RangeError, which PLAY
answers with 457 Invalid Range. It is not played from the start instead: a player that asked for 12:00 and was
sent the recording's beginning would show it as 12:00. The PLAY reply says what is really played, in the unit
the client asked in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from device.rtsp import smpte


class RangeError(ValueError):
    """A Range that cannot be played as written; the text says why (for the 457 reply's body)."""


@dataclass(frozen=True)
class PlayRange:
    unit: str
    """``npt``, ``clock`` or one of `smpte.RATES`: the reply's Range is said in it."""
    start: float
    """Seconds from the recording start, never negative (a clock before the recording is its start)."""
    stop: float | None = None
    """Seconds from the recording start of the last frame to play; None: to the end. Negative for a clock range
    that ends before the recording starts: the caller refuses that, as nothing of it can be played."""
    now: bool = False
    """The start was `now` (npt only, RFC 2326 §3.6): where the session is, so a paused session resumes."""


_NPT_SEC = re.compile(r"\d+(?:\.\d*)?")
_NPT_HHMMSS = re.compile(r"(\d+):(\d{1,2}):(\d{1,2}(?:\.\d*)?)")
_ZONE = r"(?:Z|[+-]\d{2}(?::?\d{2})?)"
_BASIC = rf"\d{{8}}T\d{{6}}(?:\.\d+)?{_ZONE}"
_EXTENDED = rf"\d{{4}}-\d{{2}}-\d{{2}}T\d{{2}}:\d{{2}}:\d{{2}}(?:\.\d+)?{_ZONE}"
_CLOCK = re.compile(f"{_BASIC}|{_EXTENDED}")
_CLOCK_RANGE = re.compile(rf"({_BASIC}|{_EXTENDED})\s*-\s*({_BASIC}|{_EXTENDED})?")
"""A clock range split at its dash: the extended form and negative offsets have dashes of their own."""


def _npt(text: str) -> float:
    """npt-sec or npt-hhmmss (RFC 2326 §3.6) as seconds."""
    if _NPT_SEC.fullmatch(text):
        return float(text)
    matched = _NPT_HHMMSS.fullmatch(text)
    if matched is None:
        raise RangeError(f"{text!r} is not an npt time (seconds, or h:mm:ss[.fraction])")
    hours, minutes, seconds = int(matched[1]), int(matched[2]), float(matched[3])
    if minutes > 59 or seconds >= 60:
        raise RangeError(f"{text!r}: npt minutes and seconds run to 59")
    return hours * 3600 + minutes * 60 + seconds


def parse_clock(text: str) -> datetime:
    """A clock time (see the module docstring) as an aware UTC datetime; RangeError when it is not one."""
    if _CLOCK.fullmatch(text) is None:
        raise RangeError(f"{text!r} is not a clock time (YYYYMMDDTHHMMSS[.fraction] and Z or an offset)")
    zone_at = len(text) - 1 if text.endswith("Z") else max(text.rfind("+"), text.rfind("-"))
    body, zone = text[:zone_at].replace("-", "").replace(":", ""), text[zone_at:]
    whole, _, fraction = body.partition(".")  # whole: YYYYMMDDTHHMMSS
    try:
        offset = timedelta()
        if zone != "Z":
            digits = zone[1:].replace(":", "")
            hours, minutes = int(digits[:2]), int(digits[2:] or 0)
            if hours > 23 or minutes > 59:
                raise ValueError(f"offset {zone}")
            offset = (-1 if zone[0] == "-" else 1) * timedelta(hours=hours, minutes=minutes)
        year, month, day = int(whole[0:4]), int(whole[4:6]), int(whole[6:8])
        hour, minute, second = int(whole[9:11]), int(whole[11:13]), int(whole[13:15])
        moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC) - offset
    except (ValueError, OverflowError) as exc:  # month 13, hour 24, an offset of a day, before year 1
        raise RangeError(f"{text!r} is not a clock time: {exc}") from None
    return moment + timedelta(seconds=float(f"0.{fraction}")) if fraction else moment


def _split(unit: str, spec: str) -> tuple[str, str]:
    """(start, stop) texts of a range spec; either may be "" where the unit allows leaving it out."""
    if unit == "clock":
        matched = _CLOCK_RANGE.fullmatch(spec)
        if matched is None:
            raise RangeError(
                f"clock={spec} is not a clock range: YYYYMMDDTHHMMSS[.fraction] with Z or an offset, a dash, "
                "then the same for an optional stop"
            )
        return matched[1], matched[2] or ""
    start, dash, stop = (part.strip() for part in spec.partition("-"))
    if not dash or "-" in stop:
        raise RangeError(f"{unit}={spec} is not a range (start-[stop])")
    if not start and (unit != "npt" or not stop):
        raise RangeError(f"{unit}={spec} has no start")  # only npt may leave the start out (RFC 2326 §3.6)
    return start, stop


def _point(unit: str, text: str, recording_start: datetime) -> float:
    """Seconds from the recording start of `text`, in `unit`."""
    if unit == "clock":
        return (parse_clock(text) - recording_start).total_seconds()
    if unit in smpte.RATES:
        try:
            return smpte.to_seconds(text, smpte.RATES[unit])
        except ValueError as exc:
            raise RangeError(str(exc)) from None
    return _npt(text)


def parse_range(header: str | None, recording_start: datetime) -> PlayRange:
    """Where to start and stop; RangeError for what cannot be played as written. A missing header is the start
    (npt=0). A ``;time=`` suffix (RFC 2326 §12.29: when to start) is not acted on."""
    if header is None:
        return PlayRange("npt", 0.0)
    unit, equals, spec = header.strip().partition("=")
    unit = unit.strip().lower()
    if not equals:
        raise RangeError(f"Range {header!r} is not unit=start-[stop]")
    if unit not in ("npt", "clock", *smpte.RATES):
        raise RangeError(f"Range {header!r}: the units offered are npt, clock, {', '.join(smpte.RATES)}")
    start_text, stop_text = _split(unit, spec.split(";", 1)[0].strip())
    if stop_text == "now":
        raise RangeError("a recording has no now to stop at")
    stop = _point(unit, stop_text, recording_start) if stop_text else None
    if unit == "npt" and start_text == "now":
        return PlayRange(unit, 0.0, stop, now=True)
    start = _point(unit, start_text, recording_start) if start_text else 0.0
    if stop is not None and stop < start:
        raise RangeError(f"Range {header!r}: the stop is before the start")
    return PlayRange(unit, max(0.0, start), stop)


def format_range(unit: str, first: float, stop: float | None, recording_start: datetime) -> str:
    """`unit=first-[stop]`: what is played, from the key frame actually sent first. npt and smpte have no sign
    (RFC 2326 §3.5, §3.6): a first frame captured a fraction of a millisecond before the recording's start time
    is said as 0."""

    def point(seconds: float) -> str:
        if unit == "clock":
            moment = recording_start + timedelta(seconds=seconds)
            return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%S.") + f"{moment.microsecond // 1000:03d}Z"
        if unit in smpte.RATES:
            return smpte.from_seconds(seconds, smpte.RATES[unit])
        return f"{max(0.0, seconds):.3f}"

    return f"{unit}={point(first)}-{'' if stop is None else point(max(stop, first))}"
