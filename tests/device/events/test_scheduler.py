"""The scheduler on a manual clock: Interval states and Pulse events in the camera's time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from device.clock import ManualClock
from device.events.bus import Event, EventBus
from device.events.scheduler import Scheduler
from device.events.schedules import ScheduleStore
from device.events.topics import SCHEDULE_INTERVAL, SCHEDULE_PULSE

STOCKHOLM = ZoneInfo("Europe/Stockholm")  # UTC+2 in June


def make(tmp_path, start: datetime) -> tuple[Scheduler, ManualClock, EventBus, list[Event]]:
    clock = ManualClock(start)
    bus = EventBus(clock.now)
    events: list[Event] = []
    bus.subscribe(events.append)
    return Scheduler(ScheduleStore(tmp_path / "schedules.json"), bus, clock, STOCKHOLM), clock, bus, events


def test_an_interval_is_active_in_its_local_window_only(tmp_path):
    scheduler, clock, bus, _ = make(tmp_path, datetime(2024, 6, 21, 5, 59, 58, tzinfo=UTC))  # 07:59:58 local
    event = scheduler.add(None, "Morning", "DTSTART:19700101T080000\nDTEND:19700101T080003\nRRULE:FREQ=DAILY")
    assert bus.state(SCHEDULE_INTERVAL, {"id": event.id}) == {"active": "0"}
    clock.advance(2)
    scheduler.tick()
    assert bus.state(SCHEDULE_INTERVAL, {"id": event.id}) == {"active": "1"}
    clock.advance(3)
    scheduler.tick()
    assert bus.state(SCHEDULE_INTERVAL, {"id": event.id}) == {"active": "0"}


def test_builtin_office_hours_follow_the_camera_zone_not_utc(tmp_path):
    scheduler, _clock, bus, _ = make(tmp_path, datetime(2024, 6, 21, 6, 30, tzinfo=UTC))  # 08:30 in Stockholm
    scheduler.tick()
    assert bus.state(SCHEDULE_INTERVAL, {"id": "com.axis.schedules.office_hours"}) == {"active": "1"}
    assert bus.state(SCHEDULE_INTERVAL, {"id": "com.axis.schedules.weekends"}) == {"active": "0"}


def test_a_pulse_fires_once_per_occurrence_and_is_not_kept(tmp_path):
    scheduler, clock, bus, events = make(tmp_path, datetime(2024, 6, 21, 5, 59, 59, 500000, tzinfo=UTC))
    scheduler.tick()
    event = scheduler.add("pulse-1", None, "DTSTART:19700101T000000\nRRULE:FREQ=MINUTELY")
    for _ in range(10):  # 1 s in ticks of 0.1 s: across 08:00:00 once
        clock.advance(0.1)
        scheduler.tick()
    pulses = [e for e in events if e.topic == SCHEDULE_PULSE]
    assert [(p.source, p.stateful) for p in pulses] == [({"id": event.id}, False)]
    assert bus.state(SCHEDULE_PULSE, {"id": event.id}) is None


def test_schedules_persist_and_generated_ids_are_never_reused(tmp_path):
    scheduler, _, _bus, _ = make(tmp_path, datetime(2024, 6, 21, tzinfo=UTC))
    first = scheduler.add(None, "A", "DTSTART:19700101T000000\nRRULE:FREQ=HOURLY")
    scheduler.remove(first.id)
    again, _, _, _ = make(tmp_path, datetime(2024, 6, 21, tzinfo=UTC))
    second = again.add(None, "B", "DTSTART:19700101T000000\nRRULE:FREQ=HOURLY")
    assert first.id == "com.axis.schedules.genid.id-0"
    assert second.id == "com.axis.schedules.genid.id-1"
    assert [e.id for e in again.store.all()][-1] == second.id


def test_removing_an_active_schedule_says_inactive_before_it_goes(tmp_path):
    scheduler, _, bus, events = make(tmp_path, datetime(2024, 6, 21, 6, 30, tzinfo=UTC))  # office hours
    scheduler.tick()
    scheduler.remove("com.axis.schedules.office_hours")
    last = [e for e in events if e.source == {"id": "com.axis.schedules.office_hours"}][-1]
    assert last.data == {"active": "0"}
    assert bus.state(SCHEDULE_INTERVAL, {"id": "com.axis.schedules.office_hours"}) is None
