"""Turns schedules into events: Recurring/Interval states and Recurring/Pulse instants, on the camera's clock.

It looks at the clock a few times a second rather than sleeping until the next occurrence, because the clock
can be set (a real camera's NTP step, a test's scenario) and a sleep would not notice. Each look compares the
local wall-clock time in the camera's zone with every schedule: intervals publish their state (the bus keeps
only changes), pulses fire once for every tick that passed an occurrence's start.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from device.clock import Clock
from device.events.bus import EventBus
from device.events.ical import ScheduleError
from device.events.schedules import ScheduledEvent, ScheduleStore
from device.events.topics import SCHEDULE_INTERVAL, SCHEDULE_PULSE
from device.tasks import cancel_and_wait

log = logging.getLogger(__name__)

TICK_SECONDS = 0.1


class Scheduler:
    def __init__(self, store: ScheduleStore, bus: EventBus, clock: Clock, zone: ZoneInfo) -> None:
        self.store, self._bus, self._clock, self._zone = store, bus, clock, zone
        self._task: asyncio.Task[None] | None = None
        self._last: datetime | None = None

    async def start(self) -> None:
        self.tick()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="scheduler")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)

    def add(self, event_id: str | None, name: str | None, ical: str) -> ScheduledEvent:
        event = self.store.add(event_id, name, ical)
        self.tick()
        return event

    def remove(self, event_id: str) -> None:
        event = self.store.remove(event_id)
        # Inactive first, so rules held by it let go (forgetting alone tells no one), then no state at all.
        self._bus.set_state(SCHEDULE_INTERVAL, {"id": event.id}, {"active": "0"})
        self._bus.forget(SCHEDULE_INTERVAL, {"id": event.id})

    def local_now(self) -> datetime:
        return self._clock.now().astimezone(self._zone).replace(tzinfo=None)

    def tick(self) -> None:
        now = self.local_now()
        last = self._last if self._last is not None and self._last <= now else now
        for event in self.store.all():
            try:
                schedule = event.schedule
            except ScheduleError:  # stored before a stricter parser: skip it, do not stop the others
                continue
            if schedule.is_pulse:
                if schedule.pulses_between(last, now) and self._last is not None:
                    self._bus.publish(SCHEDULE_PULSE, {"id": event.id})
            else:
                active = "1" if schedule.active_at(now) else "0"
                self._bus.set_state(SCHEDULE_INTERVAL, {"id": event.id}, {"active": active})
        self._last = now

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            try:
                self.tick()
            except Exception:
                log.exception("schedule evaluation failed")
