"""Reaching a bound share for the NetworkShare disk: the connector the disk calls on every mount and reconnect.

Each attempt gets a connection cache of its own, and the previous attempt's connections are closed first: after
a NAS restart the old connection is dead, and smbclient would otherwise keep trying to reuse it. The dialect,
port and encryption come from ``Storage.S1.ExtraMountOptions`` as they are at that moment, as mount.cifs reads
its options on every mount.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import smbclient
from smbprotocol.exceptions import SMBException

from device.shares.registry import ShareConfig
from device.shares.smb import MountOptions, ShareTarget, pin_dialect
from device.storage import sharestore
from device.storage.sharestore import ShareConnection
from device.storage.smbpath import SmbVolume, StorageUnavailable


class ShareConnector:
    def __init__(self, config: ShareConfig, options: Callable[[], MountOptions], serial: str, cache_dir: Path) -> None:
        self._config = config
        self._options = options
        self._serial = serial
        self._cache_dir = cache_dir
        self._cache: dict[str, Any] = {}
        self._lock = threading.Lock()

    def target(self) -> ShareTarget:
        c = self._config
        return ShareTarget(c.address, c.share, c.user, c.password, c.port, self._options())

    def __call__(self) -> ShareConnection:
        """Connect, log in, open the share and the camera's folder on it. Blocking; raises OSError
        (StorageUnavailable when the NAS cannot be reached or refuses us)."""
        with self._lock:
            self.close()
            target = self.target()
            cache: dict[str, Any] = {}
            self._cache = cache
            try:
                pin_dialect(target, cache)
            except (SMBException, ValueError, OSError) as exc:
                raise StorageUnavailable(f"{target.address} port {target.effective_port}: {exc}") from None
            volume = SmbVolume(target.address, target.share.strip("\\/"), target.call_kwargs(cache))
            return sharestore.connect(volume, self._serial, self._cache_dir)

    def close(self) -> None:
        """Drop the connections of the last attempt (a dead one after an outage must not be reused)."""
        with contextlib.suppress(Exception):
            smbclient.reset_connection_cache(fail_on_error=False, connection_cache=self._cache)
        self._cache = {}
