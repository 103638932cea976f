"""Disk properties API (/axis-cgi/disks/properties/*.cgi): required file system, disk encryption, cleanup
settings and health alert levels (WIRE.md §2.7).

Answers are `DiskPropertiesResponse > Success | Error` in a default namespace (P-10), read by local name.
Errors come back as ApiError with the camera's code; ERROR_TEXTS gives the API's own codes a sentence a
person can act on, without an exception class per code.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from app.vapix import xmlwire
from app.vapix.errors import ApiError, ProtocolError
from app.vapix.schemaversions import SchemaVersions
from app.vapix.transport import VapixTransport

BASE = "/axis-cgi/disks/properties"
SCHEMA_VERSION = "1"  # requests carry the major version only (G-4)

# The Disk properties error table (spec text, "General error response"), in the user's terms.
ERROR_TEXTS: dict[int, str] = {
    10: "The camera could not process the request.",
    20: "The camera refused the request as invalid.",
    30: "The disk cannot require this file system.",
    40: "The camera does not support this version of the Disk properties API.",
    50: "The camera has no disk with this ID.",
    100: "This disk does not support encryption.",
    110: "The passphrase is not valid (it must be 1 to 512 bytes).",
    120: "The new passphrase is not valid (it must be 1 to 512 bytes).",
    130: "The old passphrase is wrong.",
    140: "Encryption is already enabled on this disk.",
    150: "The disk must be mounted to change its passphrase.",
    160: "The disk must be unmounted to enable or disable encryption.",
}


def error_text(error: ApiError) -> str:
    """What to tell the user about a Disk properties error: the known meaning of its code, else the camera's."""
    return ERROR_TEXTS.get(error.code, error.description) if error.code is not None else error.description


@dataclass(frozen=True)
class AlertLevels:
    """The health levels that raise the storage alert event: wear in percent, temperature in kelvin; None when
    not set."""

    wear: int | None
    temperature: int | None

    @classmethod
    def from_xml(cls, root: etree._Element) -> AlertLevels:
        xmlwire.raise_for_error(root)
        levels = xmlwire.find(root, "AlertLevels")  # with or without wrappers and namespace (P-6)
        if levels is None:
            raise ProtocolError("getdiskalertlevels.cgi answered without AlertLevels")
        return cls(_level(levels, "Wear", "wear"), _level(levels, "Temperature", "temperature"))


def _level(element: etree._Element, *names: str) -> int | None:
    value = xmlwire.attr(element, *names)
    if value is None or not value.strip():
        return None
    try:
        return int(value.strip())
    except ValueError:
        raise ProtocolError(f"AlertLevels has {names[0]}={value!r}, which is not a whole number") from None


def _require_success(root: etree._Element, cgi: str) -> None:
    xmlwire.raise_for_error(root)
    if xmlwire.find(root, "Success") is None and xmlwire.find(root, "GeneralSuccess") is None:
        raise ProtocolError(f"{cgi} answered neither Success nor an error")


class DiskProperties:
    def __init__(self, transport: VapixTransport) -> None:
        self._transport = transport

    async def _call(self, cgi: str, disk_id: str, **args: str) -> etree._Element:
        params = {"schemaversion": SCHEMA_VERSION, "diskid": disk_id, **args}
        return await self._transport.get_xml(f"{BASE}/{cgi}", params)

    async def _set(self, cgi: str, disk_id: str, **args: str) -> None:
        _require_success(await self._call(cgi, disk_id, **args), cgi)

    async def schema_versions(self) -> SchemaVersions:
        return SchemaVersions.from_xml(await self._transport.get_xml(f"{BASE}/schemaversions.cgi"))

    async def set_required_fs(self, disk_id: str, fs: str) -> None:
        """`ext4` (from getcapabilities' requiredfssupported) or `none` to stop requiring one (P-3)."""
        await self._set("setrequiredfs.cgi", disk_id, filesystem=fs)

    async def enable_encryption(self, disk_id: str, passphrase: str) -> None:
        """On an unmounted disk; the disk is encrypted once formatted (P-8: unmount, enable, format, mount)."""
        await self._set("enablediskencryption.cgi", disk_id, passphrase=passphrase)

    async def disable_encryption(self, disk_id: str) -> None:
        await self._set("disablediskencryption.cgi", disk_id)

    async def change_passphrase(self, disk_id: str, old: str, new: str) -> None:
        """On a mounted, encrypted disk; code 130 when `old` is wrong."""
        await self._set("changediskpassphrase.cgi", disk_id, oldpassphrase=old, newpassphrase=new)

    async def set_cleanup_max_age(self, disk_id: str, days: int) -> None:
        """0 to 7000 days; 0 keeps recordings whatever their age."""
        await self._set("setcleanupmaxage.cgi", disk_id, maxage=str(days))

    async def set_cleanup_policy(self, disk_id: str, policy: str) -> None:
        """`fifo` (delete the oldest when full) or `none`."""
        await self._set("setcleanuppolicy.cgi", disk_id, cleanuppolicy=policy)

    async def set_alert_levels(self, disk_id: str, wear: int | None = None, temperature: int | None = None) -> None:
        """Wear in percent, temperature in kelvin; a level left out keeps its value (P-7)."""
        args = {name: str(value) for name, value in (("wear", wear), ("temperature", temperature)) if value is not None}
        if not args:
            raise ValueError("give wear, temperature or both")
        await self._set("setdiskalertlevels.cgi", disk_id, **args)

    async def alert_levels(self, disk_id: str) -> AlertLevels:
        return AlertLevels.from_xml(await self._call("getdiskalertlevels.cgi", disk_id))
