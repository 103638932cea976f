"""SMPTE timecodes in RTSP ranges (RFC 2326 §3.5): ``hh:mm:ss[:ff][.sf]`` from the start of the recording, in one
of three units that each fix a frame rate.

* ``smpte``: 30 frames a second, frames 0 to 29.
* ``smpte-30-drop``: NTSC's 29.97 (30000/1001) frames a second, counted as 30 with drop-frame labels: frame
  labels 0 and 1 are skipped at the start of every minute except every tenth, so the timecode keeps up with the
  clock. A label that is skipped (``0:01:00:00``) names no frame and does not parse.
* ``smpte-25``: 25 frames a second, frames 0 to 24.

RFC 2326's prose calls "SMPTE 30 drop" the default, but its grammar gives drop-frame a unit of its own; plain
``smpte`` is read as 30 non-drop here, as the grammar's three names suggest and as players that send it expect
(``0:00:10:15`` is 10.5 s). The subframes after ``.`` are hundredths of a frame.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class TimecodeRate:
    """How one SMPTE unit counts frames."""

    unit: str
    labels: int
    """Frame labels a second: 30 or 25; a frame field must be below it."""
    drop: bool = False
    """Drop-frame counting at 30000/1001 frames a second."""

    @property
    def fps(self) -> Fraction:
        return Fraction(30000, 1001) if self.drop else Fraction(self.labels)


RATES = {
    rate.unit: rate
    for rate in (TimecodeRate("smpte", 30), TimecodeRate("smpte-30-drop", 30, drop=True), TimecodeRate("smpte-25", 25))
}
"""The SMPTE units RFC 2326 names, by name."""

_TIMECODE = re.compile(r"(\d{1,2}):(\d{1,2}):(\d{1,2})(?::(\d{1,2}))?(?:\.(\d{1,2}))?")
_FRAMES_PER_10_MINUTES = 10 * 60 * 30 - 9 * 2  # drop-frame: 17982 labels used in every ten minutes
_FRAMES_PER_DROP_MINUTE = 60 * 30 - 2  # a minute that skips two labels


def to_seconds(text: str, rate: TimecodeRate) -> float:
    """Seconds from the recording start; ValueError when `text` is not a timecode of `rate`."""
    matched = _TIMECODE.fullmatch(text.strip())
    if matched is None:
        raise ValueError(f"{text!r} is not an SMPTE timecode (h:mm:ss[:ff][.sf])")
    hours, minutes, seconds = int(matched[1]), int(matched[2]), int(matched[3])
    frame = int(matched[4] or 0)
    subframes = int(matched[5] or 0)
    if minutes > 59 or seconds > 59:
        raise ValueError(f"{text!r}: minutes and seconds run to 59")
    if frame >= rate.labels:
        raise ValueError(f"{text!r}: {rate.unit} counts frames 0 to {rate.labels - 1}")
    if rate.drop and seconds == 0 and frame < 2 and minutes % 10:
        raise ValueError(f"{text!r}: drop-frame timecode skips frames 0 and 1 of this minute")
    number = (hours * 3600 + minutes * 60 + seconds) * rate.labels + frame
    if rate.drop:
        total_minutes = hours * 60 + minutes
        number -= 2 * (total_minutes - total_minutes // 10)
    return float((number + Fraction(subframes, 100)) / rate.fps)


def from_seconds(seconds: float, rate: TimecodeRate) -> str:
    """`seconds` (not negative) as ``h:mm:ss:ff`` of `rate`, at the nearest frame."""
    number = round(max(0.0, seconds) * rate.fps)
    if rate.drop:  # the labels skipped so far put back, so the label arithmetic below is plain 30 a second
        tens, rest = divmod(number, _FRAMES_PER_10_MINUTES)
        skipped = 18 * tens + (2 * ((rest - 2) // _FRAMES_PER_DROP_MINUTE) if rest > 1 else 0)
        number += skipped
    whole, frame = divmod(number, rate.labels)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}:{frame:02d}"
