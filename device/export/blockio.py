"""A block read from a chosen key frame: the block's header followed by its clusters from that key frame.

The recorder writes one cluster per frame and indexes each key frame's cluster offset (device/recorder/
keyframes.py), and the header of a block is everything before its first cluster, so ``header + clusters from a
key frame on`` is itself a valid Matroska file (see BlockMuxer). FFmpeg then demuxes from the key frame without
reading the minutes of video before it. Bytes come through ``RecordingStore.read``, so encrypted cards export
too; a window is read at a time, which keeps memory flat and decrypts each chunk once.

A block can vanish while an export reads it (cleanup or remove.cgi deletes it after the plan listed it). The
reader raises :class:`BlockReadError` then, and remembers it: FFmpeg, reading through it, may report the failure
as a damaged file, which the export must not take for a block cut short by a power loss and step over.
"""

from __future__ import annotations

import io

from device.storage.files import StorePath
from device.storage.store import RecordingStore

WINDOW = 1 << 20


class BlockReadError(OSError):
    """A block of the export could not be read (gone, or the card failing): the source failed, not the output."""

    @classmethod
    def wrap(cls, exc: OSError) -> BlockReadError:
        return cls(exc.errno, exc.strerror, exc.filename)


class BlockReader(io.RawIOBase):
    """Seekable, read-only view of bytes ``[0, header_size) + [begin, end)`` of one block's plaintext."""

    def __init__(
        self,
        store: RecordingStore,
        path: StorePath,
        header_size: int,
        begin: int,
        end: int | None = None,
        growing: bool = False,
    ) -> None:
        super().__init__()
        if begin < header_size:
            raise ValueError(f"a cluster cannot start inside the header ({begin} < {header_size})")
        self._store, self._path, self._growing = store, path, growing
        self.failure: BlockReadError | None = None
        """The read that failed, whatever FFmpeg made of it."""
        try:
            size = store.plain_size(path, growing)
        except OSError as exc:
            raise BlockReadError.wrap(exc) from exc
        self._header = header_size
        self._begin = begin
        self._end = size if end is None else min(end, size)
        self._length = header_size + max(0, self._end - begin)
        self._pos = 0
        self._window_start = -1
        self._window = b""

    @property
    def length(self) -> int:
        return self._length

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._length}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._pos >= self._length:
            return 0
        if self._pos < self._header:
            physical, limit = self._pos, self._header
        else:
            physical, limit = self._begin + (self._pos - self._header), self._end
        wanted = min(len(buffer), limit - physical, self._length - self._pos)
        data = self._slice(physical, wanted)
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def _slice(self, physical: int, length: int) -> bytes:
        window_end = self._window_start + len(self._window)
        if not (self._window_start <= physical and physical + length <= window_end):
            try:
                self._window = self._store.read(self._path, physical, max(WINDOW, length), self._growing)
            except OSError as exc:
                self.failure = BlockReadError.wrap(exc)
                raise self.failure from exc
            self._window_start = physical
        offset = physical - self._window_start
        return self._window[offset : offset + length]
