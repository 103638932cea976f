"""Disk management API (/axis-cgi/disks/*.cgi): list, capabilities, health, lock, and the job CGIs.

Responses use the legacy `<root>` with the schema locations of WIRE.md §1; errors use the legacy styles of
AMBIGUITIES.md G-6 (`result="ERROR"` with a description). list.cgi follows real firmware (WIRE.md §2.1).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable

from aiohttp import web
from lxml import etree

from device.http.args import cgi_args
from device.http.keys import services_of
from device.http.module import ApiEntry, HttpModule
from device.http.xml import XSI, legacy_root, xml_response
from device.jobs import JobFailed
from device.storage.disk import Disk
from device.storage.manager import DiskError, DiskManager
from device.storage.space import DiskFull

KB = 1024
# The internal cleanup level real firmware reports in list.cgi whatever the obsolete parameter says.
INTERNAL_CLEANUP_LEVEL = "99"


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def _true(value: bool) -> str:
    return "true" if value else "false"


def disk_element(manager: DiskManager, disk: Disk) -> etree._Element:
    def param(name: str) -> str:
        return manager.state.params.get(f"Storage.{disk.spec.group}.{name}")

    card = disk.card() if disk.camera.present else None
    present = disk.camera.present and not disk.camera.failed
    attrs = {
        "diskid": disk.id,
        "name": param("FriendlyName"),
        "totalsize": str(disk.capacity // KB if present else 0),
        "freesize": str(disk.space.free // KB if disk.mounted else 0),
        "cleanuplevel": INTERNAL_CLEANUP_LEVEL,
        "cleanupmaxage": param("CleanupMaxAge"),
        "cleanuppolicy": param("CleanupPolicyActive"),
        "locked": param("Locked"),
        "full": _yes(manager.full(disk)),
        "readonly": _yes(disk.readonly_mount),
        "status": disk.status.value,
        "filesystem": card.file_system if card else param("FileSystem"),
        "group": disk.spec.group,
        "requiredfilesystem": param("RequiredFileSystem"),
        "encryptionenabled": _true(disk.camera.encryption_enabled),  # real firmware's name
        "diskencrypted": _true(bool(card and card.encrypted)),
        "diskencryptionenabled": _true(disk.camera.encryption_enabled),  # the document's name
    }
    return etree.Element("disk", attrs)


def _wanted(manager: DiskManager, arg: str) -> list[Disk]:
    names = [n.strip() for n in arg.split(",") if n.strip()]
    if not names or "all" in names:
        return list(manager.disks.values())
    return [manager.disks[n] for n in names if n in manager.disks]


async def list_cgi(request: web.Request) -> web.Response:
    manager = services_of(request).disks
    root = legacy_root("disk/list1.xsd")
    disks = _wanted(manager, (await cgi_args(request)).get("diskid", "all"))
    wrapper = etree.SubElement(root, "disks", numberofdisks=str(len(disks)))
    for disk in disks:
        wrapper.append(disk_element(manager, disk))
    return xml_response(root)


def _legacy_error(schema: str, tag: str, description: str, **attrs: str) -> web.Response:
    root = legacy_root(schema)
    etree.SubElement(root, tag, {**attrs, "result": "ERROR", "description": description})
    return xml_response(root)


async def getcapabilities_cgi(request: web.Request) -> web.Response:
    manager = services_of(request).disks
    disk_id = (await cgi_args(request)).get("diskid", "")
    disk = manager.disks.get(disk_id)
    if disk is None:
        return _legacy_error("disk/capabilities1.xsd", "disk", f"Unknown disk ID '{disk_id}'.", diskid=disk_id)
    root = legacy_root("disk/capabilities1.xsd")
    element = etree.SubElement(
        root,
        "disk",
        diskid=disk.id,
        requiredfssupported=_true(bool(disk.spec.required_fs)),
        encryptionsupported=_true(disk.spec.encryption),
    )
    systems = etree.SubElement(element, "filesystems")
    for name in disk.spec.file_systems:
        etree.SubElement(
            systems, "filesystem", name=name, nicename=" ", requiredfssupported=_true(name in disk.spec.required_fs)
        )
    return xml_response(root)


async def gethealth_cgi(request: web.Request) -> web.Response:
    manager = services_of(request).disks
    root = etree.Element("HealthStatusResponse", nsmap={"xsi": XSI})
    root.set(f"{{{XSI}}}noNamespaceSchemaLocation", "http://www.axis.com/vapix/http_cgi/disk/gethealth1.xsd")
    success = etree.SubElement(root, "HealthStatusSuccess")
    for disk in manager.disks.values():
        wear, _temperature, _overall = manager.health(disk)
        # SD cards report wear only; temperature and overall health belong to disk types that have them.
        etree.SubElement(success, "HealthStatus", diskid=disk.id, wear=str(wear))
    return xml_response(root)


async def lock_cgi(request: web.Request) -> web.Response:
    args = await cgi_args(request)
    action, disk_id = args.get("action", ""), args.get("diskid", "")
    manager = services_of(request).disks
    tag = action if action in ("lock", "unlock") else "lock"
    if action not in ("lock", "unlock"):
        return _legacy_error("disk/lock1.xsd", tag, "The action must be lock or unlock.", diskid=disk_id)
    if disk_id not in manager.disks:
        return _legacy_error("disk/lock1.xsd", tag, f"Unknown disk ID '{disk_id}'.", diskid=disk_id)
    manager.lock(disk_id, action == "lock")
    await manager.settle()  # active recordings on a locked disk have stopped when the answer comes
    root = legacy_root("disk/lock1.xsd")
    etree.SubElement(root, tag, diskid=disk_id, result="OK")
    return xml_response(root)


# --- jobs ------------------------------------------------------------------------------------------------------


async def _run_job(
    manager: DiskManager, action: str, disk_id: str, file_system: str | None, progress: Callable[[float], None]
) -> str:
    """The work behind a started job; a DiskError ends the job with result ERROR and its description."""
    try:
        if action == "format":
            return await manager.format(disk_id, file_system, progress)
        if action == "checkdisk":
            return await manager.check(disk_id, progress)
        if action == "repair":
            return await manager.repair(disk_id, progress)
        if action == "unmount":
            return await manager.unmount(disk_id)
        return await manager.mount(disk_id, progress)
    except DiskError as exc:
        raise JobFailed(str(exc)) from None
    finally:
        manager.end_job(disk_id)


def _job_cgi(action: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        args = await cgi_args(request)
        services = services_of(request)
        disk_id = args.get("diskid", "")
        shown = args.get("action", "") if action == "mount" else action
        try:
            if action == "mount" and shown not in ("mount", "unmount"):
                raise DiskError("The action must be mount or unmount.")
            services.disks.preflight(shown, disk_id, args.get("filesystem") or None)
            services.disks.begin_job(disk_id)
        except DiskError as exc:
            return _legacy_error("disk/startjob1.xsd", "job", str(exc), action=shown, diskid=disk_id)
        work = functools.partial(_run_job, services.disks, shown, disk_id, args.get("filesystem") or None)
        job = services.jobs.start(shown, disk_id, work)
        root = legacy_root("disk/startjob1.xsd")
        etree.SubElement(root, "job", action=shown, diskid=disk_id, result="OK", jobid=str(job.id))
        return xml_response(root)

    return handler


async def job_cgi(request: web.Request) -> web.Response:
    args = await cgi_args(request)
    jobid, disk_id = args.get("jobid", ""), args.get("diskid", "")
    job = services_of(request).jobs.get(int(jobid)) if jobid.isdigit() else None
    root = legacy_root("disk/checkjob1.xsd")
    if job is None or job.target != disk_id:
        etree.SubElement(
            root,
            "job",
            jobid=jobid,
            diskid=disk_id,
            action="N/A",
            progress="100",
            result="ERROR",
            description="No such job for this disk (it may have expired).",
        )
    else:
        etree.SubElement(
            root,
            "job",
            jobid=str(job.id),
            diskid=disk_id,
            action=job.action,
            result=job.result,
            progress=str(job.progress),
            description=job.description,
        )
    return xml_response(root)


# --- scenarios -------------------------------------------------------------------------------------------------


async def scenario_cgi(request: web.Request) -> web.Response:
    """Admin-only rehearsal of field failures: pull/insert the card, read-only switch, failure, wear."""
    manager = services_of(request).disks
    disk_id, verb = request.match_info["disk_id"], request.match_info["verb"]
    args = await cgi_args(request)
    if disk_id not in manager.disks:
        return web.json_response({"error": f"Unknown disk ID '{disk_id}'."}, status=404)
    state = args.get("state", "yes") == "yes"
    if verb == "pull":
        await manager.pull_card(disk_id)
    elif verb == "insert":
        await manager.insert_card(disk_id)
    elif verb == "readonly":
        await manager.set_readonly(disk_id, state)
    elif verb == "fail":
        await manager.set_failed(disk_id, state)
    elif verb == "wear" and args.get("percent", "").isdigit() and int(args["percent"]) <= 1000:
        manager.set_wear(disk_id, int(args["percent"]))
    elif verb == "sample-recording":
        return await _sample(manager, disk_id, args)
    elif verb == "cleanup":
        deleted = await manager.clean(disk_id)
        return web.json_response({"diskid": disk_id, "deletedblocks": deleted})
    else:
        return web.json_response({"error": f"Unknown scenario '{verb}' or bad argument."}, status=400)
    disk = manager.disk(disk_id)
    return web.json_response({"diskid": disk_id, "status": disk.status.value, "mounted": disk.mounted})


async def _sample(manager: DiskManager, disk_id: str, args: dict[str, str]) -> web.Response:
    try:
        seconds = int(args.get("seconds", "20"))
        block_seconds = int(args.get("blockseconds", "10"))
        age_days = float(args.get("agedays", "0"))
        if not (1 <= seconds <= 3600 and 1 <= block_seconds <= 600 and 0 <= age_days <= 7000):
            raise ValueError
    except ValueError:
        return web.json_response({"error": "seconds 1-3600, blockseconds 1-600, agedays 0-7000"}, status=400)
    try:
        recording_id = await asyncio.to_thread(manager.write_sample, disk_id, seconds, block_seconds, age_days)
        manager.refresh_state(disk_id)
    except (DiskError, DiskFull, OSError) as exc:
        return web.json_response({"error": str(exc)}, status=409)
    return web.json_response({"diskid": disk_id, "recordingid": recording_id})


def _routes() -> list[web.RouteDef]:
    routes = []
    for name, handler in (
        ("list", list_cgi),
        ("getcapabilities", getcapabilities_cgi),
        ("gethealth", gethealth_cgi),
        ("lock", lock_cgi),
        ("job", job_cgi),
        ("format", _job_cgi("format")),
        ("checkdisk", _job_cgi("checkdisk")),
        ("repair", _job_cgi("repair")),
        ("mount", _job_cgi("mount")),
    ):
        routes.append(web.get(f"/axis-cgi/disks/{name}.cgi", handler, allow_head=False))
    routes.append(web.post("/local/edgestore/scenario/disks/{disk_id}/{verb}", scenario_cgi))
    return routes


MODULE = HttpModule(routes=_routes(), apis=(ApiEntry("disk-management", "1.0", "Edge storage Disk management"),))
