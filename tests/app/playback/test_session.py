"""The RTSP session against the virtual camera: seeking by wall clock and npt, the Range read back, key frames
first, frames dated from RTCP, keep-alives, TEARDOWN, and what the pixels say about all of it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from app.playback import session as session_module
from app.playback.auth import Credentials
from app.playback.errors import RtspConnectionError, RtspError, RtspSessionGone, RtspUnauthorized
from app.playback.ranges import ClockRange, NptRange
from app.playback.session import Frame, RtspSession
from tests.app.playback.conftest import Recorded, decode_annex_b
from tests.app.playback.wiretap import Wiretap
from tests.device.disk_client import param_update
from tests.device.test_recording_api import cgi, wait_recorded

pytestmark = pytest.mark.functional

MILLISECOND = timedelta(milliseconds=1)


async def play_out(session: RtspSession) -> list[Frame]:
    async with asyncio.timeout(20):
        return [frame async for frame in session.frames()]


async def play_out_from(frames: AsyncIterator[Frame]) -> list[Frame]:
    return [frame async for frame in frames]


async def test_a_clock_seek_into_the_middle_starts_at_the_key_frame_before_it_and_plays_to_the_end(
    recorded: Recorded, viewer
):
    asked = recorded.start + timedelta(seconds=3.5)
    expected = recorded.keyframe_before(asked)
    async with RtspSession(recorded.url(), Credentials(*viewer)) as session:
        assert session.video.encoding == "H264"
        assert session.video.parameter_sets
        reply = await session.play(ClockRange(asked))
        frames = await play_out(session)
        dropped = session.dropped

    assert isinstance(reply.range, ClockRange)  # answered in the unit asked
    assert abs(reply.range.start - expected) <= 2 * MILLISECOND
    assert asked - recorded.gop <= reply.range.start <= asked
    assert reply.rtp_info[0].rtp_timestamp == frames[0].rtp_timestamp

    assert frames[0].keyframe
    captured = decode_annex_b([f.data for f in frames])
    assert captured[0] == expected
    assert asked - recorded.gop <= captured[0] <= asked
    assert captured == [f.captured for f in recorded.frames if f.captured >= expected]  # every frame, in order
    assert dropped == 0


async def test_wall_clock_times_step_with_the_time_strip(recorded: Recorded, viewer):
    """The RTP timestamps and the 90 kHz mapping from the sender report: each frame's wall clock is as far from
    the first one's as the strips say."""
    async with RtspSession(recorded.url(), Credentials(*viewer)) as session:
        await session.play(ClockRange(recorded.start + timedelta(seconds=1)))
        frames = await play_out(session)
    captured = decode_annex_b([f.data for f in frames])
    assert all(f.wall_clock is not None for f in frames)
    steps = [(f.wall_clock - frames[0].wall_clock) - (c - captured[0]) for f, c in zip(frames, captured, strict=True)]
    assert max(abs(s) for s in steps) < timedelta(milliseconds=50), steps


async def test_wall_clock_times_from_rtcp_are_the_capture_times_in_the_strip(recorded: Recorded, viewer):
    async with RtspSession(recorded.url(), Credentials(*viewer)) as session:
        await session.play(ClockRange(recorded.start + timedelta(seconds=3.5)))
        frames = await play_out(session)
    captured = decode_annex_b([f.data for f in frames])
    errors = [f.wall_clock - c for f, c in zip(frames, captured, strict=True) if f.wall_clock is not None]
    assert len(errors) == len(frames)
    assert max(abs(e) for e in errors) < timedelta(milliseconds=50), errors[:3]


async def test_an_npt_seek_is_answered_in_npt_from_the_key_frame_before_it(recorded: Recorded, viewer):
    async with RtspSession(recorded.url(), Credentials(*viewer)) as session:
        reply = await session.play(NptRange(4.5))
        first = await anext(aiter(session.frames()))
    expected = recorded.keyframe_before(recorded.start + timedelta(seconds=4.5))
    assert isinstance(reply.range, NptRange)
    assert reply.range.start is not None
    assert abs(recorded.start + timedelta(seconds=reply.range.start) - expected) <= 2 * MILLISECOND
    assert first.keyframe
    assert decode_annex_b([first.data]) == [expected]


async def test_a_seek_while_frames_are_queued_yields_the_new_position_next(recorded: Recorded, viewer):
    """With ``pull=1`` the camera fills the session's queue while the player holds back; the frames of the old
    position must all be dropped, not shown before the new one."""
    async with RtspSession(recorded.url(), Credentials(*viewer), max_queued=8) as session:
        await session.play(NptRange(0))
        frames = aiter(session.frames())
        first = await anext(frames)
        await asyncio.sleep(0.3)  # the queue fills up and the reader stops reading
        asked = recorded.start + timedelta(seconds=4.5)
        await session.play(ClockRange(asked))
        after = [await anext(frames) for _ in range(3)]
    expected = recorded.keyframe_before(asked)
    assert decode_annex_b([first.data]) == [recorded.frames[0].captured]
    assert after[0].keyframe
    times = decode_annex_b([f.data for f in after])
    assert times == [f.captured for f in recorded.frames if f.captured >= expected][:3]


