"""A recording's frames read back for RTSP playback, block by block, in a worker thread, following the recording
while it is still being recorded.

Each block is a Matroska file (device/recorder/muxer.py); its plaintext comes from ``RecordingStore.read``, so
encrypted cards play too. The recorder's EBML walk takes it apart (``muxer.video_track`` for the header,
``muxer.frames_in`` for the clusters): no FFmpeg demuxer, which cost ~18 ms to open per read against well under
1 ms for the walk. H.264 payloads are length-prefixed NAL units (the length size and the SPS and PPS come from the
``avcC`` CodecPrivate) and come out as lists of NAL units, ready for RTP; a key frame without SPS and PPS in band
(ordinary Matroska, e.g. device/storage/sample.py's, keeps them in the avcC only) gets the avcC's put before it,
so a client that joins or seeks can decode from it. An MJPEG payload is one whole JPEG image. What the walk does
not take apart (laced blocks, ContentEncodings, clusters of unknown size: none of which our recorder or FFmpeg
writes for video) is demuxed by PyAV as before.

A frame's time is seconds since the recording start: the block's start (its first key frame's capture time) plus
the block's Matroska timestamp, minus the recording's start time.

:class:`RecordingReader` reads a block a chunk at a time (`READ_CHUNK`), from where the last read ended, after
reading the block's header once: every cluster is a self-contained run of frames, so the walk takes the whole
clusters of a chunk and leaves the one cut short for the next read. So a session holds about a chunk of video
however large the block, a seek starts at the key frame's cluster (from the key-frame index) rather than at the
block's start, and a recording still being recorded (no stop time; its last block has status Recording and grows)
is followed: what is written of its growing block is read as it comes, and new blocks are found in the index as
they appear.
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
from device.recorder.muxer import BlockFrame, VideoTrack, frames_in, scan, video_track
from device.rtsp.rtp import annex_b, split_annex_b
from device.storage.crypto import DecryptionError
from device.storage.index import IndexedBlock, RecordingFilter
from device.storage.layout import RecordingMeta
from device.storage.manager import DiskManager
from device.storage.store import RecordingStore

H264, JPEG = "video/x-h264", "image/jpeg"
CODECS = {H264: "h264", JPEG: "jpeg"}
"""Recording encodings that play over RTSP, and the codec each is sent as."""
SPS, PPS, AUD = 7, 8, 9
MATROSKA_CODECS = {"V_MPEG4/ISO/AVC": "h264", "V_MJPEG": "mjpeg"}
"""Matroska codec IDs the EBML walk plays, and FFmpeg's name for each."""
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
    payload: bytes
    """One JPEG image, or one H.264 access unit in Annex B when `nals` is None."""
    keyframe: bool
    nals: tuple[bytes, ...] | None = None
    """The H.264 access unit's NAL units, as RTP sends them: the EBML walk hands them over without the Annex B
    round trip (join, then split again with a search for start codes)."""

    @property
    def data(self) -> bytes:
        """The frame as one buffer: a JPEG image or an Annex B access unit."""
        return annex_b(list(self.nals)) if self.nals is not None else self.payload

    def h264_nals(self) -> list[bytes]:
        return list(self.nals) if self.nals is not None else split_annex_b(self.payload)


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


@dataclass(frozen=True, slots=True)
class AvcConfig:
    """An ``avcC`` record (ISO/IEC 14496-15 §5.2.4.1), the H.264 CodecPrivate of Matroska and extradata of FFmpeg."""

    length_size: int
    """Bytes of the big-endian length before each NAL unit of a frame (4 as FFmpeg writes it)."""
    sps: tuple[bytes, ...]
    pps: tuple[bytes, ...]


def parse_avcc(record: bytes) -> AvcConfig | None:
    """The record's NAL length size and parameter sets; None when it is not an avcC (Annex B extradata, none)."""
    if len(record) < 7 or record[0] != 1:
        return None
    pos = 5
    sets: list[tuple[bytes, ...]] = []
    for mask in (0x1F, 0xFF):  # the SPS count shares its byte with reserved bits; the PPS count does not
        if pos >= len(record):
            return None
        count = record[pos] & mask
        pos += 1
        found = []
        for _ in range(count):
            size = int.from_bytes(record[pos : pos + 2], "big")
            pos += 2
            if size == 0 or pos + size > len(record):
                return None
            found.append(bytes(record[pos : pos + size]))
            pos += size
        sets.append(tuple(found))
    return AvcConfig((record[4] & 0x03) + 1, sets[0], sets[1])


