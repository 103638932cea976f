"""An in-process bus of stateful events, keyed by topic and source (a disk ID, a profile).

Components publish state changes; the event stream API (later) and tests subscribe. Only changes are
delivered, and the current state of every (topic, source) can be read at any time, as ONVIF's stateful
events are initialised with the current state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Event:
    topic: str  # e.g. "tns1:Device/tnsaxis:IO/..." style names are built by the event service later
    source: dict[str, str]
    data: dict[str, str]
    time: datetime


Subscriber = Callable[[Event], None]

STORAGE_DISRUPTION = "Storage/StorageDisruption"
STORAGE_ALERT = "Storage/StorageAlert"
RECORDING = "Storage/Recording"


@dataclass
class EventBus:
    clock_now: Callable[[], datetime]
    _state: dict[tuple[str, tuple[tuple[str, str], ...]], Event] = field(default_factory=dict)
    _subscribers: list[Subscriber] = field(default_factory=list)

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        self._subscribers.append(subscriber)
        return lambda: self._subscribers.remove(subscriber)

    def set_state(self, topic: str, source: dict[str, str], data: dict[str, str]) -> bool:
        """Publish a state; returns False (and sends nothing) when it is already the current one."""
        key = (topic, tuple(sorted(source.items())))
        current = self._state.get(key)
        if current is not None and current.data == data:
            return False
        event = Event(topic, dict(source), dict(data), self.clock_now())
        self._state[key] = event
        for subscriber in list(self._subscribers):
            subscriber(event)
        return True

    def state(self, topic: str, source: dict[str, str]) -> dict[str, str] | None:
        event = self._state.get((topic, tuple(sorted(source.items()))))
        return dict(event.data) if event else None

    def current(self) -> list[Event]:
        return list(self._state.values())
