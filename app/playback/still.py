"""The exact picture at a moment, decoded here rather than by libvlc: what scrubbing, pausing and frame steps show.

libvlc starts playback at the key frame before a seek and cannot be told to show one particular frame, so a
player built on it alone shows "about then" while the operator drags, and its clock lags the picture. A still
is exact: the camera plays from the key frame at or before the moment (``Range: clock=``), the frames up to the
last one captured at or before the moment are decoded with FFmpeg (PyAV), and that picture is returned with its
capture time and that of the next frame, which is where the frame-step key moves to (a step back asks for a
moment just before this picture's).

Frames are read over the network on the event loop and decoded in a worker thread, so a long GOP at a high
resolution never freezes the window.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

import av

from app.playback.auth import Credentials
from app.playback.ranges import ClockRange
from app.playback.session import Frame, RtspSession

READ_AHEAD = timedelta(seconds=30)
"""How far past the moment a still may read to find the frame after it: a stream at 1 fps with a gap still
yields a next frame, and a broken one does not keep the session open for ever."""


@dataclass(frozen=True)
class Still:
    """A picture in RGB24 (three bytes a pixel, `stride` bytes a row) and where it sits in the recording."""

    width: int
    height: int
    stride: int
    rgb: bytes
    captured: datetime
    """The capture time of this picture (UTC): the last frame at or before the moment asked for."""
    following: datetime | None
    """The capture time of the frame after it; None when this is the recording's last frame."""
    recording_id: str


class NoPicture(Exception):
    """Nothing recorded at that moment can be shown (before the recording's first frame, or no video)."""


async def fetch_still(url: str, credentials: Credentials | None, recording_id: str, moment: datetime) -> Still:
    """The picture on screen at `moment` in the recording at `url` (a ``recordingid=`` playback URL)."""
    async with RtspSession(url, credentials) as session:
        await session.play(ClockRange(moment, moment + READ_AHEAD))
        gop: list[Frame] = []  # from the last key frame at or before the moment
        following: datetime | None = None
        async for frame in session.frames():
            if frame.wall_clock is None:
                continue  # without a sender report there is no telling which frame is the one asked for
            if frame.wall_clock > moment:
                if gop or not frame.keyframe:
                    following = frame.wall_clock
                    break
                moment = frame.wall_clock  # asked for just before the first frame: show the first frame
            if frame.keyframe:
                gop = [frame]
            elif gop:
                gop.append(frame)
    if not gop:
        raise NoPicture(f"recording {recording_id} has no picture at {moment.isoformat()}")
    width, height, stride, rgb = await asyncio.to_thread(_decode_last, gop)
    captured = gop[-1].wall_clock
    assert captured is not None
    return Still(width, height, stride, rgb, captured, following, recording_id)


def _decode_last(frames: list[Frame]) -> tuple[int, int, int, bytes]:
    """Decode from the key frame through every frame after it (each one references the last) and convert only
    the final picture."""
    decoder = av.CodecContext.create("h264", "r")  # RtspSession sets up H.264 only
    decoder.thread_type = "SLICE"  # frame threading would hold pictures back until more packets come
    last: av.VideoFrame | None = None
    for frame in frames:
        for picture in decoder.decode(av.Packet(frame.data)):
            last = picture
    for picture in decoder.decode(None):  # flush: the final frame may still be inside the decoder
        last = picture
    if last is None:
        raise NoPicture("the frames could not be decoded")
    rgb = last.reformat(format="rgb24")
    plane = rgb.planes[0]
    return rgb.width, rgb.height, plane.line_size, bytes(plane)
