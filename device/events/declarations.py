"""What the camera can emit, as data: the event declarations behind GetEventInstances (EVENTS.md §2.1).

The same list answers GetEventInstances, tells AddActionRule whether a condition names one stateful topic,
and is built fresh on each call from what exists now (the disks, the schedules), as real firmware lists the
current disks and schedule IDs as the possible source values.
"""

from __future__ import annotations

from dataclasses import dataclass

from device.events import topics

VIRTUAL_INPUT_PORTS = range(1, 33)  # 1..32, as 2018-2020 firmware (EVENTS.md §2.1)
MANUAL_TRIGGER_PORTS = (1,)  # one channel

LEVEL_NICE_NAMES: dict[str, str] = {
    "tns1:Device": "Device",
    "tnsaxis:IO": "Input ports",
    "tnsaxis:HardwareFailure": "Hardware failure",
    "tnsaxis:Status": "System status",
    "tnsaxis:Storage": "Storage",
    "tnsaxis:Recurring": "Schedule",
}


@dataclass(frozen=True)
class Value:
    value: str
    nice_name: str | None = None


@dataclass(frozen=True)
class Item:
    name: str
    type: str  # "xsd:string", "xsd:int", "xsd:boolean"
    nice_name: str | None = None
    values: tuple[Value, ...] = ()
    property_state: bool = False


@dataclass(frozen=True)
class TopicDeclaration:
    topic: str  # as declared: "tnsaxis:Storage/Disruption"
    nice_name: str
    stateful: bool
    source: tuple[Item, ...] = ()
    data: tuple[Item, ...] = ()

    @property
    def items(self) -> set[str]:
        return {i.name for i in (*self.source, *self.data)}


def declare(
    disk_ids: tuple[str, ...], intervals: tuple[Value, ...], pulses: tuple[Value, ...]
) -> list[TopicDeclaration]:
    disks = Item("disk_id", "xsd:string", "Disk", tuple(Value(d) for d in disk_ids))
    declared = [
        TopicDeclaration(
            topics.STORAGE_ALERT,
            "Storage alert",
            True,
            (disks,),
            (
                Item("temperature", "xsd:int", "Temperature"),
                Item("alert", "xsd:boolean", "Alert", property_state=True),
                Item("wear", "xsd:int", "Wear"),
                Item("overall_health", "xsd:int", "Overall Health"),
            ),
        ),
        TopicDeclaration(
            topics.STORAGE_DISRUPTION,
            "Storage disruption",
            True,
            (disks,),
            (Item("disruption", "xsd:boolean", "Disruption", property_state=True),),
        ),
        TopicDeclaration(
            topics.STORAGE_RECORDING,
            "Recording ongoing",
            True,
            (),
            (Item("recording", "xsd:boolean", "Recording status", property_state=True),),
        ),
        TopicDeclaration(
            topics.STORAGE_FAILURE,
            "Storage failure",
            True,
            (disks,),
            (Item("disruption", "xsd:boolean", "Storage Disruption", property_state=True),),
        ),
        TopicDeclaration(
            topics.VIRTUAL_INPUT,
            "Virtual input",
            True,
            (Item("port", "xsd:int", "Port number", tuple(Value(str(p)) for p in VIRTUAL_INPUT_PORTS)),),
            (Item("active", "xsd:boolean", "Active", property_state=True),),
        ),
        TopicDeclaration(
            topics.MANUAL_TRIGGER,
            "Manual trigger",
            True,
            (Item("port", "xsd:int", "Port", tuple(Value(str(p)) for p in MANUAL_TRIGGER_PORTS)),),
            (Item("state", "xsd:boolean", "Active", property_state=True),),
        ),
        TopicDeclaration(
            topics.SYSTEM_READY,
            "System ready",
            True,
            (),
            (Item("ready", "xsd:boolean", "Ready", property_state=True),),
        ),
        TopicDeclaration(
            topics.SCHEDULE_INTERVAL,
            "Scheduled event",
            True,
            (Item("id", "xsd:string", "Schedule", intervals),),
            (Item("active", "xsd:boolean", "Active", property_state=True),),
        ),
    ]
    if pulses:  # the leaf appears once a pulse schedule exists (EVENTS.md §2.1)
        declared.append(
            TopicDeclaration(
                topics.SCHEDULE_PULSE, "Recurring pulse", False, (Item("id", "xsd:string", "Schedule", pulses),)
            )
        )
    return declared
