"""A disk as the camera sees it: what kind it is, what is on the card, and its status.

Two kinds of state are kept apart, as on a real camera: what belongs to the card travels with it (its file
system and wrapped encryption key, in card.json on the card), and what belongs to the camera stays in the
camera's data dir (whether encryption is enabled, the key derived from the passphrase, bytes written, alert
levels, storage limit).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from device.storage.crypto import WrappedKey
from device.storage.files import StorePath
from device.storage.layout import CARD_META
from device.storage.sharestore import ShareConnection
from device.storage.space import Space
from device.storage.store import RecordingStore


class DiskStatus(StrEnum):
    DISCONNECTED = "disconnected"
    CONNECTED = "connected"  # present, not mounted
    OK = "OK"
    FAILED = "failed"
    NO_PASSPHRASE = "no passphrase"  # encryption disabled, but the card is encrypted
    WRONG_PASSPHRASE = "wrong passphrase"
    NOT_ENCRYPTED = "not encrypted"  # encryption enabled, the card is not (yet) encrypted


@dataclass(frozen=True)
class DiskSpec:
    disk_id: str
    group: str  # Storage.S#
    file_systems: tuple[str, ...]  # what format.cgi accepts
    required_fs: tuple[str, ...]  # what setrequiredfs.cgi accepts besides none
    encryption: bool
    wear_supported: bool
    endurance_cycles: int = 0  # rated program/erase cycles: wear = bytes written / (capacity x cycles)


SD_CARD = DiskSpec("SD_DISK", "S0", ("ext4", "vfat"), ("ext4",), True, True, endurance_cycles=500)
SHARE = DiskSpec("NetworkShare", "S1", ("cifs",), (), False, False)


@dataclass
class CardMeta:
    file_system: str
    wrapped_key: dict[str, str] | None = None
    label: str = "Axis"

    @property
    def encrypted(self) -> bool:
        return self.wrapped_key is not None

    def key(self) -> WrappedKey | None:
        return WrappedKey.from_json(self.wrapped_key) if self.wrapped_key else None


@dataclass
class CameraDiskState:
    """Camera-side settings of one disk, persisted in the camera's data dir."""

    present: bool = True
    readonly_switch: bool = False
    failed: bool = False
    encryption_enabled: bool = False
    key_salt: str | None = None  # hex; the salt the key was derived with
    passphrase_key: str | None = None  # hex; derived from the passphrase, never the passphrase
    bytes_written: int = 0
    alert_wear: int | None = None
    alert_temperature: int | None = None
    limit_kb: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Disk:
    spec: DiskSpec
    root: StorePath  # the card's folder; for a mounted share, the camera's folder on it
    capacity: int
    camera: CameraDiskState
    space: Space = field(init=False)
    store: RecordingStore | None = None
    enabled_at_boot: bool = True
    readonly_mount: bool = False
    connector: Callable[[], ShareConnection] | None = None
    """A bound share: how to reach it (blocking; the Network share API sets it on bind)."""
    connection: ShareConnection | None = None
    """A mounted share: what the connector found."""
    reachable: bool = True
    """False while a bound share cannot be reached (the camera keeps trying)."""

    def __post_init__(self) -> None:
        self.space = Space(self.capacity)

    @property
    def id(self) -> str:
        return self.spec.disk_id

    @property
    def mounted(self) -> bool:
        return self.store is not None

    @property
    def index_path(self) -> Path | None:
        """Where the store's index lives when not on the disk itself (a share's local working copy)."""
        return self.connection.index_path if self.connection is not None else None

    def card(self) -> CardMeta | None:
        if self.spec is SHARE:  # a share has no card: its file system is the protocol
            return CardMeta("cifs") if self.camera.present else None
        try:
            data = json.loads((self.root / CARD_META).read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return None
        return CardMeta(**data)

    def write_card(self, meta: CardMeta) -> None:
        if self.spec is SHARE:
            return
        assert isinstance(self.root, Path)
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / CARD_META
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(asdict(meta)), encoding="utf-8")
        tmp.replace(path)

    def data_key(self) -> bytes | None:
        """The card's data key, when the camera's key unwraps it."""
        card = self.card()
        wrapped = card.key() if card else None
        if wrapped is None or self.camera.passphrase_key is None:
            return None
        return wrapped.unwrap(bytes.fromhex(self.camera.passphrase_key))

    def encryption_status(self) -> DiskStatus | None:
        """The status an encryption mismatch gives an unmounted card, or None when it may mount."""
        card = self.card()
        if card is None:
            return None
        if card.encrypted and not self.camera.encryption_enabled:
            return DiskStatus.NO_PASSPHRASE
        if self.camera.encryption_enabled and not card.encrypted:
            return DiskStatus.NOT_ENCRYPTED
        if card.encrypted and self.data_key() is None:
            return DiskStatus.WRONG_PASSPHRASE
        return None

    @property
    def status(self) -> DiskStatus:
        if not self.camera.present:
            return DiskStatus.DISCONNECTED
        if self.camera.failed:
            return DiskStatus.FAILED
        if self.mounted:
            return DiskStatus.OK
        if not self.reachable:
            return DiskStatus.DISCONNECTED
        return self.encryption_status() or DiskStatus.CONNECTED

    @property
    def wear(self) -> int:
        """Percent of rated endurance used (past 100 for a card worn beyond its rating, as the spec allows);
        -1 unsupported, -3 not present (gethealth.cgi)."""
        if not self.spec.wear_supported:
            return -1
        if not self.camera.present:
            return -3
        endurance = self.capacity * self.spec.endurance_cycles
        return self.camera.bytes_written * 100 // endurance if endurance else -1
