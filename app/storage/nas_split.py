"""Sharing one NAS between several cameras: each gets a storage limit that is its share of the NAS's size.

Every camera's cleanup sees only its own recordings, so without limits the first camera to fill the NAS starves
the others. The installer chooses a percentage per camera; the limits are set on each camera's NetworkShare
disk through the Recording storage limit API.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from app.storage.overview import SHARE_DISK, StorageOverview
from app.vapix.storage_limit import MIN_LIMIT_KB

KB_PER_GIB = 1024 * 1024


class SplitError(ValueError):
    """The percentages cannot be applied; the message says why."""


@dataclass(frozen=True)
class NasUse:
    """One camera's view of a NAS: where its share points and the size the camera sees."""

    camera_id: str
    camera_name: str
    nas: str  # //address/share, lower-case: the same NAS whoever typed it
    total_kb: int
    limit_kb: int


def nas_key(address: str, share: str) -> str:
    return f"//{address.strip().lower()}/{share.strip().strip('/').lower()}"


def nas_use(camera_id: str, camera_name: str, overview: StorageOverview) -> NasUse | None:
    """The NAS this camera records to, or None when no share is bound."""
    bound = next((s for s in overview.shares if s.disk_id == SHARE_DISK), None)
    view = overview.disk(SHARE_DISK)
    if bound is None or view is None:
        return None
    limit = view.limit.size_kb if view.limit else 0
    return NasUse(camera_id, camera_name, nas_key(bound.address, bound.share), view.disk.total_kb, limit)


def split_limits(total_kb: int, percents: Mapping[str, float]) -> dict[str, int]:
    """Each camera's limit in kB from its percentage of `total_kb`; every limit at least the API's 1 GiB."""
    if total_kb <= 0:
        raise SplitError("The NAS's size is not known: mount the share on one of the cameras first.")
    if any(p <= 0 for p in percents.values()):
        raise SplitError("Give every camera a share above 0 %, or leave it out.")
    if sum(percents.values()) > 100.0001:
        raise SplitError(f"The shares add up to {sum(percents.values()):.0f} %; they may not exceed 100 %.")
    limits = {camera: int(total_kb * percent / 100) for camera, percent in percents.items()}
    small = [camera for camera, kb in limits.items() if kb < MIN_LIMIT_KB]
    if small:
        raise SplitError(f"A camera's share would be under 1 GiB, the smallest limit a camera takes ({len(small)}).")
    return limits


def equal_percents(camera_ids: list[str]) -> dict[str, float]:
    return {camera: 100.0 / len(camera_ids) for camera in camera_ids} if camera_ids else {}
