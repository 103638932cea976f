"""A camera asked to stop (the app closing, *Restart*) stops within seconds even while a viewer holds a slow
stream open, and the viewer's stream ends cut short rather than looking complete."""

from __future__ import annotations

import threading

import httpx
import pytest

from tests.device.test_recording_api import cgi, wait_recorded
from tests.support.device_process import CREDENTIALS

pytestmark = pytest.mark.functional


def test_a_camera_stops_promptly_while_a_slow_play_cgi_viewer_is_connected(device):
    options = "videocodec=jpeg&resolution=320x180&fps=5"
    recording_id = cgi(device, "record.cgi", diskid="SD_DISK", options=options).get("recordingid")
    wait_recorded(device, recording_id, seconds=1)
    cgi(device, "stop.cgi", recordingid=recording_id)
    first_part = threading.Event()
    ended: list[BaseException | None] = []

    def watch() -> None:  # a frame every 1000 s: the handler would hold the stream for hours
        params = {"recordingid": recording_id, "rate": "1/1000"}
        auth = httpx.DigestAuth(*CREDENTIALS["viewer"])
        try:
            url = device.http_url + "/axis-cgi/record/play.cgi"
            with httpx.stream("GET", url, params=params, auth=auth, timeout=60) as r:
                for _ in r.iter_bytes():
                    first_part.set()
            ended.append(None)
        except httpx.HTTPError as exc:
            ended.append(exc)

    viewer = threading.Thread(target=watch, daemon=True)
    viewer.start()
    assert first_part.wait(20), "the first frame never came"

    assert device.stop(timeout=15) == 0  # without the grace limit, aiohttp waits 60 s for the handler
    viewer.join(10)
    assert len(ended) == 1
    assert isinstance(ended[0], httpx.RemoteProtocolError)  # cut short: the chunked body never ended
