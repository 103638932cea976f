"""Which disk and share actions make sense right now, and if not, why: the reason is shown on the disabled
button, so an installer is never left guessing why "Repair" is grey.

Rules come from the spec: roles per CGI (format, repair, mount, lock and the disk properties are admin;
checkdisk operator), check and repair only for ext4 SD cards, encryption and required file system only where
getcapabilities says so, the storage limit API only where the camera serves it.
"""

from __future__ import annotations

from app.cameras.capabilities import ApiSupport
from app.storage.overview import DiskView
from app.vapix.disks import DiskStatus
from app.vapix.networkshare import NetworkShare
from app.vapix.usergroup import Role

DISK_ACTIONS = (
    "format",
    "mount",
    "unmount",
    "lock",
    "unlock",
    "check",
    "repair",
    "required_fs",
    "encryption",
    "cleanup",
    "alerts",
    "limit",
)
SHARE_ACTIONS = ("add", "edit", "bind", "unbind", "remove", "split")

_ADMIN = "Only an administrator of the camera may do this; you are signed in with a lower role."
_OPERATOR = "Only an operator or administrator of the camera may do this."


def disk_action_reasons(view: DiskView | None, support: ApiSupport | None, role: Role) -> dict[str, str]:
    """Action name -> "" when it can be done, else the reason it cannot."""
    if view is None:
        return dict.fromkeys(DISK_ACTIONS, "Select a disk first.")
    disk, caps = view.disk, view.capabilities
    present = disk.status is not DiskStatus.DISCONNECTED
    mounted = disk.status is DiskStatus.OK
    reasons: dict[str, str] = {}
    absent = "The share is not reachable." if view.is_share else "There is no disk in the slot."

    reasons["format"] = (
        _ADMIN
        if role < Role.ADMIN
        else absent
        if not present and not view.is_share
        else "The disk is locked; unlock it first."
        if disk.locked
        else "No share is bound to this disk."
        if view.is_share and not disk.total_kb and not present
        else ""
    )
    reasons["mount"] = _ADMIN if role < Role.ADMIN else absent if not present else "Already mounted." if mounted else ""
    reasons["unmount"] = _ADMIN if role < Role.ADMIN else "" if mounted else "The disk is not mounted."
    reasons["lock"] = _ADMIN if role < Role.ADMIN else "Already locked." if disk.locked else ""
    reasons["unlock"] = _ADMIN if role < Role.ADMIN else "" if disk.locked else "The disk is not locked."
    offline_fs = (
        "Only ext4 SD cards can be checked or repaired (the camera says so)."
        if view.is_share or (disk.filesystem and disk.filesystem != "ext4")
        else absent
        if not present
        else ""
    )
    reasons["check"] = _OPERATOR if role < Role.OPERATOR else offline_fs
    reasons["repair"] = (
        _ADMIN if role < Role.ADMIN else offline_fs or ("The disk is locked; unlock it first." if disk.locked else "")
    )
    properties = "" if support is None or support.disk_properties else "The camera has no Disk properties API."
    reasons["required_fs"] = (
        _ADMIN
        if role < Role.ADMIN
        else properties
        or ("" if caps is None or caps.required_fs_supported else "This disk does not support a required file system.")
    )
    reasons["encryption"] = (
        _ADMIN
        if role < Role.ADMIN
        else properties
        or ("" if caps is not None and caps.encryption_supported else "This disk does not support encryption.")
        or (absent if not present else "")
    )
    reasons["cleanup"] = _ADMIN if role < Role.ADMIN else properties
    reasons["alerts"] = (
        _ADMIN
        if role < Role.ADMIN
        else properties
        or ("" if view.health is not None and not view.health.unsupported else "This disk reports no health.")
    )
    reasons["limit"] = (
        _ADMIN
        if role < Role.ADMIN
        else ""
        if support is None or support.storage_limit
        else "The camera has no Recording storage limit API."
    )
    return reasons


def share_action_reasons(share: NetworkShare | None, support: ApiSupport | None, role: Role) -> dict[str, str]:
    api = "" if support is None or support.network_share else "The camera has no Network share API."
    admin = _ADMIN if role < Role.ADMIN else api
    operator = _OPERATOR if role < Role.OPERATOR else api
    pick = "Select a share first."
    return {
        "add": admin,
        "edit": admin or (pick if share is None else ""),
        "bind": operator or (pick if share is None else "Already bound." if share.disk_id else ""),
        "unbind": operator or (pick if share is None else "" if share.disk_id else "The share is not bound."),
        "remove": admin or (pick if share is None else ""),
        "split": admin or ("" if support is None or support.storage_limit else "The camera has no storage limits."),
    }
