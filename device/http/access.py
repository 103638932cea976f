"""Who may call what: the one table of roles for every CGI the camera knows.

Levels come from the spec's "Access control" bullets (endpoints.yaml), read as nested roles (NOTES.md): a CGI
open to viewer is open to operator and admin. The table covers CGIs that later components serve, so a user
whose role is too low gets the camera's 401 for them from day one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from device.users import Role

A, O, V = Role.ADMIN, Role.OPERATOR, Role.VIEWER  # noqa: E741 - short, to keep the table one CGI per cell


@dataclass(frozen=True)
class Access:
    role: Role | None  # None: anyone, without credentials
    by_action: dict[str, Role] = field(default_factory=dict)  # param.cgi: list is viewer, update operator


_SPEC_CGIS: dict[str, Role] = {
    # Disk management
    "disks/list.cgi": O,
    "disks/format.cgi": A,
    "disks/checkdisk.cgi": O,
    "disks/repair.cgi": A,
    "disks/mount.cgi": A,
    "disks/job.cgi": O,
    "disks/lock.cgi": A,
    "disks/getcapabilities.cgi": O,
    "disks/gethealth.cgi": O,
    # Disk properties
    "disks/properties/setrequiredfs.cgi": A,
    "disks/properties/enablediskencryption.cgi": A,
    "disks/properties/disablediskencryption.cgi": A,
    "disks/properties/changediskpassphrase.cgi": A,
    "disks/properties/setcleanupmaxage.cgi": A,
    "disks/properties/setcleanuppolicy.cgi": A,
    "disks/properties/setdiskalertlevels.cgi": A,
    "disks/properties/getdiskalertlevels.cgi": O,
    "disks/properties/schemaversions.cgi": O,
    # Network share
    "disks/networkshare/list.cgi": O,
    "disks/networkshare/add.cgi": A,
    "disks/networkshare/remove.cgi": A,
    "disks/networkshare/modify.cgi": A,
    "disks/networkshare/bind.cgi": O,
    "disks/networkshare/unbind.cgi": O,
    "disks/networkshare/test.cgi": O,
    "disks/networkshare/job.cgi": O,
    "disks/networkshare/schemaversions.cgi": O,
    # Recording storage limit
    "record/storage/schemaversions.cgi": O,
    "record/storage/getlimit.cgi": O,
    "record/storage/setlimit.cgi": O,
    # Recording
    "record/continuous/addconfiguration.cgi": O,
    "record/continuous/listconfiguration.cgi": V,
    "record/continuous/removeconfiguration.cgi": O,
    "record/list.cgi": V,
    "record/record.cgi": O,
    "record/stop.cgi": O,
    "record/remove.cgi": O,
    "record/play.cgi": V,
    # Export (exporttoexternal and getjobstatus say only "viewer": open to all three, G-2)
    "record/export/schemaversions.cgi": V,
    "record/export/capabilities.cgi": V,
    "record/export/properties.cgi": V,
    "record/export/exportrecording.cgi": V,
    "record/export/exporttoexternal.cgi": V,
    "record/export/getjobstatus.cgi": V,
}

_GENERAL_CGIS: dict[str, Access] = {
    "param.cgi": Access(V, {"update": O, "add": A, "remove": A}),
    "apidiscovery.cgi": Access(V),
    # getAllUnrestrictedProperties answers without credentials, as on AXIS OS; the handler asks for
    # viewer for every other method.
    "basicdeviceinfo.cgi": Access(None),
    "usergroup.cgi": Access(V),
    # Virtual input API and the manual trigger (EVENTS.md §2.4, §2.5)
    "virtualinput/activate.cgi": Access(O),
    "virtualinput/deactivate.cgi": Access(O),
    "virtualinput/getschemaversions.cgi": Access(V),
    "io/virtualinput.cgi": Access(V),
    # WebSocket session tokens (EVENTS.md §3.1)
    "wssession.cgi": Access(V),
    # Recording groups (EVENTS.md §4.1)
    "record/recording_group/schemaversions.cgi": Access(V),
    "record/recording_group/create.cgi": Access(O),
    "record/recording_group/update.cgi": Access(O),
    "record/recording_group/delete.cgi": Access(O),
    "record/recording_group/list.cgi": Access(V),
}

CGI_ACCESS: dict[str, Access] = {
    **{f"/axis-cgi/{path}": Access(role) for path, role in _SPEC_CGIS.items()},
    **{f"/axis-cgi/{path}": access for path, access in _GENERAL_CGIS.items()},
    # The Action and Event services (operator pages on real cameras, EVENTS.md §0.1, §6.1).
    "/vapix/services": Access(O),
    # The event stream checks its credentials itself: Digest, or a wssession.cgi token in the query.
    "/vapix/ws-data-stream": Access(None),
}

RTSP_PLAYBACK_ROLE = V
SCENARIO_PREFIX = "/local/edgestore/scenario/"


def required_role(path: str, action: str | None = None) -> Role | None:
    access = CGI_ACCESS.get(path)
    if access is None:
        # Anything else under the camera's CGI folders still wants a known user (then 404).
        return A if path.startswith(SCENARIO_PREFIX) else V
    if action and action.lower() in access.by_action:
        return access.by_action[action.lower()]
    return access.role
