"""What a camera's edge storage can do, read from its Properties parameters and, where the firmware has it,
apidiscovery.cgi.

A fleet mixes firmware from 5.x to 12.x, so every flag defaults to "no" when the camera does not report it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from app.vapix.apidiscovery import ApiDiscovery, ApiInfo
from app.vapix.errors import NotFound
from app.vapix.transport import VapixTransport

CAPABILITY_GROUPS = ("Properties.LocalStorage", "Properties.NetworkShare", "Properties.API")


def _yes(values: Mapping[str, str], name: str) -> bool:
    return values.get(name, "no").strip().lower() == "yes"


@dataclass(frozen=True)
class StorageCapabilities:
    local_storage: bool
    sd_card: bool
    network_share: bool
    continuous_recording: bool
    continuous_profiles: int
    export: bool
    storage_limit: bool
    disk_encryption: bool
    required_file_system: bool
    disk_health: bool

    @classmethod
    def from_params(cls, values: Mapping[str, str]) -> StorageCapabilities:
        ls = "Properties.LocalStorage."
        profiles = values.get(
            ls + "NbrOfContinuousRecordingProfiles", values.get(ls + "ContinuousRecordingProfiles", "0")
        )  # S-3
        return cls(
            local_storage=_yes(values, ls + "LocalStorage"),
            sd_card=_yes(values, ls + "SDCard"),
            network_share=_yes(values, "Properties.NetworkShare.NetworkShare")
            and _yes(values, "Properties.NetworkShare.CIFS"),
            continuous_recording=_yes(values, ls + "ContinuousRecording"),
            continuous_profiles=int(profiles) if profiles.strip().isdigit() else 0,
            export=_yes(values, ls + "ExportRecording"),
            storage_limit=_yes(values, ls + "StorageLimit"),
            disk_encryption=_yes(values, ls + "DiskEncryption"),
            required_file_system=_yes(values, ls + "RequiredFileSystem"),
            disk_health=_yes(values, ls + "DiskHealth"),
        )

    def describe(self) -> list[tuple[str, bool | int]]:
        """(label, value) pairs in the order a person reads them."""
        return [
            ("SD card", self.sd_card),
            ("Network share (SMB)", self.network_share),
            ("Continuous recording profiles", self.continuous_profiles if self.continuous_recording else 0),
            ("Export", self.export),
            ("Storage limit", self.storage_limit),
            ("Disk encryption", self.disk_encryption),
            ("Required file system", self.required_file_system),
            ("Disk health", self.disk_health),
        ]


# apidiscovery.cgi ids of the edge-storage APIs (WIRE.md §1, real AXIS OS 9.80.2.2).
DISK_MANAGEMENT = "disk-management"
DISK_PROPERTIES = "disk-properties"
DISK_NETWORK_SHARE = "disk-network-share"
RECORDING = "recording"
RECORDING_EXPORT = "recording-export"
RECORDING_STORAGE_LIMIT = "recording-storage-limit"
# Not an edge-storage API, but how its state reaches us without polling (EVENTS.md §3.1). No Properties flag
# stands in for it: firmware without apidiscovery has no WebSocket stream, so it is polled.
EVENT_STREAM = "event-streaming-over-websocket"
EDGE_STORAGE_APIS = (
    DISK_MANAGEMENT,
    DISK_PROPERTIES,
    DISK_NETWORK_SHARE,
    RECORDING,
    RECORDING_EXPORT,
    RECORDING_STORAGE_LIMIT,
)


def _fallback(capabilities: StorageCapabilities) -> dict[str, bool]:
    """Each API's "supported if" property in the spec text, for firmware without apidiscovery."""
    return {
        DISK_MANAGEMENT: capabilities.local_storage,
        DISK_PROPERTIES: capabilities.required_file_system or capabilities.disk_encryption,
        DISK_NETWORK_SHARE: capabilities.network_share,
        RECORDING: capabilities.local_storage,
        RECORDING_EXPORT: capabilities.export,
        RECORDING_STORAGE_LIMIT: capabilities.storage_limit,
    }


@dataclass(frozen=True)
class ApiSupport:
    """Which edge-storage APIs a camera serves, and at which version when apidiscovery said so.

    An API counts as supported when apidiscovery lists it or its Properties flag says yes: firmware with
    apidiscovery but an API missing from its list still follows the documented property. Without
    apidiscovery (firmware before AXIS OS 9) only the properties decide and no version is known.
    """

    disk_management: bool
    disk_properties: bool
    network_share: bool
    recording: bool
    export: bool
    storage_limit: bool
    discovered: bool  # apidiscovery answered
    versions: Mapping[str, str] = field(default_factory=dict)  # API id -> version, from apidiscovery
    event_stream: bool = False  # storage events can be followed live instead of polled (apidiscovery only)

    @classmethod
    def from_discovery(cls, apis: Mapping[str, ApiInfo] | None, capabilities: StorageCapabilities) -> ApiSupport:
        listed = dict(apis or {})
        supported = {api: flag or api in listed for api, flag in _fallback(capabilities).items()}
        return cls(
            disk_management=supported[DISK_MANAGEMENT],
            disk_properties=supported[DISK_PROPERTIES],
            network_share=supported[DISK_NETWORK_SHARE],
            recording=supported[RECORDING],
            export=supported[RECORDING_EXPORT],
            storage_limit=supported[RECORDING_STORAGE_LIMIT],
            discovered=apis is not None,
            versions={api: listed[api].version for api in (*EDGE_STORAGE_APIS, EVENT_STREAM) if api in listed},
            event_stream=EVENT_STREAM in listed,
        )

    def version(self, api: str) -> tuple[int, int] | None:
        """(major, minor) from apidiscovery, or None when not discovered or not a version."""
        major, _, minor = self.versions.get(api, "").partition(".")
        if not major.isdigit() or (minor and not minor.isdigit()):
            return None
        return int(major), int(minor or 0)

    def at_least(self, api: str, major: int, minor: int = 0) -> bool:
        """Whether apidiscovery reported `api` at this major version with at least this minor (False when
        unknown: a new major version may not be compatible)."""
        version = self.version(api)
        return version is not None and version[0] == major and version[1] >= minor


async def read_api_support(transport: VapixTransport, capabilities: StorageCapabilities) -> ApiSupport:
    """Ask apidiscovery; firmware without it (404) falls back to the Properties flags."""
    try:
        apis: dict[str, ApiInfo] | None = await ApiDiscovery(transport).api_list()
    except NotFound:
        apis = None
    return ApiSupport.from_discovery(apis, capabilities)