def length_prefixed_nals(data: bytes, length_size: int) -> list[bytes]:
    """The NAL units of a length-prefixed (avcC-style) H.264 frame; a length running past the end ends it."""
    nals = []
    pos, end = 0, len(data)
    while pos + length_size <= end:
        size = int.from_bytes(data[pos : pos + length_size], "big")
        pos += length_size
        if size:
            nals.append(data[pos : pos + size])
        pos += size
    return nals


def with_parameter_sets(nals: list[bytes], config: AvcConfig | None) -> list[bytes]:
    """A key frame's NAL units with the avcC's SPS and PPS in front (after an access unit delimiter), unless it
    carries an SPS itself: a stream whose parameter sets are only in the container's extradata still starts
    decoding at any key frame sent over RTP."""
    if config is None or not config.sps or any(n and n[0] & 0x1F == SPS for n in nals):
        return nals
    lead = 1 if nals and nals[0] and nals[0][0] & 0x1F == AUD else 0
    return [*nals[:lead], *config.sps, *config.pps, *nals[lead:]]


@dataclass(frozen=True, slots=True)
class BlockLayout:
    """A block's header, as playback needs it: the track whose frames are taken out of its clusters."""

    header: bytes
    track: VideoTrack
    codec: str
    """``h264`` or ``mjpeg``."""
    avcc: AvcConfig | None
    """H.264 with an avcC CodecPrivate: payloads are length-prefixed; None: they are Annex B (or JPEG)."""


def block_layout(head: bytes) -> BlockLayout | None:
    """The layout of a block from its first bytes; None while (or if) they do not hold the whole header.
    PlaybackError for a codec that does not play over RTSP."""
    track = video_track(head)
    if track is None:
        return None
    codec = MATROSKA_CODECS.get(track.codec_id)
    if codec is None:
        raise PlaybackError(f"only H.264 and MJPEG recordings play over RTSP, not {track.codec_id}")
    avcc = parse_avcc(track.codec_private) if codec == "h264" else None
    return BlockLayout(bytes(head[: track.header_size]), track, codec, avcc)


def playback_frames(layout: BlockLayout, found: list[BlockFrame], offset: float) -> list[PlaybackFrame]:
    """The walk's frames as played: times in recording seconds from `offset` (the block start), H.264 as NAL
    units with the parameter sets before key frames that lack them."""
    frames = []
    for frame in found:
        time = offset + frame.timestamp_ns / 1e9
        if layout.codec == "mjpeg":
            frames.append(PlaybackFrame(time, frame.payload, True))
            continue
        avcc = layout.avcc
        nals = length_prefixed_nals(frame.payload, avcc.length_size) if avcc else split_annex_b(frame.payload)
        if frame.keyframe:
            nals = with_parameter_sets(nals, avcc)
        frames.append(PlaybackFrame(time, b"", frame.keyframe, tuple(nals)))
    return frames


def demux_block(data: bytes, offset: float) -> list[PlaybackFrame]:
    """Every frame of one block's plaintext (or of a block's header followed by whole clusters), timed from
    `offset` (the block start in recording seconds). A block cut short (power loss, still being written) yields
    the frames it holds."""
    layout = block_layout(data)
    if layout is not None:
        found = frames_in(data, layout.track, layout.track.header_size, partial=True)
        if found is not None:
            return playback_frames(layout, found.frames, offset)
    return demux_with_pyav(data, offset)


