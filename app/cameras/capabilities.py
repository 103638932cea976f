"""What a camera's edge storage can do, read from its Properties parameters.

A fleet mixes firmware from 5.x to 12.x, so every flag defaults to "no" when the camera does not report it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

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
