"""What an export request asks for, checked as the spec's error codes say, and the blocks that hold it.

The arguments are checked in the order a person fixing a request would want: missing arguments (20), the
format and encryption (170, 240-280), the times (120, 130), the recording (110), the range against the recording
(140-160) and the format against the recording's video (180). A range reaching outside the recording is cut to
it ("a best effort response"); one entirely outside it is 150 or 160.

The start snaps back to the key frame at or before it (properties.cgi's Starttime, and the first frame of the
file); the stop is as asked, or the recording's end (now, for an ongoing recording). Each block of the range
becomes a :class:`Piece`: the plaintext bytes to copy, from a key frame's cluster, found in the key-frame index
(or by scanning the block a window at a time when the index has no rows for it, e.g. after a repair rebuilt the
index: device/export/keyscan.py).
"""

from __future__ import annotations

import contextlib
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path

from device.errors import CodedError
from device.export.formats import ENCRYPTIONS, FORMATS, MATROSKA, ExportFormat
from device.export.keyscan import scan_keyframes
from device.recorder import keyframes
from device.storage.files import StorePath
from device.storage.index import IndexedBlock, RecordingFilter
from device.storage.layout import RecordingMeta, parse_client_time
from device.storage.manager import DiskManager
from device.storage.store import RecordingStore

MAX_PASSWORD_BYTES = 512
MAX_FILENAME_BYTES = 200
CLUSTER_SAVING = 14
"""Bytes per frame an export saves over the blocks: the recorder writes a cluster per frame (ID, size and
timestamp, about 14 bytes with the block header), the export one cluster per few seconds. Measured: see
tests/device/test_export.py, which holds the estimate to 10 %."""
ZIP_OVERHEAD = 256
"""Local header, AES extra field, salt, password verifier, MAC, data descriptor, central directory (with ZIP64)."""


class ExportError(CodedError):
    """A request the Export API refuses: the spec's code and a description a person can act on."""


@dataclass(frozen=True)
class ExportRequest:
    recording_id: str
    disk_id: str
    format: ExportFormat
    start: datetime | None = None
    stop: datetime | None = None
    encryption: str | None = None
    password: str | None = None
    filename: str | None = None

    @classmethod
    def parse(cls, args: dict[str, str], format_required: bool, takes_password: bool) -> ExportRequest:
        recording_id, disk_id = args.get("recordingid", "").strip(), args.get("diskid", "").strip()
        format_name = args.get("exportformat", "").strip().lower()
        missing = [n for n, v in (("recordingid", recording_id), ("diskid", disk_id)) if not v]
        if format_required and not format_name:
            missing.append("exportformat")
        if missing:
            raise ExportError(20, f"Invalid request. Required argument missing: {', '.join(missing)}.")
        if format_name and format_name not in FORMATS:
            raise ExportError(170, f"Invalid export format '{format_name}': use {' or '.join(FORMATS)}.")
        export_format = FORMATS[format_name] if format_name else MATROSKA
        encryption = args.get("encryptionformat", "").strip().lower() or None
        password = args.get("password") if takes_password else None
        if encryption is not None and encryption not in ENCRYPTIONS:
            raise ExportError(250, f"Invalid encryption format '{encryption}': use {' or '.join(ENCRYPTIONS)}.")
        if takes_password:
            if encryption is not None and not password:
                raise ExportError(260, "Password not set: an encrypted export needs a password.")
            if password and encryption is None:
                raise ExportError(270, "Encryption format not set: a password needs encryptionformat=zip-aes256.")
            if password is not None and len(password.encode()) > MAX_PASSWORD_BYTES:
                raise ExportError(240, f"Invalid password: longer than {MAX_PASSWORD_BYTES} bytes.")
        if encryption is not None and encryption not in export_format.encryptions:
            raise ExportError(
                280, f"The encryption format {encryption} is not offered with the export format {export_format.name}."
            )
        start = _time(args, "starttime", 120)
        stop = _time(args, "stoptime", 130)
        filename = args.get("filename", "").strip() or None
        if filename is not None and takes_password:
            filename = safe_filename(filename)
        return cls(recording_id, disk_id, export_format, start, stop, encryption, password or None, filename)


