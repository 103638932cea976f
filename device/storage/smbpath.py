"""Paths on an SMB share that behave like `pathlib.Path`, so the recording store works on a NAS unchanged.

A real camera mounts the share with mount.cifs and records to it like to its SD card. The virtual camera runs
on desktops where it cannot mount anything, so the store's files are reached through smbprotocol's `smbclient`
instead: :class:`SmbPath` implements the part of the `pathlib.Path` API the store uses (open, glob, mkdir,
stat, replace, unlink, ...) over one :class:`SmbVolume`. The store, the recorder, playback and export then need
no second code path; only SQLite, which needs a local file, is kept apart (see `device.storage.sharestore`).

Each volume gets a subclass of SmbPath of its own, so that every path derived from its root (``/``, ``parent``,
``with_suffix``) still knows which server, share and credentials it belongs to.

Errors: a missing file is the usual `FileNotFoundError` (smbclient's SMBOSError is an OSError with errno), but
anything that means the share itself is gone (connection closed, timeout, refused reconnect) becomes
:class:`StorageUnavailable`, so the recorder can tell a lost NAS from a bad file. Files are opened with full
sharing, as a local file would be: playback reads a block while the recorder still writes it.
"""

from __future__ import annotations

import errno
import fnmatch
import io
import stat as stat_module
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import IO, Any, ClassVar, TypeVar, cast

import smbclient
import smbclient.shutil
from smbclient._io import SMBFileTransaction, SMBRawIO, set_info
from smbprotocol.exceptions import SMBException, SMBOSError
from smbprotocol.file_info import FileRenameInformation
from smbprotocol.header import NtStatus
from smbprotocol.open import FilePipePrinterAccessMask

T = TypeVar("T")
SHARING = "rwd"
"""Read, write and delete sharing: playback and export read blocks the recorder is writing."""


class StorageUnavailable(OSError):
    """The share cannot be reached any more (server gone, connection lost, login refused on reconnect)."""

    def __init__(self, message: str) -> None:
        super().__init__(errno.EIO, message)


@dataclass(frozen=True)
class SmbVolume:
    """One share as the store sees it: `server` and `share`, and the keyword arguments every smbclient call needs
    (port, credentials, the connection cache, timeouts; see `device.shares.smb`)."""

    server: str
    share: str
    call_kwargs: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def unc(self, posix: str) -> str:
        parts = [p for p in posix.split("/") if p]
        return "\\".join([f"\\\\{self.server}", self.share, *parts])

    def root(self, *parts: str) -> SmbPath:
        """A path on this volume: ``volume.root("axis-SERIAL")``."""
        bound = type(f"SmbPath[{self.server}/{self.share}]", (SmbPath,), {"volume": self})
        path: SmbPath = bound("/", *parts)
        return path

    def usage(self) -> tuple[int, int]:
        """(total, free) bytes of the share, as the NAS reports them for this user."""
        result = _call(smbclient.stat_volume, self.unc("/"), **self.call_kwargs)
        return int(result.total_size), int(result.caller_available_size)


def _unavailable(exc: BaseException) -> StorageUnavailable:
    return StorageUnavailable(f"the network share cannot be reached: {exc}")


_FILE_ERRORS = {
    NtStatus.STATUS_ACCESS_DENIED: errno.EACCES,
    0xC00000A2: errno.EROFS,  # STATUS_MEDIA_WRITE_PROTECTED
    NtStatus.STATUS_DISK_FULL: errno.ENOSPC,
    0xC0000044: errno.EDQUOT,  # STATUS_QUOTA_EXCEEDED
}
"""Statuses that are about a file or the space on the share, not about reaching it."""


