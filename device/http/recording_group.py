"""The Recording group API (EVENTS.md §4.1): create, update, delete, list and schemaversions under
/axis-cgi/record/recording_group/, answered as `RecordingGroupResponse` with the API's error codes 10 to 140.

The documentation's spelling quirks (a lower-case `schemaversion` attribute, `noNameSpaceSchemaLocation`) are
not copied: the root is written like every other versioned edge-storage root, which clients read either way.
Times on the wire are milliseconds (pre, post) and hours (retention), as the API gives them.
"""

from __future__ import annotations

from aiohttp import web

from device.http.keys import services_of
from device.http.module import ApiEntry, HttpModule
from device.http.xml import ApiFailure, Args, XmlApi, versioned, xml_response
from device.recorder.groups import INVALID_REQUEST, GroupChange, RecordingGroup

API = XmlApi("RecordingGroupResponse", "recording_group.xsd", "1.0")
PREFIX = "/axis-cgi/record/recording_group/"


def _number(args: Args, name: str, default: int | None = None) -> int | None:
    text = args.get(name)
    if text is None or text.strip() == "":
        return default
    if not text.strip().isdigit():
        raise ApiFailure(INVALID_REQUEST, f"Invalid request. {name} must be a whole number, not '{text}'.")
    return int(text.strip())


def _success(tag: str, **attrs: str) -> web.Response:
    root = API.root()
    API.sub(root, tag, **attrs)
    return xml_response(root)


@versioned(API)
async def create_cgi(request: web.Request, args: Args) -> web.Response:
    group = RecordingGroup(
        args.get("recordinggroupid", "").strip(),
        args.get("diskid", "").strip(),
        args.get("nicename", ""),
        args.get("description", ""),
        _number(args, "retentiontime", 0) or 0,
        args.get("streamoptions", ""),
        _number(args, "preduration", 0) or 0,
        _number(args, "postduration", 0) or 0,
    )
    created = services_of(request).events.create_group(group)
    return _success("CreateSuccess", RecordingGroupId=created.id)


@versioned(API)
async def update_cgi(request: web.Request, args: Args) -> web.Response:
    group_id = args.get("recordinggroupid", "").strip()
    if not group_id:
        raise ApiFailure(INVALID_REQUEST, "Invalid request. recordinggroupid is required.")
    if "diskid" in args:
        raise ApiFailure(INVALID_REQUEST, "Invalid request. A recording group's diskid cannot be changed.")
    change = GroupChange(
        args.get("nicename"),
        args.get("description"),
        _number(args, "retentiontime"),
        args.get("streamoptions"),
        _number(args, "preduration"),
        _number(args, "postduration"),
    )
    await services_of(request).events.update_group(group_id, change)
    return _success("GeneralSuccess")


@versioned(API)
async def delete_cgi(request: web.Request, args: Args) -> web.Response:
    group_id = args.get("recordinggroupid", "").strip()
    if not group_id:
        raise ApiFailure(INVALID_REQUEST, "Invalid request. recordinggroupid is required.")
    await services_of(request).events.delete_group(group_id)
    return _success("GeneralSuccess")


@versioned(API)
async def list_cgi(request: web.Request, args: Args) -> web.Response:
    store = services_of(request).events.groups.store
    wanted = args.get("recordinggroupid", "").strip()
    groups = [store.get(wanted)] if wanted else store.visible()
    root = API.root()
    listed = API.sub(root, "ListSuccess")
    for group in groups:
        API.sub(
            listed,
            "RecordingGroup",
            RecordingGroupId=group.id,
            NiceName=group.nice_name,
            Description=group.description,
            RetentionTime=str(group.retention_hours),
            DiskId=group.disk_id,
            StreamOptions=group.stream_options,
            PreDuration=str(group.pre_ms),
            PostDuration=str(group.post_ms),
        )
    return xml_response(root)


async def schemaversions_cgi(_request: web.Request) -> web.Response:
    return xml_response(API.schema_versions())


MODULE = HttpModule(
    routes=[
        web.get(PREFIX + "create.cgi", create_cgi, allow_head=False),
        web.get(PREFIX + "update.cgi", update_cgi, allow_head=False),
        web.get(PREFIX + "delete.cgi", delete_cgi, allow_head=False),
        web.get(PREFIX + "list.cgi", list_cgi, allow_head=False),
        web.get(PREFIX + "schemaversions.cgi", schemaversions_cgi, allow_head=False),
    ],
    apis=(ApiEntry("recording-group", "1.0", "Edge Recording group"),),
)
