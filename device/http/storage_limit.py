"""Recording storage limit API (/axis-cgi/record/storage/*.cgi): how much of a disk this camera may use.

Sizes are kB; 0 disables the limit; anything else below 1 GiB (1048576 kB) is 130 (AMBIGUITIES.md L-4, L-5).
usedspace is what the recordings take on the disk. The cleaner enforces the limit.
"""

from __future__ import annotations

from aiohttp import web

from device.http.keys import services_of
from device.http.module import ApiEntry, HttpModule
from device.http.xml import STORAGE_LIMIT, ApiFailure, Args, versioned, xml_response

API = STORAGE_LIMIT
MIN_LIMIT_KB = 1024 * 1024
KB = 1024


@versioned(API)
async def getlimit_cgi(request: web.Request, args: Args) -> web.Response:
    manager = services_of(request).disks
    wanted = args.get("diskid")
    if wanted is not None and wanted not in manager.disks:
        raise ApiFailure(110, "Disk not found")
    root = API.root()
    body = API.sub(root, "GetStorageLimitsResponse")
    for disk in manager.disks.values():
        if wanted in (None, disk.id):
            API.sub(
                body,
                "StorageLimit",
                diskid=disk.id,
                size=str(disk.camera.limit_kb),
                usedspace=str(manager.used_by_recordings(disk) // KB),
            )
    return xml_response(root)


@versioned(API)
async def setlimit_cgi(request: web.Request, args: Args) -> web.Response:
    manager = services_of(request).disks
    if "diskid" not in args or "size" not in args:
        raise ApiFailure(20, "Invalid request. diskid and size are required.")
    if args["diskid"] not in manager.disks:
        raise ApiFailure(110, "Disk not found")
    size = args["size"].strip()
    if not size.isdigit():
        raise ApiFailure(120, "Invalid size value")
    if 0 < int(size) < MIN_LIMIT_KB:
        raise ApiFailure(130, f"Supplied size is less than the minimum allowed limit ({MIN_LIMIT_KB} kB).")
    manager.set_limit(args["diskid"], int(size))
    root = API.root()
    API.sub(root, "GeneralSuccess")
    return xml_response(root)


async def schemaversions_cgi(_request: web.Request) -> web.Response:
    return xml_response(API.schema_versions())


MODULE = HttpModule(
    routes=[
        web.get("/axis-cgi/record/storage/getlimit.cgi", getlimit_cgi, allow_head=False),
        web.get("/axis-cgi/record/storage/setlimit.cgi", setlimit_cgi, allow_head=False),
        web.get("/axis-cgi/record/storage/schemaversions.cgi", schemaversions_cgi, allow_head=False),
    ],
    apis=(ApiEntry("recording-storage-limit", "1.0", "Edge Recording storage limit"),),
)
