"""The timeline's scale: zooming keeps the time under the pointer, and ticks fall on round local times of the
camera, with room for their labels, across a daylight-saving change too."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from app.timeline.scale import (
    MAX_SECONDS_PER_PX,
    MIN_SECONDS_PER_PX,
    MIN_TICK_PX,
    TimeScale,
    day_boundaries,
    tick_step,
    ticks,
)

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def at(text: str, zone: ZoneInfo = STOCKHOLM) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=zone).timestamp()


@given(st.floats(MIN_SECONDS_PER_PX, MAX_SECONDS_PER_PX), st.floats(0.2, 5), st.floats(0, 1500))
def test_zooming_keeps_the_time_under_the_pointer(per_px, factor, anchor_x):
    scale = TimeScale(1_700_000_000.0, per_px)
    zoomed = scale.zoomed(factor, anchor_x)
    assert abs(zoomed.time(anchor_x) - scale.time(anchor_x)) < 1e-3 * max(per_px, 1)
    assert MIN_SECONDS_PER_PX <= zoomed.seconds_per_px <= MAX_SECONDS_PER_PX


def test_zoom_stops_at_seconds_and_at_weeks():
    scale = TimeScale(0, 1.0)
    assert scale.zoomed(1e6, 0).seconds_per_px == MIN_SECONDS_PER_PX
    assert scale.zoomed(1e-6, 0).seconds_per_px == MAX_SECONDS_PER_PX
    assert scale.panned(100).left == -100


def test_ticks_fall_on_round_local_times_with_room_for_labels():
    scale = TimeScale(at("2026-11-24T13:07:00"), 20.0)  # 20 s per pixel: ticks every 30 min
    found = ticks(scale, 1000, STOCKHOLM)
    assert [t.label for t in found[:3]] == ["13:30", "14:00", "14:30"]
    assert tick_step(20.0) * 1 / 20.0 >= MIN_TICK_PX
    close = ticks(TimeScale(at("2026-11-24T13:07:01"), 0.05), 1000, STOCKHOLM)
    assert close[0].label == "13:07:05"


def test_a_daylight_saving_night_has_a_short_day_and_ticks_on_the_hour():
    spring = TimeScale(at("2026-03-29T00:00:00"), 30.0)  # hourly ticks; clocks go 02:00 -> 03:00
    labels = [t.label for t in ticks(spring, 400, STOCKHOLM)]
    assert "02:00" not in labels
    assert labels[:3] == ["00:00", "01:00", "03:00"]
    days = day_boundaries(at("2026-03-28T12:00:00"), at("2026-03-30T12:00:00"), STOCKHOLM)
    assert [d.label for d in days] == ["Sun 29 Mar 2026", "Mon 30 Mar 2026"]
    assert days[1].moment - days[0].moment == 23 * 3600


def test_a_wide_view_ticks_by_days_and_weeks():
    week_view = TimeScale(at("2026-11-01T00:00:00"), 2000.0)
    labels = [t.label for t in ticks(week_view, 1000, STOCKHOLM)]
    assert labels[0] == "Mon 02 Nov"
    assert all(label.startswith("Mon") for label in labels)
