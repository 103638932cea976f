"""The few file operations the store needs beyond pathlib's methods, for local folders and SMB shares alike.

`StorePath` is what a store's root can be: a local `Path` (the SD card's folder) or an `SmbPath` (a folder on a
NAS share, see `device.storage.smbpath`). Both offer the pathlib methods the store calls; what pathlib puts
elsewhere (shutil.rmtree, os.walk, fsync) is dispatched here.
"""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path
from typing import IO, TypeAlias

from device.persist import write_bytes_atomic
from device.storage.smbpath import SmbPath

StorePath: TypeAlias = Path | SmbPath


def local(path: StorePath) -> Path:
    """Encryption and the default index place are for local disks (SD cards); a share has neither."""
    if not isinstance(path, Path):
        raise TypeError(f"{path} is on a network share: give the store a local index_path, and no data key")
    return path


def write_atomic(path: StorePath, data: bytes) -> None:
    """Replace a small file so that a crash or a lost NAS leaves the old or the new content, never half."""
    if isinstance(path, SmbPath):
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    else:
        write_bytes_atomic(path, data)


def glob(root: StorePath, pattern: str) -> list[StorePath]:
    """`root.glob(pattern)`, sorted by path."""
    found: list[StorePath] = list(root.glob(pattern))
    return sorted(found, key=lambda p: p.as_posix())


def sync(f: IO[bytes]) -> None:
    """Flush a file to the disk: fsync for a local file; on a share, a flush is what reaches the NAS."""
    f.flush()
    try:
        fd = f.fileno()
    except (OSError, io.UnsupportedOperation):
        return
    os.fsync(fd)


def rmtree(path: StorePath, ignore_errors: bool = False) -> None:
    if isinstance(path, SmbPath):
        path.rmtree(ignore_errors=ignore_errors)
    else:
        shutil.rmtree(path, ignore_errors=ignore_errors)


def tree_size(root: StorePath) -> int:
    """Bytes in the files below `root`."""
    if isinstance(root, SmbPath):
        return root.tree_size()
    total = 0
    for folder, _dirs, files in os.walk(root):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except FileNotFoundError:
                continue
    return total
