"""A track of recordings answers the timeline's questions: what covers a moment, what comes after a gap, and
what to paint at any zoom with about one rectangle per pixel column."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from app.timeline.spans import Span, SpanKind, SpanTrack

NOW = 10_000.0


def track_of(*spans: Span) -> SpanTrack:
    track = SpanTrack()
    track.update(spans)
    return track


def test_the_recording_at_a_moment_and_the_one_after_a_gap():
    track = track_of(Span("a", 100, 200), Span("b", 300, 400), Span("c", 350, None, SpanKind.TRIGGERED))
    assert track.at(150, NOW).recording_id == "a"
    assert track.at(250, NOW) is None
    assert track.at(380, NOW).recording_id == "c"  # the latest started of two that overlap
    assert track.at(9_000, NOW).recording_id == "c"  # an ongoing recording reaches now
    assert track.next_after(250).recording_id == "b"
    assert track.next_after(400) is None


def test_an_ongoing_recording_grows_and_then_stops():
    track = track_of(Span("a", 100, None))
    assert track.intervals(SpanKind.CONTINUOUS, 0, NOW, 1.0, NOW) == [(100, NOW)]
    assert track.update([Span("a", 100, None)]) == 0  # nothing new
    assert track.update([Span("a", 100, 500)]) == 1
    assert track.intervals(SpanKind.CONTINUOUS, 0, NOW, 1.0, NOW) == [(100, 500)]


def test_a_wide_view_of_many_short_recordings_paints_few_rectangles():
    track = track_of(*(Span(str(i), i * 60.0, i * 60.0 + 30, SpanKind.TRIGGERED) for i in range(100_000)))
    week = 7 * 86400.0
    seconds_per_px = week / 1000
    painted = track.intervals(SpanKind.TRIGGERED, 0, week, seconds_per_px, NOW)
    assert len(painted) <= 1000
    assert painted[0][0] == 0
    close = track.intervals(SpanKind.TRIGGERED, 0, 600, 0.5, NOW)
    assert close == [(i * 60.0, i * 60.0 + 30) for i in range(11)]  # gaps of 30 s are 60 px: visible


def test_removed_recordings_leave_the_track():
    track = track_of(Span("a", 0, 10), Span("b", 20, 30))
    track.remove(["a"])
    assert [s.recording_id for s in track.spans] == ["b"]
    assert track.intervals(SpanKind.CONTINUOUS, 0, 100, 0.1, NOW) == [(20, 30)]


spans = st.lists(
    st.tuples(st.integers(0, 10_000), st.integers(1, 500), st.sampled_from(list(SpanKind))), max_size=60
).map(lambda items: [Span(str(i), float(s), float(s + d), k) for i, (s, d, k) in enumerate(items)])


@given(spans, st.floats(0.01, 5000), st.integers(0, 10_000), st.integers(1, 5_000))
def test_painted_intervals_cover_every_recording_and_bridge_only_gaps_under_a_pixel(items, per_px, t0, width):
    track = track_of(*items)
    t1 = t0 + width
    for kind in SpanKind:
        painted = track.intervals(kind, t0, t1, per_px, NOW)
        for span in (s for s in items if s.kind is kind and s.stop >= t0 and s.start <= t1):
            assert any(a <= span.start and span.stop <= b for a, b in painted), (span, painted)
        mine = sorted((s.start, s.stop) for s in items if s.kind is kind)
        for a, b in painted:
            assert any(s == a for s, _ in mine)  # every rectangle starts where a recording starts
            assert any(e == b for _, e in mine)  # and ends where one ends


@given(spans, st.floats(0, 11_000))
def test_the_recording_at_a_moment_is_one_that_covers_it(items, moment):
    track = track_of(*items)
    found = track.at(moment, NOW)
    covering = [s for s in items if s.start <= moment <= s.stop]
    if covering:
        assert found is not None
        assert found.start <= moment <= found.stop
        assert found.start == max(s.start for s in covering)
    else:
        assert found is None
