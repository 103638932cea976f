"""One block's frames as a Matroska file, written append-only so a file cut anywhere still plays.

The sink is anything with ``write(bytes)`` (the store's BlockWriter): it cannot seek, because encrypted blocks
are sealed chunk by chunk as they grow. PyAV's matroska muxer is told so and set up for a live stream:

* a write-only sink (no ``seek``/``tell``) makes the output non-seekable, and ``live=1`` makes the muxer write
  the Segment with an unknown size and no SeekHead, Cues or Duration: nothing is ever patched afterwards;
* ``cluster_time_limit=0`` starts a new Cluster for every frame (a cluster closes as soon as a later timestamp
  arrives), so every key frame begins a cluster and a crash loses at most the frame being written;
* ``flush_packets=1`` hands each finished cluster to the sink right after the next frame is muxed.

The muxer writes into an in-memory collector and the collected bytes of one mux call (a whole cluster, or the
header) reach the sink in a single ``write``. A sink that refuses (DiskFull) therefore leaves the file ending on a
cluster boundary, and FFmpeg never sees an I/O error mid-element.

Block timestamps are milliseconds since the block start (the first key frame's capture time), so a frame's time
is ``DateUTC + timestamp`` and a recovery can date the last complete frame from the file alone.

Metadata, as far as PyAV allows: ``encoding_tool`` becomes Matroska ``WritingApp`` (the camera model, WIRE.md §9),
``title`` becomes ``Title`` and ``creation_time`` becomes ``DateUTC`` (the block start, microsecond precision).
``MuxingApp`` stays libavformat's own identifier; PyAV offers no way to change it.

:func:`scan` walks a block's EBML structure (no FFmpeg): where its last complete cluster ends, and each frame's
cluster offset, timestamp and key-frame flag. Recovery truncates with it and rebuilds the key-frame index from it.
:func:`video_track` and :func:`frames_in` walk the same structure for RTSP playback: the track's codec and
CodecPrivate from the header, and each frame's payload from the clusters, without an FFmpeg demuxer per read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Protocol

import av

from device.media.synthetic import EncodedFrame, VideoCodec
from device.storage.layout import format_time

MUXER_OPTIONS = {"live": "1", "cluster_time_limit": "0", "flush_packets": "1"}
"""The matroska muxer options that make crash-truncated blocks playable (see the module docstring)."""

DEFAULT_WRITING_APP = "AXIS Virtual Camera"
_MS = timedelta(milliseconds=1)
_MKV_CODEC: dict[VideoCodec, str] = {"h264": "h264", "jpeg": "mjpeg"}

# EBML element IDs (with their length marker bits, as written)
EBML_HEADER = 0x1A45DFA3
SEGMENT = 0x18538067
CLUSTER = 0x1F43B675
INFO = 0x1549A966
TRACKS = 0x1654AE6B
TRACK_ENTRY = 0xAE
DEFAULT_DURATION = 0x23E383
TIMESTAMP_SCALE = 0x2AD7B1
CLUSTER_TIMESTAMP = 0xE7
SIMPLE_BLOCK = 0xA3
BLOCK_GROUP = 0xA0
BLOCK = 0xA1
REFERENCE_BLOCK = 0xFB
_CLUSTER_MAGIC = CLUSTER.to_bytes(4, "big")


class Sink(Protocol):
    def write(self, data: bytes, /) -> object: ...


class _Collector:
    """What PyAV writes into: write-only, so the output is non-seekable, and without ``close`` so PyAV never
    closes anything of ours."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def write(self, data: bytes) -> int:
        self.buffer += data
        return len(data)

    def take(self) -> bytes:
        data = bytes(self.buffer)
        self.buffer.clear()
        return data


