"""A disk's capacity as the camera sees it: the virtual card's own size, not the host disk's.

Every byte a store writes is reserved here first, so nothing can write past the card; the count starts from
what is on the card at mount.
"""

from __future__ import annotations

import threading


class DiskFull(Exception):
    """A write would go past the card's capacity."""


class Space:
    def __init__(self, capacity: int, used: int = 0) -> None:
        self.capacity = capacity
        self._used = used
        self.written = 0  # bytes written since the last time the camera took the count (card wear)
        self._lock = threading.Lock()  # writers run in threads (recorder, repair)

    @property
    def used(self) -> int:
        return self._used

    @property
    def free(self) -> int:
        return max(0, self.capacity - self._used)

    def reserve(self, size: int) -> None:
        with self._lock:
            if self._used + size > self.capacity:
                raise DiskFull(f"the disk is full ({self._used} of {self.capacity} bytes used)")
            self._used += size
            self.written += size

    def take_written(self) -> int:
        with self._lock:
            written, self.written = self.written, 0
        return written

    def release(self, size: int) -> None:
        with self._lock:
            self._used = max(0, self._used - size)

    def recount(self, used: int, capacity: int | None = None) -> None:
        """Start the count again from what is really on the disk (and, for a share, its size as the NAS says)."""
        with self._lock:
            self._used = used
            if capacity is not None:
                self.capacity = capacity
