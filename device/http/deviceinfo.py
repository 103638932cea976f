"""basicdeviceinfo.cgi: product, serial and firmware, as clients identify a camera before anything else.

getAllUnrestrictedProperties answers without credentials, as AXIS OS does, so a client can tell an Axis
camera from some other web server before it knows the password.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from device.http.auth_middleware import has_role, unauthorized
from device.http.jsonapi import (
    INVALID_PARAMETER,
    METHOD_NOT_SUPPORTED,
    JsonCall,
    JsonCallError,
    check_version,
    read_call,
    reply,
)
from device.http.keys import state_of
from device.http.module import ApiEntry, HttpModule
from device.identity import DeviceIdentity
from device.users import Role

SUPPORTED = ["1.0", "1.1"]
_UNRESTRICTED = (
    "Brand",
    "BuildDate",
    "HardwareID",
    "ProdFullName",
    "ProdNbr",
    "ProdShortName",
    "ProdType",
    "ProdVariant",
    "SerialNumber",
    "Version",
    "WebURL",
)


def properties(identity: DeviceIdentity) -> dict[str, str]:
    return {
        "Architecture": identity.architecture,
        "Brand": identity.brand,
        "BuildDate": "",
        "HardwareID": "EDG0",
        "ProdFullName": identity.prod_full_name,
        "ProdNbr": identity.prod_nbr,
        "ProdShortName": identity.prod_short_name,
        "ProdType": identity.prod_type,
        "ProdVariant": identity.prod_variant,
        "SerialNumber": identity.serial,
        "Soc": "virtual",
        "SocSerialNumber": identity.serial,
        "Version": identity.firmware_version,
        "WebURL": identity.web_url,
    }


async def basicdeviceinfo_cgi(request: web.Request) -> web.Response:
    call: JsonCall | None = None
    try:
        call = await read_call(request)
        check_version(call, SUPPORTED)
        if call.method not in ("getAllUnrestrictedProperties", "getSupportedVersions") and not has_role(
            request, Role.VIEWER
        ):
            return unauthorized(request, state_of(request).http_auth_policy)
        return reply(call, _answer(call, properties(state_of(request).identity)))
    except JsonCallError as exc:
        return reply(call, error=exc)


def _answer(call: JsonCall, props: dict[str, str]) -> dict[str, Any]:
    if call.method == "getSupportedVersions":
        return {"apiVersions": SUPPORTED}
    if call.method == "getAllProperties":
        return {"propertyList": props}
    if call.method == "getAllUnrestrictedProperties":
        return {"propertyList": {k: props[k] for k in _UNRESTRICTED}}
    if call.method == "getProperties":
        wanted = call.params.get("propertyList")
        if not isinstance(wanted, list) or not all(isinstance(w, str) and w in props for w in wanted):
            raise JsonCallError(INVALID_PARAMETER, "propertyList must name known properties")
        return {"propertyList": {k: props[k] for k in wanted}}
    raise JsonCallError(METHOD_NOT_SUPPORTED, f"Method not supported: {call.method}")


MODULE = HttpModule(
    routes=[web.post("/axis-cgi/basicdeviceinfo.cgi", basicdeviceinfo_cgi)],
    apis=(ApiEntry("basic-device-info", "1.1", "Basic Device Information"),),
)
