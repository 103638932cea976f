"""A viewer plays an MJPEG recording through play.cgi: a multipart JPEG stream, at the recording's pace or as fast as
it can be read, from and to given times; H.264 recordings are sent to RTSP with a reason."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import av
import httpx
import pytest

from device.media import timestrip
from tests.device.test_recording_api import cgi, listing, wait_recorded
from tests.support.device_process import CREDENTIALS

pytestmark = pytest.mark.functional


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


def play(device, role: str = "viewer", **params: str) -> tuple[httpx.Response, list[bytes], float]:
    """The response, the JPEG parts of its body and how long the body took."""
    began = time.monotonic()
    response = httpx.get(
        f"{device.http_url}/axis-cgi/record/play.cgi",
        params=params,
        auth=httpx.DigestAuth(*CREDENTIALS[role]),
        timeout=30,
    )
    elapsed = time.monotonic() - began
    parts = []
    if response.headers.get("content-type", "").startswith("multipart/x-mixed-replace"):
        boundary = response.headers["content-type"].split("boundary=", 1)[1].encode()
        for chunk in response.content.split(b"--" + boundary)[1:]:
            head, _, body = chunk.partition(b"\r\n\r\n")
            length = int(dict(line.split(b": ", 1) for line in head.strip().split(b"\r\n"))[b"Content-Length"])
            parts.append(body[:length])
    return response, parts, elapsed


def strip_time(jpeg: bytes) -> datetime:
    codec = av.CodecContext.create("mjpeg", "r")
    (frame,) = codec.decode(av.Packet(jpeg))
    gray = frame.reformat(format="gray")
    plane = gray.planes[0]
    return timestrip.from_millis(timestrip.read_strip(bytes(plane), gray.width, gray.height, plane.line_size))


def test_an_mjpeg_recording_plays_as_fast_as_it_is_read_with_every_frame_a_jpeg(mjpeg):
    device, recording_id, _h264 = mjpeg
    response, parts, _elapsed = play(device, recordingid=recording_id, rate="max")
    assert response.status_code == 200
    assert response.headers["content-type"] == "multipart/x-mixed-replace; boundary=myboundary"
    entry = listing(device)[recording_id]
    seconds = (datetime.fromisoformat(entry["stoptime"]) - datetime.fromisoformat(entry["starttime"])).total_seconds()
    assert abs(len(parts) - seconds * 5) <= 3
    assert all(p.startswith(b"\xff\xd8") and p.endswith(b"\xff\xd9") for p in parts)
    times = [strip_time(p) for p in parts]
    assert times == sorted(times)
    assert abs(times[0] - datetime.fromisoformat(entry["starttime"])) < timedelta(milliseconds=250)


def test_rate_paces_the_stream_and_times_choose_the_part(mjpeg):
    device, recording_id, _h264 = mjpeg
    start = datetime.fromisoformat(listing(device)[recording_id]["starttime"])
    begin, end = start + timedelta(seconds=1), start + timedelta(seconds=3)
    window = {"starttime": f"{begin:%Y-%m-%dT%H:%M:%S.%f}Z", "stoptime": f"{end:%Y-%m-%dT%H:%M:%S.%f}Z"}
    _response, parts, elapsed = play(device, recordingid=recording_id, rate="1/1", **window)
    times = [strip_time(p) for p in parts]
    # The strip and the block's timestamps each round to the millisecond, and the strip is read back from a JPEG
    # (CI saw 2.1 ms past `begin`); choosing the wrong frame would be a whole frame (200 ms at 5 fps) off.
    ms = timedelta(milliseconds=5)
    assert begin - timedelta(milliseconds=210) <= times[0] <= begin + ms
    assert times[-1] <= end + ms
    assert elapsed >= 1.5  # two seconds of video at the recording's pace, not at once
    _response, doubled, elapsed_double = play(device, recordingid=recording_id, rate="4/1", **window)
    assert len(doubled) == len(parts)
    assert elapsed_double < elapsed


def test_refusals_say_why(mjpeg):
    device, recording_id, h264 = mjpeg
    response, _parts, _elapsed = play(device, recordingid=h264)
    assert response.status_code == 415
    assert "RTSP" in response.text
    assert play(device, recordingid="20200101_000000_ABCD_ACCC8E000001")[0].status_code == 404
    assert play(device)[0].status_code == 400
    assert play(device, recordingid=recording_id, rate="0/1")[0].status_code == 400
    assert play(device, recordingid=recording_id, rate="fast")[0].status_code == 400
    assert play(device, recordingid=recording_id, mediatype="audio")[0].status_code == 404
    anonymous = httpx.get(f"{device.http_url}/axis-cgi/record/play.cgi", params={"recordingid": recording_id})
    assert anonymous.status_code == 401