def demux_with_pyav(data: bytes, offset: float) -> list[PlaybackFrame]:
    """:func:`demux_block` by FFmpeg, for what the EBML walk does not take apart. Costly: FFmpeg probes the data
    on every open (~18 ms for 1 MiB of 720p)."""
    frames: list[PlaybackFrame] = []
    try:
        with av.open(io.BytesIO(data), "r", format="matroska") as container:
            stream = container.streams.video[0]
            name = stream.codec_context.name
            if name not in ("h264", "mjpeg"):
                raise PlaybackError(f"only H.264 and MJPEG recordings play over RTSP, not {name}")
            extradata = stream.codec_context.extradata or b""
            avcc = parse_avcc(extradata) if name == "h264" else None
            for packet in container.demux(stream):
                if packet.size == 0 or packet.pts is None or packet.time_base is None:
                    continue
                raw = bytes(packet)
                time = offset + float(packet.pts * packet.time_base)
                if name == "mjpeg":
                    frames.append(PlaybackFrame(time, raw, True))
                    continue
                nals = length_prefixed_nals(raw, avcc.length_size) if avcc else split_annex_b(raw)
                if packet.is_keyframe:
                    nals = with_parameter_sets(nals, avcc)
                frames.append(PlaybackFrame(time, b"", packet.is_keyframe, tuple(nals)))
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
    """SPS and PPS for the SDP: from the avcC CodecPrivate in a block's header (one small read, no frame), or, if
    the header has none, from the first key frame's in-band ones (the start of the block first, and the whole
    block only if that holds none). Blocking: run in a thread."""
    if recording.meta.video.encoding != H264:
        raise PlaybackError(f"only H.264 recordings have parameter sets, not {recording.meta.video.encoding}")
    for block in recording.blocks:
        try:
            head = recording.store.read(recording.store.root / Path(block.mkv), 0, HEADER_BYTES, _growing(block))
        except (OSError, DecryptionError, struct.error):
            continue
        layout = block_layout(head)
        if layout is not None and layout.avcc is not None and layout.avcc.sps and layout.avcc.pps:
            return layout.avcc.sps[0], layout.avcc.pps[0]
    for block in recording.blocks:
        for length in (HEAD_BYTES, None):
            for frame in read_block(recording, block, length):
                if frame.keyframe:
                    nals = frame.h264_nals()
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
    layout: BlockLayout | None = None
    """The block's header, once read."""
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
        """The whole clusters of the next chunk of the block, taken apart by the EBML walk (by PyAV behind the
        header where the walk cannot). A block whose header does not say how (not written by this recorder, a
        header beyond `HEADER_BYTES`) is read whole once it is complete, as it plays all the same."""
        store, block = self.recording.store, cursor.block
        growing = _growing(block)
        path = store.root / Path(block.mkv)
        if cursor.layout is None:
            layout = block_layout(store.read(path, 0, HEADER_BYTES, growing))
            if layout is None:
                if growing:
                    return _Read([], done=False, waiting=True)  # the header is not written yet
                return _Read(read_block(self.recording, block), done=True)
            cursor.layout = layout
            cursor.offset = max(layout.track.header_size, self._seek_offset(block))
        layout = cursor.layout
        size = store.plain_size(path, growing)
        if cursor.offset >= size:
            return _Read([], done=not growing, waiting=growing)
        offset = self.recording.block_offset(block)
        length = READ_CHUNK
        while True:
            data = store.read(path, cursor.offset, min(size - cursor.offset, length), growing)
            found = frames_in(data, layout.track)
            if found is None:
                return self._read_with_pyav(cursor, data, size, growing)
            if found.end > 0 or len(data) < length:
                break
            length *= 4  # a cluster larger than a chunk
        if found.end <= 0:
            if growing:
                return _Read([], done=False, waiting=True)  # the next cluster is not all written yet
            cursor.offset = size  # the rest, whatever it holds
            tail = frames_in(data, layout.track, partial=True)
            if tail is None:
                return _Read(demux_with_pyav(layout.header + data, offset), done=True)
            return _Read(playback_frames(layout, tail.frames, offset), done=True)
        cursor.offset += found.end
        frames = playback_frames(layout, found.frames, offset)
        return _Read(frames, done=not growing and cursor.offset >= size)

    def _read_with_pyav(self, cursor: _Cursor, data: bytes, size: int, growing: bool) -> _Read:
        """A chunk the EBML walk does not take apart, demuxed by PyAV behind the block's header."""
        assert cursor.layout is not None
        header = cursor.layout.header
        offset = self.recording.block_offset(cursor.block)
        whole = scan(header + data).end - len(header)
        if whole <= 0:
            if growing:
                return _Read([], done=False, waiting=True)
            store = self.recording.store
            rest = store.read(store.root / Path(cursor.block.mkv), cursor.offset, size - cursor.offset, growing)
            cursor.offset = size  # the rest, whatever it holds (a cluster larger than the chunk, of unknown size)
            return _Read(demux_with_pyav(header + rest, offset), done=True)
        cursor.offset += whole
        frames = demux_with_pyav(header + data[:whole], offset)
        return _Read(frames, done=not growing and cursor.offset >= size)

    def _seek_offset(self, block: IndexedBlock) -> int:
        """Where a seek into a block starts reading: the cluster of the key frame at or before the start, from the
        key-frame index (so a seek near the end of a long block reads no more than a GOP before it); 0 (the first
        cluster) when the index has none, or this is not the first read."""
        if not self._first:
            return 0
        moment = self.recording.meta.start + timedelta(seconds=self.start)
        with contextlib.suppress(sqlite3.Error, OSError):
            conn = keyframes.ensure_keyframe_table(self.recording.store.index_path)
            try:
                found = keyframes.keyframe_at_or_before(conn, block.meta.token, moment)
            finally:
                conn.close()
            if found is not None:
                return found[1]
        return 0
