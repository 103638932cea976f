"""Schedule evaluation: the iCalendar subset of Axis schedules in the camera's local time (EVENTS.md §2.2)."""

from __future__ import annotations

from datetime import datetime

import pytest

from device.events.ical import ScheduleError, parse_schedule
from device.events.schedules import BUILT_IN

BUILT = {i: parse_schedule(text) for i, _, text in BUILT_IN}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.mark.parametrize(
    ("moment", "active"),
    [
        ("2024-06-21T07:59:59", False),  # a Friday
        ("2024-06-21T08:00:00", True),
        ("2024-06-21T17:59:59", True),
        ("2024-06-21T18:00:00", False),
        ("2024-06-22T12:00:00", False),  # Saturday
        ("2024-06-24T09:00:00", True),  # Monday
    ],
)
def test_office_hours_are_weekdays_eight_to_six(moment, active):
    assert BUILT["com.axis.schedules.office_hours"].active_at(at(moment)) is active


@pytest.mark.parametrize(
    ("moment", "active"),
    [
        ("2024-06-21T23:59:59", False),
        ("2024-06-22T00:00:00", True),
        ("2024-06-23T23:59:59", True),
        ("2024-06-24T00:00:00", False),
    ],
)
def test_weekends_run_from_saturday_midnight_to_monday_midnight(moment, active):
    assert BUILT["com.axis.schedules.weekends"].active_at(at(moment)) is active


def test_after_hours_cross_midnight():
    after = BUILT["com.axis.schedules.after_hours"]
    assert after.active_at(at("2024-06-20T23:00:00"))  # Thursday night
    assert after.active_at(at("2024-06-21T07:59:00"))  # into Friday morning
    assert not after.active_at(at("2024-06-21T08:00:00"))


def test_separators_and_times_real_clients_send_all_parse_alike():
    lf = parse_schedule("DTSTART:20111212T060000\nDTEND:20111212T090000\nRRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR")
    crlf = parse_schedule("DTSTART:20111212T060000\r\nDTEND:20111212T090000\r\nRRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR")
    spaces = parse_schedule("DTSTART:20111212T06:00 DTEND:20111212T09:00 RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR")
    assert lf == crlf == spaces
    assert not lf.is_pulse


def test_a_pulse_every_minute_since_1970_fires_once_per_minute_without_iterating():
    pulse = parse_schedule("DTSTART:19700101T000000\nRRULE:FREQ=MINUTELY;INTERVAL=1")
    assert pulse.is_pulse
    assert pulse.pulses_between(at("2024-06-21T07:59:59"), at("2024-06-21T08:00:00"))
    assert not pulse.pulses_between(at("2024-06-21T08:00:00"), at("2024-06-21T08:00:59"))
    assert not pulse.active_at(at("2024-06-21T08:00:00"))  # a pulse has no duration


def test_dtend_equal_to_dtstart_is_a_pulse_and_interval_multiples_are_honoured():
    assert parse_schedule("DTSTART:19700101T000000\nDTEND:19700101T000000\nRRULE:FREQ=HOURLY").is_pulse
    every_other_day = parse_schedule("DTSTART:20240601T100000\nDTEND:20240601T110000\nRRULE:FREQ=DAILY;INTERVAL=2")
    assert every_other_day.active_at(at("2024-06-21T10:30:00"))  # day 20
    assert not every_other_day.active_at(at("2024-06-22T10:30:00"))  # day 21


def test_monthly_by_weekday_and_yearly_by_month():
    last_friday = parse_schedule("DTSTART:20240105T120000\nDTEND:20240105T130000\nRRULE:FREQ=MONTHLY;BYDAY=-1FR")
    assert last_friday.active_at(at("2024-06-28T12:30:00"))
    assert not last_friday.active_at(at("2024-06-21T12:30:00"))
    first_monday = parse_schedule("DTSTART:20240101T000000\nDTEND:20240101T010000\nRRULE:FREQ=MONTHLY;BYDAY=1MO")
    assert first_monday.active_at(at("2024-07-01T00:30:00"))
    yearly = parse_schedule("DTSTART:19700101T000000\nDTEND:19700102T000000\nRRULE:FREQ=YEARLY;BYMONTH=12,9")
    assert yearly.active_at(at("2024-09-01T10:00:00"))
    assert not yearly.active_at(at("2024-10-01T10:00:00"))


def test_before_its_start_nothing_is_active():
    window = parse_schedule("DTSTART:20300101T000000\nDTEND:20300102T000000\nRRULE:FREQ=DAILY")
    assert not window.active_at(at("2029-12-31T12:00:00"))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "RRULE:FREQ=DAILY",  # no DTSTART
        "DTSTART:yesterday",
        "DTSTART:20240101T000000\nDTEND:20231231T000000",  # ends before it starts
        "DTSTART:20240101T000000\nRRULE:FREQ=FORTNIGHTLY",
        "DTSTART:20240101T000000\nRRULE:FREQ=DAILY;INTERVAL=0",
        "DTSTART:20240101T000000\nRRULE:FREQ=DAILY;BYDAY=MO",
        "DTSTART:20240101T000000\nRRULE:FREQ=WEEKLY;BYDAY=XX",
        "DTSTART:20240101T000000\nRRULE:FREQ=YEARLY;BYMONTH=13",
        "DTSTART:20240101T000000\nSUMMARY:party",
    ],
)
def test_what_is_not_a_schedule_is_refused(text):
    with pytest.raises(ScheduleError):
        parse_schedule(text)
