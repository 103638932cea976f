"""Every parameter the virtual camera has, with its default, who may read and write it, and its valid values.

Names, defaults and access follow the spec's parameter tables, corrected by real firmware where the two differ
(shared/spec/WIRE.md §10, AMBIGUITIES.md S-1 to S-9). Later components add their groups (NetworkShare.N#, …)
by extending this table, so param.cgi never needs to know who owns a value.
"""

from __future__ import annotations

from dataclasses import dataclass

from device.identity import DeviceIdentity
from device.params.validators import OCTAL_MODE, YES_NO, Choice, IntRange, Text, Validator
from device.users import Role

_ANY_TEXT = Text()


@dataclass(frozen=True)
class ParamDef:
    name: str  # without the "root." prefix
    default: str
    read: Role
    write: Role | None = None  # None: read-only for everyone
    validate: Validator = _ANY_TEXT
    persist: bool = True  # False: derived at start-up (the RTSP port actually bound), never saved

    @property
    def full_name(self) -> str:
        return f"root.{self.name}"


def _read_only(name: str, value: str, read: Role = Role.VIEWER) -> ParamDef:
    return ParamDef(name, value, read, None, persist=False)


# Storage groups: S0 is the SD card slot, S1 the disk a network share is bound to (WIRE.md §10).
STORAGE_GROUPS: tuple[tuple[str, str, str, str], ...] = (
    ("S0", "SD_DISK", "/dev/mmcblk0p1", "ext4"),
    ("S1", "NetworkShare", "NetworkShare:/com/axis/NetworkShare/Device/0", "cifs"),
)


def _storage_group(group: str, disk_id: str, device_node: str, file_system: str) -> list[ParamDef]:
    p = f"Storage.{group}."
    op, adm = Role.OPERATOR, Role.ADMIN
    return [
        _read_only(p + "DiskID", disk_id, op),
        ParamDef(p + "FriendlyName", "", op, op, Text(max_length=64)),
        ParamDef(p + "DeviceNode", device_node, op, adm, Text()),
        # Obsolete since 5.50 but still listed by firmware; 90 as real cameras report it.
        ParamDef(p + "CleanupLevel", "90", op, adm, IntRange(0, 99)),
        # The spec's cell "10...7000" is garbled (S-1); 7 days is what a fresh camera keeps.
        ParamDef(p + "CleanupMaxAge", "7", op, adm, IntRange(0, 7000)),
        ParamDef(p + "CleanupPolicyActive", "fifo", op, adm, Choice(("fifo", "none"))),
        # Read-only in practice: the file system changes only through format.cgi (S-2).
        ParamDef(p + "FileSystem", file_system, op, None),
        ParamDef(p + "Locked", "no", op, adm, YES_NO),
        ParamDef(p + "MountOnBoot", "yes", op, adm, YES_NO),
        ParamDef(p + "RequiredFileSystem", "none", op, adm, Choice(("none", "ext4"))),
        ParamDef(p + "AutoRepair", "yes", op, adm, YES_NO),
        ParamDef(p + "MountPointPermissions", "0770", op, op, OCTAL_MODE),
        ParamDef(p + "Enabled", "yes", op, adm, YES_NO),
        ParamDef(p + "ExtraMountOptions", "", op, adm, Text()),
    ]


def _properties(identity: DeviceIdentity, continuous_profiles: int) -> list[ParamDef]:
    yes = "yes"
    local = {
        "AutoRepair": yes,
        "ContinuousRecording": yes,
        "DiskEncryption": yes,
        "DiskHealth": yes,
        "ExportRecording": yes,
        "FailOverRecording": "no",
        "LocalStorage": yes,
        "NbrOfContinuousRecordingProfiles": str(continuous_profiles),
        "RequiredFileSystem": yes,
        "SDCard": yes,
        "StorageLimit": yes,
        "Version": "1.00",
    }
    share = {"CIFS": yes, "IPV6": yes, "NameLookup": yes, "NetworkShare": yes}
    return [
        _read_only("Properties.API.HTTP.Version", "3"),
        _read_only("Properties.API.RTSP.RTSPAuth", yes),
        _read_only("Properties.API.RTSP.Version", "2.01"),
        # Events and actions (EVENTS.md §6.2, real values of P3245-LVE 11.11 and D4200-VE 12.9)
        _read_only("Properties.API.Metadata.Metadata", yes),
        _read_only("Properties.API.Metadata.Version", "1.0"),
        _read_only("Properties.API.WebService.WebService", yes),
        _read_only("Properties.API.WebService.EntryService", yes),
        _read_only("Properties.IO.ManualTriggerNbr", "6"),
        _read_only("Properties.VirtualInput.VirtualInput", yes),
        *(_read_only(f"Properties.LocalStorage.{k}", v) for k, v in local.items()),
        *(_read_only(f"Properties.NetworkShare.{k}", v) for k, v in share.items()),
        _read_only("Properties.Firmware.Version", identity.firmware_version),
        _read_only("Properties.System.SerialNumber", identity.serial),
        _read_only("Properties.System.Architecture", identity.architecture),
    ]


def _brand(identity: DeviceIdentity) -> list[ParamDef]:
    return [
        _read_only("Brand.Brand", identity.brand),
        _read_only("Brand.ProdFullName", identity.prod_full_name),
        _read_only("Brand.ProdNbr", identity.prod_nbr),
        _read_only("Brand.ProdShortName", identity.prod_short_name),
        _read_only("Brand.ProdType", identity.prod_type),
        _read_only("Brand.ProdVariant", identity.prod_variant),
        _read_only("Brand.WebURL", identity.web_url),
    ]


def build_definitions(identity: DeviceIdentity, rtsp_port: int, continuous_profiles: int = 2) -> list[ParamDef]:
    op, adm, view = Role.OPERATOR, Role.ADMIN, Role.VIEWER
    return [
        *_properties(identity, continuous_profiles),
        *_brand(identity),
        _read_only("Storage.MountDir", "/var/spool/storage", op),
        *(d for group in STORAGE_GROUPS for d in _storage_group(*group)),
        ParamDef(
            "Recording.DefaultDiskId",
            "SD_DISK",
            view,
            op,
            Choice(tuple(disk_id for _, disk_id, _, _ in STORAGE_GROUPS)),
        ),
        ParamDef("Recording.DefaultSplitDuration", "300", view, op, IntRange(1, 86400)),
        ParamDef("Network.HTTP.AuthenticationPolicy", "digest", adm, adm, Choice(("basic", "digest", "basic_digest"))),
        # The port is whatever the RTSP server bound (--rtsp-port); it cannot be moved from param.cgi.
        ParamDef("Network.RTSP.Port", str(rtsp_port), view, None, persist=False),
        ParamDef("Network.RTSP.Timeout", "60", op, adm, IntRange(0, 3600)),
        ParamDef("Network.RTSP.ProtViewer", "password", adm, adm, Choice(("password", "anonymous"))),
    ]
