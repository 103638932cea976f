"""Reading the time strip the virtual camera paints into every picture, from what a player shows: a Still
decoded here, or a Picture libvlc decoded into memory. The strip is black and white, so one colour channel reads
like luma (limited-range 16 and 235 become 0 and 255)."""

from __future__ import annotations

from datetime import datetime

from app.playback.still import Still
from app.playback.vlcfeed import Picture
from device.media import timestrip


def still_time(still: Still) -> datetime:
    rows = (still.rgb[r * still.stride : r * still.stride + 3 * still.width] for r in range(still.height))
    green = b"".join(row[1::3] for row in rows)
    return timestrip.from_millis(timestrip.read_strip(green, still.width, still.height, still.width))


def picture_time(picture: Picture) -> datetime:
    green = picture.channel(1)
    return timestrip.from_millis(timestrip.read_strip(green, picture.width, picture.height, picture.width))
