"""What starts a triggered recording, as the installer chooses it and as the camera stores it.

A trigger becomes a rule's StartEvent (EVENTS.md §1.5): the rising edge of a stateful event (a virtual input
turning active, the manual trigger pressed, a disk disrupted) or a pulse schedule's instant. Reading rules back,
a StartEvent or condition the app did not write still gets a readable description, so every rule on the camera
can be listed, whoever made it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from app.vapix.action_service import EventFilter, item_filter

VIRTUAL_INPUT = "tns1:Device/tnsaxis:IO/VirtualInput"
MANUAL_TRIGGER = "tns1:Device/tnsaxis:IO/VirtualPort"
SCHEDULE_INTERVAL = "tns1:UserAlarm/tnsaxis:Recurring/Interval"
SCHEDULE_PULSE = "tns1:UserAlarm/tnsaxis:Recurring/Pulse"
STORAGE_TOPICS = {
    "tnsaxis:Storage/Disruption": ("disruption", "storage disruption"),
    "tns1:Device/tnsaxis:HardwareFailure/StorageFailure": ("disruption", "storage failure"),
    "tnsaxis:Storage/Alert": ("alert", "storage alert"),
}
_ITEM = re.compile(r"""@Name\s*=\s*["']([^"']*)["']\s+and\s+@Value\s*=\s*["']([^"']*)["']""")


class TriggerKind(Enum):
    VIRTUAL_INPUT = "virtual input"
    MANUAL_TRIGGER = "manual trigger"
    STORAGE_EVENT = "storage event"
    SCHEDULE_PULSE = "schedule"
    SCHEDULE_INTERVAL = "scheduled hours"
    UNKNOWN = "other event"  # a topic this app does not write; rules made elsewhere still list


@dataclass(frozen=True)
class Trigger:
    kind: TriggerKind
    port: int | None = None  # the virtual input
    disk_id: str | None = None  # the disk a storage event is about
    topic: str | None = None  # the storage topic, or the raw topic of an UNKNOWN trigger
    schedule_ids: tuple[str, ...] = ()

    @classmethod
    def virtual_input(cls, port: int) -> Trigger:
        return cls(TriggerKind.VIRTUAL_INPUT, port=port)

    @classmethod
    def manual(cls) -> Trigger:
        return cls(TriggerKind.MANUAL_TRIGGER)

    @classmethod
    def storage(cls, disk_id: str, topic: str = "tnsaxis:Storage/Disruption") -> Trigger:
        return cls(TriggerKind.STORAGE_EVENT, disk_id=disk_id, topic=topic)

    @classmethod
    def pulse(cls, schedule_id: str) -> Trigger:
        return cls(TriggerKind.SCHEDULE_PULSE, schedule_ids=(schedule_id,))

    def start_event(self) -> EventFilter:
        """The rule's StartEvent. Stateful topics are filtered on their active value, or a release would
        start a recording too."""
        if self.kind is TriggerKind.VIRTUAL_INPUT and self.port is not None:
            return EventFilter(VIRTUAL_INPUT, item_filter(port=str(self.port), active="1"))
        if self.kind is TriggerKind.MANUAL_TRIGGER:
            return EventFilter(MANUAL_TRIGGER, item_filter(state="1"))
        if self.kind is TriggerKind.STORAGE_EVENT and self.disk_id and self.topic in STORAGE_TOPICS:
            item = STORAGE_TOPICS[self.topic][0]
            return EventFilter(self.topic, item_filter(disk_id=self.disk_id, **{item: "1"}))
        if self.kind is TriggerKind.SCHEDULE_PULSE and len(self.schedule_ids) == 1:
            return EventFilter(SCHEDULE_PULSE, item_filter(id=self.schedule_ids[0]))
        raise ValueError(f"a {self.kind.value} trigger cannot be written as it is: {self}")

    @property
    def holds(self) -> bool:
        """Whether the trigger is a state that stays on for a while (and can hold a recording group's recording),
        not an instant like a pulse schedule."""
        return self.kind in (TriggerKind.VIRTUAL_INPUT, TriggerKind.MANUAL_TRIGGER, TriggerKind.STORAGE_EVENT)

    def describe(self, schedule_names: dict[str, str] | None = None) -> str:
        names = schedule_names or {}
        schedules = ", ".join(names.get(s) or s for s in self.schedule_ids)
        if self.kind is TriggerKind.VIRTUAL_INPUT:
            return f"Virtual input {self.port}" if self.port is not None else "Any virtual input"
        if self.kind is TriggerKind.MANUAL_TRIGGER:
            return "Manual trigger"
        if self.kind is TriggerKind.STORAGE_EVENT:
            what = STORAGE_TOPICS.get(self.topic or "", ("", "storage event"))[1]
            return f"{what.capitalize()} on {self.disk_id or 'any disk'}"
        if self.kind is TriggerKind.SCHEDULE_PULSE:
            return f"Schedule {schedules}"
        if self.kind is TriggerKind.SCHEDULE_INTERVAL:
            return f"During {schedules}" if schedules else "During scheduled hours"
        return f"Event {self.topic}"


def items_of(content: str | None) -> dict[str, list[str]]:
    """Every `@Name="k" and @Value="v"` of an ItemFilter, by name (a name may be or-ed over several values)."""
    found: dict[str, list[str]] = {}
    for name, value in _ITEM.findall(content or ""):
        found.setdefault(name, []).append(value)
    return found


def trigger_of(given: EventFilter) -> Trigger:
    """Read a StartEvent or condition back; spellings differ (EVENTS.md §5.1), so topics compare by their
    last levels, which are unique among what the app writes."""
    topic, items = given.topic.strip(), items_of(given.content)
    tail = "/".join(level.split(":")[-1] for level in topic.split("/")[-2:])
    first = {k: v[0] for k, v in items.items()}
    if tail == "IO/VirtualInput":
        port = first.get("port", "")
        return Trigger(TriggerKind.VIRTUAL_INPUT, port=int(port) if port.isdigit() else None)
    if tail == "IO/VirtualPort":
        return Trigger(TriggerKind.MANUAL_TRIGGER)
    for storage_topic in STORAGE_TOPICS:
        if tail == "/".join(level.split(":")[-1] for level in storage_topic.split("/")[-2:]):
            return Trigger(TriggerKind.STORAGE_EVENT, disk_id=first.get("disk_id"), topic=storage_topic)
    if tail in ("Recurring/Pulse", "Recurring/Interval"):
        kind = TriggerKind.SCHEDULE_PULSE if tail.endswith("Pulse") else TriggerKind.SCHEDULE_INTERVAL
        return Trigger(kind, schedule_ids=tuple(items.get("id", [])))
    return Trigger(TriggerKind.UNKNOWN, topic=topic)


def schedule_condition(schedule_ids: list[str]) -> EventFilter:
    """The condition of the week rule: any of our schedules active. Conditions are and-ed (EVENTS.md §1.5), so
    several schedules need one condition with `or` between their IDs, not one condition each."""
    ids = " or ".join(f'boolean(//SimpleItem[@Name="id" and @Value="{i}"])' for i in schedule_ids)
    return EventFilter(SCHEDULE_INTERVAL, f"({ids}) and {item_filter(active='1')}")
