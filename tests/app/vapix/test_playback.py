"""Playback URLs: the VAPIX form, the RTSP port from the camera's parameter, and no credentials in them."""

from __future__ import annotations

import pytest

from app.playback.auth import Credentials
from app.playback.errors import RtspNotFound, RtspUnauthorized
from app.playback.session import RtspSession
from app.vapix.playback import (
    DEFAULT_RTSP_PORT,
    PlaybackUrl,
    camera_playback_url,
    playback_url,
    redact,
    rtsp_port,
)
from tests.conftest import transport_for
from tests.support.device_process import VIEWER

RECORDING = "20240101_120000_ABCD_ACCC8E000001"


def test_the_url_names_the_recording_on_the_media_path():
    url = playback_url("192.0.2.10", 554, RECORDING)
    assert url.url == f"rtsp://192.0.2.10:554/axis-media/media.amp?recordingid={RECORDING}"
    assert str(url) == url.url


def test_pull_and_stream_parameters_follow_the_recording_id_in_the_order_given():
    url = playback_url("cam", 8554, RECORDING, pull=True, stream={"videocodec": "h264", "resolution": "640x360"})
    assert url.url.endswith(f"?recordingid={RECORDING}&pull=1&videocodec=h264&resolution=640x360")


def test_values_are_escaped_and_ipv6_hosts_bracketed():
    url = playback_url("fe80::1", 554, "a b&c", stream={"text": "x=y"})
    assert url.url == "rtsp://[fe80::1]:554/axis-media/media.amp?recordingid=a+b%26c&text=x%3Dy"


@pytest.mark.parametrize(
    "bad",
    [
        {"recording_id": " "},
        {"port": 0},
        {"port": 65536},
        {"stream": (("RecordingId", "other"),)},
        {"stream": (("pull", "1"),)},
    ],
)
def test_a_url_that_would_not_name_one_recording_is_refused(bad):
    with pytest.raises(ValueError):
        PlaybackUrl(**{"host": "cam", "port": 554, "recording_id": RECORDING, **bad})


def test_redact_strips_credentials_and_nothing_else():
    assert redact("rtsp://user:p%40ss@cam:554/axis-media/media.amp?recordingid=R") == (
        "rtsp://cam:554/axis-media/media.amp?recordingid=R"
    )
    assert redact("rtsp://cam/x?a=b@c") == "rtsp://cam/x?a=b@c"


@pytest.mark.functional
async def test_the_rtsp_port_is_the_cameras_parameter_not_its_http_port(shared_device):
    async with transport_for(shared_device, "viewer") as transport:
        port = await rtsp_port(transport)
        built = await camera_playback_url(transport, RECORDING, pull=True)
    assert port == shared_device.rtsp_port != shared_device.http_port
    assert built.url == f"rtsp://{shared_device.host}:{port}/axis-media/media.amp?recordingid={RECORDING}&pull=1"
    assert VIEWER[1] not in built.url


@pytest.mark.functional
async def test_a_given_port_is_used_without_asking_the_camera(shared_device):
    async with transport_for(shared_device, "viewer") as transport:
        built = await camera_playback_url(transport, RECORDING, port=DEFAULT_RTSP_PORT)
    assert built.port == DEFAULT_RTSP_PORT


@pytest.mark.functional
async def test_the_built_url_reaches_the_cameras_rtsp_server(shared_device):
    """A recording that does not exist is 404, which the camera answers only to a signed request on its RTSP
    port and stream path; a wrong password is 401."""
    async with transport_for(shared_device, "viewer") as transport:
        built = await camera_playback_url(transport, RECORDING)
    with pytest.raises(RtspNotFound):
        async with RtspSession(built.url, Credentials(*VIEWER), timeout=5):
            pass
    with pytest.raises(RtspUnauthorized):
        async with RtspSession(built.url, Credentials(VIEWER[0], "wrong"), timeout=5):
            pass
