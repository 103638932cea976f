"""Export recording API (/axis-cgi/record/export/*.cgi), versions 1.0 to 1.2 (WIRE.md §5.4).

exportrecording.cgi streams the file while it is made (device/export/): the response starts once the first key
frame is muxed, so a request that cannot start still gets its XML error (HTTP 200, as the API's errors travel);
a failure after that cuts the transfer short, so the client can tell the file is incomplete instead of saving
half a video as if it were whole. Names: ``YYYYMMDD_HHMMSS_YYYYMMDD_HHMMSS.mkv`` from the actual start and stop,
or ``filename`` plus the format's extension; an encrypted export is ``filename.zip``, or a random ``XXXXXX.zip``.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from datetime import datetime
from urllib.parse import quote

from aiohttp import web

from device.export.archive import random_zip_name
from device.export.failures import read_failure
from device.export.formats import FORMATS, MATROSKA
from device.export.pipe import stream_from_thread
from device.export.plan import ExportError, ExportPlan, ExportRequest, find_store, locate_recording, plan_export
from device.export.produce import produce
from device.export.remux import NothingToExport
from device.export.usb import USB_DISK
from device.http.args import cgi_args
from device.http.keys import services_of, state_of
from device.http.module import ApiEntry, HttpModule
from device.http.xml import EXPORT, ApiFailure, Args, versioned, xml_response
from device.storage.layout import format_time

log = logging.getLogger(__name__)
API = EXPORT
VERSIONS = ("1.0", "1.1", "1.2")
KB = 1024


async def _plan(request: web.Request, export: ExportRequest) -> ExportPlan:
    """The plan, or the API's refusal. A block the index lists but the disk no longer has (cleanup or remove.cgi
    deleted it meanwhile), or an index that does not read, is error 10 with words for it, not an HTTP 500."""
    now: datetime = state_of(request).clock.now()
    try:
        store = find_store(services_of(request).disks, export.disk_id)
        return await asyncio.to_thread(plan_export, store, export, now)
    except ExportError as exc:
        raise ApiFailure(exc.code, exc.description) from None
    except (OSError, sqlite3.Error) as exc:
        log.exception("the export of %s could not be planned", export.recording_id)
        raise ApiFailure(10, read_failure(exc)) from None


async def schemaversions_cgi(_request: web.Request) -> web.Response:
    return xml_response(API.schema_versions(VERSIONS))


@versioned(API)
async def capabilities_cgi(_request: web.Request, _args: Args) -> web.Response:
    root = API.root()
    body = API.sub(root, "CapabilitiesSuccess")
    for export_format in FORMATS.values():
        entry = API.sub(body, "ExportCapabilities", ExportFormat=export_format.name)
        for encryption in export_format.encryptions:
            API.sub(entry, "ExportEncryption", EncryptionFormat=encryption)
    return xml_response(root)


@versioned(API)
async def properties_cgi(request: web.Request, args: Args) -> web.Response:
    export = ExportRequest.parse(args, format_required=False, takes_password=False)
    plan = await _plan(request, export)
    root = API.root()
    body = API.sub(root, "PropertiesSuccess")
    attrs = {"RecordingId": plan.recording.id, "ExportFormat": plan.format.name}
    if export.encryption:
        attrs["EncryptionFormat"] = export.encryption
    attrs["EstimatedFileSize"] = str(-(-plan.estimated_bytes(export.encryption) // KB))
    attrs["Starttime"] = format_time(plan.start)
    attrs["Stoptime"] = format_time(plan.stop)
    API.sub(body, "ExportProperties", **attrs)
    return xml_response(root)


def content_disposition(name: str) -> str:
    """``attachment; filename="…"``, with an RFC 6266 ``filename*`` when the name is not plain ASCII."""
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_").replace("\\", "_")
    header = f'attachment; filename="{ascii_name}"'
    if ascii_name != name:
        header += f"; filename*=UTF-8''{quote(name, safe='')}"
    return header


@versioned(API)
async def exportrecording_cgi(request: web.Request, args: Args) -> web.StreamResponse:
    export = ExportRequest.parse(args, format_required=True, takes_password=True)
    plan = await _plan(request, export)
    extension = plan.format.extension
    entry = f"{export.filename}.{extension}" if export.filename else plan.default_name()
    if export.password:
        name = f"{export.filename}.zip" if export.filename else random_zip_name()
        content_type = "application/zip"
    else:
        name, content_type = entry, plan.format.content_type

    return await _stream(request, plan, entry, export.password, name, content_type)


async def _stream(
    request: web.Request, plan: ExportPlan, entry: str, password: str | None, name: str, content_type: str
) -> web.StreamResponse:
    """Send the export as it is made. Until its first bytes exist a failure is ApiFailure 10 (the caller's error
    form); after that it cuts the transfer short, so the client cannot take half a file for a whole one."""

    def work(send: Callable[[bytes], None]) -> None:
        produce(plan, send, entry, password)

    chunks = stream_from_thread(work)
    try:
        first = await anext(chunks)
    except Exception as exc:  # nothing was sent yet: the API's own error
        await chunks.aclose()
        if isinstance(exc, NothingToExport):
            log.warning("export of %s could not start: %s", plan.recording.id, exc)
        else:
            log.exception("export of %s could not start", plan.recording.id)
        raise ApiFailure(10, read_failure(exc)) from None
    response = web.StreamResponse(
        headers={"Content-Type": content_type, "Content-Disposition": content_disposition(name)}
    )
    await response.prepare(request)
    try:
        await response.write(first)
        async for chunk in chunks:
            await response.write(chunk)
    except (ConnectionError, asyncio.CancelledError):
        raise
    except Exception:
        log.exception("export of %s failed after it began; the transfer is cut short", plan.recording.id)
        raise
    finally:
        await chunks.aclose()
    await response.write_eof()
    return response


async def download_cgi(request: web.Request) -> web.StreamResponse:
    """record/download.cgi, undocumented but used by real clients (WIRE.md §5.5): the whole recording as one
    Matroska file named ``<recordingid>.mkv``. It has no XML error form, so refusals are HTTP statuses; extra
    arguments (``timestamp=``) are ignored, as the general rules say."""
    args = await cgi_args(request)
    recording_id = args.get("recordingid", "").strip()
    if not recording_id:
        return web.Response(status=400, text="recordingid is required.\n")
    disk_id = await asyncio.to_thread(locate_recording, services_of(request).disks, recording_id)
    if disk_id is None:
        return web.Response(status=404, text=f"No recording {recording_id} on a mounted disk.\n")
    try:
        plan = await _plan(request, ExportRequest(recording_id, disk_id, MATROSKA))
        name = f"{recording_id}.{MATROSKA.extension}"
        return await _stream(request, plan, plan.default_name(), None, name, MATROSKA.content_type)
    except ApiFailure as exc:
        return web.Response(status=404 if exc.code == 110 else 500, text=f"{exc.description}\n")


@versioned(API)
async def exporttoexternal_cgi(request: web.Request, args: Args) -> web.Response:
    external_disk = args.get("externaldiskid", "").strip()
    if not external_disk:
        raise ApiFailure(20, "Invalid request. Required argument missing: externaldiskid.")
    if external_disk != USB_DISK:
        raise ApiFailure(200, f"Invalid external disk '{external_disk}': use {USB_DISK}.")
    export = ExportRequest.parse(args, format_required=True, takes_password=True)
    plan = await _plan(request, export)
    try:
        job, path = services_of(request).exports.start(plan, export, args.get("filepath"))
    except ExportError as exc:
        raise ApiFailure(exc.code, exc.description) from None
    root = API.root()
    body = API.sub(root, "ExportToExternalSuccess")
    API.sub(body, "ExportToExternal", JobId=str(job.id), FilePath=path)
    return xml_response(root)


@versioned(API)
async def getjobstatus_cgi(request: web.Request, args: Args) -> web.Response:
    text = args.get("jobid", "").strip()
    if not text:
        raise ApiFailure(20, "Invalid request. Required argument missing: jobid.")
    if not text.isdigit():
        raise ApiFailure(20, f"Invalid request. jobid '{text}' is not an integer.")
    job = services_of(request).exports.jobs.get(int(text))
    if job is None:
        raise ApiFailure(190, f"Job not found: no export job {text} is running or among the last five finished.")
    root = API.root()
    body = API.sub(root, "GetJobStatusSuccess")
    if job.result == "ERROR":
        general = API.sub(body, "GeneralError")
        API.sub(general, "ErrorCode").text = str(job.error_code or 10)
        API.sub(general, "ErrorDescription").text = job.description
    else:
        status = "Done" if job.finished else "In Progress"
        API.sub(body, "JobStatus", Status=status, Progress=str(job.progress))
    return xml_response(root)


# --- scenarios -------------------------------------------------------------------------------------------------


async def usb_scenario_cgi(request: web.Request) -> web.Response:
    """Admin-only: attach or detach the USB disk, flip its write protection (``readonly?state=yes|no``), or make
    it a slow stick (``speed?bytespersecond=N``, 0 for full speed)."""
    usb = services_of(request).exports.usb
    verb = request.match_info["verb"]
    state = request.query.get("state", "yes") == "yes"
    if verb == "attach":
        usb.attach()
    elif verb == "detach":
        usb.detach()
    elif verb == "readonly":
        usb.set_readonly(state)
    elif verb == "speed" and request.query.get("bytespersecond", "").isdigit():
        usb.set_write_rate(int(request.query["bytespersecond"]))
    else:
        return web.json_response({"error": f"Unknown scenario '{verb}'."}, status=400)
    return web.json_response(
        {
            "diskid": USB_DISK,
            "attached": usb.attached,
            "readonly": usb.readonly,
            "free": usb.free(),
            "path": str(usb.root),
        }
    )


def _routes() -> list[web.RouteDef]:
    routes = [
        web.get(f"/axis-cgi/record/export/{name}.cgi", handler, allow_head=False)
        for name, handler in (
            ("schemaversions", schemaversions_cgi),
            ("capabilities", capabilities_cgi),
            ("properties", properties_cgi),
            ("exportrecording", exportrecording_cgi),
            ("exporttoexternal", exporttoexternal_cgi),
            ("getjobstatus", getjobstatus_cgi),
        )
    ]
    routes.append(web.get("/axis-cgi/record/download.cgi", download_cgi, allow_head=False))
    routes.append(web.post("/local/edgestore/scenario/usb/{verb}", usb_scenario_cgi))
    return routes


MODULE = HttpModule(routes=_routes(), apis=(ApiEntry("export-recording", "1.2", "Export recording"),))
