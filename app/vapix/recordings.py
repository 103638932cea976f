"""Recording API listing (/axis-cgi/record/list.cgi): typed recordings, and an async iterator that pages.

Real cameras differ in small ways (WIRE.md §5.1): stoptime may be empty for an ongoing recording, framerate
is "N:D" or a number, locked is "No"/"yes"/absent, times carry microseconds or not, a Z or an offset. The
model accepts all of them. Sort order is always sent explicitly (R-5).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from fractions import Fraction

from lxml import etree

from app.vapix import xmlwire
from app.vapix.errors import ProtocolError
from app.vapix.transport import VapixTransport

PATH = "/axis-cgi/record/list.cgi"


class RecordingStatus(StrEnum):
    RECORDING = "recording"
    COMPLETED = "completed"
    UNKNOWN = "unknown"

    @classmethod
    def parse(cls, text: str | None) -> RecordingStatus:
        value = (text or "").strip().lower()
        return next((s for s in cls if s.value == value), cls.UNKNOWN)


def parse_time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ProtocolError(f"not a time: {text!r}") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _offset(text: str | None) -> timedelta | None:
    """The UTC offset of a local time such as starttimelocal; None when absent, unreadable or without offset."""
    try:
        moment = datetime.fromisoformat((text or "").strip())
    except ValueError:
        return None
    return moment.utcoffset()


def format_query_time(moment: datetime) -> str:
    """`YYYY-MM-DDTHH:MM:SS[.ffffff]Z`, what every firmware accepts (T-3)."""
    text = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f").rstrip("0").rstrip(".")
    return text + "Z"


def _framerate(text: str | None) -> Fraction | None:
    if not text:
        return None
    try:
        num, _, den = text.replace("/", ":").partition(":")
        return Fraction(int(num), int(den or 1)) if den else Fraction(text)
    except (ValueError, ZeroDivisionError):
        return None


@dataclass(frozen=True)
class VideoInfo:
    mimetype: str
    width: int
    height: int
    framerate: Fraction | None

    @classmethod
    def from_element(cls, element: etree._Element | None) -> VideoInfo | None:
        if element is None:
            return None
        width, height = element.get("width"), element.get("height")
        resolution = element.get("resolution", "")
        if (not width or not height) and "x" in resolution:
            width, height = resolution.split("x", 1)
        try:
            return cls(
                element.get("mimetype", ""), int(width or 0), int(height or 0), _framerate(element.get("framerate"))
            )
        except ValueError:
            raise ProtocolError(f"a video element has a bad size: {dict(element.attrib)}") from None


@dataclass(frozen=True)
class Recording:
    recording_id: str
    disk_id: str
    start: datetime
    stop: datetime | None  # None when the camera gave none (an ongoing recording on some firmware)
    status: RecordingStatus
    recording_type: str
    event_id: str
    event_trigger: str
    source: str
    locked: bool
    video: VideoInfo | None
    utc_offset: timedelta | None = None  # the camera's, from starttimelocal: where its days begin

    @property
    def ongoing(self) -> bool:
        return self.status is RecordingStatus.RECORDING

    @classmethod
    def from_element(cls, element: etree._Element) -> Recording:
        recording_id, start = element.get("recordingid"), element.get("starttime")
        if not recording_id or not start:
            raise ProtocolError("a recording has no recordingid or starttime")
        stop = (element.get("stoptime") or "").strip()
        return cls(
            recording_id,
            element.get("diskid", ""),
            parse_time(start),
            parse_time(stop) if stop else None,
            RecordingStatus.parse(element.get("recordingstatus")),
            element.get("recordingtype", ""),
            (element.get("eventid") or "").strip(),
            (element.get("eventtrigger") or "").strip(),
            element.get("source", ""),
            (element.get("locked") or "no").strip().lower() in ("yes", "true"),
            VideoInfo.from_element(xmlwire.find(element, "video")),
            _offset(element.get("starttimelocal")),
        )


@dataclass(frozen=True)
class RecordingPage:
    total: int  # every recording on the disks asked about
    matched: int  # those matching the filters, before paging
    recordings: list[Recording]

    @classmethod
    def from_xml(cls, root: etree._Element) -> RecordingPage:
        wrapper = xmlwire.find(root, "recordings")
        if wrapper is None:
            raise ProtocolError("list.cgi answered without a recordings element")
        items = [Recording.from_element(e) for e in xmlwire.find_all(wrapper, "recording")]
        try:
            total = int(wrapper.get("totalnumberofrecordings", len(items)))
            matched = int(wrapper.get("numberofrecordings", len(items)))
        except ValueError:
            raise ProtocolError("list.cgi sent counts that are not numbers") from None
        return cls(total, matched, items)


@dataclass(frozen=True)
class RecordingQuery:
    start: datetime | None = None
    stop: datetime | None = None
    disk_id: str | None = None
    event_id: str | None = None
    source: str | None = None
    recording_id: str | None = None
    ascending: bool = False

    def params(self) -> dict[str, str]:
        params = {
            "recordingid": self.recording_id or "all",
            "sortorder": "ascending" if self.ascending else "descending",
        }
        for name, value in (("diskid", self.disk_id), ("eventid", self.event_id), ("source", self.source)):
            if value:
                params[name] = value
        if self.start:
            params["starttime"] = format_query_time(self.start)
        if self.stop:
            params["stoptime"] = format_query_time(self.stop)
        return params


class Recordings:
    def __init__(self, transport: VapixTransport) -> None:
        self._transport = transport

    async def page(self, query: RecordingQuery, start_at: int = 0, max_results: int | None = None) -> RecordingPage:
        params = query.params()
        params["startatresultnumber"] = str(start_at)
        if max_results is not None:
            params["maxnumberofresults"] = str(max_results)
        return RecordingPage.from_xml(await self._transport.get_xml(PATH, params))

    async def iterate(self, query: RecordingQuery | None = None, page_size: int = 100) -> AsyncIterator[Recording]:
        """Every matching recording, one page at a time, so a card with 100 000 recordings is never held
        in memory at once. Stops on a short page, so a camera that ignores paging still ends."""
        query = query or RecordingQuery()
        offset = 0
        while True:
            page = await self.page(query, offset, page_size)
            for recording in page.recordings:
                yield recording
            offset += len(page.recordings)
            if len(page.recordings) < page_size or offset >= page.matched:
                return

    async def event_ids(self, disk_id: str | None = None) -> list[str]:
        return await self._entity("eventid", disk_id)

    async def sources(self, disk_id: str | None = None) -> list[str]:
        return await self._entity("source", disk_id)

    async def _entity(self, entity: str, disk_id: str | None) -> list[str]:
        params = {"listentity": entity}
        if disk_id:
            params["diskid"] = disk_id
        root = await self._transport.get_xml(PATH, params)
        return [e.text.strip() for e in xmlwire.find_all(root, entity) if e.text and e.text.strip()]


# --- control: record, stop, remove, continuous profiles (legacy CGIs; errors are result="ERROR" errormsg) ------

RECORD = "/axis-cgi/record"


@dataclass(frozen=True)
class ContinuousProfile:
    profile: int
    disk_id: str
    options: str
    event_id: str

    @classmethod
    def from_element(cls, element: etree._Element) -> ContinuousProfile:
        try:
            number = int(element.get("profile", ""))
        except ValueError:
            raise ProtocolError("a continuous recording profile has no number") from None
        return cls(number, element.get("diskid", ""), element.get("options", ""), element.get("eventid", ""))


def _answer(root: etree._Element, tag: str) -> etree._Element:
    element = xmlwire.find(root, tag)
    if element is None or (element.get("result") or "").upper() != "OK":
        raise ProtocolError(f'the camera\'s answer has no <{tag} result="OK">')
    return element


class RecordingControl:
    """Start and stop recordings and manage continuous profiles. Refusals raise ApiError with the camera's
    errormsg (the transport decodes result="ERROR")."""

    def __init__(self, transport: VapixTransport) -> None:
        self._transport = transport

    async def record(self, disk_id: str | None = None, options: str = "") -> str:
        params = {"options": options} if options else {}
        if disk_id:
            params["diskid"] = disk_id
        element = _answer(await self._transport.get_xml(f"{RECORD}/record.cgi", params), "record")
        recording_id = element.get("recordingid")
        if not recording_id:
            raise ProtocolError("record.cgi answered OK without a recordingid")
        return str(recording_id)

    async def stop(self, recording_id: str) -> None:
        _answer(await self._transport.get_xml(f"{RECORD}/stop.cgi", {"recordingid": recording_id}), "stop")

    async def remove(
        self,
        recording_ids: list[str] | None = None,
        disk_id: str | None = None,
        before: datetime | None = None,
        event_id: str | None = None,
    ) -> None:
        """Remove the given recordings, or (without IDs) those matching `before`/`event_id` (R-13)."""
        params: dict[str, str] = {}
        if recording_ids:
            params["recordingid"] = ",".join(recording_ids)
        if before:
            params["beforetime"] = format_query_time(before)
        if event_id:
            params["eventid"] = event_id
        if disk_id:
            params["diskid"] = disk_id
        if not params.keys() - {"diskid"}:
            raise ValueError("give recording IDs, or a time or event to remove by")
        _answer(await self._transport.get_xml(f"{RECORD}/remove.cgi", params), "remove")

    async def profiles(self) -> list[ContinuousProfile]:
        root = await self._transport.get_xml(f"{RECORD}/continuous/listconfiguration.cgi")
        return [ContinuousProfile.from_element(e) for e in xmlwire.find_all(root, "continuousrecordingconfiguration")]

    async def add_profile(self, disk_id: str, options: str = "", event_id: str | None = None) -> int:
        params = {"diskid": disk_id, "options": options}
        if event_id:
            params["eventid"] = event_id
        element = _answer(
            await self._transport.get_xml(f"{RECORD}/continuous/addconfiguration.cgi", params), "configure"
        )
        return ContinuousProfile.from_element(element).profile

    async def remove_profile(self, profile: int) -> None:
        root = await self._transport.get_xml(f"{RECORD}/continuous/removeconfiguration.cgi", {"profile": str(profile)})
        _answer(root, "remove")
