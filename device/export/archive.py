"""The AES-256 ZIP around an export (``encryptionformat=zip-aes256``), written as a stream.

WinZip AE-2 encryption through pyzipper, the format 7-Zip, WinZip and macOS's Archive Utility open with the
password. The entry is stored, not deflated: video does not compress, and storing keeps the export as fast as
the plain one. The archive is written to a non-seekable sink, so sizes travel in a data descriptor after the
entry; ZIP64 fields are used whenever the entry might pass 4 GiB (they cannot be added afterwards).
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable
from datetime import datetime
from types import TracebackType

import pyzipper

ZIP64_FROM = 2 * 1024**3
"""Estimated entry sizes from which ZIP64 fields are written (well before the 4 GiB limit, as estimates err)."""


def random_zip_name() -> str:
    """The name of an encrypted export without ``filename``: random, so it tells nothing about the video."""
    return "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(6)) + ".zip"


class _Sink:
    """Write-only, so zipfile writes data descriptors instead of seeking back."""

    def __init__(self, sink: Callable[[bytes], object]) -> None:
        self._sink = sink

    def write(self, data: bytes) -> int:
        self._sink(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass


class AesZipWriter:
    """``with AesZipWriter(sink, "clip.mkv", password, when) as entry: entry.write(...)``: one encrypted entry."""

    def __init__(
        self, sink: Callable[[bytes], object], entry_name: str, password: str, when: datetime, size_hint: int
    ) -> None:
        self._zip = pyzipper.AESZipFile(_Sink(sink), "w", compression=pyzipper.ZIP_STORED, encryption=pyzipper.WZ_AES)
        self._zip.setpassword(password.encode())
        self._zip.setencryption(pyzipper.WZ_AES, nbits=256)
        info = self._zip.zipinfo_cls(entry_name, date_time=when.timetuple()[:6])
        info.compress_type = pyzipper.ZIP_STORED
        self._entry = self._zip.open(info, "w", force_zip64=size_hint >= ZIP64_FROM)

    def write(self, data: bytes) -> None:
        self._entry.write(data)

    def close(self) -> None:
        self._entry.close()
        self._zip.close()

    def __enter__(self) -> AesZipWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if kind is None:
            self.close()
