"""Recording API listing (/axis-cgi/record/list.cgi), as real firmware answers it (WIRE.md §5.1).

Filters run in each disk's SQLite index; results from several disks are merged by start time. Paging is
0-based (real clients send startatresultnumber=0); numberofrecordings counts matches before paging, and
totalnumberofrecordings everything on the disks asked about (the spec's definitions).
"""

from __future__ import annotations

import asyncio
import heapq
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from aiohttp import web
from lxml import etree

from device.http.args import cgi_args
from device.http.keys import services_of, state_of
from device.http.module import HttpModule
from device.http.xml import legacy_root, xml_response
from device.storage.index import RecordingFilter
from device.storage.layout import RecordingMeta, format_time, parse_client_time

SCHEMA = "recording/list1.xsd"


class ListError(ValueError):
    """A list.cgi argument the camera cannot use; the message is the errormsg."""


def parse_time_arg(name: str, text: str) -> datetime:
    """ISO 8601 as the spec and real clients send it: with or without Z, fraction or offset (T-3)."""
    try:
        return parse_client_time(text)
    except ValueError:
        raise ListError(f"Invalid {name} '{text}': use YYYY-MM-DDTHH:MM:SS[.ffff]Z.") from None


@dataclass(frozen=True)
class ListQuery:
    entity: str = "recording"
    filters: RecordingFilter = field(default_factory=RecordingFilter)
    disk_ids: tuple[str, ...] = ()
    descending: bool = True
    limit: int | None = None
    offset: int = 0

    @classmethod
    def parse(cls, args: dict[str, str], now: datetime) -> ListQuery:
        entity = args.get("listentity", "recording").strip().lower()
        if entity == "recordingid":  # the document's own examples use it
            entity = "recording"
        if entity not in ("recording", "eventid", "source"):
            raise ListError(f"Invalid listentity '{entity}': use recording, eventid or source.")
        ids = tuple(i.strip() for i in args.get("recordingid", "").split(",") if i.strip() and i.strip() != "all")
        start = parse_time_arg("starttime", args["starttime"]) if args.get("starttime") else None
        stop = parse_time_arg("stoptime", args["stoptime"]) if args.get("stoptime") else None
        sort = args.get("sortorder", "descending").strip().lower()
        if sort not in ("ascending", "descending"):
            raise ListError(f"Invalid sortorder '{sort}': use ascending or descending.")
        filters = RecordingFilter(ids, start, stop, args.get("eventid") or None, args.get("source") or None, now)
        disks = tuple(d.strip() for d in args.get("diskid", "").split(",") if d.strip() and d.strip() != "all")
        return cls(
            entity,
            filters,
            disks,
            sort == "descending",
            _count(args, "maxnumberofresults"),
            _count(args, "startatresultnumber") or 0,
        )


def _count(args: dict[str, str], name: str) -> int | None:
    text = args.get(name, "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise ListError(f"Invalid {name} '{text}': use a whole number.")
    return int(text)


def _local(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).isoformat(timespec="microseconds")


def recording_element(disk_id: str, meta: RecordingMeta, locked: bool, now: datetime, zone: ZoneInfo) -> etree._Element:
    ongoing = meta.stop is None
    stop = meta.stop or now  # real firmware reports "now" as the stop of an ongoing recording
    element = etree.Element(
        "recording",
        {
            "diskid": disk_id,
            "recordingid": meta.id,
            "starttime": format_time(meta.start),
            "starttimelocal": _local(meta.start, zone),
            "stoptime": format_time(stop),
            "stoptimelocal": _local(stop, zone),
            "recordingtype": meta.trigger_type,
            "eventid": meta.trigger_name,
            "eventtrigger": meta.trigger_trigger,
            "recordingstatus": "recording" if ongoing else "completed",
            "source": meta.source,
            "locked": "Yes" if locked else "No",
        },
    )
    v = meta.video
    mimetype = "image/jpeg" if v.encoding in ("image/jpeg", "video/x-jpeg") else v.encoding
    etree.SubElement(
        element,
        "video",
        mimetype=mimetype,
        width=str(v.width),
        height=str(v.height),
        framerate=v.framerate,
        resolution=f"{v.width}x{v.height}",
    )
    return element


async def list_cgi(request: web.Request) -> web.Response:
    state, manager = state_of(request), services_of(request).disks
    now = state.clock.now()
    root = legacy_root(SCHEMA)
    try:
        query = ListQuery.parse(await cgi_args(request), now)
    except ListError as exc:
        etree.SubElement(root, "list", result="ERROR", errormsg=str(exc))
        return xml_response(root)
    stores = [
        (d.id, d.store)
        for d in manager.disks.values()
        if d.store is not None and (not query.disk_ids or d.id in query.disk_ids)
    ]
    if query.entity != "recording":
        column = "trigger_name" if query.entity == "eventid" else "source"
        values = sorted({v for _disk, store in stores for v in store.index.distinct(column)})
        wrapper = etree.SubElement(root, f"{query.entity}s")
        for value in values:
            etree.SubElement(wrapper, query.entity).text = value
        return xml_response(root)
    total = matched = 0
    pages = []
    wanted = None if query.limit is None else query.offset + query.limit
    for disk_id, store in stores:
        # In a thread: at 100k recordings the counts take milliseconds, which must not stall RTSP and the API.
        disk_total, disk_matched, page = await asyncio.to_thread(
            store.index.query_recordings, query.filters, query.descending, wanted
        )
        total, matched = total + disk_total, matched + disk_matched
        pages.append([(meta.start, meta.id, disk_id, meta, locked) for meta, locked in page])
    merged = list(heapq.merge(*pages, reverse=query.descending))
    end = None if query.limit is None else query.offset + query.limit
    wrapper = etree.SubElement(root, "recordings", totalnumberofrecordings=str(total), numberofrecordings=str(matched))
    for _start, _id, disk_id, meta, locked in merged[query.offset : end]:
        wrapper.append(recording_element(disk_id, meta, locked, now, state.identity.zone))
    return xml_response(root)


MODULE = HttpModule(
    routes=[
        web.get("/axis-cgi/record/list.cgi", list_cgi, allow_head=False),
        web.post("/axis-cgi/record/list.cgi", list_cgi),
    ],
)
