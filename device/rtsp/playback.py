"""A recording's frames read back for RTSP playback, block by block, in a worker thread, following the recording
while it is still being recorded.

Each block is a Matroska file (device/recorder/muxer.py); its plaintext comes from ``RecordingStore.read``, so
encrypted cards play too. PyAV demuxes it. H.264 packets come out in the Matroska form (length-prefixed NAL units,
``avcC`` extradata) and are turned back into Annex B access units, SPS and PPS in band before key frames as the
camera's encoder made them; an MJPEG packet is one whole JPEG image.

A frame's time is seconds since the recording start: the block's start (its first key frame's capture time) plus
the packet's Matroska timestamp, minus the recording's start time.

:class:`RecordingReader` reads a block a chunk at a time (`READ_CHUNK`), from where the last read ended, with the
block's header spliced on in front: the muxer writes a cluster per frame, so header + clusters from any cluster on
is a Matroska file (as device/export/blockio.py uses it). Only the whole clusters of a chunk are demuxed; the rest
is read again next time. So a session holds about a chunk of video however large the block, a seek starts at the
key frame's cluster (from the key-frame index) rather than at the block's start, and a recording still being
recorded (no stop time; its last block has status Recording and grows) is followed: what is written of its
growing block is read as it comes, and new blocks are found in the index as they appear.
"""

from __future__ import annotations

import contextlib
import io
import sqlite3
import struct
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import av
import av.error

from device.recorder import keyframes
from device.recorder.muxer import scan
from device.rtsp.rtp import annex_b, split_annex_b
from device.storage.crypto import DecryptionError
from device.storage.index import IndexedBlock, RecordingFilter
from device.storage.layout import INDEX_NAME, RecordingMeta
from device.storage.manager import DiskManager
from device.storage.store import RecordingStore

H264, JPEG = "video/x-h264", "image/jpeg"
CODECS = {H264: "h264", JPEG: "jpeg"}
"""Recording encodings that play over RTSP, and the codec each is sent as."""
SPS, PPS = 7, 8
HEAD_BYTES = 256 * 1024
"""Read of a block's start: its header and at least its first key frame, for the SDP's parameter sets."""
HEADER_BYTES = 64 * 1024
"""Read of a block's start for its header alone (EBML, Info, Tracks: well under a kilobyte as the muxer writes it)."""
READ_CHUNK = 1024 * 1024
"""The most read of a block at once: a session holds about this much of a recording whatever the block's size
and however slowly its client reads, and catching up with a long growing block keeps memory flat too."""
COMPLETE = "Complete"


class PlaybackError(Exception):
    """The recording cannot be played (codec, unreadable first block); the text says why."""


@dataclass(frozen=True, slots=True)
class PlaybackFrame:
    time: float
    """Seconds since the recording start."""
    data: bytes
    """One H.264 access unit (Annex B) or one JPEG image."""
    keyframe: bool


@dataclass
class Recording:
    meta: RecordingMeta
    store: RecordingStore
    blocks: list[IndexedBlock]

    @property
    def duration(self) -> float | None:
        """Seconds from start to stop; None while the recording goes on."""
        return None if self.meta.stop is None else max(0.0, (self.meta.stop - self.meta.start).total_seconds())

    @property
    def ongoing(self) -> bool:
        return self.meta.stop is None

    @property
    def codec(self) -> str:
        """``h264`` or ``jpeg``; PlaybackError for what does not play over RTSP."""
        codec = CODECS.get(self.meta.video.encoding)
        if codec is None:
            raise PlaybackError(f"only H.264 and MJPEG recordings play over RTSP, not {self.meta.video.encoding}")
        return codec

    def block_offset(self, block: IndexedBlock) -> float:
        return (block.meta.start - self.meta.start).total_seconds()


def _lookup(store: RecordingStore, recording_id: str) -> Recording | None:
    _total, _matched, page = store.index.query_recordings(RecordingFilter(recording_ids=(recording_id,)), False, 1)
    return Recording(page[0][0], store, store.index.blocks(recording_id)) if page else None


def find_recording(disks: DiskManager, recording_id: str) -> Recording | None:
    """The recording with this ID on any mounted disk, with its blocks in order. Blocking: run in a thread."""
    for disk in list(disks.disks.values()):
        store = disk.store
        if store is None:
            continue
        found = _lookup(store, recording_id)
        if found is not None:
            return found
    return None


def _avcc_to_annex_b(data: bytes, length_size: int) -> bytes:
    nals = []
    offset = 0
    while offset + length_size <= len(data):
        size = int.from_bytes(data[offset : offset + length_size], "big")
        offset += length_size
        nals.append(data[offset : offset + size])
        offset += size
    return annex_b(nals)