class BlockMuxer:
    """Writes the frames of one block, from a key frame on, as Matroska into `sink`.

    ``keyframes`` lists ``(capture_time, offset)`` for each key frame written: the byte offset of the cluster that
    starts with it, in the plaintext stream (the bytes given to the sink, before any encryption; what
    ``RecordingStore.read(mkv, offset)`` takes). The header (EBML, Info, Tracks) is ``bytes 0 .. header_size``, so
    header + the bytes from any key frame's offset is a valid Matroska file starting at that key frame.
    """

    def __init__(
        self,
        sink: Sink,
        start: datetime,
        codec: VideoCodec,
        width: int,
        height: int,
        fps: Fraction,
        writing_app: str = DEFAULT_WRITING_APP,
        title: str | None = None,
    ) -> None:
        if codec not in _MKV_CODEC:
            raise ValueError(f"cannot mux {codec!r} video")
        if width <= 0 or height <= 0 or fps <= 0:
            raise ValueError(f"a block needs a size and a frame rate, not {width}x{height} at {fps}")
        self._sink = sink
        self.start = start
        self.codec = codec
        self._collector = _Collector()
        self._container = av.open(self._collector, "w", format="matroska", options=dict(MUXER_OPTIONS))
        self._container.metadata["encoding_tool"] = writing_app
        self._container.metadata["creation_time"] = format_time(start)
        if title:
            self._container.metadata["title"] = title
        self._stream = self._container.add_mux_stream(_MKV_CODEC[codec], rate=fps, width=width, height=height)
        self._stream.time_base = Fraction(1, 1000)
        self.keyframes: list[tuple[datetime, int]] = []
        self.size = 0
        """Bytes handed to the sink so far."""
        self.header_size = 0
        self.frames = 0
        """Frames muxed (the last one may still be held by the muxer until the next frame or close)."""
        self.persisted_frames = 0
        """Frames whose cluster is entirely in the sink."""
        self.last_persisted: datetime | None = None
        """Capture time of the last frame entirely in the sink."""
        self._pending: datetime | None = None
        self._last_pts = -1
        self._closed = False

    def write(self, frame: EncodedFrame) -> None:
        """Mux `frame`; the first must be a key frame. The sink's exceptions (DiskFull) propagate; the muxer is
        then unusable (call :meth:`abort`), and the sink holds whole clusters only."""
        if self._closed:
            raise RuntimeError("the block is closed")
        if frame.codec != self.codec:
            raise ValueError(f"a {self.codec} block cannot take a {frame.codec} frame")
        if self.frames == 0 and not frame.keyframe:
            raise ValueError("a block must start with a key frame")
        # Strictly increasing milliseconds: a wall clock stepping back must not make the muxer refuse the frame.
        pts = max((frame.capture_time - self.start) // _MS, self._last_pts + 1, 0)
        packet = av.Packet(frame.data)
        packet.stream = self._stream
        packet.time_base = Fraction(1, 1000)
        packet.pts = packet.dts = pts
        packet.is_keyframe = frame.keyframe
        self._container.mux(packet)
        self._last_pts = pts
        self.frames += 1
        chunk = self._collector.take()
        first = self.frames == 1
        if chunk and not first and not chunk.startswith(_CLUSTER_MAGIC):  # pragma: no cover - muxer contract
            raise RuntimeError("the matroska muxer did not start a cluster per frame")
        self._emit(chunk)
        if first:
            self.header_size = self.size
        elif chunk:
            self.persisted_frames = self.frames - 1
            self.last_persisted = self._pending
        self._pending = frame.capture_time
        if frame.keyframe:
            # This frame's cluster starts where the bytes written so far end (the previous cluster just closed).
            self.keyframes.append((frame.capture_time, self.size))

    def close(self) -> None:
        """Write the last cluster; the sink is left open for its owner to close."""
        if self._closed:
            return
        self._closed = True
        self._container.close()
        self._emit(self._collector.take())
        self.persisted_frames = self.frames
        self.last_persisted = self._pending

    def abort(self) -> None:
        """Drop whatever the muxer still holds; the sink keeps what it has (whole clusters)."""
        if self._closed:
            return
        self._closed = True
        self._container.close()
        self._collector.take()

    def _emit(self, chunk: bytes) -> None:
        if chunk:
            self._sink.write(chunk)
            self.size += len(chunk)


# --- Reading back: the EBML walk -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScannedFrame:
    offset: int
    """The frame's cluster, as a plaintext byte offset."""
    timestamp_ms: int
    """Milliseconds since the block start (scaled by the file's TimestampScale)."""
    keyframe: bool


@dataclass
class Scan:
    header_size: int | None = None
    """Where the first cluster starts; None when the header (Info, Tracks) is not complete."""
    end: int = 0
    """Just past the last complete cluster (or the header): keep ``data[:end]``."""
    frames: list[ScannedFrame] = field(default_factory=list)
    frame_duration_ms: float | None = None
    """The track's DefaultDuration, when the file has one."""

    def keyframes(self, start: datetime) -> list[tuple[datetime, int]]:
        return [(start + f.timestamp_ms * _MS, f.offset) for f in self.frames if f.keyframe]


def _vint(data: bytes, pos: int, keep_marker: bool) -> tuple[int, int] | None:
    """An EBML variable-length integer at `pos`: (value, length), or None if cut short or invalid.
    An all-ones size ("unknown") comes back as -1."""
    if pos >= len(data):
        return None
    first = data[pos]
    length = 1
    while length <= 8 and not first & (0x80 >> (length - 1)):
        length += 1
    if length > 8 or pos + length > len(data):
        return None
    value = first if keep_marker else first & (0xFF >> length)
    for byte in data[pos + 1 : pos + length]:
        value = value << 8 | byte
    if not keep_marker and value == (1 << (7 * length)) - 1:
        return -1, length
    return value, length


def _element(data: bytes, pos: int) -> tuple[int, int, int] | None:
    """(id, data start, size) of the element at `pos`; size -1 when unknown; None if the header is cut short."""
    ident = _vint(data, pos, keep_marker=True)
    if ident is None:
        return None
    size = _vint(data, pos + ident[1], keep_marker=False)
    if size is None:
        return None
    return ident[0], pos + ident[1] + size[1], size[0]


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    out = []
    pos = start
    while pos < end:
        element = _element(data, pos)
        if element is None or element[2] < 0 or element[1] + element[2] > end:
            break
        out.append(element)
        pos = element[1] + element[2]
    return out


def _uint(data: bytes, start: int, size: int) -> int:
    return int.from_bytes(data[start : start + size], "big")


def _block_header(data: bytes, start: int, size: int) -> tuple[int, int] | None:
    """(relative timestamp, flags) of a (Simple)Block."""
    track = _vint(data, start, keep_marker=False)
    if track is None or track[1] + 3 > size:
        return None
    pos = start + track[1]
    return int.from_bytes(data[pos : pos + 2], "big", signed=True), data[pos + 2]


def scan(data: bytes) -> Scan:
    """Walk a Matroska block: its header, complete clusters and frames. Anything after the first element that is
    cut short, of unknown size, or not understood ends the walk (our muxer writes none of those mid-file)."""
    result = Scan()
    head = _element(data, 0)
    if head is None or head[0] != EBML_HEADER or head[2] < 0:
        return result
    segment = _element(data, head[1] + head[2])
    if segment is None or segment[0] != SEGMENT:
        return result
    seg_end = len(data) if segment[2] < 0 else min(len(data), segment[1] + segment[2])
    scale_ns = 1_000_000
    pos = segment[1]
    seen_tracks = False
    while pos < seg_end:
        element = _element(data, pos)
        if element is None or element[2] < 0 or element[1] + element[2] > seg_end:
            break
        ident, body, size = element
        end = body + size
        if ident == INFO:
            for child, cbody, csize in _children(data, body, end):
                if child == TIMESTAMP_SCALE:
                    scale_ns = _uint(data, cbody, csize) or scale_ns
        elif ident == TRACKS:
            seen_tracks = True
            for entry, ebody, esize in _children(data, body, end):
                if entry == TRACK_ENTRY and result.frame_duration_ms is None:
                    for child, cbody, csize in _children(data, ebody, ebody + esize):
                        if child == DEFAULT_DURATION:
                            result.frame_duration_ms = _uint(data, cbody, csize) / 1_000_000
        elif ident == CLUSTER:
            if not seen_tracks:
                break
            if result.header_size is None:
                result.header_size = pos
            _scan_cluster(data, pos, body, end, scale_ns, result)
        if seen_tracks:
            result.end = end  # everything up to here is whole
        pos = end
    if seen_tracks and result.header_size is None:
        result.header_size = result.end
    return result


def scan_clusters(data: bytes, offset: int, scale_ns: int) -> tuple[list[ScannedFrame], int]:
    """:func:`scan` a window at a time: the frames of the whole clusters in `data`, a read of a block from
    plaintext `offset` on, where a top-level element starts (the first cluster, or where the last read stopped);
    and how much of `data` the whole elements take up, so the next read starts at ``offset`` plus that. Frame
    offsets are the block's (`offset` plus the position in `data`). A block too large to hold in memory is
    walked in bounded reads this way; `scale_ns` is the block's TimestampScale (:func:`video_track`)."""
    result = Scan()
    pos = 0
    while pos < len(data):
        element = _element(data, pos)
        if element is None or element[2] < 0 or element[1] + element[2] > len(data):
            break
        ident, body, size = element
        if ident == CLUSTER:
            _scan_cluster(data, offset + pos, body, body + size, scale_ns, result)
        pos = body + size
    return result.frames, pos


def _scan_cluster(data: bytes, offset: int, body: int, end: int, scale_ns: int, result: Scan) -> None:
    base = 0
    for child, cbody, csize in _children(data, body, end):
        if child == CLUSTER_TIMESTAMP:
            base = _uint(data, cbody, csize)
        elif child == SIMPLE_BLOCK:
            header = _block_header(data, cbody, csize)
            if header is not None:
                millis = (base + header[0]) * scale_ns // 1_000_000
                result.frames.append(ScannedFrame(offset, millis, bool(header[1] & 0x80)))
        elif child == BLOCK_GROUP:
            parts = _children(data, cbody, cbody + csize)
            block = next(((b, s) for i, b, s in parts if i == BLOCK), None)
            header = _block_header(data, block[0], block[1]) if block else None
            if header is not None:
                millis = (base + header[0]) * scale_ns // 1_000_000
                key = not any(i == REFERENCE_BLOCK for i, _b, _s in parts)
                result.frames.append(ScannedFrame(offset, millis, key))


# --- Reading back: frames and their payloads (RTSP playback) -------------------------------------------------

TRACK_NUMBER = 0xD7
TRACK_TYPE = 0x83
CODEC_ID = 0x86
CODEC_PRIVATE = 0x63A2
CONTENT_ENCODINGS = 0x6D80
VIDEO_TRACK = 1
_LACING = 0x06


@dataclass(frozen=True, slots=True)
class VideoTrack:
    """What a block's header says about its (first) video track: enough to take its frames out of clusters."""

    header_size: int
    """Where the first cluster starts: ``data[:header_size]`` is the header."""
    number: int
    codec_id: str
    """Matroska's codec ID: ``V_MPEG4/ISO/AVC`` (H.264, length-prefixed NAL units), ``V_MJPEG``, ..."""
    codec_private: bytes
    """CodecPrivate (H.264: the ``avcC`` record with the NAL length size, SPS and PPS); empty if none."""
    scale_ns: int
    """TimestampScale: nanoseconds per timestamp tick."""
    encoded: bool
    """The track has ContentEncodings (header stripping, compression): its block bodies are not the frames."""


@dataclass(frozen=True, slots=True)
class BlockFrame:
    timestamp_ns: int
    """Since the block start: (cluster timestamp + block timestamp) x TimestampScale."""
    keyframe: bool
    payload: bytes
    """The frame as stored: H.264 length-prefixed NAL units, or one JPEG image."""


@dataclass
class Frames:
    """What :func:`frames_in` found in a run of clusters."""

    frames: list[BlockFrame]
    end: int
    """Just past the last whole top-level element walked: the next read starts here."""


def video_track(data: bytes) -> VideoTrack | None:
    """The header of a Matroska file starting at ``data[0]``: its first video track and where its clusters start
    (as :func:`scan` finds it, without walking the clusters). None when the header is not all in `data` or has no
    video track."""
    head = _element(data, 0)
    if head is None or head[0] != EBML_HEADER or head[2] < 0:
        return None
    segment = _element(data, head[1] + head[2])
    if segment is None or segment[0] != SEGMENT:
        return None
    seg_end = len(data) if segment[2] < 0 else min(len(data), segment[1] + segment[2])
    scale_ns = 1_000_000
    track: tuple[int, str, bytes, bool] | None = None
    seen_tracks = False
    header_size: int | None = None
    pos = segment[1]
    while pos < seg_end:
        element = _element(data, pos)
        if element is None or element[2] < 0 or element[1] + element[2] > seg_end:
            break
        ident, body, size = element
        if ident == CLUSTER:
            header_size = pos
            break
        if ident == INFO:
            for child, cbody, csize in _children(data, body, body + size):
                if child == TIMESTAMP_SCALE:
                    scale_ns = _uint(data, cbody, csize) or scale_ns
        elif ident == TRACKS:
            seen_tracks = True
            for entry, ebody, esize in _children(data, body, body + size):
                if entry == TRACK_ENTRY and track is None:
                    track = _video_entry(data, ebody, ebody + esize)
        pos = body + size
    if header_size is None and seen_tracks:
        header_size = pos  # a header with no cluster after it yet
    if header_size is None or not seen_tracks or track is None:
        return None
    number, codec_id, private, encoded = track
    return VideoTrack(header_size, number, codec_id, private, scale_ns, encoded)


def _video_entry(data: bytes, start: int, end: int) -> tuple[int, str, bytes, bool] | None:
    number, kind, codec_id, private, encoded = 0, 0, "", b"", False
    for child, cbody, csize in _children(data, start, end):
        if child == TRACK_NUMBER:
            number = _uint(data, cbody, csize)
        elif child == TRACK_TYPE:
            kind = _uint(data, cbody, csize)
        elif child == CODEC_ID:
            codec_id = data[cbody : cbody + csize].rstrip(b"\x00").decode("ascii", "replace")
        elif child == CODEC_PRIVATE:
            private = bytes(data[cbody : cbody + csize])
        elif child == CONTENT_ENCODINGS:
            encoded = True
    return (number, codec_id, private, encoded) if kind == VIDEO_TRACK and number > 0 else None


class _Laced(Exception):
    """A laced block: several frames in one, which the walk leaves to a demuxer."""


def frames_in(data: bytes, track: VideoTrack, start: int = 0, partial: bool = False) -> Frames | None:
    """The frames of `track` in the clusters of ``data[start:]`` (a block read from a cluster boundary on), with
    their payloads. A cluster cut short ends the walk, its frames left for the next read (the returned `end` is
    where it starts), unless `partial`: then its whole blocks are taken too (the end of a block cut short for
    good: a crash, an unfinished write), as a demuxer would. Elements other than clusters (Cues, Tags, Void) are
    stepped over.

    None when the walk meets what it does not take apart, for the caller to demux another way: a cluster of
    unknown size (live streams of other muxers), laced blocks, a track with ContentEncodings. The recorder's muxer
    writes none of those, and neither does FFmpeg's for video."""
    if track.encoded:
        return None
    frames: list[BlockFrame] = []
    pos, end_of_data = start, len(data)
    try:
        while pos < end_of_data:
            element = _element(data, pos)
            if element is None:
                break
            ident, body, size = element
            if size < 0:
                return None
            end = body + size
            if end > end_of_data:
                if partial and ident == CLUSTER:
                    _cluster_frames(data, body, end_of_data, track, frames)
                break
            if ident == CLUSTER:
                _cluster_frames(data, body, end, track, frames)
            pos = end
    except _Laced:
        return None
    return Frames(frames, pos)


def _cluster_frames(data: bytes, body: int, end: int, track: VideoTrack, out: list[BlockFrame]) -> None:
    """Append the cluster's frames of `track` to `out` (whole blocks only, when `end` cuts the cluster short)."""
    base = 0
    for child, cbody, csize in _children(data, body, end):
        frame: BlockFrame | None = None
        if child == CLUSTER_TIMESTAMP:
            base = _uint(data, cbody, csize)
        elif child == SIMPLE_BLOCK:
            frame = _block_frame(data, cbody, csize, base, track, None)
        elif child == BLOCK_GROUP:
            parts = _children(data, cbody, cbody + csize)
            block = next(((b, s) for i, b, s in parts if i == BLOCK), None)
            if block is not None:
                key = not any(i == REFERENCE_BLOCK for i, _b, _s in parts)
                frame = _block_frame(data, block[0], block[1], base, track, key)
        if frame is not None:
            out.append(frame)


def _block_frame(
    data: bytes, start: int, size: int, base: int, track: VideoTrack, keyframe: bool | None
) -> BlockFrame | None:
    """The frame of a (Simple)Block; None if of another track or malformed. `keyframe` is None for a SimpleBlock
    (its flags say), or what its BlockGroup says. Raises _Laced for a laced block."""
    number = _vint(data, start, keep_marker=False)
    if number is None or number[1] + 3 > size or number[0] != track.number:
        return None
    pos = start + number[1]
    flags = data[pos + 2]
    if flags & _LACING:
        raise _Laced
    relative = int.from_bytes(data[pos : pos + 2], "big", signed=True)
    key = bool(flags & 0x80) if keyframe is None else keyframe
    return BlockFrame((base + relative) * track.scale_ns, key, data[pos + 3 : start + size])
