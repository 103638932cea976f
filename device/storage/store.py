"""One disk's recording store: the AXIS layout on disk, its index, and the checks that keep them in step.

The files are the truth and the index a cache of them: `verify` finds where they disagree, `rebuild` makes a
new index from the files and sets unreadable blocks aside in lost+found, so a repair never deletes video.
"""

from __future__ import annotations

import contextlib
import struct
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, cast
from zoneinfo import ZoneInfo

from lxml import etree

from device.storage import crypto
from device.storage.files import StorePath, glob, local, rmtree, tree_size, write_atomic
from device.storage.index import RecordingIndex
from device.storage.layout import (
    CARD_META,
    INDEX_NAME,
    LOST_FOUND,
    BlockMeta,
    RecordingMeta,
    block_paths,
    block_xml,
    make_token,
    parse_block_xml,
    parse_recording_xml,
    recording_dir,
    recording_xml,
)
from device.storage.space import Space

Progress = Callable[[float], None]
EBML_MAGIC = b"\x1a\x45\xdf\xa3"


@dataclass
class CheckReport:
    checked: int = 0
    missing: list[str] = field(default_factory=list)  # indexed, but the file is gone
    unreadable: list[str] = field(default_factory=list)  # the file is there but does not read
    unindexed: list[str] = field(default_factory=list)  # on disk, not in the index
    index_damaged: str = ""

    @property
    def ok(self) -> bool:
        return not (self.missing or self.unreadable or self.unindexed or self.index_damaged)

    def describe(self) -> str:
        if self.ok:
            return f"No errors found ({self.checked} blocks checked)."
        parts = [self.index_damaged] if self.index_damaged else []
        for label, items in (
            ("missing", self.missing),
            ("unreadable", self.unreadable),
            ("not indexed", self.unindexed),
        ):
            if items:
                parts.append(f"{len(items)} block(s) {label}")
        return "Errors found: " + "; ".join(parts) + ". Run repair.cgi."


@dataclass
class RepairReport:
    recordings: int = 0
    blocks: int = 0
    set_aside: list[str] = field(default_factory=list)

    def describe(self) -> str:
        text = f"Index rebuilt: {self.recordings} recording(s), {self.blocks} block(s)."
        if self.set_aside:
            text += f" {len(self.set_aside)} unreadable block(s) moved to {LOST_FOUND}."
        return text


def _replace_counted(space: Space, path: StorePath, data: bytes) -> None:
    """Replace a small file, counting only what it grows by against the card's space."""
    old = path.stat().st_size if path.exists() else 0
    if len(data) > old:
        space.reserve(len(data) - old)
    else:
        space.release(old - len(data))
    write_atomic(path, data)