def _time(args: dict[str, str], name: str, code: int) -> datetime | None:
    text = args.get(name, "").strip()
    if not text:
        return None
    try:
        return parse_client_time(text)
    except ValueError:
        raise ExportError(code, f"Invalid {name} '{text}': use YYYY-MM-DDTHH:MM:SSZ (UTC).") from None


def safe_filename(name: str) -> str:
    """`filename` as a file name: no folders, no control characters, not too long for file systems."""
    cleaned = "".join("_" if c in '/\\:*?"<>|' or ord(c) < 32 else c for c in name).strip(" .")
    encoded = cleaned.encode()[:MAX_FILENAME_BYTES]
    return encoded.decode(errors="ignore") or "export"


@dataclass(frozen=True)
class Piece:
    """The part of one block an export copies."""

    path: StorePath
    start: datetime
    """The block start: its packets' timestamps count from here."""
    header_size: int
    begin: int
    """Plaintext offset of the cluster of the first key frame copied."""
    end: int | None
    """Plaintext offset past which nothing in the range lies (the first key frame after the stop); None: to the
    end of what is written."""
    growing: bool
    estimate: int
    """Plaintext bytes of the range in this block: exact up to its last key frame before the stop, then the share
    of the following GOP up to the stop."""
    seconds: float
    """Seconds of the range in this block."""
    per_frame_clusters: bool


