"""An in-process bus of events, keyed by topic and source (a disk ID, a virtual input port, a schedule ID).

Components publish; the rule engine, the event streams (WebSocket, RTSP metadata) and tests subscribe.
Stateful (ONVIF "property") events go through :meth:`EventBus.set_state`: only changes are delivered, and the
current state of every (topic, source) can be read at any time, because a new event stream and a new action
rule both start from the current states. Stateless events (a schedule's pulse) go through
:meth:`EventBus.publish` and are delivered once, never kept.

Topics are the strings real firmware declares (EVENTS.md §2.1): see :mod:`device.events.topics`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from device.events.topics import RECORDING, STORAGE_ALERT, STORAGE_DISRUPTION

__all__ = ["RECORDING", "STORAGE_ALERT", "STORAGE_DISRUPTION", "Event", "EventBus", "Subscriber"]


@dataclass(frozen=True)
class Event:
    topic: str  # as declared, e.g. "tnsaxis:Storage/Disruption"
    source: dict[str, str]
    data: dict[str, str]
    time: datetime
    stateful: bool = True
    initial: bool = False  # a current state replayed to a new listener, not a change

    @property
    def items(self) -> dict[str, str]:
        """Source and data items together, as a MessageContent filter sees them."""
        return {**self.source, **self.data}


Subscriber = Callable[[Event], None]
_Key = tuple[str, tuple[tuple[str, str], ...]]


@dataclass
class EventBus:
    clock_now: Callable[[], datetime]
    _state: dict[_Key, Event] = field(default_factory=dict)
    _subscribers: list[Subscriber] = field(default_factory=list)

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        self._subscribers.append(subscriber)
        return lambda: self._subscribers.remove(subscriber) if subscriber in self._subscribers else None

    def set_state(
        self, topic: str, source: dict[str, str], data: dict[str, str], changed_on: str | None = None
    ) -> bool:
        """Publish a state; returns False (and sends nothing) when it is already the current one.

        `changed_on` names the one data item whose change is a change of state (Storage/Alert's `alert`): the
        other items ride along with it, as on real firmware, which does not notify every degree of temperature.
        """
        key = _key(topic, source)
        current = self._state.get(key)
        if current is not None:
            same = current.data.get(changed_on) == data.get(changed_on) if changed_on else current.data == data
            if same:
                if current.data != data:  # keep the riders current for the next reader, silently
                    self._state[key] = Event(topic, dict(source), dict(data), current.time)
                return False
        event = Event(topic, dict(source), dict(data), self.clock_now())
        self._state[key] = event
        self._deliver(event)
        return True

    def publish(self, topic: str, source: dict[str, str], data: dict[str, str] | None = None) -> Event:
        """A stateless event: delivered now, not kept."""
        event = Event(topic, dict(source), dict(data or {}), self.clock_now(), stateful=False)
        self._deliver(event)
        return event

    def forget(self, topic: str, source: dict[str, str]) -> None:
        """The source is gone (a removed schedule): it has no state any more."""
        self._state.pop(_key(topic, source), None)

    def state(self, topic: str, source: dict[str, str]) -> dict[str, str] | None:
        event = self._state.get(_key(topic, source))
        return dict(event.data) if event else None

    def current(self) -> list[Event]:
        return list(self._state.values())

    def _deliver(self, event: Event) -> None:
        for subscriber in list(self._subscribers):
            subscriber(event)


def _key(topic: str, source: dict[str, str]) -> _Key:
    return (topic, tuple(sorted(source.items())))
