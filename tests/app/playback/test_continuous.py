"""Playback runs on across an interruption: from a moment in one recording into the next one, fourteen minutes
later, with no wait for the gap. libvlc decodes both recordings' pictures, and the stream clock tells the
wall-clock time of what it shows."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta

import pytest

from app.playback.auth import Credentials
from app.playback.continuous import ContinuousFrames, StreamClock, segments_from
from app.playback.vlcfeed import MemoryVideo, VlcFeed
from app.timeline.spans import Span
from app.vapix.playback import playback_url
from app.vapix.recordings import RecordingQuery, Recordings
from tests.conftest import transport_for
from tests.device.disk_client import SD, sample
from tests.support.device_process import VIEWER

pytestmark = pytest.mark.functional


def test_segments_run_from_the_chosen_moment_through_every_later_recording():
    spans = [Span("a", 100, 200), Span("b", 150, 260), Span("c", 400, 500), Span("d", 600, None)]
    segments = segments_from(spans, 120)
    assert [s.recording_id for s in segments] == ["a", "b", "c", "d"]
    assert segments[0].start.timestamp() == 120
    assert segments[1].start.timestamp() == 200  # overlapping: from where the previous stopped
    assert segments[3].stop is None
    assert [s.recording_id for s in segments_from(spans, 300)] == ["c", "d"]  # in a gap: the next one
    assert segments_from(spans[:3], 700) == []


def test_the_stream_clock_maps_stream_time_across_a_gap():
    clock = StreamClock()
    day = datetime(2026, 11, 24, 12, tzinfo=UTC)
    clock.add(0.0, day)
    clock.add(4.0, day + timedelta(minutes=14))  # the next recording, one frame after the last
    assert clock.wall_clock(1.5) == day + timedelta(seconds=1.5)
    assert clock.wall_clock(4.5) == day + timedelta(minutes=14, seconds=0.5)
    assert clock.wall_clock(-1) is None


async def test_vlc_plays_from_one_recording_into_the_next_without_waiting_out_the_gap(device):
    older = sample(device, seconds=4, blockseconds=2, agedays=0.01)
    newer = sample(device, seconds=4, blockseconds=2)
    async with transport_for(device) as transport:
        listed = [r async for r in Recordings(transport).iterate(RecordingQuery(disk_id=SD, ascending=True))]
    spans = [Span(r.recording_id, r.start.timestamp(), r.stop.timestamp()) for r in listed]
    assert [s.recording_id for s in spans] == [older, newer]
    gap = spans[1].start - spans[0].stop
    assert gap > 600
    asked = spans[0].start + 1.0
    frames = ContinuousFrames(
        lambda rid: playback_url(device.host, device.rtsp_port, rid, pull=True).url,
        Credentials(*VIEWER),
        segments_from(spans, asked),
    )
    video = MemoryVideo(keep=200)
    feed = VlcFeed(video=video)
    began = asyncio.get_running_loop().time()
    try:
        feeding = asyncio.create_task(feed.feed(frames))
        await asyncio.wait_for(feeding, 30)
        shown_all = await asyncio.to_thread(video.wait_for, frames.yielded - 3, 20)  # libvlc may hold a few
        elapsed = asyncio.get_running_loop().time() - began
    finally:
        with contextlib.suppress(asyncio.CancelledError):
            feeding.cancel()
        await feed.close()

    assert shown_all, f"libvlc showed {video.count} pictures"
    fed = [t.timestamp() for t in frames.clock.times]
    assert fed == sorted(fed)
    in_first = [t for t in fed if t <= spans[0].stop + 0.2]
    in_second = [t for t in fed if t >= spans[1].start - 0.2]
    assert in_first
    assert in_second  # it crossed the interruption
    assert len(in_first) + len(in_second) == len(fed)  # nothing from the gap
    assert spans[0].start - 0.2 <= in_first[0] <= asked  # from the key frame at or before the asked moment
    assert elapsed < 60  # real time of the 8 s played, not the 14 min gap
    stream_end = frames.clock.wall_clock(video.count / 10)  # 10 fps: where the stream stands at its end
    assert stream_end is not None
    assert abs(stream_end.timestamp() - spans[1].stop) < 1.0  # the clock tells the true time across the gap
