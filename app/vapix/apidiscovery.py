"""apidiscovery.cgi: which APIs, at which versions, a camera serves."""

from __future__ import annotations

from dataclasses import dataclass

from app.vapix import jsonapi
from app.vapix.transport import VapixTransport

PATH = "/axis-cgi/apidiscovery.cgi"


@dataclass(frozen=True)
class ApiInfo:
    id: str
    version: str
    name: str


class ApiDiscovery:
    def __init__(self, transport: VapixTransport) -> None:
        self._transport = transport

    async def api_list(self) -> dict[str, ApiInfo]:
        """By API id. Firmware older than AXIS OS 9 has no apidiscovery.cgi and raises NotFound."""
        data = await jsonapi.call(self._transport, PATH, "getApiList")
        apis = (
            ApiInfo(str(a.get("id", "")), str(a.get("version", "")), str(a.get("name", "")))
            for a in data.get("apiList", [])
            if isinstance(a, dict)
        )
        return {api.id: api for api in apis if api.id}