async def test_credentials_in_the_url_are_taken_out_of_it_and_a_wrong_password_is_refused(recorded: Recorded, viewer):
    user, password = viewer
    with_credentials = recorded.url().replace("rtsp://", f"rtsp://{user}:{password}@")
    async with RtspSession(with_credentials) as session:
        assert session.url == recorded.url()
        assert password not in session.url
        assert session.session_id
    with pytest.raises(RtspUnauthorized):
        async with RtspSession(recorded.url(), Credentials(user, "not-the-password")):
            pass


async def test_keep_alives_hold_a_short_session_open_and_close_tears_it_down(
    recorded: Recorded, viewer, monkeypatch: pytest.MonkeyPatch
):
    """With ``Network.RTSP.Timeout`` at 2 s, a session that keeps alive can still PLAY after 3.5 s idle, and one
    whose keep-alives are held back (the control) is gone by then."""
    camera = recorded.camera
    tap = Wiretap(camera.host, camera.rtsp_port)
    port = await tap.start()
    url = recorded.url().replace(f":{camera.rtsp_port}/", f":{port}/")
    await asyncio.to_thread(param_update, camera, **{"root.Network.RTSP.Timeout": "2"})
    try:
        kept = RtspSession(url, Credentials(*viewer))
        await kept.open()
        with monkeypatch.context() as patched:
            patched.setattr(session_module, "keepalive_interval", lambda _timeout: 3600.0)
            neglected = RtspSession(recorded.url(), Credentials(*viewer))
            await neglected.open()
        assert kept.session_timeout == neglected.session_timeout == 2
        await asyncio.sleep(3.5)
        with pytest.raises(RtspSessionGone):
            await neglected.play(NptRange(0))
        await neglected.close()
        reply = await kept.play(NptRange(5))
        assert reply.range is not None
        first = await asyncio.wait_for(anext(aiter(kept.frames())), 10)
        assert first.keyframe
        session_id = kept.session_id
        await kept.close()
    finally:
        await asyncio.to_thread(param_update, camera, **{"root.Network.RTSP.Timeout": "60"})
        await tap.stop()

    requests = tap.requests()
    methods = [line.split(" ")[0] for line, _headers in requests]
    keep_alives = [headers for line, headers in requests if line.startswith("GET_PARAMETER ")]
    assert len(keep_alives) >= 3  # one a second, while idle
    assert all(headers.get("Session") == session_id for headers in keep_alives)
    assert methods[-1] == "TEARDOWN"
    assert requests[-1][1].get("Session") == session_id
    answers = {r.cseq: r.status for r in await tap.responses()}
    assert answers[int(requests[-1][1]["CSeq"])] == 200
    assert all(answers[int(headers["CSeq"])] == 200 for headers in keep_alives)
    assert not any("viewer-pass" in line for line, _headers in requests)


def test_the_keep_alive_comes_well_before_the_session_would_expire():
    assert session_module.keepalive_interval(60) == 55
    assert session_module.keepalive_interval(2) == 1
    assert session_module.keepalive_interval(0) == 0.5


def test_the_parts_of_a_play_reply_parse():
    info = session_module.parse_rtp_info("url=rtsp://h/t?recordingid=R;seq=46932;rtptime=1027887748, url=rtsp://h/2")
    assert [(i.url, i.sequence, i.rtp_timestamp) for i in info] == [
        ("rtsp://h/t?recordingid=R", 46932, 1027887748),
        ("rtsp://h/2", None, None),
    ]


async def test_a_connection_lost_mid_stream_ends_the_frames_with_an_error(recorded: Recorded, viewer):
    camera = recorded.camera
    tap = Wiretap(camera.host, camera.rtsp_port)
    port = await tap.start()
    url = recorded.url(pull=False).replace(f":{camera.rtsp_port}/", f":{port}/")
    session = RtspSession(url, Credentials(*viewer))
    try:
        await session.open()
        await session.play(NptRange(0))
        frames = aiter(session.frames())
        assert (await asyncio.wait_for(anext(frames), 5)).keyframe
        await tap.stop()  # real-time play: the camera is still sending when the connection goes
        with pytest.raises(RtspConnectionError):
            await asyncio.wait_for(play_out_from(frames), 5)
        with pytest.raises(RtspConnectionError):
            await session.play(NptRange(0))
    finally:
        await asyncio.wait_for(session.close(), 5)


async def test_closing_the_session_ends_a_player_waiting_for_frames(recorded: Recorded, viewer):
    session = RtspSession(recorded.url(), Credentials(*viewer))
    await session.open()
    waiting = asyncio.create_task(anext(aiter(session.frames()), None))
    await asyncio.sleep(0.05)
    await session.close()
    assert await asyncio.wait_for(waiting, 2) is None


async def test_an_mjpeg_recording_is_refused_in_words_the_operator_can_act_on(shared_device, viewer):
    camera = shared_device  # not `recorded`'s camera: continuous playback there plays every recording of its disk
    options = "videocodec=jpeg&resolution=320x180&fps=10"
    recording_id = cgi(camera, "record.cgi", diskid="SD_DISK", options=options).get("recordingid")
    try:
        wait_recorded(camera, recording_id, 1.0)
    finally:
        assert cgi(camera, "stop.cgi", recordingid=recording_id).get("result") == "OK"
    url = f"rtsp://{camera.host}:{camera.rtsp_port}/axis-media/media.amp?recordingid={recording_id}"

    with pytest.raises(RtspError, match=r"Motion JPEG, and the player plays H\.264 only; export it"):
        async with RtspSession(url, Credentials(*viewer)):
            pass