def demux_block(data: bytes, offset: float) -> list[PlaybackFrame]:
    """Every frame of one block's plaintext, timed from `offset` (the block start in recording seconds). A block
    cut short (power loss, still being written) yields the frames it holds."""
    frames: list[PlaybackFrame] = []
    try:
        with av.open(io.BytesIO(data), "r", format="matroska") as container:
            stream = container.streams.video[0]
            name = stream.codec_context.name
            if name not in ("h264", "mjpeg"):
                raise PlaybackError(f"only H.264 and MJPEG recordings play over RTSP, not {name}")
            extradata = stream.codec_context.extradata or b""
            avcc = name == "h264" and bool(extradata) and extradata[0] == 1
            length_size = (extradata[4] & 0x03) + 1 if avcc and len(extradata) > 4 else 4
            for packet in container.demux(stream):
                if packet.size == 0 or packet.pts is None or packet.time_base is None:
                    continue
                raw = bytes(packet)
                unit = _avcc_to_annex_b(raw, length_size) if avcc else raw
                keyframe = packet.is_keyframe or name == "mjpeg"
                frames.append(PlaybackFrame(offset + float(packet.pts * packet.time_base), unit, keyframe))
    except av.error.FFmpegError:
        pass  # a truncated tail: keep what was read
    return frames


def _growing(block: IndexedBlock) -> bool:
    return block.meta.status != COMPLETE


def read_block(recording: Recording, block: IndexedBlock, length: int | None = None) -> list[PlaybackFrame]:
    """One block's frames (of its first `length` bytes, if given). Blocking: run in a thread."""
    try:
        data = recording.store.read(recording.store.root / Path(block.mkv), 0, length, _growing(block))
    except (OSError, DecryptionError, struct.error):  # gone (retention), or an encrypted tail that does not decrypt
        return []
    return demux_block(data, recording.block_offset(block))


def parameter_sets(recording: Recording) -> tuple[bytes, bytes]:
    """SPS and PPS of the recording's first key frame, for the SDP. Read from the start of a block first, which
    holds it, and the whole block only if not. Blocking: run in a thread."""
    if recording.meta.video.encoding != H264:
        raise PlaybackError(f"only H.264 recordings have parameter sets, not {recording.meta.video.encoding}")
    for block in recording.blocks:
        for length in (HEAD_BYTES, None):
            for frame in read_block(recording, block, length):
                if frame.keyframe:
                    nals = split_annex_b(frame.data)
                    sps = next((n for n in nals if n[0] & 0x1F == SPS), None)
                    pps = next((n for n in nals if n[0] & 0x1F == PPS), None)
                    if sps is not None and pps is not None:
                        return sps, pps
    raise PlaybackError("the recording holds no playable key frame")


def start_block(recording: Recording, start: float) -> int:
    """The index of the block that holds `start` seconds (the last one starting at or before it)."""
    chosen = 0
    for index, block in enumerate(recording.blocks):
        if recording.block_offset(block) <= start:
            chosen = index
    return chosen


def from_keyframe(frames: list[PlaybackFrame], start: float) -> list[PlaybackFrame]:
    """The frames from the last key frame at or before `start` (from the first key frame if none is)."""
    keys = [i for i, f in enumerate(frames) if f.keyframe]
    if not keys:
        return []
    before = [i for i in keys if frames[i].time <= start + 1e-6]
    return frames[before[-1] if before else keys[0] :]


@dataclass
class Batch:
    """What one :meth:`RecordingReader.read` found."""

    frames: list[PlaybackFrame]
    ended: bool
    """Nothing more will come: the recording has stopped (or is gone) and every frame has been read."""


@dataclass
class _Cursor:
    """Where the reading of one block stands: blocks are read a chunk at a time, behind their header."""

    block: IndexedBlock
    header: bytes | None = None
    offset: int = 0
    """Plaintext offset of the next cluster to read."""


@dataclass
class _Read:
    """What one read of a block gave."""

    frames: list[PlaybackFrame]
    done: bool
    """The block has been read to its end."""
    waiting: bool = False
    """Nothing more of a growing block is written yet."""