class RecordingStore:
    def __init__(
        self,
        root: StorePath,
        space: Space,
        zone: ZoneInfo,
        serial: str,
        data_key: bytes | None = None,
        index_path: Path | None = None,
    ) -> None:
        """`index_path`: where the SQLite index lives when not at `root` (a share's store keeps a local working
        copy, since SQLite needs a local file; see `device.storage.sharestore`)."""
        self.root = root
        self.index_path = index_path if index_path is not None else local(root) / INDEX_NAME
        self.space = space
        self.zone = zone
        self.serial = serial
        self.data_key = data_key
        self._index: RecordingIndex | None = None

    @property
    def index(self) -> RecordingIndex:
        if self._index is None:
            self._index = RecordingIndex(self.index_path)
        return self._index

    def close(self) -> None:
        if self._index is not None:
            self._index.close()
            self._index = None

    # --- what is on disk -------------------------------------------------------------------------------------

    def recording_files(self) -> dict[str, tuple[StorePath, RecordingMeta | None]]:
        found: dict[str, tuple[StorePath, RecordingMeta | None]] = {}
        for path in glob(self.root, "[0-9]*/[0-9]*/*/recording.xml"):
            try:
                meta: RecordingMeta | None = parse_recording_xml(path.read_bytes())
            except (etree.XMLSyntaxError, ValueError):
                meta = None
            found[path.parent.name] = (path.parent, meta)
        return found

    def block_files(self) -> dict[str, tuple[StorePath, BlockMeta | None]]:
        """Block sidecars by token (the stem), parsed where they parse."""
        found: dict[str, tuple[StorePath, BlockMeta | None]] = {}
        for path in glob(self.root, "[0-9]*/[0-9]*/*/*_*/*.xml"):
            try:
                meta: BlockMeta | None = parse_block_xml(path.read_bytes())
            except (etree.XMLSyntaxError, ValueError):
                meta = None
            found[path.stem] = (path, meta)
        return found

    def read(self, mkv: StorePath, offset: int = 0, length: int | None = None, growing: bool = False) -> bytes:
        """Block bytes as the recorder wrote them, decrypted when the card is encrypted. A `growing` block (status
        Recording) reads as far as it is written."""
        if self.data_key is not None:
            return crypto.read_range(local(mkv), self.data_key, offset, length, growing)
        with mkv.open("rb") as f:
            f.seek(offset)
            return f.read() if length is None else f.read(length)

    def plain_size(self, mkv: StorePath, growing: bool = False) -> int:
        """The block's size as the recorder wrote it (before encryption), as far as it is readable."""
        return crypto.plain_size(local(mkv), growing) if self.data_key is not None else mkv.stat().st_size

    def block_reads(self, mkv: StorePath) -> bool:
        """The whole block reads (and, encrypted, every chunk decrypts) and starts as a Matroska file does. Reads a
        chunk at a time: a check of a card of 300 MB blocks must not hold a block in memory."""
        try:
            if self.data_key is not None:
                head = crypto.first_bytes_if_intact(local(mkv), self.data_key, len(EBML_MAGIC))
            else:
                with mkv.open("rb") as f:
                    head = f.read(len(EBML_MAGIC))
        except (OSError, crypto.DecryptionError, struct.error):
            return False
        return head.startswith(EBML_MAGIC)

    # --- checks ----------------------------------------------------------------------------------------------

    def verify(self, progress: Progress) -> CheckReport:
        report = CheckReport()
        if not self.index_path.exists():
            report.index_damaged = "The index is missing"
            indexed: dict[str, str] = {}
        else:
            try:
                if not self.index.integrity_ok():
                    report.index_damaged = "The index is damaged"
                indexed = {b.meta.token: b.mkv for b in self.index.blocks()}
            except Exception as exc:  # sqlite raises several types for a damaged file
                report.index_damaged = f"The index cannot be read: {exc}"
                indexed = {}
        on_disk = self.block_files()
        tokens = sorted(set(indexed) | set(on_disk))
        for n, token in enumerate(tokens, 1):
            if token in indexed and not (self.root / indexed[token]).exists():
                report.missing.append(token)
            elif token in on_disk:
                sidecar, meta = on_disk[token]
                if meta is None or not self.block_reads(sidecar.with_suffix(".mkv")):
                    report.unreadable.append(token)
                elif token not in indexed:
                    report.unindexed.append(token)
            report.checked += 1
            progress(n / len(tokens))
        return report

    def rebuild(self, progress: Progress) -> RepairReport:
        report = RepairReport()
        self.close()
        for suffix in ("", "-wal", "-shm"):
            self.index_path.with_name(f"{self.index_path.name}{suffix}").unlink(missing_ok=True)
        recordings = self.recording_files()
        blocks = self.block_files()
        index = self.index
        known: set[str] = set()
        with index.transaction():
            for rec_id, (folder, meta) in recordings.items():
                if meta is not None:
                    index.put_recording(meta, folder.relative_to(self.root).as_posix())
                    known.add(rec_id)
            for n, (token, (sidecar, block)) in enumerate(blocks.items(), 1):
                mkv = sidecar.with_suffix(".mkv")
                if block is None or not self.block_reads(mkv):
                    self._set_aside(sidecar, mkv)
                    report.set_aside.append(token)
                else:
                    if block.recording_id not in known:  # recording.xml lost: rebuild it from its blocks
                        self._restore_recording(index, block, sidecar.parent.parent)
                        known.add(block.recording_id)
                    index.put_block(block, mkv.relative_to(self.root).as_posix(), mkv.stat().st_size)
                    report.blocks += 1
                progress(n / max(1, len(blocks)))
        report.recordings = len(known)
        return report

    def delete_block(self, token: str) -> int:
        """Remove a block's files and its index row; returns the bytes freed."""
        rows = [b for b in self.index.blocks() if b.meta.token == token]
        if not rows:
            return 0
        mkv = self.root / rows[0].mkv
        freed = 0
        for path in (mkv, mkv.with_suffix(".xml")):
            if path.exists():
                freed += path.stat().st_size
                path.unlink()
        self.index.delete_block(token)
        self.space.release(freed)
        self._prune(mkv.parent)
        return freed

    def delete_recording_if_empty(self, recording_id: str) -> bool:
        if self.index.blocks(recording_id):
            return False
        for meta, folder, _locked in self.index.recordings():
            if meta.id == recording_id and meta.stop is not None:
                path = self.root / folder
                freed = (path / "recording.xml").stat().st_size if (path / "recording.xml").exists() else 0
                rmtree(path, ignore_errors=True)
                self.space.release(freed)
                self.index.delete_recording(recording_id)
                self._prune(path.parent)
                return True
        return False

    def _prune(self, folder: StorePath) -> None:
        """Remove folders left empty, up to the store's root."""
        while folder != self.root and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent

    def erase(self) -> None:
        """Everything but the card's own metadata (its file system and encryption)."""
        self.close()
        for entry in self.root.iterdir():
            if entry.name == CARD_META:
                continue
            if entry.is_dir() and not entry.is_symlink():
                rmtree(entry)
            else:
                entry.unlink()
        self.space.recount(tree_size(self.root))

    def _set_aside(self, sidecar: StorePath, mkv: StorePath) -> None:
        target = self.root / LOST_FOUND
        target.mkdir(exist_ok=True)
        for path in (sidecar, mkv):
            if path.exists():
                path.replace(target / path.name)  # type: ignore[arg-type]  # both on the store's volume

    def _restore_recording(self, index: RecordingIndex, block: BlockMeta, folder: StorePath) -> None:
        meta = RecordingMeta(block.recording_id, "1", block.start, block.stop)
        with contextlib.suppress(OSError):
            write_atomic(folder / "recording.xml", recording_xml(meta))
        index.put_recording(meta, folder.relative_to(self.root).as_posix())

    # --- writing ---------------------------------------------------------------------------------------------

    def begin_recording(self, meta: RecordingMeta) -> RecordingWriter:
        return RecordingWriter(self, meta)


