"""What the event tests do to a running camera from outside: flip a virtual input, set the camera's clock."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from tests.device.disk_client import get
from tests.support.device_process import CREDENTIALS


def switch(device, port: int, active: bool) -> tuple[datetime, datetime]:
    """Flip a virtual input; the camera's trigger time lies between the two moments returned."""
    before = datetime.now(UTC)
    verb = "activate" if active else "deactivate"
    response = get(device, f"/axis-cgi/virtualinput/{verb}.cgi", "operator", schemaversion="1", port=str(port))
    assert b"<StateChanged>true</StateChanged>" in response.content, response.text
    return before, datetime.now(UTC)


def set_clock(device, moment: datetime) -> None:
    response = httpx.post(
        f"{device.http_url}/local/edgestore/scenario/clock",
        params={"time": moment.isoformat()},
        auth=httpx.DigestAuth(*CREDENTIALS["admin"]),
    )
    assert response.status_code == 200, response.text
