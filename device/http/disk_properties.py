"""Disk properties API (/axis-cgi/disks/properties/*.cgi): required file system, encryption, cleanup settings,
alert levels, with the `DiskPropertiesResponse > Success|Error` shape of WIRE.md §2.7.

setcleanupmaxage and setcleanuppolicy write the same Storage.S# parameters param.cgi shows, so the two ways
of setting them never disagree (AMBIGUITIES.md P-9). The copy-pasted encryption codes these CGIs list are
not emitted (P-2); an unknown disk is 50, or 20 for setrequiredfs (P-12).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from lxml import etree

from device.http.keys import services_of, state_of
from device.http.module import ApiEntry, HttpModule
from device.http.xml import DISK_PROPERTIES, ApiFailure, Args, versioned, xml_response
from device.params.validators import IntRange
from device.storage.manager import DiskError, EncryptionError

API = DISK_PROPERTIES
SUPPORTED_VERSIONS = ("1.0", "1.1")


def success(body: etree._Element | None = None) -> web.Response:
    root = API.root()
    wrapper = API.sub(root, "Success")
    wrapper.append(body if body is not None else etree.Element(f"{{{API.namespace}}}GeneralSuccess"))
    return xml_response(root)


Handler = Callable[[web.Request, Args], Awaitable[web.Response]]


def endpoint(handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """The shared schema check and error body, with the disk manager's refusals as this API's codes."""

    @versioned(API, error_wrapper="Error")
    async def run(request: web.Request, args: Args) -> web.Response:
        try:
            return await handler(request, args)
        except EncryptionError as exc:
            raise ApiFailure(exc.code, str(exc)) from None
        except DiskError as exc:
            raise ApiFailure(10, str(exc)) from None

    return run


def _disk_group(request: web.Request, args: dict[str, str], unknown_code: int = 50) -> str:
    disk_id = args.get("diskid", "")
    disk = services_of(request).disks.disks.get(disk_id)
    if disk is None:
        raise ApiFailure(unknown_code, f"Invalid disk ID '{disk_id}'." if disk_id else "diskid is required.")
    return disk.spec.group


async def setrequiredfs(request: web.Request, args: dict[str, str]) -> web.Response:
    manager = services_of(request).disks
    group = _disk_group(request, args, unknown_code=20)
    fs = args.get("filesystem", "")
    if not fs:
        raise ApiFailure(20, "Invalid request. filesystem is required (none or ext4).")
    disk = manager.disk(args["diskid"])
    if fs != "none" and fs not in disk.spec.required_fs:
        raise ApiFailure(30, f"Specified file system '{fs}' is not supported as required file system.")
    state_of(request).params.put(f"Storage.{group}.RequiredFileSystem", fs)
    return success()


async def enablediskencryption(request: web.Request, args: dict[str, str]) -> web.Response:
    if "passphrase" not in args:
        raise ApiFailure(20, "Invalid request. passphrase is required.")
    services_of(request).disks.enable_encryption(args.get("diskid", ""), args["passphrase"])
    return success()


async def disablediskencryption(request: web.Request, args: dict[str, str]) -> web.Response:
    services_of(request).disks.disable_encryption(args.get("diskid", ""))
    return success()


async def changediskpassphrase(request: web.Request, args: dict[str, str]) -> web.Response:
    if "newpassphrase" not in args or "oldpassphrase" not in args:
        raise ApiFailure(20, "Invalid request. newpassphrase and oldpassphrase are required.")
    services_of(request).disks.change_passphrase(args.get("diskid", ""), args["oldpassphrase"], args["newpassphrase"])
    return success()


def _set_param(request: web.Request, args: dict[str, str], arg: str, name: str) -> web.Response:
    group = _disk_group(request, args)
    params = state_of(request).params
    full = f"Storage.{group}.{name}"
    if arg not in args:
        raise ApiFailure(20, f"Invalid request. {arg} is required.")
    try:
        value = params.definition(full).validate(args[arg])
    except ValueError as exc:
        raise ApiFailure(20, f"Invalid request. {arg} {exc}.") from None
    params.put(full, value)
    return success()


async def setcleanupmaxage(request: web.Request, args: dict[str, str]) -> web.Response:
    return _set_param(request, args, "maxage", "CleanupMaxAge")


async def setcleanuppolicy(request: web.Request, args: dict[str, str]) -> web.Response:
    return _set_param(request, args, "cleanuppolicy", "CleanupPolicyActive")


_LEVEL = IntRange(0, 1_000_000)


async def setdiskalertlevels(request: web.Request, args: dict[str, str]) -> web.Response:
    _disk_group(request, args)
    levels: dict[str, int | None] = {}
    for name in ("wear", "temperature"):
        text = args.get(name)
        try:
            levels[name] = int(_LEVEL(text)) if text is not None else None
        except ValueError:
            raise ApiFailure(20, f"Invalid request. {name} must be a whole number >= 0.") from None
    if levels["wear"] is None and levels["temperature"] is None:
        raise ApiFailure(20, "Invalid request. Give wear, temperature or both.")
    services_of(request).disks.set_alert_levels(args["diskid"], levels["wear"], levels["temperature"])
    return success()


async def getdiskalertlevels(request: web.Request, args: dict[str, str]) -> web.Response:
    _disk_group(request, args)
    camera = services_of(request).disks.disk(args["diskid"]).camera
    body = etree.Element(f"{{{API.namespace}}}GetAlertLevelsSuccess")
    levels = API.sub(body, "AlertLevels")
    if camera.alert_wear is not None:
        levels.set("Wear", str(camera.alert_wear))
    if camera.alert_temperature is not None:
        levels.set("Temperature", str(camera.alert_temperature))
    return success(body)


async def schemaversions(_request: web.Request) -> web.Response:
    body = etree.Element(f"{{{API.namespace}}}SchemaVersionsSuccess")
    for version in SUPPORTED_VERSIONS:
        entry = API.sub(body, "SchemaVersion")
        API.sub(entry, "VersionNumber").text = version
        API.sub(entry, "Deprecated").text = "false"
    return success(body)


_HANDLERS: dict[str, Handler] = {
    "setrequiredfs": setrequiredfs,
    "enablediskencryption": enablediskencryption,
    "disablediskencryption": disablediskencryption,
    "changediskpassphrase": changediskpassphrase,
    "setcleanupmaxage": setcleanupmaxage,
    "setcleanuppolicy": setcleanuppolicy,
    "setdiskalertlevels": setdiskalertlevels,
    "getdiskalertlevels": getdiskalertlevels,
}

MODULE = HttpModule(
    routes=[
        *(
            web.get(f"/axis-cgi/disks/properties/{name}.cgi", endpoint(h), allow_head=False)
            for name, h in _HANDLERS.items()
        ),
        web.get("/axis-cgi/disks/properties/schemaversions.cgi", schemaversions, allow_head=False),
    ],
    apis=(ApiEntry("disk-properties", "1.1", "Edge storage Disk properties"),),
)