class RecordingWriter:
    """Writes one recording: recording.xml without StopTime while it runs, blocks, then the stop."""

    def __init__(self, store: RecordingStore, meta: RecordingMeta) -> None:
        self.store = store
        self.meta = meta
        self.folder = recording_dir(store.root, meta.id, meta.start, store.zone)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._save()

    def begin_block(self, start: datetime) -> BlockWriter:
        return BlockWriter(self, make_token(start, self.store.zone, self.store.serial), start)

    def finish(self, stop: datetime) -> None:
        self.meta = replace(self.meta, stop=stop)
        self._save()

    def _save(self) -> None:
        _replace_counted(self.store.space, self.folder / "recording.xml", recording_xml(self.meta))
        self.store.index.put_recording(self.meta, self.folder.relative_to(self.store.root).as_posix())


class BlockWriter:
    """One block file and its sidecar (Status Recording until closed, then Complete with its StopTime)."""

    def __init__(self, recording: RecordingWriter, token: str, start: datetime) -> None:
        store = recording.store
        self._store = store
        self.meta = BlockMeta(token, recording.meta.id, start, None, "Recording")
        self.mkv, self.sidecar = block_paths(recording.folder, token, start, store.zone)
        self.mkv.parent.mkdir(parents=True, exist_ok=True)
        self._write_sidecar()
        raw = cast(BinaryIO, self.mkv.open("wb"))
        self._encrypted = crypto.EncryptedWriter(raw, store.data_key) if store.data_key is not None else None
        self._raw = raw
        self.size = 0
        # Indexed from the start (status Recording): listing and playback see a block that is being written,
        # and a check after a power cut finds it indexed; recovery closes it.
        store.index.put_block(self.meta, self.mkv.relative_to(store.root).as_posix(), 0)

    def write(self, data: bytes) -> None:
        overhead = crypto.TAG * (-(-len(data) // crypto.CHUNK)) if self._encrypted else 0
        self._store.space.reserve(len(data) + overhead)
        if self._encrypted is not None:
            self._encrypted.write(data)
        else:
            self._raw.write(data)
            # Each write is a whole cluster: handing it to the OS at once lets playback and export of a
            # recording still being recorded read up to the last frame, not up to the last full file buffer.
            self._raw.flush()
        self.size += len(data)

    def close(self, stop: datetime) -> None:
        if self._encrypted is not None:
            self._encrypted.close()
        else:
            self._raw.close()
        self.meta = replace(self.meta, stop=stop, status="Complete")
        self._write_sidecar()
        rel = self.mkv.relative_to(self._store.root).as_posix()
        self._store.index.put_block(self.meta, rel, self.mkv.stat().st_size)

    def abandon(self) -> None:
        """Let go of a block whose disk failed: close the handle, write nothing more (recovery closes it)."""
        with contextlib.suppress(Exception):
            self._raw.close()

    def _write_sidecar(self) -> None:
        _replace_counted(self._store.space, self.sidecar, block_xml(self.meta))
