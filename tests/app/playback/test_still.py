"""Scrubbing and frame steps show the exact picture at a moment: the last frame captured at or before it, not
the key frame libvlc would start from, with the next frame's time for the step key."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.playback.auth import Credentials
from app.playback.still import Still, fetch_still
from tests.app.playback.conftest import Recorded
from tests.support.strips import still_time

pytestmark = pytest.mark.functional


def near(a, b) -> bool:
    """The strip holds whole milliseconds; RTCP gives the capture time to the 90 kHz tick."""
    return a is not None and b is not None and abs(a - b) < timedelta(milliseconds=1)


shown_time = still_time


async def still_at(recorded: Recorded, viewer, moment) -> Still:
    return await fetch_still(recorded.url(), Credentials(*viewer), recorded.recording_id, moment)


async def test_a_still_is_the_last_frame_at_or_before_the_moment_not_the_key_frame(recorded: Recorded, viewer):
    times = [f.captured for f in recorded.frames]
    asked = recorded.start + timedelta(seconds=3.5)
    expected = max(t for t in times if t <= asked)
    assert expected != recorded.keyframe_before(asked), "the moment must be inside a GOP for this to mean anything"

    still = await still_at(recorded, viewer, asked)

    assert (still.width, still.height) == (640, 360)
    assert shown_time(still) == expected
    assert near(still.captured, expected)
    index = times.index(expected)
    assert near(still.following, times[index + 1])
    assert still.recording_id == recorded.recording_id


async def test_stepping_back_to_just_before_a_picture_walks_frame_by_frame_across_gops(recorded: Recorded, viewer):
    times = [f.captured for f in recorded.frames]
    key = recorded.keyframes[1]  # its previous frame is in another GOP
    still = await still_at(recorded, viewer, key + timedelta(milliseconds=1))  # the strip truncates to ms
    seen = [shown_time(still)]
    for _ in range(2):
        # as the player steps: a few ms before this picture (two sessions may date a frame sub-ms apart)
        still = await still_at(recorded, viewer, still.captured - timedelta(milliseconds=5))
        seen.append(shown_time(still))
    index = times.index(key)
    assert seen == [times[index], times[index - 1], times[index - 2]]


async def test_a_moment_just_before_the_first_frame_shows_the_first_frame(recorded: Recorded, viewer):
    first = recorded.frames[0].captured
    still = await still_at(recorded, viewer, first - timedelta(milliseconds=300))
    assert shown_time(still) == first
    assert near(still.captured, first)
