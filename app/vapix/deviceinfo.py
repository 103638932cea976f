"""basicdeviceinfo.cgi: the product, serial number and firmware a camera reports."""

from __future__ import annotations

from dataclasses import dataclass

from app.vapix import jsonapi
from app.vapix.transport import VapixTransport

PATH = "/axis-cgi/basicdeviceinfo.cgi"


@dataclass(frozen=True)
class DeviceInfo:
    brand: str
    model: str  # ProdNbr
    full_name: str
    serial: str
    firmware: str
    product_type: str = ""

    @classmethod
    def from_properties(cls, props: dict[str, object]) -> DeviceInfo:
        def get(key: str) -> str:
            return str(props.get(key, "") or "")

        return cls(
            get("Brand"), get("ProdNbr"), get("ProdFullName"), get("SerialNumber"), get("Version"), get("ProdType")
        )


class BasicDeviceInfo:
    def __init__(self, transport: VapixTransport) -> None:
        self._transport = transport

    async def all_properties(self) -> DeviceInfo:
        data = await jsonapi.call(self._transport, PATH, "getAllProperties", "1.0")
        return DeviceInfo.from_properties(data.get("propertyList") or {})

    async def unrestricted_properties(self) -> DeviceInfo:
        """Answered without credentials on AXIS OS: tells whether this is an Axis camera at all."""
        data = await jsonapi.call(self._transport, PATH, "getAllUnrestrictedProperties", "1.0")
        return DeviceInfo.from_properties(data.get("propertyList") or {})
