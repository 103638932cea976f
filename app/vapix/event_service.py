"""Event service client (`http://www.axis.com/vapix/ws/event1`, EVENTS.md §2): what a camera can emit, its
scheduled events, and the virtual inputs and manual trigger that make events on demand.

Declarations decode every firmware's tree shape: the topic is the path of QNames as the camera wrote them
(`tnsaxis:Storage/Disruption`), prefixes as declared, and all items of a message are read by name, not just the
first as some libraries do.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from lxml import etree

from app.vapix import soap
from app.vapix.errors import ApiError, ProtocolError
from app.vapix.soap import EVENT_NS, find, find_all, operation, sub, text
from app.vapix.transport import VapixTransport

WSTOP = "http://docs.oasis-open.org/wsn/t-1"
ICAL_DIALECT = "http://www.axis.com/vapix/ws/ical1"
VIRTUAL_INPUT_NS = "http://www.axis.com/vapix/http_cgi/virtualinput1"


class ScheduleType(Enum):
    INTERVAL = "Interval"
    PULSE = "Pulse"


@dataclass(frozen=True)
class ItemDeclaration:
    name: str
    type: str
    nice_name: str | None
    values: tuple[str, ...]
    property_state: bool


@dataclass(frozen=True)
class EventDeclaration:
    topic: str
    nice_name: str | None
    stateful: bool
    source: tuple[ItemDeclaration, ...]
    data: tuple[ItemDeclaration, ...]


@dataclass(frozen=True)
class ScheduledEvent:
    event_id: str
    name: str | None
    ical: str

    @property
    def kind(self) -> ScheduleType:
        """An interval has a DTEND after its DTSTART; a pulse has none (EVENTS.md §2.2)."""
        fields = dict(p.split(":", 1) for p in self.ical.replace("\r", "").replace("\n", " ").split() if ":" in p)
        return (
            ScheduleType.INTERVAL
            if fields.get("DTEND", fields.get("DTSTART")) != fields.get("DTSTART")
            else ScheduleType.PULSE
        )


def decode_declarations(topic_set: etree._Element) -> list[EventDeclaration]:
    found: list[EventDeclaration] = []
    _walk(topic_set, [], found)
    return found


def _walk(node: etree._Element, path: list[str], found: list[EventDeclaration]) -> None:
    for child in node:
        if not isinstance(child.tag, str) or etree.QName(child).namespace == EVENT_NS:
            continue
        here = [*path, _qname_text(child)]
        if child.get(f"{{{WSTOP}}}topic") == "true":
            found.append(_declaration("/".join(here), child))
        _walk(child, here, found)


def _qname_text(element: etree._Element) -> str:
    qname = etree.QName(element)
    local: str = qname.localname
    if not qname.namespace:
        return local
    prefix = element.prefix or next((p for p, u in element.nsmap.items() if u == qname.namespace and p), None)
    return f"{prefix}:{local}" if prefix else local


def _declaration(topic: str, leaf: etree._Element) -> EventDeclaration:
    message = find(leaf, "MessageInstance")
    if message is None:
        raise ProtocolError(f"the event declaration {topic} has no MessageInstance")
    return EventDeclaration(
        topic,
        leaf.get(f"{{{EVENT_NS}}}NiceName"),
        message.get(f"{{{EVENT_NS}}}isProperty") == "true",
        _items(find(message, "SourceInstance")),
        _items(find(message, "DataInstance")),
    )


def _items(parent: etree._Element | None) -> tuple[ItemDeclaration, ...]:
    return tuple(
        ItemDeclaration(
            item.get("Name", ""),
            item.get("Type", ""),
            item.get(f"{{{EVENT_NS}}}NiceName"),
            tuple((v.text or "") for v in find_all(item, "Value")),
            item.get("isPropertyState") == "true",
        )
        for item in find_all(parent, "SimpleItemInstance")
    )


class EventService:
    def __init__(self, transport: VapixTransport) -> None:
        self._transport = transport

    async def get_event_instances(self) -> list[EventDeclaration]:
        answer = await soap.call(self._transport, operation(EVENT_NS, "GetEventInstances"))
        topic_set = answer.find(f"{{{WSTOP}}}TopicSet")
        if topic_set is None:
            raise ProtocolError("GetEventInstancesResponse has no TopicSet")
        return decode_declarations(topic_set)

    async def add_scheduled_event(self, ical: str, name: str | None = None, event_id: str | None = None) -> str:
        request = operation(EVENT_NS, "AddScheduledEvent")
        new = sub(request, "NewScheduledEvent")
        if event_id is not None:
            sub(new, "EventID", event_id)
        if name is not None:
            sub(new, "Name", name)
        sub(sub(new, "Schedule"), "ICalendar", ical, Dialect=ICAL_DIALECT)
        answer = await soap.call(self._transport, request)
        found = text(answer, "EventID")
        if not found:
            raise ProtocolError("AddScheduledEventResponse has no EventID")
        return found

    async def get_scheduled_events(self, kind: ScheduleType | None = None) -> list[ScheduledEvent]:
        request = operation(EVENT_NS, "GetScheduledEvents")
        if kind is not None:
            sub(sub(request, "ScheduleFilter"), "ScheduleType", kind.value)
        answer = await soap.call(self._transport, request)
        return [
            ScheduledEvent(text(e, "EventID") or "", text(e, "Name"), _ical(e))
            for e in find_all(find(answer, "ScheduledEvents"), "ScheduledEvent")
        ]

    async def remove_scheduled_event(self, event_id: str) -> None:
        request = operation(EVENT_NS, "RemoveScheduledEvent")
        sub(request, "EventID", event_id)
        await soap.call(self._transport, request)

    async def change_virtual_input_state(self, port: int, active: bool) -> bool:
        request = operation(EVENT_NS, "ChangeVirtualInputState")
        sub(request, "port", str(port))
        sub(request, "active", "1" if active else "0")
        return text(await soap.call(self._transport, request), "stateChanged") == "true"

    # --- the Virtual input API and the manual trigger (CGIs)

    async def activate_virtual_input(self, port: int, duration: int | None = None) -> bool:
        params = {"schemaversion": "1", "port": str(port)}
        if duration is not None:
            params["duration"] = str(duration)
        return await self._virtual_input("activate", params)

    async def deactivate_virtual_input(self, port: int) -> bool:
        return await self._virtual_input("deactivate", {"schemaversion": "1", "port": str(port)})

    async def manual_trigger(self, active: bool, port: int = 6) -> None:
        """`io/virtualinput.cgi` on the manual trigger port (Properties.IO.ManualTriggerNbr, commonly 6)."""
        step = "/" if active else "\\"
        await self._transport.get_text("/axis-cgi/io/virtualinput.cgi", {"action": f"{port}:{step}"})

    async def _virtual_input(self, verb: str, params: dict[str, str]) -> bool:
        response = await self._transport.request("GET", f"/axis-cgi/virtualinput/{verb}.cgi", params=params)
        root = soap_free_parse(response.content)
        ns = {"v": VIRTUAL_INPUT_NS}
        error = root.find("v:Error/v:GeneralError", ns)
        if error is not None:
            code = error.findtext("v:ErrorCode", namespaces=ns) or ""
            description = error.findtext("v:ErrorDescription", "", ns) or ""
            raise ApiError(description, int(code) if code.isdigit() else None)
        changed: str | None = root.findtext(f"v:Success/v:{verb.title()}Success/v:StateChanged", namespaces=ns)
        if changed is None:
            raise ProtocolError(f"virtualinput/{verb}.cgi answered neither Success nor Error")
        return changed.strip() == "true"


def _ical(event: etree._Element) -> str:
    schedule = find(event, "Schedule")
    return "" if schedule is None else (text(schedule, "ICalendar") or "")


def soap_free_parse(content: bytes) -> etree._Element:
    try:
        return etree.fromstring(content, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise ProtocolError(f"not XML: {exc}") from None
