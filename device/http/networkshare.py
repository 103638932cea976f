"""Network share API (/axis-cgi/disks/networkshare/*.cgi): the camera's NAS shares and their connection test.

Bodies as WIRE.md §3 recovered them: ``ListSuccess > NetworkShares > NetworkShare`` (DiskId only while bound),
``AddSuccess ShareId``, ``TestSuccess JobId``, ``JobSuccess`` holding Progress, GeneralSuccess or GeneralError,
and ``GeneralSuccess`` directly under the root for remove and modify. list.cgi without ``shareid`` lists all
(real clients leave it out). The password is never in any answer. test.cgi's schemaversion is optional (the spec
marks it so, N-11). bind.cgi answers ``BindSuccess DiskID`` (capital ID, as the spec writes it, N-5); unbind.cgi
``GeneralSuccess``.
"""

from __future__ import annotations

from aiohttp import web

from device.errors import CodedError
from device.http.args import cgi_args
from device.http.keys import services_of
from device.http.module import ApiEntry, HttpModule
from device.http.xml import NETWORK_SHARE, ApiFailure, Args, versioned, xml_response
from device.shares.registry import ShareConfig

API = NETWORK_SHARE
BASE = "/axis-cgi/disks/networkshare"


def _general_success() -> web.Response:
    root = API.root()
    API.sub(root, "GeneralSuccess")
    return xml_response(root)


@versioned(API)
async def list_cgi(request: web.Request, args: Args) -> web.Response:
    registry = services_of(request).shares.registry
    wanted = [i.strip() for i in args.get("shareid", "all").split(",") if i.strip()]
    shares = registry.shares()
    if wanted and wanted != ["all"]:
        shares = [registry.get(i) for i in wanted]
    root = API.root()
    listing = API.sub(API.sub(root, "ListSuccess"), "NetworkShares", NumberOfShares=str(len(shares)))
    for share in shares:
        attrs = {
            "NiceName": share.nice_name,
            "ShareId": share.share_id,
            "Address": share.address,
            "Share": share.share,
            "User": share.user,
        }
        if share.bound:
            attrs["DiskId"] = "NetworkShare"
        API.sub(listing, "NetworkShare", **attrs)
    return xml_response(root)


@versioned(API)
async def add_cgi(request: web.Request, args: Args) -> web.Response:
    missing = [n for n in ("nicename", "address", "share") if not args.get(n, "").strip()]
    if missing:
        raise ApiFailure(20, f"Invalid request. Required argument missing: {', '.join(missing)}.")
    registry = services_of(request).shares.registry
    given = args.get("shareid") is not None
    share_id = args["shareid"].strip() if given else registry.new_id()
    config = ShareConfig(
        share_id,
        args["nicename"].strip(),
        args["address"].strip(),
        args["share"].strip(),
        args.get("user", ""),
        args.get("pass", ""),
    )
    registry.add(config, given)
    root = API.root()
    API.sub(root, "AddSuccess", ShareId=share_id)
    return xml_response(root)


@versioned(API)
async def modify_cgi(request: web.Request, args: Args) -> web.Response:
    share_id = args.get("shareid", "").strip()
    if not share_id:
        raise ApiFailure(20, "Invalid request. Required argument missing: shareid.")
    fields = {"nicename": "nice_name", "address": "address", "share": "share", "user": "user", "pass": "password"}
    changes: dict[str, str | int] = {
        f: args[a].strip() if a != "pass" else args[a] for a, f in fields.items() if a in args
    }
    shares = services_of(request).shares
    shares.renamed(shares.registry.modify(share_id, changes))
    return _general_success()


@versioned(API)
async def remove_cgi(request: web.Request, args: Args) -> web.Response:
    ids = [i.strip() for i in args.get("shareid", "").split(",") if i.strip()]
    if not ids:
        raise ApiFailure(20, "Invalid request. Required argument missing: shareid.")
    services_of(request).shares.registry.remove(ids)
    return _general_success()


def _share_id(args: Args) -> str:
    share_id = args.get("shareid", "").strip()
    if not share_id:
        raise ApiFailure(20, "Invalid request. Required argument missing: shareid.")
    return share_id


@versioned(API)
async def bind_cgi(request: web.Request, args: Args) -> web.Response:
    automatic = args.get("automaticmount", "yes").strip().lower()
    if automatic not in ("yes", "no"):
        raise ApiFailure(20, f"Invalid request. automaticmount must be yes or no, not '{automatic}'.")
    disk_id = await services_of(request).shares.bind(_share_id(args), automatic == "yes")
    root = API.root()
    API.sub(root, "BindSuccess", DiskID=disk_id)
    return xml_response(root)


@versioned(API)
async def unbind_cgi(request: web.Request, args: Args) -> web.Response:
    await services_of(request).shares.unbind(_share_id(args))
    return _general_success()


async def test_cgi(request: web.Request) -> web.Response:
    args = await cgi_args(request)
    try:
        if args.get("schemaversion"):
            problem = API.schema_error(args["schemaversion"])
            if problem is not None:
                raise ApiFailure(*problem)
        job = services_of(request).shares.start_test(args)
    except CodedError as exc:
        return xml_response(API.error(exc.code, exc.description))
    root = API.root()
    API.sub(root, "TestSuccess", JobId=str(job.id))
    return xml_response(root)


@versioned(API)
async def job_cgi(request: web.Request, args: Args) -> web.Response:
    text = args.get("jobid", "").strip()
    job = services_of(request).shares.tests.get(int(text)) if text.isdigit() else None
    if job is None:
        raise ApiFailure(20, f"Invalid request. No network share job '{text}'.")
    root = API.root()
    body = API.sub(root, "JobSuccess")
    if not job.finished:
        API.sub(body, "Progress").text = str(job.progress)
    elif job.result == "ERROR":
        error = API.sub(body, "GeneralError")
        API.sub(error, "ErrorCode").text = str(job.error_code or 720)
        API.sub(error, "ErrorDescription").text = job.description
    else:
        API.sub(body, "GeneralSuccess")
    return xml_response(root)


async def schemaversions_cgi(_request: web.Request) -> web.Response:
    return xml_response(API.schema_versions())


MODULE = HttpModule(
    routes=[
        web.get(f"{BASE}/{name}.cgi", handler, allow_head=False)
        for name, handler in (
            ("list", list_cgi),
            ("add", add_cgi),
            ("modify", modify_cgi),
            ("remove", remove_cgi),
            ("bind", bind_cgi),
            ("unbind", unbind_cgi),
            ("test", test_cgi),
            ("job", job_cgi),
            ("schemaversions", schemaversions_cgi),
        )
    ],
    apis=(ApiEntry("network-share", "1.0", "Network share"),),
)
