"""RTSP Range (RFC 2326 §3.5-3.7) as recording playback uses it: npt (seconds from the recording start), clock
(absolute UTC, `YYYYMMDDTHHMMSS[.fff]Z`, what the spec's example sends) and smpte (hh:mm:ss[:frames] from the
recording start), each with an optional stop. The PLAY reply says what is really played, in the unit the client
asked in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

SMPTE_FPS = 30  # RFC 2326: plain "smpte" counts 30 frames a second


@dataclass(frozen=True)
class PlayRange:
    unit: str  # "npt", "clock" or "smpte"
    start: float  # seconds from the recording start, never negative
    stop: float | None = None
    """Seconds from the recording start of the last frame to play; None: to the end. May be before `start` (or
    negative, for a clock before the recording): the caller refuses that, as it cannot be played."""
    now: bool = False
    """The start was `now` (npt only, RFC 2326 §3.6): where the session is, so a paused session resumes."""


def _clock(text: str) -> datetime:
    text = text.strip().rstrip("Z")
    whole, _, fraction = text.partition(".")
    moment = datetime.strptime(whole, "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
    return moment + timedelta(seconds=float(f"0.{fraction}")) if fraction else moment


def _smpte(text: str) -> float:
    parts = text.strip().split(":")
    if len(parts) not in (3, 4):
        raise ValueError(text)
    hours, minutes, seconds = int(parts[0]), int(parts[1]), float(parts[2])
    frames = float(parts[3]) if len(parts) == 4 else 0.0
    return hours * 3600 + minutes * 60 + seconds + frames / SMPTE_FPS


def _point(unit: str, text: str, recording_start: datetime) -> float:
    """Seconds from the recording start; raises ValueError when `text` does not parse in `unit`."""
    if unit == "clock":
        return (_clock(text) - recording_start).total_seconds()
    if unit.startswith("smpte"):
        return _smpte(text)
    value = float(text)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(text)
    return value


def parse_range(header: str | None, recording_start: datetime) -> PlayRange:
    """Where to start and stop. A missing header, `now`, or a start that does not parse means the start (npt=0);
    a stop that does not parse means the end."""
    if not header:
        return PlayRange("npt", 0.0)
    unit, _, spec = header.strip().partition("=")
    unit = unit.strip().lower()
    start_text, _, stop_text = (part.strip() for part in spec.split(";", 1)[0].partition("-"))
    known = "clock" if unit == "clock" else "smpte" if unit.startswith("smpte") else "npt"
    stop: float | None = None
    if stop_text and known == unit.split("-", 1)[0]:
        try:
            stop = _point(unit, stop_text, recording_start)
        except ValueError:
            stop = None  # an unreadable stop plays to the end, and the reply says so
    if unit == "npt" and start_text == "now":
        return PlayRange("npt", 0.0, stop, now=True)
    if start_text and known == unit.split("-", 1)[0]:
        try:
            return PlayRange(known, max(0.0, _point(unit, start_text, recording_start)), stop)
        except ValueError:
            pass  # an unreadable start plays from the beginning, and the reply says so
    return PlayRange(known, 0.0, stop)


def format_range(unit: str, first: float, stop: float | None, recording_start: datetime) -> str:
    """`unit=first-[stop]`: what is played, from the key frame actually sent first. npt and smpte have no sign
    (RFC 2326 §3.5, §3.6): a first frame captured a fraction of a millisecond before the recording's start time
    is said as 0."""

    def point(seconds: float) -> str:
        if unit == "clock":
            moment = recording_start + timedelta(seconds=seconds)
            return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%S.") + f"{moment.microsecond // 1000:03d}Z"
        seconds = max(0.0, seconds)
        if unit == "smpte":
            whole = int(seconds)
            frames = round((seconds - whole) * SMPTE_FPS)
            return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}:{frames:02d}"
        return f"{seconds:.3f}"

    return f"{unit}={point(first)}-{'' if stop is None else point(max(stop, first))}"
