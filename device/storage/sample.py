"""A short real recording written through the store, for rehearsing checks, repairs and encryption before
any camera has recorded: H.264 in Matroska, made with PyAV, split into blocks as the recorder splits them."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from fractions import Fraction

import av

from device.storage.layout import RecordingMeta, VideoAttributes, make_token
from device.storage.store import RecordingStore

WIDTH, HEIGHT, FPS = 160, 90, 10


def encode_clip(seconds: float, shade: int = 0) -> bytes:
    """A Matroska file of `seconds` of moving gradient, every frame different so it is real video."""
    out = io.BytesIO()
    with av.open(out, "w", format="matroska") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"preset": "ultrafast", "tune": "zerolatency"}
        for n in range(max(1, int(seconds * FPS))):
            video = _frame(n, shade)
            video.pts, video.time_base = n, Fraction(1, FPS)
            container.mux(stream.encode(video))
        container.mux(stream.encode(None))
    return out.getvalue()


def _frame(n: int, shade: int) -> av.VideoFrame:
    """A grey frame whose level and bright bar move with n (no numpy needed)."""
    frame = av.VideoFrame(WIDTH, HEIGHT, "yuv420p")
    luma = frame.planes[0]
    bar = (n * 4) % WIDTH
    row = bytearray([(shade + n * 7) % 200 + 16] * luma.line_size)
    row[bar] = 235
    luma.update(bytes(row) * HEIGHT)
    for chroma in frame.planes[1:]:
        chroma.update(bytes([128]) * chroma.buffer_size)
    return frame


def write_sample_recording(store: RecordingStore, start: datetime, seconds: int, block_seconds: int) -> str:
    meta = RecordingMeta(
        make_token(start, store.zone, store.serial),
        "1",
        start,
        trigger_type="triggered",
        trigger_name="Sample",
        trigger_trigger="Sample",
        video=VideoAttributes(WIDTH, HEIGHT, f"{FPS}:1", "video/x-h264"),
    )
    recording = store.begin_recording(meta)
    done = 0
    while done < seconds:
        length = min(block_seconds, seconds - done)
        block_start = start + timedelta(seconds=done)
        block = recording.begin_block(block_start)
        block.write(encode_clip(length, shade=done))
        block.close(block_start + timedelta(seconds=length))
        done += length
    recording.finish(start + timedelta(seconds=seconds))
    return meta.id