@dataclass
class RecordingReader:
    """A recording's frames in order from `start`: from the key frame at or before it (a seek), or from the first
    frame after it (`resume`: the client has decoded up to `start`). One :meth:`read` at a time, in a worker
    thread; each returns the next frames there are (about a `READ_CHUNK` of a block at most), none while a
    recording that goes on has nothing new, and says when the end has been reached.

    Blocks are found by their start time, not their position in the list, so retention deleting old blocks
    meanwhile does not make the reader skip or repeat one."""

    recording: Recording
    start: float
    resume: bool = False
    _first: bool = field(default=True, init=False)
    """Nothing returned yet: the seek (or resume) rule picks the first frames."""
    _last: float | None = field(default=None, init=False)
    _floor: datetime | None = field(default=None, init=False)
    """The first block read starts at or after this (the block holding `start`)."""
    _after: datetime | None = field(default=None, init=False)
    """The next block starts after this (the start of the last block read to its end)."""
    _cursor: _Cursor | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        blocks = self.recording.blocks
        if blocks:
            self._floor = blocks[start_block(self.recording, self.start)].meta.start

    def read(self) -> Batch:
        while True:
            block = self._cursor.block if self._cursor is not None else self._next_block()
            if block is None:
                if self.recording.ongoing:
                    if not self._refresh():
                        return Batch([], True)  # removed while being played
                    block = self._next_block()
                if block is None:
                    return Batch([], not self.recording.ongoing)
            if self._cursor is None:
                self._cursor = _Cursor(block)
            if _growing(self._cursor.block) and not self._refresh():
                return Batch([], True)
            cursor = self._cursor
            if cursor is None:  # the refresh found the block deleted: on to the next
                continue
            read = self._read(cursor)
            if read.done:
                self._cursor = None
                self._after = cursor.block.meta.start
            frames = self._select(read.frames)
            if frames or read.waiting:
                return Batch(frames, False)

    def _next_block(self) -> IndexedBlock | None:
        for block in self.recording.blocks:
            if (self._after is None or block.meta.start > self._after) and (
                self._floor is None or block.meta.start >= self._floor
            ):
                return block
        return None

    def _refresh(self) -> bool:
        """The recording and its blocks as the index has them now; False when it is gone. Its stop time is read
        before its blocks: a recording closes its last block before writing its stop, so once the stop is seen,
        every block is there and Complete."""
        try:
            found = _lookup(self.recording.store, self.recording.meta.id)
        except (sqlite3.Error, OSError):  # the disk went away
            return False
        if found is None:
            return False
        self.recording = found
        if self._cursor is not None:
            token = self._cursor.block.meta.token
            current = next((b for b in found.blocks if b.meta.token == token), None)
            if current is None:  # deleted under us: go on with the next one
                self._after = self._cursor.block.meta.start
                self._cursor = None
            else:
                self._cursor.block = current
        return True

    def _select(self, frames: list[PlaybackFrame]) -> list[PlaybackFrame]:
        if self._first:
            frames = [f for f in frames if f.time > self.start] if self.resume else from_keyframe(frames, self.start)
        elif self._last is not None:
            frames = [f for f in frames if f.time > self._last]
        if frames:
            self._first = False
            self._last = frames[-1].time
        return frames

    def _read(self, cursor: _Cursor) -> _Read:
        try:
            return self._read_more(cursor)
        except (OSError, DecryptionError, struct.error):  # deleted, or an encrypted tail that does not decrypt
            growing = _growing(cursor.block)
            return _Read([], done=not growing, waiting=growing)

    def _read_more(self, cursor: _Cursor) -> _Read:
        """The whole clusters of the next chunk of the block, spliced behind its header and demuxed. A block
        whose clusters the EBML walk does not follow (not written by this recorder) is read whole once it is
        complete, as it plays all the same."""
        store, block = self.recording.store, cursor.block
        growing = _growing(block)
        path = store.root / Path(block.mkv)
        if cursor.header is None:
            found = scan(store.read(path, 0, HEADER_BYTES, growing))
            if found.header_size is None:
                if growing:
                    return _Read([], done=False, waiting=True)  # the header is not written yet
                return _Read(read_block(self.recording, block), done=True)
            cursor.header = store.read(path, 0, found.header_size, growing)
            cursor.offset = max(found.header_size, self._seek_offset(block))
        size = store.plain_size(path, growing)
        if cursor.offset >= size:
            return _Read([], done=not growing, waiting=growing)
        offset = self.recording.block_offset(block)
        length = READ_CHUNK
        while True:
            data = store.read(path, cursor.offset, min(size - cursor.offset, length), growing)
            whole = scan(cursor.header + data).end - len(cursor.header)
            if whole > 0 or len(data) < length:
                break
            length *= 4  # a cluster larger than a chunk
        if whole <= 0:
            if growing:
                return _Read([], done=False, waiting=True)  # the next cluster is not all written yet
            cursor.offset = size  # the rest, whatever it holds
            return _Read(demux_block(cursor.header + data, offset), done=True)
        cursor.offset += whole
        frames = demux_block(cursor.header + data[:whole], offset)
        return _Read(frames, done=not growing and cursor.offset >= size)

    def _seek_offset(self, block: IndexedBlock) -> int:
        """Where a seek into a block starts reading: the cluster of the key frame at or before the start, from the
        key-frame index (so a seek near the end of a long block reads no more than a GOP before it); 0 (the first
        cluster) when the index has none, or this is not the first read."""
        if not self._first:
            return 0
        moment = self.recording.meta.start + timedelta(seconds=self.start)
        with contextlib.suppress(sqlite3.Error, OSError):
            conn = keyframes.ensure_keyframe_table(self.recording.store.root / INDEX_NAME)
            try:
                found = keyframes.keyframe_at_or_before(conn, block.meta.token, moment)
            finally:
                conn.close()
            if found is not None:
                return found[1]
        return 0