def _call(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run one smbclient call, turning 'the share is gone' into StorageUnavailable and file errors into the
    built-in OSError subclasses (FileNotFoundError, FileExistsError, PermissionError, ...) a local file raises."""
    try:
        return function(*args, **kwargs)
    except StorageUnavailable:
        raise  # already said (a nested call)
    except SMBOSError as exc:
        code = exc.errno or _FILE_ERRORS.get(exc.ntstatus or 0, 0)
        if code:  # OSError(errno, ...) picks the matching subclass
            raise OSError(code, exc.strerror if exc.errno else str(exc), exc.filename) from exc
        raise _unavailable(exc) from exc
    except (SMBException, ValueError, OSError) as exc:
        # ValueError: smbclient's "Failed to connect to host:port" when the server refuses the reconnect.
        # OSError: the socket's own errors. Besides the ConnectionError family, a send on a socket smbprotocol's
        # receiver thread has just closed (the server went away) is EBADF. File errors came as SMBOSError above.
        raise _unavailable(exc) from exc


class SmbFile(io.RawIOBase):
    """An smbclient file whose errors say StorageUnavailable when the share is gone (see :func:`_call`)."""

    def __init__(self, raw: Any) -> None:
        super().__init__()
        self._raw = raw

    def readable(self) -> bool:
        return bool(_call(self._raw.readable))

    def writable(self) -> bool:
        return bool(_call(self._raw.writable))

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return int(_call(self._raw.readinto, buffer) or 0)

    def write(self, data: Any) -> int:
        view = memoryview(data)
        written = 0
        while written < len(view):  # smbclient may write less than asked (the server's maximum write size)
            written += int(_call(self._raw.write, view[written:]) or 0)
        return written

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return int(_call(self._raw.seek, offset, whence))

    def tell(self) -> int:
        return int(_call(self._raw.tell))

    def truncate(self, size: int | None = None) -> int:
        return int(_call(self._raw.truncate, self.tell() if size is None else size))

    def flush(self) -> None:
        if not self._raw.closed:  # IOBase.close flushes once more after the handle is closed
            _call(self._raw.flush)

    def close(self) -> None:
        if not self.closed:
            try:
                _call(self._raw.close)
            finally:
                super().close()


@dataclass(frozen=True)
class SmbStat:
    st_size: int
    st_mode: int
    st_mtime: float


class SmbPath(PurePosixPath):
    """A path on :attr:`volume`, absolute from the share's root (``/axis-SERIAL/20261124/...``)."""

    volume: ClassVar[SmbVolume]

    @property
    def unc(self) -> str:
        return self.volume.unc(self.as_posix())

    def _kwargs(self) -> dict[str, Any]:
        return self.volume.call_kwargs

    # --- queries

    def stat(self) -> SmbStat:
        result = _call(smbclient.stat, self.unc, **self._kwargs())
        return SmbStat(int(result.st_size), int(result.st_mode), float(result.st_mtime))

    def exists(self) -> bool:
        try:
            self.stat()
        except FileNotFoundError:
            return False
        return True

    def is_dir(self) -> bool:
        try:
            return stat_module.S_ISDIR(self.stat().st_mode)
        except FileNotFoundError:
            return False

    def is_file(self) -> bool:
        try:
            return stat_module.S_ISREG(self.stat().st_mode)
        except FileNotFoundError:
            return False

    def is_symlink(self) -> bool:
        return False  # the store never makes links, and smbclient follows them

    def iterdir(self) -> Iterator[SmbPath]:
        for name in _call(smbclient.listdir, self.unc, **self._kwargs()):
            yield self / name

    def _entries(self) -> list[tuple[str, bool]]:
        """(name, is a directory) of each entry, from one directory query."""
        with _call(smbclient.scandir, self.unc, **self._kwargs()) as entries:
            return [(e.name, bool(_call(e.is_dir))) for e in entries]

    def glob(self, pattern: str) -> Iterator[SmbPath]:
        """`pathlib.Path.glob` for patterns without ``**``: one directory listing per folder the pattern visits."""
        parts = [p for p in pattern.split("/") if p]
        if any("**" in p for p in parts):
            raise ValueError("SmbPath.glob does not support '**'")
        level: list[tuple[SmbPath, bool]] = [(self, True)]
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            following: list[tuple[SmbPath, bool]] = []
            for folder, is_dir in level:
                if not is_dir:
                    continue
                try:
                    entries = folder._entries()
                except (FileNotFoundError, NotADirectoryError):
                    continue
                for name, child_is_dir in entries:
                    if fnmatch.fnmatchcase(name, part) and (last or child_is_dir):
                        following.append((folder / name, child_is_dir))
            level = following
        for path, _is_dir in level:
            yield path

    # --- files

    def open(
        self, mode: str = "r", buffering: int = -1, encoding: str | None = None, newline: str | None = None
    ) -> IO[Any]:
        raw_mode = mode.replace("t", "").replace("b", "")
        handle = _call(
            smbclient.open_file, self.unc, mode=raw_mode + "b", buffering=0, share_access=SHARING, **self._kwargs()
        )
        raw = SmbFile(handle)
        if "b" in mode:
            if buffering == 0:
                return cast(IO[bytes], raw)
            if "+" in mode:
                return io.BufferedRandom(raw)
            return io.BufferedWriter(raw) if raw_mode[0] in "wax" else io.BufferedReader(raw)
        buffered: IO[bytes] = io.BufferedReader(raw) if raw_mode == "r" else io.BufferedWriter(raw)
        return io.TextIOWrapper(buffered, encoding=encoding or "utf-8", newline=newline)

    def read_bytes(self) -> bytes:
        with self.open("rb") as f:
            return bytes(f.read())

    def read_text(self, encoding: str | None = None) -> str:
        return self.read_bytes().decode(encoding or "utf-8")

    def write_bytes(self, data: bytes) -> int:
        with self.open("wb") as f:
            f.write(data)
        return len(data)

    def write_text(self, text: str, encoding: str | None = None) -> int:
        return self.write_bytes(text.encode(encoding or "utf-8"))

    # --- changes

    def mkdir(self, mode: int = 0o777, parents: bool = False, exist_ok: bool = False) -> None:
        try:
            if parents:
                _call(smbclient.makedirs, self.unc, exist_ok=exist_ok, **self._kwargs())
            else:
                _call(smbclient.mkdir, self.unc, **self._kwargs())
        except FileExistsError:
            if not exist_ok or not self.is_dir():
                raise

    def unlink(self, missing_ok: bool = False) -> None:
        try:
            _call(smbclient.remove, self.unc, **self._kwargs())
        except FileNotFoundError:
            if not missing_ok:
                raise

    def rmdir(self) -> None:
        _call(smbclient.rmdir, self.unc, **self._kwargs())

    def replace(self, target: SmbPath) -> SmbPath:
        """Atomic on the server (SMB2 rename with replace-if-exists): the store's write-then-rename."""
        if not isinstance(target, SmbPath) or target.volume is not self.volume:
            raise TypeError(f"{target!r} is not on the share of {self}")
        _call(_rename_replacing, self.unc, target.as_posix(), self._kwargs())
        return target

    def rmtree(self, ignore_errors: bool = False) -> None:
        try:
            _call(smbclient.shutil.rmtree, self.unc, **self._kwargs())
        except OSError:
            if not ignore_errors:
                raise

    def chmod(self, mode: int) -> None:
        """Shares take their permissions from the server: nothing to do, as mount.cifs ignores it too."""

    def tree_size(self) -> int:
        """Bytes in the files below this folder (the store's own usage of the share)."""
        total = 0
        for top, _dirs, files in smbclient.walk(self.unc, **self._kwargs()):
            for name in files:
                try:
                    total += int(_call(smbclient.stat, f"{top}\\{name}", **self._kwargs()).st_size)
                except FileNotFoundError:
                    continue
        return total


def _rename_replacing(source_unc: str, target_posix: str, kwargs: dict[str, Any]) -> None:
    """SMB2 SET_INFO FileRenameInformation with ReplaceIfExists, from a handle opened for DELETE on the source.

    ``smbclient.replace`` first opens the destination for FILE_EXECUTE to resolve DFS paths, which a NAS that maps
    execute to the Unix x bit (Samba with ``create mask = 0644``) refuses with ACCESS_DENIED for an ordinary
    file. The store never writes to DFS links, so the rename is sent directly, with the destination relative to
    the share as MS-FSCC 2.4.42 asks."""
    options = {"mode": "r", "share_access": SHARING, **kwargs}
    rename = FileRenameInformation()
    rename["replace_if_exists"] = True
    rename["file_name"] = "\\".join(p for p in target_posix.split("/") if p)
    with (
        SMBRawIO(source_unc, desired_access=FilePipePrinterAccessMask.DELETE, **options) as source,
        SMBFileTransaction(source) as transaction,
    ):
        set_info(transaction, rename)
