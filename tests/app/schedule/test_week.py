"""The week grid and its iCalendar schedules: any grid survives the trip, and the camera's own built-in
schedules read as the hours they cover."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.schedule.week import DAYS, HOURS, UnsupportedSchedule, WeekGrid, cells_of, grid_of, to_icals, windows

cells = st.frozensets(st.tuples(st.integers(0, DAYS - 1), st.integers(0, HOURS - 1)))


@given(cells)
def test_any_grid_survives_the_trip_through_icalendar(found):
    grid = WeekGrid.of(found)
    assert grid_of(to_icals(grid)) == grid


@given(cells)
def test_one_schedule_per_distinct_run_and_no_day_twice_in_one(found):
    grid = WeekGrid.of(found)
    found_windows = windows(grid)
    runs = {(w.run, d) for w in found_windows for d in w.days}
    assert len(runs) == sum(len(grid.runs(d)) for d in range(DAYS))
    assert len({w.run for w in found_windows}) == len(found_windows)


def test_office_hours_are_one_weekly_schedule():
    grid = WeekGrid.rectangle(range(5), range(8, 17))
    assert to_icals(grid) == ["DTSTART:19700101T080000\nDTEND:19700101T170000\nRRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"]


def test_a_run_to_midnight_ends_on_the_next_day():
    (ical,) = to_icals(WeekGrid.rectangle(range(6, 7), range(20, 24)))
    assert "DTEND:19700102T000000" in ical
    assert "BYDAY=SU" in ical


def test_dragging_paints_and_erases_a_rectangle():
    painted = WeekGrid().painted((4, 17), (0, 8), True)
    assert painted == WeekGrid.rectangle(range(5), range(8, 18))
    assert painted.painted((2, 8), (2, 17), False).cells == painted.cells - {(2, h) for h in range(8, 18)}


def test_the_built_in_schedules_read_as_their_hours():
    after_hours = cells_of("DTSTART:19700101T180000\nDTEND:19700102T080000\nRRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR")
    assert {(0, 18), (1, 7), (5, 7)} <= after_hours  # Friday's evening runs into Saturday morning
    assert not {(0, 8), (5, 8)} & after_hours
    weekends = cells_of("DTSTART:19700103T000000 DTEND:19700105T000000 RRULE:FREQ=WEEKLY")
    assert weekends == frozenset((d, h) for d in (5, 6) for h in range(24))


@pytest.mark.parametrize(
    "ical",
    ["DTSTART:19700101T000000\nRRULE:FREQ=HOURLY", "DTSTART:19700101T080000\nDTEND:19700101T083000\nRRULE:FREQ=DAILY"],
)
def test_what_a_week_cannot_show_is_refused(ical):
    with pytest.raises(UnsupportedSchedule):
        cells_of(ical)
