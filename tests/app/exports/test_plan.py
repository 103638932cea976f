"""A selected range as one export per recording: clipped to the range, overlaps taken once, ongoing recordings
up to now."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from app.exports.plan import pieces
from app.timeline.spans import Span


def bounds(found) -> list[tuple[str, float, float]]:
    return [(p.recording_id, p.start.timestamp(), p.stop.timestamp()) for p in found]


def test_a_range_across_two_recordings_and_a_gap_is_two_pieces_clipped_to_it():
    spans = [Span("a", 100, 200), Span("b", 300, 400), Span("c", 500, 600)]
    assert bounds(pieces(spans, 150, 350, now=1000)) == [("a", 150, 200), ("b", 300, 350)]
    assert pieces(spans, 210, 290, now=1000) == []  # only a gap
    assert bounds(pieces(spans, 0, 1000, now=1000)) == [("a", 100, 200), ("b", 300, 400), ("c", 500, 600)]


def test_overlapping_recordings_export_each_moment_once():
    spans = [Span("continuous", 100, 400), Span("event", 150, 250), Span("later", 350, 500)]
    assert bounds(pieces(spans, 120, 480, now=1000)) == [("continuous", 120, 400), ("later", 400, 480)]


def test_an_ongoing_recording_stops_at_now():
    spans = [Span("done", 100, 200), Span("live", 300, None)]
    assert bounds(pieces(spans, 150, 900, now=500)) == [("done", 150, 200), ("live", 300, 500)]
    assert bounds(pieces(spans, 150, 450, now=500)) == [("done", 150, 200), ("live", 300, 450)]
    assert bounds(pieces(spans, 150, 250, now=500)) == [("done", 150, 200)]


def test_unsorted_input_gives_pieces_in_time_order():
    spans = [Span("b", 300, 400), Span("a", 100, 200)]
    assert [p.recording_id for p in pieces(spans, 0, 500, now=1000)] == ["a", "b"]


span_strategy = st.builds(
    lambda start, length, ongoing, name: Span(name, float(start), None if ongoing else float(start + length)),
    st.integers(0, 1000),
    st.integers(1, 300),
    st.booleans(),
    st.text("abcdef", min_size=1, max_size=3),
)


@given(st.lists(span_strategy, max_size=8), st.integers(0, 1300), st.integers(1, 400), st.integers(0, 1400))
def test_pieces_lie_in_the_range_and_in_their_recording_and_never_overlap(spans, t0, length, now):
    t1 = t0 + length
    found = pieces(spans, t0, t1, now)
    by_id: dict[str, list[Span]] = {}
    for span in spans:
        by_id.setdefault(span.recording_id, []).append(span)
    for piece in found:
        start, stop = piece.start.timestamp(), piece.stop.timestamp()
        assert t0 <= start < stop <= t1
        assert any(
            s.start <= start and stop <= (s.stop if s.stop is not None else now) for s in by_id[piece.recording_id]
        )
    for earlier, later in itertools.pairwise(found):
        assert earlier.stop <= later.start


@given(st.lists(span_strategy, max_size=8), st.integers(0, 1300), st.integers(1, 400), st.integers(0, 1400))
def test_every_recorded_moment_of_the_range_is_in_a_piece(spans, t0, length, now):
    t1 = t0 + length
    found = pieces(spans, t0, t1, now)
    for moment in (t0 + k * length / 37 for k in range(38)):
        recorded = any(s.start <= moment < (s.stop if s.stop is not None else now) for s in spans)
        covered = any(p.start.timestamp() <= moment < p.stop.timestamp() for p in found)
        assert covered == (recorded and moment < t1), moment