@dataclass(frozen=True)
class ExportPlan:
    recording: RecordingMeta
    disk_id: str
    store: RecordingStore
    format: ExportFormat
    start: datetime
    """The key frame the export starts at."""
    stop: datetime
    pieces: tuple[Piece, ...]
    block_bytes: int
    """Plaintext bytes of the range in the blocks (the pieces' estimates and one header)."""
    ongoing: bool

    @property
    def duration(self) -> timedelta:
        return self.stop - self.start

    def default_name(self) -> str:
        """``YYYYMMDD_HHMMSS_YYYYMMDD_HHMMSS.mkv`` from the actual start and stop, in UTC like every time the API
        gives (NOTES.md; AMBIGUITIES.md E-3)."""
        return f"{self.start:%Y%m%d_%H%M%S}_{self.stop:%Y%m%d_%H%M%S}.{self.format.extension}"

    def estimated_bytes(self, encryption: str | None = None) -> int:
        """The file's size, within a few percent: the blocks' bytes less the per-frame clusters the export does
        not repeat, plus the archive's own bytes."""
        seconds = sum(p.seconds for p in self.pieces if p.per_frame_clusters)
        frames = int(seconds * _fps(self.recording))
        size = max(self.block_bytes - frames * CLUSTER_SAVING, self.block_bytes // 2)
        return size + (ZIP_OVERHEAD + 2 * len(self.default_name()) if encryption else 0)


def _fps(meta: RecordingMeta) -> float:
    with contextlib.suppress(ValueError, ZeroDivisionError):
        num, _, den = meta.video.framerate.partition(":")
        return float(Fraction(int(num), int(den or 1)))
    return 0.0


def find_store(disks: DiskManager, disk_id: str) -> RecordingStore:
    """The recordings of disk `disk_id`; 110 when it has none to offer (unknown, or not mounted)."""
    disk = disks.disks.get(disk_id)
    if disk is None or disk.store is None:
        where = "is not mounted" if disk is not None else "does not exist"
        raise ExportError(110, f"Recording not found: disk {disk_id} {where}.")
    return disk.store


def locate_recording(disks: DiskManager, recording_id: str) -> str | None:
    """The ID of the mounted disk that holds `recording_id` (play.cgi names no disk). Blocking: SQLite."""
    for disk in list(disks.disks.values()):
        if disk.store is not None:
            _total, _matched, page = disk.store.index.query_recordings(
                RecordingFilter(recording_ids=(recording_id,)), False, 1
            )
            if page:
                return disk.id
    return None


def plan_export(store: RecordingStore, request: ExportRequest, now: datetime) -> ExportPlan:
    """The blocks and bytes of the range asked for. Blocking (SQLite, file sizes): run in a thread."""
    _total, _matched, page = store.index.query_recordings(
        RecordingFilter(recording_ids=(request.recording_id,)), False, 1
    )
    if not page:
        raise ExportError(110, f"Recording not found: no recording {request.recording_id} on {request.disk_id}.")
    meta = page[0][0]
    ongoing = meta.stop is None
    end = meta.stop if meta.stop is not None else now
    start, stop = request.start or meta.start, request.stop or end
    if request.start is not None and request.stop is not None and start > stop:
        raise ExportError(140, "Invalid start time: the requested start time is after the stop time.")
    if start > end:
        raise ExportError(150, "Invalid start time: the requested start time is after the recording's stop time.")
    if stop < meta.start:
        raise ExportError(160, "Invalid stop time: the requested stop time is before the recording's start time.")
    if meta.video.encoding not in request.format.encodings:
        raise ExportError(
            180, f"The export format {request.format.name} cannot carry this recording's {meta.video.encoding} video."
        )
    start, stop = max(start, meta.start), min(stop, end)
    blocks = store.index.blocks(meta.id)
    conn = keyframes.ensure_keyframe_table(store.index_path)
    try:
        pieces, snapped = _pieces(store, conn, blocks, start, stop)
    finally:
        conn.close()
    if not pieces:
        raise ExportError(10, "Error while processing the request: the recording holds no video in that range yet.")
    block_bytes = pieces[0].header_size + sum(p.estimate for p in pieces)
    return ExportPlan(
        meta, request.disk_id, store, request.format, snapped, max(stop, snapped), tuple(pieces), block_bytes, ongoing
    )


def _pieces(
    store: RecordingStore, conn: sqlite3.Connection, blocks: list[IndexedBlock], start: datetime, stop: datetime
) -> tuple[list[Piece], datetime]:
    """The pieces from the key frame at or before `start` (the first one if none is) to `stop`, and that key
    frame's time."""
    found: list[tuple[IndexedBlock, list[keyframes.KeyFrame], bool]] = []
    for block in blocks:
        if block.meta.start > stop:
            break
        if block.meta.stop is not None and block.meta.stop < start:
            continue
        frames, per_frame = _keyframes(store, conn, block)
        if frames:
            found.append((block, frames, per_frame))
    if not found:
        return [], start
    chosen = 0
    for index, (_block, frames, _per_frame) in enumerate(found):
        if frames[0][0] <= start:
            chosen = index
    found = found[chosen:]
    snapped, begin = next(((t, o) for t, o in reversed(found[0][1]) if t <= start), found[0][1][0])
    pieces = []
    for index, (block, frames, per_frame) in enumerate(found):
        growing = block.meta.status != "Complete"
        path = store.root / Path(block.mkv)
        first = begin if index == 0 else frames[0][1]
        first_time = snapped if index == 0 else frames[0][0]
        after = next(((t, o) for t, o in frames if t > stop), None)
        size = store.plain_size(path, growing)
        if after is not None:
            boundary = after
        else:
            ends = block.meta.stop if block.meta.stop is not None else max(stop, frames[-1][0])
            boundary = (ends, size)
        last_key = next(((t, o) for t, o in reversed(frames) if t <= stop and o >= first), (first_time, first))
        # Exact up to the last key frame in range; the GOP it starts is counted for the part before the stop.
        span = (boundary[0] - last_key[0]).total_seconds()
        share = 1.0 if span <= 0 else min(1.0, max(0.0, (stop - last_key[0]).total_seconds() / span))
        estimate = (last_key[1] - first) + round((boundary[1] - last_key[1]) * share)
        seconds = max(0.0, (min(stop, boundary[0]) - first_time).total_seconds())
        pieces.append(
            Piece(
                path,
                block.meta.start,
                frames[0][1],
                first,
                after[1] if after else None,
                growing,
                estimate,
                seconds,
                per_frame,
            )
        )
        if after is not None:
            break
    return pieces, snapped


def _keyframes(
    store: RecordingStore, conn: sqlite3.Connection, block: IndexedBlock
) -> tuple[list[keyframes.KeyFrame], bool]:
    """The block's key frames from the index, or from the block itself, and whether the block has a cluster per
    frame (the recorder's blocks do; only theirs go into the key-frame index)."""
    frames = keyframes.keyframes_for(conn, block.meta.token)
    if frames:
        return frames, True
    path = store.root / Path(block.mkv)
    growing = block.meta.status != "Complete"
    frames, per_frame = scan_keyframes(store, path, block.meta.start, growing)
    if frames and per_frame and not growing:
        with contextlib.suppress(sqlite3.Error):
            keyframes.add_keyframes(conn, block.meta.token, frames)
    return frames, per_frame
