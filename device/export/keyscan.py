"""A block's key frames read from the block itself, for blocks the key-frame index has no rows for (a repair
rebuilt the index without them, or another muxer wrote the block).

The block is walked a window at a time with the recorder's EBML walk (device/recorder/muxer.py): the header once
(``video_track``), then the whole clusters of each read (``scan_clusters``), the next read starting after the last
whole one. So an export's memory stays at about a window (blockio's) however large the block, as it does while
the export is copied; only a cluster larger than a window is read whole, by doubling the read.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from device.export.blockio import WINDOW
from device.recorder.keyframes import KeyFrame
from device.recorder.muxer import VideoTrack, scan_clusters, video_track
from device.storage.files import StorePath
from device.storage.store import RecordingStore

HEADER_BYTES = 64 * 1024
"""The first read, for the header (EBML, Info, Tracks: well under a kilobyte as the recorder writes it)."""


def scan_keyframes(
    store: RecordingStore, path: StorePath, start: datetime, growing: bool, window: int = WINDOW
) -> tuple[list[KeyFrame], bool]:
    """The block's key frames (capture time from the block `start`, plaintext offset of their cluster), and
    whether every cluster holds one frame (the recorder's blocks; only theirs go into the key-frame index). A
    block cut short (a power loss, or still being written) gives the key frames of its whole clusters."""
    size = store.plain_size(path, growing)
    track = _header(store, path, size, growing)
    if track is None:
        return [], False
    found: list[KeyFrame] = []
    per_frame = True
    offset, length = track.header_size, window
    while offset < size:
        wanted = min(length, size - offset)
        data = store.read(path, offset, wanted, growing)
        frames, walked = scan_clusters(data, offset, track.scale_ns)
        if walked == 0:
            if wanted < length or len(data) < wanted:
                break  # the rest of the block is a cluster cut short
            length *= 2  # a cluster larger than the window
            continue
        found.extend((start + timedelta(milliseconds=f.timestamp_ms), f.offset) for f in frames if f.keyframe)
        per_frame = per_frame and len({f.offset for f in frames}) == len(frames)
        offset, length = offset + walked, window
    return found, per_frame


def _header(store: RecordingStore, path: StorePath, size: int, growing: bool) -> VideoTrack | None:
    """The block's video track and where its clusters start; None if the block has no whole header."""
    length = HEADER_BYTES
    while True:
        track = video_track(store.read(path, 0, min(length, size), growing))
        if track is not None or length >= size:
            return track
        length *= 4
