"""A camera's storage as its live events tell it (EVENTS.md §2.1, §3.1), so the app hears of a pulled card, a
lost NAS or a recording that starts within a second instead of at the next poll.

Four stateful topics carry it: Storage/Disruption (per disk: the disk cannot be written), Storage/Recording (no
source: something records), Storage/Alert (per disk: wear or temperature over its alert level) and
HardwareFailure/StorageFailure (per disk: the disk failed). The camera sends their current state on every
(re)connection, so the state here is complete as soon as the stream is live, and is rebuilt after a drop.

The events say *that* something changed, not everything the panels show (sizes, file systems, shares): the app
re-reads the camera's storage when they arrive. `apply` is a pure function so the decoding is tested without a
camera; `LiveStorageRunner` ties it to the camera's EventStream.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import Enum

from app.storage.overview import StorageOverview
from app.vapix.disks import DiskStatus
from app.vapix.event_stream import EventFilter, EventNotification, EventStream
from app.vapix.transport import VapixTransport

log = logging.getLogger(__name__)

# As clients address them (EVENTS.md §2.1); the camera matches prefixes by namespace and the subtree suffix.
STORAGE_FILTERS = (
    EventFilter("tnsaxis:Storage//."),
    EventFilter("tns1:Device/tnsaxis:HardwareFailure/StorageFailure"),
)
POLL_SECONDS = 5.0  # without a live stream, a pulled card shows within this
SAFETY_POLL_SECONDS = 60.0  # with one: only what events do not announce (another client's settings) waits this


class Topic(Enum):
    """What a change is about."""

    LIVE = "live"  # the stream connected or dropped
    DISRUPTION = "disruption"
    RECORDING = "recording"
    ALERT = "alert"
    FAILURE = "failure"


# Compared by local names, so the old `tns1:Storage/tnsaxis:Disruption` spelling (EVENTS.md §2.1) is the same topic.
_TOPICS = {
    "Storage/Disruption": Topic.DISRUPTION,
    "Storage/Recording": Topic.RECORDING,
    "Storage/Alert": Topic.ALERT,
    "Device/HardwareFailure/StorageFailure": Topic.FAILURE,
}


@dataclass(frozen=True)
class DiskAlert:
    """Storage/Alert of one disk. The numbers are gethealth.cgi's: negative codes (-1 not supported, -2 error,
    -3 no disk) are kept as sent; None when the camera sent none or not a number. Temperature is in kelvin."""

    alert: bool
    wear: int | None = None
    temperature: int | None = None
    overall_health: int | None = None


@dataclass(frozen=True)
class LiveStorage:
    """What the camera's storage events said last. Values stay after a drop (`live` False): they are the last
    known, not the current state, so a reader that needs the current one polls while `live` is False."""

    live: bool = False
    recording: bool | None = None  # None: not heard yet
    disruption: Mapping[str, bool] = field(default_factory=dict)  # disk ID -> cannot be written
    failure: Mapping[str, bool] = field(default_factory=dict)  # disk ID -> failed
    alerts: Mapping[str, DiskAlert] = field(default_factory=dict)  # disk ID -> its alert
    # Disks that were writable and then disrupted while followed: a card pulled, a NAS lost. An empty slot
    # reports a disruption from the start (EVENTS.md §3.3), so only the change tells a loss from no card.
    interrupted: frozenset[str] = frozenset()

    @property
    def disrupted(self) -> list[str]:
        return sorted(disk for disk, on in self.disruption.items() if on)


@dataclass(frozen=True)
class LiveChange:
    """One change: its topic and, for the per-disk topics, the disk.

    `first` marks a state heard for the first time since following began (the burst of current states on the
    first connection, and that connection itself): nothing changed on the camera, the app only learnt it. A
    reader that has just read the camera need not read it again for those."""

    topic: Topic
    disk_id: str | None = None
    first: bool = False


LiveListener = Callable[[LiveStorage, LiveChange], None]


def _flag(value: str | None) -> bool | None:
    """Booleans arrive as "1"/"0" (EVENTS.md §3.1); "true"/"false" from other producers is read the same."""
    text = (value or "").strip().lower()
    if text in ("1", "true"):
        return True
    if text in ("0", "false"):
        return False
    return None


def _number(value: str | None) -> int | None:
    try:
        return int((value or "").strip())
    except ValueError:
        return None


def local_topic(topic: str) -> str:
    """`tnsaxis:Storage/Disruption` -> `Storage/Disruption`."""
    return "/".join(level.rsplit(":", 1)[-1] for level in topic.strip().split("/"))


def apply(state: LiveStorage, notification: EventNotification) -> tuple[LiveStorage, LiveChange | None]:
    """The state after one notification, and what changed (None: nothing, or not a storage event)."""
    topic = _TOPICS.get(local_topic(notification.topic))
    disk_id = notification.source.get("disk_id")
    if topic is Topic.RECORDING:
        recording = _flag(notification.data.get("recording"))
        if recording is None or recording == state.recording:
            return state, None
        return replace(state, recording=recording), LiveChange(topic, first=state.recording is None)
    if topic is None or not disk_id:
        return state, None
    if topic is Topic.ALERT:
        data = notification.data
        alert_flag = _flag(data.get("alert"))
        if alert_flag is None:
            return state, None
        alert = DiskAlert(
            alert_flag, _number(data.get("wear")), _number(data.get("temperature")), _number(data.get("overall_health"))
        )
        if state.alerts.get(disk_id) == alert:
            return state, None
        first = disk_id not in state.alerts
        return replace(state, alerts={**state.alerts, disk_id: alert}), LiveChange(topic, disk_id, first)
    flag = _flag(notification.data.get("disruption"))  # both Disruption and StorageFailure name it so
    current = state.disruption if topic is Topic.DISRUPTION else state.failure
    if flag is None or current.get(disk_id) == flag:
        return state, None
    updated = {**current, disk_id: flag}
    if topic is Topic.FAILURE:
        return replace(state, failure=updated), LiveChange(topic, disk_id, disk_id not in current)
    interrupted = state.interrupted | {disk_id} if flag and current.get(disk_id) is False else state.interrupted
    if not flag:
        interrupted = interrupted - {disk_id}
    first = disk_id not in current
    return replace(state, disruption=updated, interrupted=interrupted), LiveChange(topic, disk_id, first)


def live_problems(overview: StorageOverview, live: LiveStorage | None) -> dict[str, str]:
    """Sentences for disks that events say were lost while the last read has no words for it (disk ID ->
    sentence): a card pulled reads as an empty slot, which is no problem on a camera that never had one.
    Disks whose read state already names a problem are left to it."""
    if live is None:
        return {}
    found: dict[str, str] = {}
    for disk_id in sorted(live.interrupted):
        view = overview.disk(disk_id)
        if view is None or view.problems or (view.is_share and overview.share_lost):
            continue
        if view.disk.status is DiskStatus.DISCONNECTED:
            found[disk_id] = f"{view.label} was removed or cannot be reached: the camera has stopped recording to it."
        else:
            found[disk_id] = f"{view.label} cannot be written (locked or read-only): the camera does not record to it."
    return found


class LiveStorageRunner:
    """Follows one camera's storage events until cancelled, calling `listener` with the state after each change.

    The stream reconnects by itself (EventStream); while it is down `state.live` is False and the listener is
    told so. What waiting cannot fix (a wrong password, a refused filter) is raised from `run`, after telling
    the listener the stream is not live.
    """

    def __init__(
        self,
        transport: VapixTransport,
        listener: LiveListener,
        *,
        first_delay: float = 1.0,
        max_delay: float = 30.0,
    ) -> None:
        self.state = LiveStorage()
        self._listener = listener
        self._stream = EventStream(
            transport, STORAGE_FILTERS, first_delay=first_delay, max_delay=max_delay, on_live=self._on_live
        )

    @property
    def connections(self) -> int:
        return self._stream.connections

    async def run(self) -> None:
        events = self._stream.events()
        try:
            async for notification in events:
                self.state, change = apply(self.state, notification)
                if change is not None:
                    self._listener(self.state, change)
        finally:
            await events.aclose()  # closes the WebSocket now, and says the stream is no longer live
            self._on_live(False)

    def _on_live(self, live: bool) -> None:
        if live != self.state.live:
            self.state = replace(self.state, live=live)
            self._listener(self.state, LiveChange(Topic.LIVE, first=live and self._stream.connections == 1))


def poll_seconds(live: LiveStorage | None, polled: float = POLL_SECONDS, safety: float = SAFETY_POLL_SECONDS) -> float:
    """How long a reader may wait between reads of a camera's storage: the slow safety net while its events
    arrive live, the short poll otherwise (no stream offered, or the stream is down right now)."""
    return safety if live is not None and live.live else polled


@dataclass(frozen=True)
class StorageFeed:
    """How the panels learn of a camera's storage, for the user to know how fresh it is: live events, or reads
    every few seconds; and whether the camera records, from the events when live, else from the last read."""

    live: bool
    recording: bool | None  # None: not known yet
    poll_seconds: float  # between reads while not live

    @classmethod
    def of(cls, live: LiveStorage | None, read_recording: bool | None, polled: float = POLL_SECONDS) -> StorageFeed:
        """`read_recording` is what the last read of the storage said (an ongoing recording in list.cgi)."""
        if live is not None and live.live:
            return cls(True, live.recording if live.recording is not None else read_recording, polled)
        return cls(False, read_recording, polled)

    def describe(self) -> str:
        return "Live events" if self.live else f"Checked every {self.poll_seconds:g} s"

    def explain(self) -> str:
        if self.live:
            return "The camera tells Edgestore of every storage event as it happens; its storage is re-read at once."
        return (
            f"Edgestore reads the camera's storage every {self.poll_seconds:g} s: the camera does not stream its "
            "storage events, or the stream is down right now."
        )
