"""Busy H.264 test video for the benchmarks (and the big-block tests): a short clip encoded once, then looped
through the recorder as long as a benchmark needs, which is far faster than encoding gigabytes."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction

import av
import numpy as np
from av.codec.context import Flags

from device.media.synthetic import EncodedFrame


@dataclass(frozen=True)
class Clip:
    """Encoded packets of a short clip; every GOP starts with a key frame carrying SPS/PPS in band, as the
    camera's own encoder makes them, so the clip loops seamlessly."""

    packets: list[tuple[bytes, bool]]
    width: int
    height: int
    fps: int

    @property
    def bytes_per_frame(self) -> float:
        return sum(len(data) for data, _key in self.packets) / len(self.packets)

    @property
    def bitrate(self) -> float:
        return self.bytes_per_frame * 8 * self.fps


def encode_clip(
    width: int, height: int, fps: int, seconds: int, bitrate: int, gop: int | None = None, vbv_seconds: float = 0.5
) -> Clip:
    """`seconds` of busy 4:2:0 video (a random texture scrolling 4 px a frame, plus fresh noise each frame) with
    the camera's x264 settings, a key frame every `gop` frames (default: every second) and the rate capped at
    `bitrate` with a VBV buffer of `vbv_seconds`: pure noise would otherwise be one huge frame after another,
    unlike any camera stream."""
    gop = gop or fps
    ctx = av.CodecContext.create("libx264", "w")
    ctx.gop_size = gop
    ctx.max_b_frames = 0
    ctx.flags |= Flags.global_header
    ctx.bit_rate = bitrate
    kbit = bitrate // 1000
    ctx.options = {
        "preset": "veryfast",
        "tune": "zerolatency",
        "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0:repeat-headers=1"
        f":vbv-maxrate={kbit}:vbv-bufsize={int(kbit * vbv_seconds)}",
    }
    ctx.width, ctx.height, ctx.pix_fmt = width, height, "yuv420p"
    ctx.time_base = Fraction(1, fps)
    ctx.framerate = Fraction(fps)
    ctx.open()
    rng = np.random.default_rng(0)
    rows = height * 3 // 2  # the Y plane, then U and V packed below it: PyAV's yuv420p ndarray layout
    texture = rng.integers(0, 256, (rows, width + 4 * fps * seconds), dtype=np.uint8)
    packets: list[tuple[bytes, bool]] = []
    for i in range(fps * seconds):
        plane = texture[:, 4 * i : 4 * i + width] ^ rng.integers(0, 16, (rows, width), dtype=np.uint8)
        frame = av.VideoFrame.from_ndarray(plane, format="yuv420p")
        frame.pts, frame.time_base = i, Fraction(1, fps)
        packets += [(bytes(p), p.is_keyframe) for p in ctx.encode(frame)]
    packets += [(bytes(p), p.is_keyframe) for p in ctx.encode(None)]
    if not packets or not packets[0][1] or len(packets) % gop:
        raise RuntimeError("the clip must start with a key frame and hold whole GOPs, so it loops seamlessly")
    return Clip(packets, width, height, fps)


def looped(clip: Clip, start: datetime, count: int) -> Iterator[EncodedFrame]:
    """`count` frames of the clip over and over, stamped as a camera would stamp them."""
    time_base = Fraction(1, clip.fps)
    for n in range(count):
        data, key = clip.packets[n % len(clip.packets)]
        moment = start + timedelta(microseconds=round(n * 1_000_000 / clip.fps))
        yield EncodedFrame(data, n, time_base, key, moment, "h264", None)


def bitrate(text: str) -> int:
    """A clip's bit rate on the command line: ``8M``, ``2500k`` or plain bits per second."""
    units = {"K": 1000, "M": 1000**2}
    number = text.strip().upper()
    try:
        return int(float(number.rstrip("KM")) * units.get(number[-1:], 1))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a bit rate: {text!r} (use e.g. 8M or 2500k)") from None
