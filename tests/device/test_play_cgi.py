"""A viewer plays an MJPEG recording through play.cgi: a multipart JPEG stream, at the recording's pace or as fast as
it can be read, from and to the frames closest to given times; H.264 recordings are sent to RTSP with a reason."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import av
import httpx
import pytest

from device.http.play import closest_frames
from device.media import timestrip
from tests.device.disk_client import mkv_files
from tests.device.test_recording_api import cgi, listing, wait_recorded
from tests.support.device_process import CREDENTIALS

PLAY = "/axis-cgi/record/play.cgi"


@pytest.fixture(scope="module")
def mjpeg(tmp_path_factory):
    """A camera with a 4-second MJPEG recording at 5 fps and a short H.264 one."""
    from tests.conftest import _start

    device = _start(tmp_path_factory.mktemp("play-camera"), [])
    ids = []
    for options in ("videocodec=jpeg&resolution=320x180&fps=5", "resolution=320x180&fps=5"):
        recording_id = cgi(device, "record.cgi", diskid="SD_DISK", options=options).get("recordingid")
        wait_recorded(device, recording_id, seconds=4)
        cgi(device, "stop.cgi", recordingid=recording_id)
        ids.append(recording_id)
    yield device, ids[0], ids[1]
    device.stop()


@pytest.fixture(scope="module")
def recorded_times(mjpeg) -> list[datetime]:
    """Every frame of the MJPEG recording, by its time strip, as played from start to end as fast as possible."""
    device, recording_id, _h264 = mjpeg
    return play(device, recordingid=recording_id, rate="max").times


@dataclass
class Played:
    response: httpx.Response
    parts: list[bytes]
    arrivals: list[float]
    """When each part had arrived whole (time.monotonic)."""

    @property
    def times(self) -> list[datetime]:
        return [strip_time(p) for p in self.parts]

    @property
    def spread(self) -> float:
        """Seconds from the first part to the last: the pace of the stream, without the Digest round trip and the
        planning before it."""
        return self.arrivals[-1] - self.arrivals[0]


def play(device, role: str = "viewer", **params: str) -> Played:
    """The whole response, with its JPEG parts as they arrived."""
    parts, arrivals = [], []
    with httpx.stream(
        "GET", device.http_url + PLAY, params=params, auth=httpx.DigestAuth(*CREDENTIALS[role]), timeout=30
    ) as response:
        if response.headers.get("content-type", "").startswith("multipart/x-mixed-replace"):
            for part in parts_of(response):
                parts.append(part)
                arrivals.append(time.monotonic())
        else:
            response.read()
    return Played(response, parts, arrivals)


def parts_of(response: httpx.Response) -> Iterator[bytes]:
    """The JPEGs of a multipart/x-mixed-replace body, each as soon as it has arrived whole."""
    boundary = b"--" + response.headers["content-type"].split("boundary=", 1)[1].encode() + b"\r\n"
    buffer = b""
    for chunk in response.iter_bytes():
        buffer += chunk
        while buffer.startswith(boundary) and b"\r\n\r\n" in buffer:
            head, _, rest = buffer[len(boundary) :].partition(b"\r\n\r\n")
            headers = dict(line.split(b": ", 1) for line in head.split(b"\r\n"))
            assert headers[b"Content-Type"] == b"image/jpeg"
            length = int(headers[b"Content-Length"])
            if len(rest) < length + 2:
                break
            assert rest[length : length + 2] == b"\r\n"
            buffer = rest[length + 2 :]
            yield rest[:length]
    assert buffer == b"", "the stream ended inside a part"


def strip_time(jpeg: bytes) -> datetime:
    codec = av.CodecContext.create("mjpeg", "r")
    (frame,) = codec.decode(av.Packet(jpeg))
    gray = frame.reformat(format="gray")
    plane = gray.planes[0]
    return timestrip.from_millis(timestrip.read_strip(bytes(plane), gray.width, gray.height, plane.line_size))


def iso(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%dT%H:%M:%S.%f}Z"


def between(earlier: datetime, later: datetime, share: float) -> datetime:
    """The moment `share` of the way from one frame to the next."""
    return earlier + (later - earlier) * share


@pytest.mark.functional
def test_an_mjpeg_recording_plays_far_faster_than_recorded_at_rate_max_with_every_frame_a_jpeg(mjpeg):
    device, recording_id, _h264 = mjpeg
    played = play(device, recordingid=recording_id, rate="max")
    assert played.response.status_code == 200
    assert played.response.headers["content-type"] == "multipart/x-mixed-replace; boundary=myboundary"
    entry = listing(device)[recording_id]
    seconds = (datetime.fromisoformat(entry["stoptime"]) - datetime.fromisoformat(entry["starttime"])).total_seconds()
    assert abs(len(played.parts) - seconds * 5) <= 3
    assert all(p.startswith(b"\xff\xd8") and p.endswith(b"\xff\xd9") for p in played.parts)
    times = played.times
    assert times == sorted(times)
    assert abs(times[0] - datetime.fromisoformat(entry["starttime"])) < timedelta(milliseconds=250)
    span = (times[-1] - times[0]).total_seconds()
    assert span > 3
    assert played.spread < span / 10, f"{len(times)} frames over {span:.1f} s took {played.spread:.2f} s"


@pytest.mark.functional
def test_playback_starts_and_stops_at_the_frames_closest_to_the_asked_times(mjpeg, recorded_times):
    """The spec: "Playback will start at the frame closest to this time" and "will stop at the frame closest to
    this time". A time 30 % of the way to the next frame is the earlier frame's, 70 % the later one's; choosing
    the frame at or before would get the 70 % ones wrong, by a whole frame (200 ms at 5 fps)."""
    device, recording_id, _h264 = mjpeg
    t = recorded_times
    early_start, late_start = between(t[5], t[6], 0.3), between(t[5], t[6], 0.7)
    early_stop, late_stop = between(t[12], t[13], 0.3), between(t[12], t[13], 0.7)

    wide = play(device, recordingid=recording_id, rate="max", starttime=iso(early_start), stoptime=iso(late_stop))
    assert wide.response.status_code == 200
    assert wide.times == t[5:14]  # from the frame just before the start to the one just after the stop

    narrow = play(device, recordingid=recording_id, rate="max", starttime=iso(late_start), stoptime=iso(early_stop))
    assert narrow.times == t[6:13]  # from the frame just after the start to the one just before the stop


@pytest.mark.functional
def test_a_start_equal_to_the_stop_plays_exactly_the_frame_closest_to_it(mjpeg, recorded_times):
    device, recording_id, _h264 = mjpeg
    t = recorded_times
    for share, expected in ((0.3, t[8]), (0.7, t[9])):
        moment = iso(between(t[8], t[9], share))
        played = play(device, recordingid=recording_id, rate="max", starttime=moment, stoptime=moment)
        assert played.response.status_code == 200
        assert played.times == [expected], share


@pytest.mark.functional
def test_times_before_and_after_the_recording_play_it_from_its_first_frame_to_its_last(mjpeg, recorded_times):
    device, recording_id, _h264 = mjpeg
    entry = listing(device)[recording_id]
    before = datetime.fromisoformat(entry["starttime"]) - timedelta(seconds=10)
    after = datetime.fromisoformat(entry["stoptime"]) + timedelta(seconds=10)
    played = play(device, recordingid=recording_id, rate="max", starttime=iso(before), stoptime=iso(after))
    assert played.times == recorded_times


def test_a_time_halfway_between_two_frames_takes_the_earlier_one_at_either_end():
    """Frames 200 ms apart; the rule the spec leaves open, taken the same way at the start and at the stop, so a
    start equal to the stop is one frame whichever way it falls."""
    base = datetime(2024, 6, 21, 7, 0, tzinfo=UTC)
    frames = [(base + timedelta(milliseconds=200 * n), n) for n in range(6)]
    at = base + timedelta(milliseconds=300)  # halfway between frames 1 and 2

    def chosen(start: datetime | None, stop: datetime | None) -> list[int]:
        return [n for _moment, n in closest_frames(iter(frames), start, stop)]

    assert chosen(at, None) == [1, 2, 3, 4, 5]
    assert chosen(None, at) == [0, 1]
    assert chosen(at, at) == [1]
    assert chosen(at + timedelta(microseconds=1), at + timedelta(microseconds=1)) == [2]
    assert chosen(None, None) == [0, 1, 2, 3, 4, 5]
    assert chosen(base + timedelta(seconds=5), None) == [5]  # after the last frame: the last is the closest


def assert_paced(played: Played, rate: float) -> None:
    """The parts came `rate` times as fast as their frames were recorded, within what a loaded two-core CI box
    makes of the timing: 0.6 to 1.6 times the ideal spread (pacing holds each frame to its due time, so lateness
    does not add up; only the last frame's counts)."""
    times = played.times
    ideal = (times[-1] - times[0]).total_seconds() / rate
    assert 0.6 * ideal <= played.spread <= 1.6 * ideal, (
        f"{len(times)} frames took {played.spread:.2f} s, not {ideal:.2f}"
    )


@pytest.mark.functional
def test_without_a_rate_the_recording_plays_at_its_own_pace(mjpeg, recorded_times):
    """The spec leaves the default unstated; AMBIGUITIES.md R-15 reads it as 1/1."""
    device, recording_id, _h264 = mjpeg
    t = recorded_times
    played = play(device, recordingid=recording_id, starttime=iso(t[4]), stoptime=iso(t[12]))
    assert played.times == t[4:13]
    assert_paced(played, 1)


@pytest.mark.functional
def test_at_rate_4_1_the_recording_plays_four_times_as_fast_as_it_was_recorded(mjpeg, recorded_times):
    device, recording_id, _h264 = mjpeg
    played = play(device, recordingid=recording_id, rate="4/1")
    assert played.times == recorded_times
    assert_paced(played, 4)


@pytest.mark.functional
def test_at_rate_1_2_the_recording_plays_at_half_the_pace_it_was_recorded(mjpeg, recorded_times):
    device, recording_id, _h264 = mjpeg
    t = recorded_times
    played = play(device, recordingid=recording_id, rate="1/2", starttime=iso(t[5]), stoptime=iso(t[11]))
    assert played.times == t[5:12]
    assert_paced(played, 0.5)


@pytest.mark.functional
def test_the_slowest_and_fastest_rates_the_spec_allows_are_played(mjpeg, recorded_times):
    """1/1000 and 1000/1 are the spec's minimum and maximum. At 1/1000 the second frame is due 200 s after the
    first, so the stream is open with one frame in it and nothing more for a good while."""
    device, recording_id, _h264 = mjpeg
    fastest = play(device, recordingid=recording_id, rate="1000/1")
    assert fastest.response.status_code == 200
    assert fastest.times == recorded_times

    slowest = {"recordingid": recording_id, "rate": "1/1000"}
    auth = httpx.DigestAuth(*CREDENTIALS["viewer"])
    with httpx.stream(
        "GET", device.http_url + PLAY, params=slowest, auth=auth, timeout=httpx.Timeout(30, read=2)
    ) as response:
        assert response.status_code == 200
        parts = parts_of(response)
        assert strip_time(next(parts)) == recorded_times[0]
        with pytest.raises(httpx.ReadTimeout):
            next(parts)


@pytest.mark.functional
@pytest.mark.parametrize("rate", ["1/1001", "1001/1", "0/1", "2000/1"])
def test_a_rate_outside_the_spec_bounds_is_refused_with_the_bounds(mjpeg, rate: str):
    device, recording_id, _h264 = mjpeg
    refused = play(device, recordingid=recording_id, rate=rate).response
    assert refused.status_code == 400
    assert refused.text == f"Invalid rate '{rate}': it must lie between 1/1000 and 1000/1.\n"


@pytest.mark.functional
@pytest.mark.parametrize("rate", ["abc", "fast", "1/0", "-1/1", "1/", "/2", "1.5", "1/2/3"])
def test_a_rate_that_is_neither_max_nor_a_fraction_is_refused_with_the_forms_it_may_take(mjpeg, rate: str):
    device, recording_id, _h264 = mjpeg
    refused = play(device, recordingid=recording_id, rate=rate).response
    assert refused.status_code == 400
    assert refused.text == f"Invalid rate '{rate}': use max or numerator/denominator, e.g. 1/1.\n"


@pytest.mark.functional
def test_times_that_do_not_parse_or_come_in_the_wrong_order_are_refused_with_the_reason(mjpeg, recorded_times):
    device, recording_id, _h264 = mjpeg
    first, last = iso(recorded_times[0]), iso(recorded_times[-1])
    for asked, reason in (
        ({"starttime": "yesterday"}, "Invalid starttime 'yesterday'"),
        ({"stoptime": "2024-13-45T00:00:00Z"}, "Invalid stoptime '2024-13-45T00:00:00Z'"),
        ({"starttime": last, "stoptime": first}, "Invalid starttime: it is after the stoptime."),
    ):
        refused = play(device, recordingid=recording_id, **asked).response
        assert refused.status_code == 400, asked
        assert refused.text.startswith(reason), refused.text


@pytest.mark.functional
def test_times_when_nothing_was_recorded_find_nothing_to_play(mjpeg):
    """A start after the recording's end, or a stop before its start, as the Export API's errors 150 and 160."""
    device, recording_id, _h264 = mjpeg
    entry = listing(device)[recording_id]
    after_end = iso(datetime.fromisoformat(entry["stoptime"]) + timedelta(seconds=1))
    before_start = iso(datetime.fromisoformat(entry["starttime"]) - timedelta(seconds=1))
    for asked, reason in (
        ({"starttime": after_end}, "after the recording's stop time"),
        ({"stoptime": before_start}, "before the recording's start time"),
    ):
        refused = play(device, recordingid=recording_id, **asked).response
        assert refused.status_code == 404, asked
        assert reason in refused.text, refused.text


@pytest.mark.functional
def test_an_h264_recording_is_refused_with_the_rtsp_url_that_plays_it(mjpeg):
    """The spec: "Only MJPEG recordings can be played using this method. H.264 and MPEG-4 recordings must be played
    using RTSP"."""
    device, _recording_id, h264 = mjpeg
    refused = play(device, recordingid=h264).response
    assert refused.status_code == 415
    assert f"rtsp://<camera>/axis-media/media.amp?recordingid={h264}" in refused.text


@pytest.mark.functional
def test_a_missing_or_unknown_recording_and_media_other_than_video_are_refused_with_the_reason(mjpeg):
    device, recording_id, _h264 = mjpeg
    for asked, status, reason in (
        ({}, 400, "recordingid is required."),
        ({"recordingid": "20200101_000000_ABCD_ACCC8E000001"}, 404, "No recording 20200101_000000_ABCD_ACCC8E000001"),
        ({"recordingid": recording_id, "mediatype": "metadata"}, 400, "Invalid mediatype 'metadata'"),
        ({"recordingid": recording_id, "mediatype": "audio"}, 404, "The recording has no audio."),
    ):
        refused = play(device, **asked).response
        assert refused.status_code == status, asked
        assert refused.text.startswith(reason), refused.text


@pytest.mark.functional
def test_a_recording_id_in_quotes_as_the_rtsp_docs_write_it_plays_the_same_recording(mjpeg, recorded_times):
    """WIRE.md §7: the RTSP API's example quotes the ID, ``recordingid="myrecording"``; a client that copied the
    form gets the same recording from play.cgi as from RTSP."""
    device, recording_id, h264 = mjpeg
    quoted = play(device, recordingid=f'"{recording_id}"', rate="max")
    assert quoted.response.status_code == 200
    assert quoted.times == recorded_times
    refused = play(device, recordingid=f'"{h264}"').response
    assert refused.status_code == 415
    assert f"recordingid={h264}\n" in refused.text  # the RTSP URL it offers names the ID itself


@pytest.mark.functional
def test_a_viewer_must_sign_in(mjpeg):
    device, recording_id, _h264 = mjpeg
    anonymous = httpx.get(device.http_url + PLAY, params={"recordingid": recording_id})
    assert anonymous.status_code == 401


@pytest.mark.functional
def test_a_recording_whose_block_was_removed_after_listing_is_refused_in_words_and_the_camera_plays_on(device):
    """Cleanup or remove.cgi took a block the viewer's list still shows: play.cgi says so (not an HTTP 500 page
    from the server), the traceback goes to the camera's log, and other recordings still play."""
    ids = []
    for _ in range(2):
        options = "videocodec=jpeg&resolution=320x180&fps=5"
        recording_id = cgi(device, "record.cgi", diskid="SD_DISK", options=options).get("recordingid")
        wait_recorded(device, recording_id, seconds=1)
        cgi(device, "stop.cgi", recordingid=recording_id)
        ids.append(recording_id)
    gone, intact = ids
    for block in mkv_files(device, gone):
        block.unlink()

    refused = play(device, recordingid=gone).response
    assert refused.status_code == 404
    assert "a block of the recording is no longer on the disk" in refused.text
    assert "sdcard" not in refused.text  # the host's paths stay in the log
    assert "Traceback" in (device.data_dir / "stderr.log").read_text()
    assert len(play(device, recordingid=intact, rate="max").parts) >= 5
