"""Recording storage limit API (/axis-cgi/record/storage/*.cgi): how much of a disk recordings may take
(WIRE.md §4). Sizes are kB; 0 disables the limit; otherwise the minimum is 1048576 kB (1 GiB, L-4)."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from app.vapix import xmlwire
from app.vapix.errors import ApiError, ProtocolError
from app.vapix.schemaversions import SchemaVersions
from app.vapix.transport import VapixTransport

BASE = "/axis-cgi/record/storage"
SCHEMA_VERSION = "1"
MIN_LIMIT_KB = 1024 * 1024

ERROR_TEXTS: dict[int, str] = {
    10: "The camera could not process the request.",
    20: "The camera refused the request as invalid.",
    40: "The camera does not support this version of the Recording storage limit API.",
    110: "The camera has no disk with this ID.",
    120: "The limit must be a whole number of kilobytes.",
    130: f"The limit must be 0 (no limit) or at least {MIN_LIMIT_KB} kB (1 GiB).",
}


def error_text(error: ApiError) -> str:
    return ERROR_TEXTS.get(error.code, error.description) if error.code is not None else error.description


@dataclass(frozen=True)
class StorageLimit:
    disk_id: str
    size_kb: int  # 0: no limit
    used_kb: int  # what recordings take on the disk

    @property
    def enabled(self) -> bool:
        return self.size_kb > 0

    @classmethod
    def from_element(cls, element: etree._Element) -> StorageLimit:
        disk_id = xmlwire.attr(element, "diskid", "DiskId", "DiskID")
        if not disk_id:
            raise ProtocolError("a StorageLimit has no diskid")
        # The examples write usedspace, the attribute table usedsize (L-1).
        return cls(disk_id, _kb(element, "size", required=True), _kb(element, "usedspace", "usedsize"))

    @classmethod
    def list_from_xml(cls, root: etree._Element) -> list[StorageLimit]:
        xmlwire.raise_for_error(root)
        elements = xmlwire.find_all(root, "StorageLimit")  # under GetStorageLimitsResponse, or not (L-2)
        if not elements and xmlwire.find(root, "GetStorageLimitsResponse") is None:
            raise ProtocolError("getlimit.cgi answered without storage limits")
        return [cls.from_element(e) for e in elements]


def _kb(element: etree._Element, *names: str, required: bool = False) -> int:
    value = xmlwire.attr(element, *names)
    if value is None:
        if required:
            raise ProtocolError(f"StorageLimit has no {names[0]}")
        return 0
    try:
        return int(value.strip())
    except ValueError:
        raise ProtocolError(f"StorageLimit has {names[0]}={value!r}, which is not a whole number") from None


class StorageLimits:
    def __init__(self, transport: VapixTransport) -> None:
        self._transport = transport

    async def schema_versions(self) -> SchemaVersions:
        return SchemaVersions.from_xml(await self._transport.get_xml(f"{BASE}/schemaversions.cgi"))

    async def limits(self, disk_id: str | None = None) -> list[StorageLimit]:
        """Every disk's limit, or one disk's; an unknown disk is ApiError 110."""
        params = {"schemaversion": SCHEMA_VERSION}
        if disk_id is not None:
            params["diskid"] = disk_id
        return StorageLimit.list_from_xml(await self._transport.get_xml(f"{BASE}/getlimit.cgi", params))

    async def set_limit(self, disk_id: str, size_kb: int) -> None:
        """0 disables the limit; the camera refuses 1..1048575 kB with code 130."""
        params = {"schemaversion": SCHEMA_VERSION, "diskid": disk_id, "size": str(size_kb)}
        root = await self._transport.get_xml(f"{BASE}/setlimit.cgi", params)
        if xmlwire.find(root, "GeneralSuccess") is None:
            raise ProtocolError("setlimit.cgi answered neither GeneralSuccess nor an error")
