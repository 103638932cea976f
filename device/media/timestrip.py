"""The capture time written into the picture itself, so a frame can be dated after any amount of re-muxing.

Container timestamps are rewritten by every muxer, player and RTSP client on the way; pixels survive all of them.
A test that pulls a frame out of a recording, a stream or an export can therefore read back exactly which moment
the camera captured, and compare it with what the API claims, without trusting any timestamp in between.

Layout, top of the picture, full width:

* band 1 (rows ``0 .. h``): 48 equal blocks, the milliseconds since the Unix epoch, most significant bit on the
  left; black (luma 16) is 0, white (luma 235) is 1;
* band 2 (rows ``h .. 2h``): the same 48 blocks with every bit inverted.

``h`` is :func:`band_height`. The functions work on a plane of 8-bit luma with ``line_size`` bytes per row (the
stride PyAV reports, which may exceed the width), so they run on the encoder's input and the decoder's output alike.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

BITS = 48
"""2**48 ms is about 8900 years: every date a camera will ever stamp fits, with no epoch roll-over to handle."""

BLACK = 16
WHITE = 235
"""Studio-range black and white: legal in limited-range H.264 and still far apart in full-range JPEG."""

THRESHOLD = 128

MIN_WIDTH = BITS * 4
"""Below 4 px per block the encoders smear neighbouring blocks into each other and the strip stops being reliable."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)


def to_millis(moment: datetime) -> int:
    """Milliseconds since the epoch, by integer arithmetic: float timestamps would round some moments to the
    neighbouring millisecond and make an exact comparison with the strip fail."""
    return (moment - _EPOCH) // _MILLISECOND


def from_millis(millis: int) -> datetime:
    return _EPOCH + millis * _MILLISECOND


def band_height(height: int) -> int:
    """At least 16 rows so a band covers a whole H.264 macroblock row (the encoder then spends its bits on a clean
    black/white edge rather than blending the strip with the picture below); a twentieth of the height so it
    stays visible, and just as robust, at 1080p."""
    return max(16, height // 20)


def strip_height(height: int) -> int:
    """Rows taken by both bands; the picture proper starts below."""
    return 2 * band_height(height)


def _block_edges(width: int) -> list[int]:
    """Integer edges so the 48 blocks tile the width exactly whatever the resolution (640 / 48 is not whole)."""
    return [i * width // BITS for i in range(BITS + 1)]


def _check_geometry(width: int, height: int, line_size: int, size: int) -> None:
    if width < MIN_WIDTH:
        raise ValueError(f"a time strip needs at least {MIN_WIDTH} px of width, not {width}")
    if line_size < width:
        raise ValueError(f"line size {line_size} is shorter than the width {width}")
    if size < line_size * strip_height(height):
        raise ValueError("the plane is too small to hold the time strip")


def _row(width: int, line_size: int, millis: int) -> bytes:
    edges = _block_edges(width)
    row = bytearray([BLACK]) * line_size
    for i in range(BITS):
        if (millis >> (BITS - 1 - i)) & 1:
            row[edges[i] : edges[i + 1]] = bytes([WHITE]) * (edges[i + 1] - edges[i])
    return bytes(row)


def paint_strip(luma: bytearray, width: int, height: int, line_size: int, millis: int) -> None:
    """Write `millis` into the top of `luma`, in place.

    Bits are painted as whole blocks, not single pixels, because the strip must survive lossy compression at any
    Axis ``compression`` setting; the complement band makes every bit checkable on its own, so a block that does
    get damaged is reported instead of silently yielding a wrong time.
    """
    if not 0 <= millis < 1 << BITS:
        raise ValueError(f"{millis} does not fit in {BITS} bits")
    _check_geometry(width, height, line_size, len(luma))
    band = band_height(height)
    data = _row(width, line_size, millis)
    inverse = _row(width, line_size, ~millis & ((1 << BITS) - 1))
    luma[0 : band * line_size] = data * band
    luma[band * line_size : 2 * band * line_size] = inverse * band


def _levels(luma: bytes | bytearray | memoryview, width: int, top: int, band: int, line_size: int) -> list[int]:
    """Mean luma of the middle half of each block, both ways: edges are where compression rings and blurs, and a
    mean over many pixels shrugs off the odd noisy one that a single sample would not."""
    edges = _block_edges(width)
    rows = range(top + band // 4, top + band - band // 4)
    levels = []
    for i in range(BITS):
        quarter = (edges[i + 1] - edges[i]) // 4
        left, right = edges[i] + quarter, edges[i + 1] - quarter
        total = sum(sum(luma[r * line_size + left : r * line_size + right]) for r in rows)
        levels.append(total // ((right - left) * len(rows)))
    return levels


def read_strip(luma: bytes | bytearray | memoryview, width: int, height: int, line_size: int) -> int:
    """The milliseconds painted by :func:`paint_strip`.

    Raises ValueError when a bit and its complement agree: the picture is not a strip (a foreign camera, a
    black frame) or compression destroyed a block, and a caller comparing times must not be handed a guess.
    """
    _check_geometry(width, height, line_size, len(luma))
    band = band_height(height)
    data = _levels(luma, width, 0, band, line_size)
    inverse = _levels(luma, width, band, band, line_size)
    millis = 0
    bad = []
    for i, (level, check) in enumerate(zip(data, inverse, strict=True)):
        bit = level >= THRESHOLD
        if bit == (check >= THRESHOLD):
            bad.append(i)
        millis = millis << 1 | bit
    if bad:
        raise ValueError(f"time strip unreadable: bits {bad} agree with their complement")
    return millis
