"""A player asks where to start and stop in npt, clock or smpte; the camera answers what it plays in the same unit,
and refuses (457) what it cannot read rather than playing something else."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from device.rtsp.ranges import PlayRange, RangeError, format_range, parse_range

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
        ("npt=1-2;time=19970123T143720Z", PlayRange("npt", 1.0, 2.0)),
        ("npt=0:00:04.5-", PlayRange("npt", 4.5)),  # npt-hhmmss (RFC 2326 §3.6)
        ("npt=1:02:03-", PlayRange("npt", 3723.0)),
        ("npt=0:00:01-0:01:00.25", PlayRange("npt", 1.0, 60.25)),
        ("npt=100:00:00-", PlayRange("npt", 360000.0)),  # npt hours are any number
        ("clock=20240621T071735.349Z-", PlayRange("clock", pytest.approx(9.999704))),
        (
            "clock=20240621T071735Z-20240621T071800Z",
            PlayRange("clock", pytest.approx(9.650704), pytest.approx(34.650704)),
        ),
        (
            "clock=20240621T071735Z- 20240621T071800Z",
            PlayRange("clock", pytest.approx(9.650704), pytest.approx(34.650704)),
        ),
        ("clock=20240101T000000Z-", PlayRange("clock", 0.0)),  # before the recording: its start
        # AMBIGUITIES.md T-3: an offset in place of Z, and the ISO 8601 extended form
        ("clock=20240621T091735+0200-", PlayRange("clock", pytest.approx(9.650704))),
        ("clock=20240621T091735.5+02:00-", PlayRange("clock", pytest.approx(10.150704))),
        ("clock=20240621T021735-05-", PlayRange("clock", pytest.approx(9.650704))),
        ("clock=2024-06-21T07:17:35Z-", PlayRange("clock", pytest.approx(9.650704))),
        (
            "clock=2024-06-21T02:17:35-05:00-2024-06-21T07:18:00Z",
            PlayRange("clock", pytest.approx(9.650704), pytest.approx(34.650704)),
        ),
        ("smpte=0:00:10:15-", PlayRange("smpte", 10.5)),
        ("smpte=0:00:10-0:00:12:15", PlayRange("smpte", 10.0, 12.5)),
        ("smpte=0:00:10:15.50-", PlayRange("smpte", pytest.approx(10 + 15.5 / 30))),  # hundredths of a frame
        ("smpte-25=0:00:10:12-", PlayRange("smpte-25", 10.48)),  # 12 of 25 frames
        ("smpte-30-drop=0:00:10:15-", PlayRange("smpte-30-drop", pytest.approx(315 * 1.001 / 30))),
        # drop-frame: labels 0 and 1 of minute 1 are skipped, so 0:01:00:02 is frame 1800, at 60.06 s
        ("smpte-30-drop=0:01:00:02-", PlayRange("smpte-30-drop", pytest.approx(1800 * 1.001 / 30))),
        # ... but not in every tenth minute: 0:10:00:00 is frame 17982, 10 min of 29.97 fps
        ("smpte-30-drop=0:10:00:00-", PlayRange("smpte-30-drop", pytest.approx(17982 * 1.001 / 30))),
    ],
)
def test_start_and_stop_are_read_in_every_unit(header, expected):
    assert parse_range(header, START) == expected


@pytest.mark.parametrize(
    "header",
    [
        "utc=20240621T071735Z-",  # a unit not offered
        "clock=yesterday-",
        "clock=garbage-",
        "clock=20240621T071735-",  # no Z and no offset: camera-local or UTC?
        "clock=20240621T1071735Z-",  # three-digit hours
        "clock=2024621T071735Z-",
        "clock=20241321T071735Z-",  # month 13
        "clock=20240621T071735+2400-",  # an offset of a day
        "clock=2024-06-21T071735Z-",  # extended date, basic time
        "clock=-20240621T071800Z",  # clock has no open start
        "npt=3-2",  # the stop before the start
        "clock=20240621T071800Z-20240621T071735Z",
        "smpte=0:00:12-0:00:10",
        "npt=1-soon",
        "npt=1-now",
        "npt=-5-",
        "npt=1e3-",
        "npt=inf-",
        "npt=0:60:00-",
        "npt=",
        "npt=-",
        "npt",
        "smpte=0:00:10:30-",  # smpte counts frames 0 to 29
        "smpte-25=0:00:10:25-",  # smpte-25, 0 to 24
        "smpte-30-drop=0:01:00:01-",  # a label drop-frame skips
        "smpte=-0:00:10",  # smpte has no open start
        "smpte=100:00:00-",  # smpte hours have two digits
    ],
)
def test_what_does_not_parse_is_refused_with_a_reason(header):
    with pytest.raises(RangeError) as refused:
        parse_range(header, START)
    assert str(refused.value)


def test_the_reply_uses_the_unit_asked_and_an_open_end_for_an_ongoing_recording():
    assert format_range("npt", 2.0, 10.0, START) == "npt=2.000-10.000"
    assert format_range("npt", 2.0, None, START) == "npt=2.000-"
    assert format_range("clock", 2.0, 10.0, START) == "clock=20240621T071727.349Z-20240621T071735.349Z"
    assert format_range("smpte", 62.5, None, START) == "smpte=0:01:02:15-"
    assert format_range("smpte", 10.0, 12.5, START) == "smpte=0:00:10:00-0:00:12:15"
    assert format_range("smpte", 10.99, None, START) == "smpte=0:00:11:00-"  # the nearest frame, never frame 30
    assert format_range("smpte-25", 10.48, None, START) == "smpte-25=0:00:10:12-"
    assert format_range("smpte-30-drop", 1800 * 1.001 / 30, None, START) == "smpte-30-drop=0:01:00:02-"
    assert format_range("smpte-30-drop", 17982 * 1.001 / 30, None, START) == "smpte-30-drop=0:10:00:00-"
    assert format_range("npt", -0.0004, 3.0, START) == "npt=0.000-3.000"  # never a sign
    assert format_range("smpte", -0.0004, None, START) == "smpte=0:00:00:00-"


@pytest.mark.parametrize("unit", ["clock", "smpte", "smpte-25", "smpte-30-drop"])
def test_a_reply_reads_back_as_the_same_start_and_stop(unit):
    reply = format_range(unit, 4.25, 79.5, START)
    back = parse_range(reply, START)
    within = 0.001 if unit == "clock" else 0.5 / 25  # the nearest millisecond, or frame
    assert back.unit == unit
    assert back.start == pytest.approx(4.25, abs=within)
    assert back.stop == pytest.approx(79.5, abs=within)


def test_every_drop_frame_label_of_an_hour_reads_back_as_its_frame():
    """Frame number to label and back, through the minutes that skip labels and the tenth ones that do not."""
    fps = 30000 / 1001
    for frame in range(0, 108_000, 7):
        label = format_range("smpte-30-drop", frame / fps, None, START)
        assert parse_range(label, START).start == pytest.approx(frame / fps, abs=1e-6), label
