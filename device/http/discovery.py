"""apidiscovery.cgi: which APIs this camera serves, built from the modules actually wired in, so a
capability-aware client never calls an API the camera does not have."""

from __future__ import annotations

from aiohttp import web

from device.http.jsonapi import METHOD_NOT_SUPPORTED, JsonCall, JsonCallError, check_version, read_call, reply
from device.http.module import APIS, ApiEntry, HttpModule

SUPPORTED = ["1.0"]


async def apidiscovery_cgi(request: web.Request) -> web.Response:
    call: JsonCall | None = None
    try:
        call = await read_call(request)
        check_version(call, SUPPORTED)
        if call.method == "getSupportedVersions":
            return reply(call, {"apiVersions": SUPPORTED})
        if call.method == "getApiList":
            return reply(call, {"apiList": [_entry(e) for e in request.app[APIS]]})
        raise JsonCallError(METHOD_NOT_SUPPORTED, f"Method not supported: {call.method}")
    except JsonCallError as exc:
        return reply(call, error=exc)


def _entry(api: ApiEntry) -> dict[str, str]:
    return {"id": api.id, "version": api.version, "name": api.name, "docLink": api.doc_link}


MODULE = HttpModule(
    routes=[web.post("/axis-cgi/apidiscovery.cgi", apidiscovery_cgi)],
    apis=(ApiEntry("api-discovery", "1.0", "API Discovery Service"),),
)
