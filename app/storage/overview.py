"""What a camera's storage looks like right now: each disk with its capabilities, health, alert levels and
storage limit, the camera's network shares, and whether it is recording.

One read of several CGIs, so the Disks and Shares panels and the camera list's summary all show the same
moment. APIs a camera does not serve are skipped rather than failing the whole read: an old firmware without
the storage limit API still shows its disks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import TypeVar

from app.cameras.capabilities import ApiSupport
from app.vapix.disk_properties import AlertLevels, DiskProperties
from app.vapix.disks import Disk, DiskCapabilities, DiskManagement, DiskStatus, HealthStatus
from app.vapix.errors import ApiError, NotFound
from app.vapix.networkshare import NetworkShare, NetworkShares
from app.vapix.recordings import RecordingQuery, Recordings
from app.vapix.storage_limit import StorageLimit, StorageLimits
from app.vapix.transport import VapixTransport

SHARE_DISK = "NetworkShare"
# list.cgi has no status filter; an ongoing recording is among the newest few unless many shorter ones started
# after it, which continuous and event recordings on one camera do not do.
_NEWEST_RECORDINGS = 8
T = TypeVar("T")
DISK_KINDS = {
    "SD_DISK": "SD card",
    SHARE_DISK: "Network share",
    "EMMC_DISK": "Internal storage",
    "HDD_DISK": "Hard disk",
}


@dataclass(frozen=True)
class DiskView:
    disk: Disk
    capabilities: DiskCapabilities | None = None
    health: HealthStatus | None = None
    alerts: AlertLevels | None = None
    limit: StorageLimit | None = None

    @property
    def disk_id(self) -> str:
        return self.disk.disk_id

    @property
    def label(self) -> str:
        """What the installer calls the disk: the camera's name for it (a share's NiceName), else its kind."""
        return self.disk.name or DISK_KINDS.get(self.disk_id, self.disk_id)

    @property
    def is_share(self) -> bool:
        return self.disk_id == SHARE_DISK

    @property
    def problems(self) -> list[str]:
        """Sentences for what needs the installer: the disk's state first, then a health alert."""
        return [p for p in (self._state_problem(), self.alert) if p]

    @property
    def problem(self) -> str:
        """The first of `problems`, or "" when all is well."""
        return next(iter(self.problems), "")

    def _state_problem(self) -> str:
        disk = self.disk
        if disk.status is DiskStatus.FAILED:
            return f"{self.label} has failed; run a check, or replace it."
        if disk.status in (DiskStatus.WRONG_PASSPHRASE, DiskStatus.NO_PASSPHRASE, DiskStatus.NOT_ENCRYPTED):
            return f"{self.label}: {describe_status(disk)}."
        if disk.full:
            return f"{self.label} is full and its cleanup policy keeps everything."
        if disk.status is DiskStatus.CONNECTED:
            return f"{self.label} is not mounted: the camera does not record to it. Mount it to use it."
        return ""

    @property
    def alert(self) -> str:
        """Wear or temperature over the camera's alert level (what Storage/Alert fires on)."""
        if self.health is None or self.alerts is None:
            return ""
        name = self.label
        wear, level = self.health.wear_percent, self.alerts.wear
        if wear is not None and level is not None and wear >= level:
            return f"{name} is worn to {wear} % of its rated life (alert level {level} %)."
        kelvin, limit = self.health.temperature, self.alerts.temperature  # both kelvin on the wire
        if kelvin is not None and kelvin >= 0 and limit is not None and kelvin >= limit:
            return f"{name} is at {kelvin - 273.15:.0f} °C (alert level {limit - 273.15:.0f} °C)."
        return ""


def describe_status(disk: Disk) -> str:
    """The disk's status in words an installer acts on (list.cgi's status, D-2)."""
    return {
        DiskStatus.OK: "OK",
        DiskStatus.CONNECTED: "present, not mounted",
        DiskStatus.DISCONNECTED: "no disk" if disk.disk_id != SHARE_DISK else "not connected",
        DiskStatus.FAILED: "failed",
        DiskStatus.NO_PASSPHRASE: "encrypted, but encryption is off: format it before use",
        DiskStatus.WRONG_PASSPHRASE: "encrypted with another passphrase",
        DiskStatus.NOT_ENCRYPTED: "encryption is on but the disk is not encrypted yet: format it",
    }.get(disk.status, disk.status_text or "unknown")


