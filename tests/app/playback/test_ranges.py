"""Range values: clock times to the millisecond in UTC both ways, and npt."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from app.playback.ranges import ClockRange, NptRange, format_clock, parse_clock, parse_range
from device.rtsp.ranges import format_range as device_format_range
from device.rtsp.ranges import parse_range as device_parse_range

MOMENT = datetime(2024, 3, 22, 4, 37, 20, 3999, tzinfo=UTC)


def test_a_clock_time_is_utc_to_the_millisecond_never_rounded_up():
    assert format_clock(MOMENT) == "20240322T043720.003Z"
    assert format_clock(MOMENT.astimezone(timezone(timedelta(hours=2)))) == "20240322T043720.003Z"
    assert format_clock(datetime(2024, 3, 22, 4, 37, 20)) == "20240322T043720.000Z"
    assert format_clock(datetime(2024, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)) == "20241231T235959.999Z"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20240322T043720Z", datetime(2024, 3, 22, 4, 37, 20, tzinfo=UTC)),
        ("20240322T043720.5Z", datetime(2024, 3, 22, 4, 37, 20, 500000, tzinfo=UTC)),
        ("20240322T043720.003Z", datetime(2024, 3, 22, 4, 37, 20, 3000, tzinfo=UTC)),
        ("20240322T043720.0030001Z", datetime(2024, 3, 22, 4, 37, 20, 3000, tzinfo=UTC)),
    ],
)
def test_clock_times_parse_with_any_fraction(text, expected):
    assert parse_clock(text) == expected


@pytest.mark.parametrize("text", ["2024-03-22T04:37:20Z", "20240322T043720", "20241322T043720Z", ""])
def test_what_is_not_a_clock_time_is_refused(text):
    with pytest.raises(ValueError):
        parse_clock(text)


def test_headers_the_camera_reads_as_the_same_moments():
    start = datetime(2024, 3, 22, 4, 37, 0, tzinfo=UTC)
    asked = ClockRange(start + timedelta(seconds=2.5), start + timedelta(seconds=4))
    assert asked.header() == "clock=20240322T043702.500Z-20240322T043704.000Z"
    read = device_parse_range(asked.header(), start)
    assert (read.unit, read.start, read.stop) == ("clock", 2.5, 4.0)
    assert ClockRange(start).header() == "clock=20240322T043700.000Z-"
    assert NptRange(None).header() == "npt=now-"
    assert NptRange(1.25, 3).header() == "npt=1.250-3.000"
    assert device_parse_range(NptRange(1.25).header(), start).start == 1.25


def test_the_cameras_reply_reads_back_in_the_unit_asked():
    start = datetime(2024, 3, 22, 4, 37, 0, tzinfo=UTC)
    assert parse_range(device_format_range("clock", 2.0, 6.25, start)) == ClockRange(
        start + timedelta(seconds=2), start + timedelta(seconds=6.25)
    )
    assert parse_range(device_format_range("npt", 2.0, None, start)) == NptRange(2.0)
    assert parse_range("npt=0:01:02.5-") == NptRange(62.5)
    assert parse_range("npt=now-") == NptRange(None)
    assert parse_range("clock=20240322T043720Z-;time=19970123T143720Z") == ClockRange(parse_clock("20240322T043720Z"))


@pytest.mark.parametrize("text", ["smpte=0:00:01-", "npt", "npt=5", "clock=yesterday-", "npt=a-b"])
def test_ranges_a_player_cannot_act_on_are_refused(text):
    with pytest.raises(ValueError):
        parse_range(text)
