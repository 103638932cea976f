"""Recording API control CGIs: record, stop, remove, and the continuous recording profiles.

Legacy `<root>` answers with the schema locations of WIRE.md §1; errors are `result="ERROR"` with an `errormsg`
(AMBIGUITIES.md G-6, R-10). record.cgi without a diskid records to Recording.DefaultDiskId.
"""

from __future__ import annotations

from aiohttp import web
from lxml import etree

from device.http.args import cgi_args
from device.http.keys import services_of, state_of
from device.http.module import ApiEntry, HttpModule
from device.http.recordings import ListError, parse_time_arg
from device.http.xml import legacy_root, xml_response
from device.recorder.profiles import ProfileLimitReached
from device.recorder.service import RecordingRefused


def _answer(schema: str, tag: str, **attrs: str) -> web.Response:
    root = legacy_root(f"recording/{schema}")
    etree.SubElement(root, tag, {**attrs, "result": "OK"})
    return xml_response(root)


def _refuse(schema: str, tag: str, message: str, **attrs: str) -> web.Response:
    root = legacy_root(f"recording/{schema}")
    etree.SubElement(root, tag, {**attrs, "result": "ERROR", "errormsg": message})
    return xml_response(root)


async def record_cgi(request: web.Request) -> web.Response:
    args = await cgi_args(request)
    disk_id = args.get("diskid") or state_of(request).params.get("Recording.DefaultDiskId")
    try:
        recording_id = await services_of(request).recorder.record(disk_id, args.get("options", ""))
    except RecordingRefused as exc:
        return _refuse("record1.xsd", "record", str(exc))
    return _answer("record1.xsd", "record", recordingid=recording_id)


async def stop_cgi(request: web.Request) -> web.Response:
    recording_id = (await cgi_args(request)).get("recordingid", "")
    try:
        await services_of(request).recorder.stop_recording(recording_id)
    except RecordingRefused as exc:
        return _refuse("stop1.xsd", "stop", str(exc), recordingid=recording_id)
    return _answer("stop1.xsd", "stop", recordingid=recording_id)


async def remove_cgi(request: web.Request) -> web.Response:
    args = await cgi_args(request)
    recorder = services_of(request).recorder
    given = args.get("recordingid", "")
    filters = {k: args[k] for k in ("beforetime", "eventid", "source") if args.get(k)}
    disk_ids = [args["diskid"]] if args.get("diskid") else list(recorder.disks.disks)
    try:
        if given and filters:
            raise RecordingRefused("recordingid cannot be combined with beforetime, eventid or source.")
        if not given and not filters:
            raise RecordingRefused("Give recordingid (or all), or one of beforetime, eventid and source.")
        if any(d not in recorder.disks.disks for d in disk_ids):
            raise RecordingRefused(f"Unknown disk ID '{args.get('diskid')}'.")
        ids = None if given.strip() == "all" else {i.strip() for i in given.split(",") if i.strip()} or None
        before = parse_time_arg("beforetime", filters["beforetime"]) if "beforetime" in filters else None
        removed = await recorder.remove(disk_ids, ids, before, filters.get("eventid"), filters.get("source"))
        if ids is not None and not removed:
            raise RecordingRefused(f"No recording with ID '{given}' could be removed (unknown or locked).")
    except (RecordingRefused, ListError) as exc:
        return _refuse("remove1.xsd", "remove", str(exc), recordingid=given)
    return _answer("remove1.xsd", "remove", recordingid=given or ",".join(removed))


async def addconfiguration_cgi(request: web.Request) -> web.Response:
    args = await cgi_args(request)
    schema = "continuousconfigurationadd1.xsd"
    if not args.get("diskid") or "options" not in args:
        return _refuse(schema, "configure", "diskid and options are required.")
    try:
        profile = await services_of(request).recorder.add_profile(
            args["diskid"], args["options"], args.get("eventid", "continuous")
        )
    except (RecordingRefused, ProfileLimitReached) as exc:
        return _refuse(schema, "configure", str(exc))
    return _answer(schema, "configure", profile=str(profile.number))


async def listconfiguration_cgi(request: web.Request) -> web.Response:
    wanted = (await cgi_args(request)).get("profile", "").strip()
    root = legacy_root("recording/continuousconfigurationlist1.xsd")
    wrapper = etree.SubElement(root, "continuousrecordingconfigurations")
    for profile in services_of(request).recorder.profiles.all():
        if not wanted or wanted == str(profile.number):
            etree.SubElement(
                wrapper,
                "continuousrecordingconfiguration",
                profile=str(profile.number),
                diskid=profile.disk_id,
                options=profile.options,
                eventid=profile.event_id,
            )
    return xml_response(root)


async def removeconfiguration_cgi(request: web.Request) -> web.Response:
    number = (await cgi_args(request)).get("profile", "").strip()
    schema = "continuousconfigurationremove1.xsd"
    try:
        if not number.isdigit():
            raise RecordingRefused("profile is required: the number addconfiguration.cgi gave.")
        await services_of(request).recorder.remove_profile(int(number))
    except RecordingRefused as exc:
        return _refuse(schema, "remove", str(exc), profile=number)
    return _answer(schema, "remove", profile=number)


MODULE = HttpModule(
    routes=[
        web.get("/axis-cgi/record/record.cgi", record_cgi, allow_head=False),
        web.get("/axis-cgi/record/stop.cgi", stop_cgi, allow_head=False),
        web.get("/axis-cgi/record/remove.cgi", remove_cgi, allow_head=False),
        web.get("/axis-cgi/record/continuous/addconfiguration.cgi", addconfiguration_cgi, allow_head=False),
        web.get("/axis-cgi/record/continuous/listconfiguration.cgi", listconfiguration_cgi, allow_head=False),
        web.get("/axis-cgi/record/continuous/removeconfiguration.cgi", removeconfiguration_cgi, allow_head=False),
    ],
    apis=(ApiEntry("recording", "1.0", "Edge Recording"),),
)
