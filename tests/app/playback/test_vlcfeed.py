"""libvlc in-process decodes what the RTSP session receives: the pictures it shows carry the capture time of the
key frame before the asked moment, read from their own pixels."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

import pytest

from app.playback.auth import Credentials
from app.playback.ranges import ClockRange
from app.playback.session import Frame, RtspSession
from app.playback.vlcfeed import MemoryVideo, Picture, VlcFeed
from tests.app.playback.conftest import Recorded, strip_time
from tests.device.test_recorder import frames

pytestmark = pytest.mark.functional


def captured(picture: Picture):
    """The strip time of a picture libvlc decoded. RV32 holds no luma, but the strip is black and white, so its
    green channel has the same bits (limited-range 16 and 235 become 0 and 255)."""
    return strip_time(picture.channel(1), picture.width, picture.height, picture.width)


async def test_vlc_shows_the_key_frame_before_a_clock_seek_and_plays_on_from_it(recorded: Recorded, viewer):
    asked = recorded.start + timedelta(seconds=3.5)
    video = MemoryVideo()
    feed = VlcFeed(video=video)
    try:
        async with RtspSession(recorded.url(), Credentials(*viewer)) as session:
            reply = await session.play(ClockRange(asked))
            feeding = asyncio.create_task(feed.feed(session.frames()))
            shown = await asyncio.to_thread(video.wait_for, 5, 15)
            feeding.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await feeding
    finally:
        await feed.close()

    assert shown, f"libvlc showed {video.count} pictures"
    pictures = video.pictures
    assert (pictures[0].width, pictures[0].height) == (640, 360)
    times = [captured(p) for p in pictures]
    expected = recorded.keyframe_before(asked)
    assert times[0] == expected
    assert asked - recorded.gop <= times[0] <= asked
    assert times == sorted(times)
    recorded_times = {f.captured for f in recorded.frames}
    assert set(times) <= recorded_times  # whole pictures of the recording, not smears between them
    assert isinstance(reply.range, ClockRange)
    assert feed.first_wall_clock is not None


async def test_closing_a_feed_whose_player_waits_for_data_does_not_hang():
    """libvlc's stop waits for its read callback, which blocks while the pipe is empty: closing must wake it."""
    [key] = [f for f in frames(0.1) if f.keyframe]

    async def one_key_frame_then_silence():
        yield Frame(key.data, True, 0, key.capture_time)
        await asyncio.sleep(3600)

    feed = VlcFeed(video=MemoryVideo())
    feeding = asyncio.create_task(feed.feed(one_key_frame_then_silence()))
    await asyncio.sleep(0.5)  # libvlc has read the key frame and waits in the read callback for more
    assert feed.started
    await asyncio.wait_for(feed.close(), 5)
    feeding.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await feeding
