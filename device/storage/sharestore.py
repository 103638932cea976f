"""A recording store on a NAS share: blocks and sidecars under ``axis-<SERIAL>/`` on the share, the index beside
them as real cameras keep it (WIRE.md §9), and a local working copy of that index for SQLite.

SQLite cannot safely run over smbclient's file API (no byte-range locks, no mmap for WAL), so the camera works on
a local copy and publishes it to the share: a consistent snapshot (SQLite's backup API, safe while the recorder
writes) is uploaded as ``.index.db.tmp`` and renamed over ``index.db``, so the share never holds half an index.
At mount the local copy is used when this camera has one for this folder; otherwise the share's copy is fetched,
and the mount's check then compares the index with the files and rebuilds it when they disagree, so an index
published before an outage never hides a block written after it.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from device.storage.layout import INDEX_NAME
from device.storage.smbpath import SmbPath, SmbVolume

log = logging.getLogger(__name__)
UPLOAD_CHUNK = 1 << 20


@dataclass(frozen=True)
class ShareConnection:
    """What mounting a bound share found: the camera's folder on it, the share's size, and where the working
    copy of the index lives."""

    volume: SmbVolume
    root: SmbPath
    index_path: Path
    total: int
    free: int


def camera_folder(serial: str) -> str:
    return f"axis-{serial}"


def working_copy(cache_dir: Path, volume: SmbVolume, serial: str) -> Path:
    """The local index of one camera folder on one share: a different share (or NAS) never reuses it."""
    key = hashlib.sha256(f"{volume.server.lower()}|{volume.share.lower()}|{serial}".encode()).hexdigest()[:16]
    return cache_dir / key / INDEX_NAME


def connect(volume: SmbVolume, serial: str, cache_dir: Path) -> ShareConnection:
    """Reach the share, make the camera's folder and fetch the index if this camera has no copy of it.
    Blocking (run it in a thread); raises StorageUnavailable or OSError."""
    total, free = volume.usage()
    root = volume.root(camera_folder(serial))
    root.mkdir(parents=True, exist_ok=True)
    local = working_copy(cache_dir, volume, serial)
    local.parent.mkdir(parents=True, exist_ok=True)
    remote = root / INDEX_NAME
    if not local.exists() and remote.exists():
        partial = local.with_name(f".{local.name}.download")
        with remote.open("rb") as source, partial.open("wb") as target:
            shutil.copyfileobj(source, target, UPLOAD_CHUNK)
        partial.replace(local)
        log.info("fetched the index of %s from the share", root.unc)
    return ShareConnection(volume, root, local, total, free)


def forget_working_copy(index_path: Path) -> None:
    """After a format: the folder on the share is empty, so is the index."""
    for suffix in ("", "-wal", "-shm"):
        index_path.with_name(f"{index_path.name}{suffix}").unlink(missing_ok=True)


def index_version(index_path: Path) -> tuple[int, ...]:
    """Changes whenever anything commits to the index (the database or its WAL grows or is rewritten)."""
    version: list[int] = []
    for suffix in ("", "-wal"):
        try:
            stat = index_path.with_name(f"{index_path.name}{suffix}").stat()
        except FileNotFoundError:
            version += [0, 0]
            continue
        version += [stat.st_mtime_ns, stat.st_size]
    return tuple(version)


def publish_index(index_path: Path, root: SmbPath) -> None:
    """Upload a consistent snapshot of the working copy as the share's ``index.db``, atomically. Blocking."""
    if not index_path.exists():
        return
    snapshot = index_path.with_name(f".{index_path.name}.publish")
    snapshot.unlink(missing_ok=True)
    source = sqlite3.connect(index_path)
    try:
        target = sqlite3.connect(snapshot)
        try:
            source.backup(target)
        finally:
            target.close()
    finally:
        source.close()
    try:
        upload = root / f".{INDEX_NAME}.tmp"
        with snapshot.open("rb") as data, upload.open("wb") as remote:
            shutil.copyfileobj(data, remote, UPLOAD_CHUNK)
        upload.replace(root / INDEX_NAME)
    finally:
        with contextlib.suppress(OSError):
            snapshot.unlink()
