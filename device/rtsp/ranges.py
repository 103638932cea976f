"""RTSP Range (RFC 2326 §3.5-3.7) as recording playback uses it: npt (seconds from the recording start), clock
(absolute UTC, `YYYYMMDDTHHMMSS[.fff]Z`, what the spec's example sends) and smpte (hh:mm:ss[:frames] from the
recording start). The PLAY reply says what is really played, in the unit the client asked in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

SMPTE_FPS = 30  # RFC 2326: plain "smpte" counts 30 frames a second


@dataclass(frozen=True)
class PlayRange:
    unit: str  # "npt", "clock" or "smpte"
    start: float  # seconds from the recording start, never negative


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


def parse_range(header: str | None, recording_start: datetime) -> PlayRange:
    """Where to start. A missing header, `now`, or a value that does not parse means the start (npt=0)."""
    if not header:
        return PlayRange("npt", 0.0)
    unit, _, spec = header.strip().partition("=")
    unit, start_text = unit.strip().lower(), spec.split("-", 1)[0].strip()
    try:
        if unit == "clock" and start_text:
            return PlayRange("clock", max(0.0, (_clock(start_text) - recording_start).total_seconds()))
        if unit.startswith("smpte") and start_text:
            return PlayRange("smpte", max(0.0, _smpte(start_text)))
        if unit == "npt" and start_text and start_text != "now":
            return PlayRange("npt", max(0.0, float(start_text)))
    except ValueError:
        pass  # an unreadable start plays from the beginning, and the reply says so
    return PlayRange(unit if unit in ("clock", "smpte") else "npt", 0.0)


def format_range(unit: str, first: float, stop: float | None, recording_start: datetime) -> str:
    """`unit=first-[stop]`: what is played, from the key frame actually sent first."""

    def point(seconds: float) -> str:
        if unit == "clock":
            moment = recording_start + timedelta(seconds=seconds)
            return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%S.") + f"{moment.microsecond // 1000:03d}Z"
        if unit == "smpte":
            whole = int(seconds)
            frames = round((seconds - whole) * SMPTE_FPS)
            return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}:{frames:02d}"
        return f"{seconds:.3f}"

    return f"{unit}={point(first)}-{'' if stop is None else point(max(stop, first))}"
