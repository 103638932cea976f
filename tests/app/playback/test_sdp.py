"""DESCRIBE answers: the camera's own SDP, the Axis documentation's form, and control URLs resolved as RTSP says."""

from __future__ import annotations

import base64

import pytest

from app.playback.sdp import parse_sdp, resolve_control
from device.rtsp.sdp import h264_sdp

SPS, PPS = b"\x67\x64\x00\x16\xac\xb4", b"\x68\xef\x1f\x2c"

AXIS_DOC = """v=0
o=- 1 1 IN IP4 192.0.2.1
s=Media Presentation
c=IN IP4 0.0.0.0
t=0 0
a=control:rtsp://192.0.2.1/axis-media/media.amp?videocodec=h264&resolution=640x480
a=range:npt=0.000000-
m=video 0 RTP/AVP 96
b=AS:50000
a=framerate:30.0
a=transform:1,0,0;0,1,0;0,0,1
a=control:trackID=1
a=rtpmap:96 H264/90000
a=fmtp:96 packetization-mode=1; profile-level-id=420029; sprop-parameter-sets=Z0IAKeKQFAe2AtwEBAaQeJEV,aM48gA==
m=audio 0 RTP/AVP 97
a=control:trackID=2
a=rtpmap:97 mpeg4-generic/16000/1
"""


def test_the_cameras_sdp_gives_the_track_control_and_parameter_sets():
    text = h264_sdp("rtsp://h/axis-media/media.amp?recordingid=R", "rtsp://h/t?recordingid=R", SPS, PPS, 6.5, 42)
    described = parse_sdp(text)
    assert described.control == "rtsp://h/axis-media/media.amp?recordingid=R"
    assert described.range == "npt=0.000-6.500"
    [video] = described.media
    assert (video.media, video.payload_type, video.encoding, video.clock_rate) == ("video", 96, "H264", 90000)
    assert video.control == "rtsp://h/t?recordingid=R"
    assert video.fmtp["packetization-mode"] == "1"
    assert video.parameter_sets == [SPS, PPS]


def test_the_axis_documented_sdp_has_video_and_audio_with_relative_controls():
    described = parse_sdp(AXIS_DOC)
    video, audio = described.media
    assert described.first("video") is video
    assert (audio.encoding, audio.clock_rate, audio.control) == ("MPEG4-GENERIC", 16000, "trackID=2")
    assert video.control == "trackID=1"
    assert [n[0] & 0x1F for n in video.parameter_sets] == [7, 8]
    assert described.first("application") is None


def test_parameter_sets_that_are_not_base64_are_skipped():
    good = base64.b64encode(SPS).decode()
    described = parse_sdp(f"m=video 0 RTP/AVP 96\na=fmtp:96 sprop-parameter-sets=!!notbase64,{good},\n")
    assert described.media[0].parameter_sets == [SPS]


def test_junk_lines_and_a_media_line_without_payload_do_not_break_parsing():
    described = parse_sdp("garbage\nm=video\na=rtpmap:x\na=range:npt=1-\nx=1\n")
    assert described.media[0].payload_type == -1
    assert described.range is None  # a media-level range is not the session's


@pytest.mark.parametrize(
    ("base", "control", "expected"),
    [
        ("rtsp://h/axis-media/media.amp/", "trackID=1", "rtsp://h/axis-media/media.amp/trackID=1"),
        ("rtsp://h/axis-media/media.amp", "trackID=1", "rtsp://h/axis-media/media.amp/trackID=1"),
        ("rtsp://h/a/", "rtsp://h/a/trackID=1?recordingid=R", "rtsp://h/a/trackID=1?recordingid=R"),
        ("rtsp://h/a/", "*", "rtsp://h/a/"),
        ("rtsp://h/a/", None, "rtsp://h/a/"),
    ],
)
def test_control_urls_resolve_against_the_base(base, control, expected):
    assert resolve_control(base, control) == expected