@dataclass(frozen=True)
class StorageSummary:
    """One line for the camera list: how many disks are fine, failed or full, and whether it records."""

    disks: int
    ok: int
    failed: int
    full: int
    recording: bool
    problems: tuple[str, ...] = ()

    def describe(self) -> str:
        if not self.disks:
            return "No storage"
        parts = [f"{self.ok}/{self.disks} OK"]
        unmounted = self.disks - self.ok - self.failed - self.full
        if unmounted > 0:
            parts.append(f"{unmounted} not mounted")
        if self.failed:
            parts.append(f"{self.failed} failed")
        if self.full:
            parts.append(f"{self.full} full")
        parts.append("recording" if self.recording else "not recording")
        return " · ".join(parts)


@dataclass(frozen=True)
class StorageOverview:
    disks: list[DiskView]
    shares: list[NetworkShare] = field(default_factory=list)
    recording_disks: frozenset[str] = frozenset()

    def disk(self, disk_id: str) -> DiskView | None:
        return next((view for view in self.disks if view.disk_id == disk_id), None)

    @property
    def share_lost(self) -> bool:
        """A share is bound but its disk is disconnected: the NAS is out of reach (Storage/Disruption)."""
        view = self.disk(SHARE_DISK)
        bound = any(share.disk_id == SHARE_DISK for share in self.shares)
        return bound and view is not None and view.disk.status is DiskStatus.DISCONNECTED

    @property
    def problems(self) -> list[str]:
        found = [problem for view in self.disks for problem in view.problems]
        return found + self._lost_share_problem()

    @property
    def share_problems(self) -> list[str]:
        """The problems of the network share alone, for the Shares tab: a lost NAS first of all."""
        view = self.disk(SHARE_DISK)
        return (view.problems if view else []) + self._lost_share_problem()

    def _lost_share_problem(self) -> list[str]:
        if not self.share_lost:
            return []
        bound = next(s for s in self.shares if s.disk_id == SHARE_DISK)
        return [f"{bound.nice_name or 'The network share'} cannot be reached; recording to it has stopped."]

    def summary(self) -> StorageSummary:
        """Disks that are absent (no card, no share bound) are not counted: they are not a problem."""
        present = [v for v in self.disks if v.disk.status is not DiskStatus.DISCONNECTED or v.disk.total_kb]
        failed = sum(
            1 for v in present if v.disk.status not in (DiskStatus.OK, DiskStatus.CONNECTED) and not v.disk.full
        )
        lost = self.disk(SHARE_DISK) if self.share_lost else None
        if lost is not None and lost not in present:
            present.append(lost)
            failed += 1
        return StorageSummary(
            disks=len(present),
            ok=sum(1 for v in present if v.disk.status is DiskStatus.OK and not v.disk.full),
            failed=failed,
            full=sum(1 for v in present if v.disk.full),
            recording=bool(self.recording_disks),
            problems=tuple(self.problems),
        )


async def read_overview(transport: VapixTransport, support: ApiSupport) -> StorageOverview:
    """Everything the storage panels show, read concurrently; parts a camera does not serve are left empty."""
    disks = DiskManagement(transport)
    listed = await disks.list()
    ids = [disk.disk_id for disk in listed]
    properties = DiskProperties(transport) if support.disk_properties else None
    health, limits, shares, recording, capabilities, alerts = await asyncio.gather(
        _optional(disks.health(), {}),
        _optional(_limits(transport), {}) if support.storage_limit else _none({}),
        _optional(NetworkShares(transport).shares(), []) if support.network_share else _none([]),
        _optional(_recording_disks(transport), frozenset()) if support.recording else _none(frozenset()),
        asyncio.gather(*(_optional(disks.capabilities(i), None) for i in ids)),
        asyncio.gather(*(_optional(properties.alert_levels(i), None) if properties else _none(None) for i in ids)),
    )
    views = [
        DiskView(disk, capability, health.get(disk.disk_id), alert, limits.get(disk.disk_id))
        for disk, capability, alert in zip(listed, capabilities, alerts, strict=True)
    ]
    return StorageOverview(views, shares, recording)


async def _limits(transport: VapixTransport) -> dict[str, StorageLimit]:
    return {limit.disk_id: limit for limit in await StorageLimits(transport).limits()}


async def _recording_disks(transport: VapixTransport) -> frozenset[str]:
    page = await Recordings(transport).page(RecordingQuery(), 0, _NEWEST_RECORDINGS)
    return frozenset(r.disk_id for r in page.recordings if r.ongoing)


async def _optional(call: Awaitable[T], default: T) -> T:
    """A part of the overview that some disks or firmware do not answer (an error code, 404): its default."""
    try:
        return await call
    except (ApiError, NotFound):
        return default


async def _none(value: T) -> T:
    return value
