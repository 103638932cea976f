"""A player asks where to start and stop in npt, clock or smpte; the camera answers what it plays in the same unit."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from device.rtsp.ranges import PlayRange, format_range, parse_range

START = datetime(2024, 6, 21, 7, 17, 25, 349296, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, PlayRange("npt", 0.0)),
        ("npt=0.000-", PlayRange("npt", 0.0)),
        ("npt=12.5-20", PlayRange("npt", 12.5, 20.0)),
        ("npt=-20", PlayRange("npt", 0.0, 20.0)),
        ("npt=now-", PlayRange("npt", 0.0, now=True)),
        ("npt=now-7.5", PlayRange("npt", 0.0, 7.5, now=True)),
        ("npt=3-2", PlayRange("npt", 3.0, 2.0)),  # read as written; PLAY refuses it (457)
        ("npt=1-soon", PlayRange("npt", 1.0)),  # an unreadable stop: to the end
        ("npt=1-2;time=19970123T143720Z", PlayRange("npt", 1.0, 2.0)),
        ("clock=20240621T071735.349Z-", PlayRange("clock", pytest.approx(9.999704))),
        (
            "clock=20240621T071735Z-20240621T071800Z",
            PlayRange("clock", pytest.approx(9.650704), pytest.approx(34.650704)),
        ),
        ("clock=20240101T000000Z-", PlayRange("clock", 0.0)),  # before the recording: its start
        ("smpte=0:00:10:15-", PlayRange("smpte", 10.5)),
        ("smpte=0:00:10-0:00:12:15", PlayRange("smpte", 10.0, 12.5)),
        ("smpte-30-drop=0:01:00-", PlayRange("smpte", 60.0)),
        ("clock=yesterday-", PlayRange("clock", 0.0)),  # unreadable: from the start, said in the unit asked
    ],
)
def test_start_and_stop_are_read_in_every_unit(header, expected):
    assert parse_range(header, START) == expected


def test_the_reply_uses_the_unit_asked_and_an_open_end_for_an_ongoing_recording():
    assert format_range("npt", 2.0, 10.0, START) == "npt=2.000-10.000"
    assert format_range("npt", 2.0, None, START) == "npt=2.000-"
    assert format_range("clock", 2.0, 10.0, START) == "clock=20240621T071727.349Z-20240621T071735.349Z"
    assert format_range("smpte", 62.5, None, START) == "smpte=0:01:02:15-"
    assert format_range("smpte", 10.0, 12.5, START) == "smpte=0:00:10:00-0:00:12:15"
    assert format_range("npt", -0.0004, 3.0, START) == "npt=0.000-3.000"  # never a sign
    assert format_range("smpte", -0.0004, None, START) == "smpte=0:00:00:00-"


def test_a_clock_reply_reads_back_as_the_same_start_and_stop():
    reply = format_range("clock", 4.25, 9.5, START)
    back = parse_range(reply, START)
    assert back.start == pytest.approx(4.25, abs=0.001)
    assert back.stop == pytest.approx(9.5, abs=0.001)
