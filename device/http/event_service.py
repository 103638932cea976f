"""Event service (`http://www.axis.com/vapix/ws/event1`) operations at `/vapix/services` (EVENTS.md §2).

GetEventInstances renders the declarations of :mod:`device.events.declarations` in the shape of a real
AXIS OS 12 camera: prefixed roots and intermediate levels, unprefixed leaves, `wstop:topic="true"`,
`aev:isProperty` on stateful messages and the attribute order `isPropertyState, aev:NiceName, Type, Name`.
"""

from __future__ import annotations

from lxml import etree

from device.events.declarations import LEVEL_NICE_NAMES, Item, TopicDeclaration
from device.events.inputs import UnknownPort
from device.events.schedules import ICAL_DIALECT, ScheduleRefused
from device.events.topics import PREFIXES
from device.http.keys import services_of
from device.http.soap import (
    EVENT_NS,
    WSTOP,
    SoapFault,
    SoapHandler,
    SoapRequest,
    element,
    envelope_of,
    find,
    invalid_args,
    response_body,
    text_of,
)

_AEV = f"{{{EVENT_NS}}}"


async def get_event_instances(request: SoapRequest) -> etree._Element:
    _, response = response_body(EVENT_NS, "GetEventInstancesResponse")
    topic_set = element(response, WSTOP, "TopicSet")
    render_declarations(topic_set, services_of(request.http).events.declarations())
    return envelope_of(response)


def render_declarations(topic_set: etree._Element, declarations: list[TopicDeclaration]) -> None:
    for declaration in declarations:
        parent = topic_set
        levels = declaration.topic.split("/")
        for level in levels[:-1]:
            parent = _level(parent, level)
        leaf = etree.SubElement(parent, _qname(levels[-1]))
        leaf.set(f"{{{WSTOP}}}topic", "true")
        leaf.set(_AEV + "NiceName", declaration.nice_name)
        message = element(leaf, EVENT_NS, "MessageInstance")
        if declaration.stateful:
            message.set(_AEV + "isProperty", "true")
        if declaration.source:
            _items(element(message, EVENT_NS, "SourceInstance"), declaration.source)
        if declaration.data:
            _items(element(message, EVENT_NS, "DataInstance"), declaration.data)


def _level(parent: etree._Element, level: str) -> etree._Element:
    tag = _qname(level)
    existing = next((c for c in parent if c.tag == tag), None)
    if existing is not None:
        return existing
    node = etree.SubElement(parent, tag)
    if level in LEVEL_NICE_NAMES:
        node.set(_AEV + "NiceName", LEVEL_NICE_NAMES[level])
    return node


def _qname(level: str) -> str:
    prefix, sep, local = level.partition(":")
    return f"{{{PREFIXES[prefix]}}}{local}" if sep else level


def _items(parent: etree._Element, items: tuple[Item, ...]) -> None:
    for item in items:
        node = element(parent, EVENT_NS, "SimpleItemInstance")
        if item.property_state:
            node.set("isPropertyState", "true")
        if item.nice_name:
            node.set(_AEV + "NiceName", item.nice_name)
        node.set("Type", item.type)
        node.set("Name", item.name)
        for value in item.values:
            value_node = element(node, EVENT_NS, "Value", value.value)
            if value.nice_name:
                value_node.set(_AEV + "NiceName", value.nice_name)


# --- scheduled events ------------------------------------------------------------------------------------------


async def add_scheduled_event(request: SoapRequest) -> etree._Element:
    new = request.child("NewScheduledEvent")
    if new is None:
        raise invalid_args("Validation constraint violation: occurrence violation in element NewScheduledEvent")
    schedule = find(new, "Schedule")
    ical = None if schedule is None else find(schedule, "ICalendar")
    if ical is None:
        raise invalid_args("Validation constraint violation: occurrence violation in element Schedule")
    dialect = ical.get("Dialect", ICAL_DIALECT)
    if dialect != ICAL_DIALECT:
        raise SoapFault(f"Unsupported schedule dialect '{dialect}'", (EVENT_NS, "InvalidScheduleFault"))
    event_id = text_of(new, "EventID")
    try:
        event = services_of(request.http).events.scheduler.add(
            event_id.strip() if event_id is not None else None, text_of(new, "Name"), ical.text or ""
        )
    except ScheduleRefused as exc:
        raise SoapFault(exc.reason, (EVENT_NS, exc.fault)) from None
    _, response = response_body(EVENT_NS, "AddScheduledEventResponse")
    element(response, EVENT_NS, "EventID", event.id)
    return envelope_of(response)


async def get_scheduled_events(request: SoapRequest) -> etree._Element:
    wanted = None
    schedule_filter = request.child("ScheduleFilter")
    if schedule_filter is not None:
        wanted = (text_of(schedule_filter, "ScheduleType") or "").strip()
        if wanted not in ("Interval", "Pulse"):
            raise invalid_args(f"Validation constraint violation: invalid value in element ScheduleType: '{wanted}'")
    _, response = response_body(EVENT_NS, "GetScheduledEventsResponse")
    listing = element(response, EVENT_NS, "ScheduledEvents")
    for event in services_of(request.http).events.scheduler.store.all():
        kind = "Pulse" if event.schedule.is_pulse else "Interval"
        if wanted is not None and kind != wanted:
            continue
        node = element(listing, EVENT_NS, "ScheduledEvent")
        element(node, EVENT_NS, "EventID", event.id)
        if event.name is not None:
            element(node, EVENT_NS, "Name", event.name)
        element(element(node, EVENT_NS, "Schedule"), EVENT_NS, "ICalendar", event.ical, Dialect=ICAL_DIALECT)
    return envelope_of(response)


async def remove_scheduled_event(request: SoapRequest) -> etree._Element:
    event_id = (text_of(request.operation, "EventID") or "").strip()
    try:
        services_of(request.http).events.scheduler.remove(event_id)
    except ScheduleRefused as exc:
        raise SoapFault(exc.reason, (EVENT_NS, exc.fault)) from None
    _, response = response_body(EVENT_NS, "RemoveScheduledEventResponse")
    return envelope_of(response)


async def change_virtual_input_state(request: SoapRequest) -> etree._Element:
    port, active = text_of(request.operation, "port"), text_of(request.operation, "active")
    if (
        port is None
        or active is None
        or not port.strip().isdigit()
        or active.strip() not in ("0", "1", "true", "false")
    ):
        raise invalid_args("Validation constraint violation: port (int) and active (boolean) are required")
    inputs = services_of(request.http).events.inputs
    try:
        changed = inputs.activate(int(port)) if active.strip() in ("1", "true") else inputs.deactivate(int(port))
    except UnknownPort as exc:
        raise invalid_args(str(exc)) from None
    _, response = response_body(EVENT_NS, "ChangeVirtualInputStateResponse")
    element(response, EVENT_NS, "stateChanged", "true" if changed else "false")
    return envelope_of(response)


OPERATIONS: dict[tuple[str, str], SoapHandler] = {
    (EVENT_NS, "GetEventInstances"): get_event_instances,
    (EVENT_NS, "AddScheduledEvent"): add_scheduled_event,
    (EVENT_NS, "GetScheduledEvents"): get_scheduled_events,
    (EVENT_NS, "RemoveScheduledEvent"): remove_scheduled_event,
    (EVENT_NS, "ChangeVirtualInputState"): change_virtual_input_state,
}
