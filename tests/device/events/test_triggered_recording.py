"""Record-video actions record for real (EVENTS.md §1.1, §1.10): a virtual input fires a rule, the recording
holds `pre_duration` of video from before the trigger (the in-memory pre-event buffer), overlapping triggers
extend one recording, an unlimited action records while its condition holds, and a schedule rule records in
its window only. Everything is checked from the outside: list.cgi, download.cgi and the frames' time strips."""

from __future__ import annotations

import itertools
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.device.events.camera import set_clock, switch
from tests.device.events.recordings import completed, custom_attributes, frame_times, recordings, span
from tests.device.events.soap import add_rule, add_schedule, item, recording_configuration

pytestmark = pytest.mark.functional

VIRTUAL_INPUT = "tns1:Device/tnsaxis:IO/VirtualInput"
INTERVAL = "tns1:UserAlarm/tnsaxis:Recurring/Interval"
GOP = timedelta(seconds=2)  # the synthetic source's key-frame interval: a recording starts at a key frame
TICK = timedelta(milliseconds=400)  # the action's look at the clock, a frame, and HTTP on a busy machine


def test_a_virtual_input_rule_with_five_seconds_pre_duration_records_from_five_seconds_before(device):
    action = recording_configuration(device, "fixed", pre=5000, post=1000)
    add_rule(device, "Door opened", action, start=(VIRTUAL_INPUT, item("port", "1") + " and " + item("active", "1")))
    time.sleep(5.5)  # the pre-event buffer fills from the live source
    assert recordings(device) == []  # the buffer is memory: nothing is written before a trigger
    before, after = switch(device, 1, True)

    (recording,) = completed(device)
    assert (recording["recordingtype"], recording["eventid"], recording["eventtrigger"]) == (
        "triggered",
        "Door opened",
        "Record Video",
    )
    times = frame_times(device, recording["recordingid"])
    assert before - timedelta(seconds=5) - GOP - TICK <= times[0] <= after - timedelta(seconds=5)
    assert times[-1] >= before + timedelta(seconds=1) - TICK
    assert times[-1] <= after + timedelta(seconds=1) + 2 * TICK
    steps = [b - a for a, b in itertools.pairwise(times)]
    assert max(steps) < timedelta(milliseconds=250)  # 10 fps, no gap where the buffer meets the live frames
    start, _ = span(recording)
    assert abs(start - times[0]) < timedelta(milliseconds=5)
    assert custom_attributes(device, recording["recordingid"]) == {
        "TriggerTrigger": "Record Video",
        "TriggerName": "Door opened",
        "TriggerType": "triggered",
    }


def test_overlapping_triggers_extend_one_recording_and_an_unwatched_port_records_nothing(device):
    action = recording_configuration(device, "fixed", pre=0, post=2000)
    add_rule(device, "Pulses", action, start=(VIRTUAL_INPUT, item("port", "2") + " and " + item("active", "1")))
    switch(device, 3, True)  # another port: no recording
    switch(device, 2, True)
    time.sleep(1.0)
    switch(device, 2, False)
    _, last = switch(device, 2, True)

    (recording,) = completed(device)
    _, stop = span(recording)
    assert stop >= last + timedelta(seconds=2) - TICK


def test_an_unlimited_action_records_while_its_condition_holds_then_post_duration(device):
    action = recording_configuration(device, "unlimited", pre=1000, post=1000)
    add_rule(
        device, "While open", action, conditions=[(VIRTUAL_INPUT, item("port", "7") + " and " + item("active", "1"))]
    )
    time.sleep(2.5)
    opened, _ = switch(device, 7, True)
    time.sleep(1.5)
    assert [r["recordingstatus"] for r in recordings(device)] == ["recording"]
    closed, closed_after = switch(device, 7, False)

    (recording,) = completed(device)
    times = frame_times(device, recording["recordingid"])
    assert times[0] <= opened - timedelta(seconds=1) + TICK
    assert closed + timedelta(seconds=1) - TICK <= times[-1] <= closed_after + timedelta(seconds=1) + 2 * TICK


STOCKHOLM = ZoneInfo("Europe/Stockholm")


def test_a_schedule_rule_records_inside_its_window_in_the_camera_zone_and_not_outside(device_factory):
    device = device_factory("--timezone", "Europe/Stockholm")
    window_start = datetime(2024, 6, 21, 8, 0, 0, tzinfo=STOCKHOLM)  # 06:00 UTC
    set_clock(device, window_start - timedelta(seconds=2.5))
    schedule = add_schedule(device, "DTSTART:19700101T080000\nDTEND:19700101T080003\nRRULE:FREQ=DAILY", "Morning")
    action = recording_configuration(device, "unlimited", pre=0, post=0)
    content = item("id", schedule) + " and " + item("active", "1")
    add_rule(device, "Morning recording", action, conditions=[(INTERVAL, content)])
    assert recordings(device) == []  # before the window

    (recording,) = completed(device, timeout=15)
    start, stop = span(recording)
    window_end = window_start + timedelta(seconds=3)
    assert window_start - GOP - TICK <= start <= window_start + TICK  # from the key frame at or before 08:00:00
    assert window_end <= stop <= window_end + TICK
    assert recording["starttimelocal"].startswith("2024-06-21T07:59:5") or recording["starttimelocal"].startswith(
        "2024-06-21T08:00:00"
    )
    assert recording["starttimelocal"].endswith("+02:00")
    assert (recording["recordingtype"], recording["eventid"]) == ("scheduled", "Morning recording")
    time.sleep(1.0)
    assert len(recordings(device)) == 1  # after the window: nothing more


def test_activation_timeout_skips_triggers_that_come_too_soon(device):
    soon = recording_configuration(device, "fixed", pre=0, post=300)
    add_rule(
        device, "Calm", soon, start=(VIRTUAL_INPUT, item("port", "11") + " and " + item("active", "1")), timeout="PT10S"
    )
    add_rule(device, "Eager", soon, start=(VIRTUAL_INPUT, item("port", "12") + " and " + item("active", "1")))
    for _ in range(2):
        switch(device, 11, True)
        switch(device, 12, True)
        time.sleep(1.5)  # the first recordings are over
        switch(device, 11, False)
        switch(device, 12, False)
    found = completed(device, count=3)
    assert sorted(r["eventid"] for r in found) == ["Calm", "Eager", "Eager"]
