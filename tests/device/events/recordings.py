"""Looking at what triggered recordings left: list.cgi over HTTP, the recording over download.cgi, the capture
time in each frame's time strip, and recording.xml on the card."""

from __future__ import annotations

import io
from datetime import datetime

import av
import httpx
from lxml import etree

from device.media import timestrip
from device.storage.layout import parse_time
from tests.device.disk_client import card, get_xml, until
from tests.support.device_process import CREDENTIALS


def recordings(device) -> list[dict[str, str]]:
    root = get_xml(device, "/axis-cgi/record/list.cgi", role="viewer", recordingid="all", sortorder="ascending")
    return [dict(r.attrib) for r in root.iter("recording")]


def completed(device, count: int = 1, timeout: float = 20.0) -> list[dict[str, str]]:
    """Wait until `count` recordings exist and none is still recording."""

    def probe() -> list[dict[str, str]] | None:
        found = recordings(device)
        done = len(found) >= count and all(r["recordingstatus"] == "completed" for r in found)
        return found if done else None

    found = until(probe, timeout=timeout, interval=0.2)
    assert found is not None
    return found


def span(recording: dict[str, str]) -> tuple[datetime, datetime]:
    return parse_time(recording["starttime"]), parse_time(recording["stoptime"])


def frame_times(device, recording_id: str) -> list[datetime]:
    """The capture time in every frame's time strip, from the recording as download.cgi gives it."""
    response = httpx.get(
        f"{device.http_url}/axis-cgi/record/download.cgi",
        params={"recordingid": recording_id},
        auth=httpx.DigestAuth(*CREDENTIALS["admin"]),
        timeout=60,
    )
    assert response.status_code == 200, response.text
    times = []
    with av.open(io.BytesIO(response.content)) as container:
        for frame in container.decode(video=0):
            luma = frame.planes[0]
            millis = timestrip.read_strip(bytes(luma), frame.width, frame.height, luma.line_size)
            times.append(timestrip.from_millis(millis))
    return times


def custom_attributes(device, recording_id: str) -> dict[str, str]:
    (path,) = card(device).glob(f"*/*/{recording_id}/recording.xml")
    root = etree.fromstring(path.read_bytes())
    return {c.tag: (c.text or "") for c in root.find("CustomAttributes")}
