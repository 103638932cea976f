"""The export engine on a real store: the same video out of plain and encrypted cards, from a block still being
written, and from a card whose key-frame index was lost (a repair rebuilds the index without it), without holding
a large block in memory."""

from __future__ import annotations

import io
import itertools
import tracemalloc
from datetime import datetime, timedelta
from pathlib import Path

import av
import pytest

from device.export.blockio import WINDOW
from device.export.formats import MATROSKA
from device.export.plan import ExportError, ExportRequest, plan_export
from device.export.remux import ExportCancelled, remux
from device.recorder import keyframes
from device.storage.layout import INDEX_NAME
from tests.device.test_recorder import FPS, START, decode_times, encrypted, frames, make_store, new_session

__all__ = ["encrypted"]  # the fixture, parametrized plain/encrypted

NOW = START + timedelta(hours=1)


def record(store, seconds: float, finish: bool = True):
    session = new_session(store, split=10)
    for frame in frames(seconds):
        session.feed(frame)
    if finish:
        session.finish()
    return session


def export_bytes(store, recording_id: str, start: datetime | None = None, stop: datetime | None = None) -> bytes:
    plan = plan_export(store, ExportRequest(recording_id, "SD_DISK", MATROSKA, start, stop), NOW)
    out = bytearray()
    remux(plan, out.extend)
    return bytes(out)


def test_plain_and_encrypted_cards_export_the_same_frames(tmp_path: Path, encrypted: bool):
    store = make_store(tmp_path / "card", encrypted)
    session = record(store, 25)
    data = export_bytes(store, session.recording_id)
    times = decode_times(data)
    assert len(times) == 25 * FPS
    assert times[0] == START
    assert all(b > a for a, b in itertools.pairwise(times))


def test_a_clip_in_the_middle_starts_at_its_key_frame_on_an_encrypted_card(tmp_path: Path):
    store = make_store(tmp_path / "card", encrypted=True)
    session = record(store, 25)
    asked = START + timedelta(seconds=12.3)
    plan = plan_export(
        store, ExportRequest(session.recording_id, "SD_DISK", MATROSKA, asked, asked + timedelta(seconds=5)), NOW
    )
    assert plan.start <= asked
    assert asked - plan.start < timedelta(seconds=2)
    times = decode_times(export_bytes(store, session.recording_id, asked, asked + timedelta(seconds=5)))
    assert times[0] == plan.start
    assert times[-1] <= asked + timedelta(seconds=5)


def test_a_clip_starts_with_the_frame_its_plan_names_though_it_was_captured_between_milliseconds(tmp_path: Path):
    """At 15 fps most frames are captured a fraction of a millisecond past a whole one, and the block keeps whole
    milliseconds; the frame at or before the asked start is still the first one out (MJPEG: every frame a key
    frame)."""
    store = make_store(tmp_path / "card", encrypted=False)
    session = new_session(store, codec="jpeg")
    for frame in frames(14, codec="jpeg"):
        session.feed(frame)
    session.finish()
    asked = START + timedelta(seconds=12.31)  # frames at 12.2667 s and 12.3333 s
    plan = plan_export(store, ExportRequest(session.recording_id, "SD_DISK", MATROSKA, asked), NOW)
    assert plan.start == START + 184 * timedelta(seconds=1) / FPS
    assert plan.start.microsecond % 1000  # between milliseconds, as the test needs
    times = decode_times(export_bytes(store, session.recording_id, asked))
    assert times[0] == plan.start.replace(microsecond=plan.start.microsecond // 1000 * 1000)


def test_a_block_still_being_written_exports_as_far_as_it_is_written(tmp_path: Path, encrypted: bool):
    store = make_store(tmp_path / "card", encrypted)
    session = record(store, 14, finish=False)  # the second block is open
    try:
        times = decode_times(export_bytes(store, session.recording_id))
        assert times[0] == START
        assert len(times) >= 10 * FPS  # the closed block at least, and what of the open one is sealed
        assert times[-1] <= START + timedelta(seconds=14)
    finally:
        session.finish()


def test_without_key_frame_rows_the_blocks_are_scanned_and_the_rows_restored(tmp_path: Path):
    store = make_store(tmp_path / "card", encrypted=False)
    session = record(store, 25)
    db = keyframes.ensure_keyframe_table(store.root / INDEX_NAME)
    for token in session.blocks:
        keyframes.delete_keyframes(db, token)
    times = decode_times(export_bytes(store, session.recording_id, START + timedelta(seconds=15)))
    assert times[0] <= START + timedelta(seconds=15)
    assert keyframes.keyframes_for(db, session.blocks[-1])
    db.close()


def test_a_large_block_without_key_frame_rows_is_scanned_a_window_at_a_time(tmp_path: Path, encrypted: bool):
    """A 24 MB block (8 Mbit/s, a key frame a second) whose rows a repair lost: the plan finds the same key frame
    and offsets as the index gave, holding a few windows of the block in memory, never the block."""
    from bench.clips import encode_clip, looped

    store = make_store(tmp_path / "card", encrypted)
    clip = encode_clip(640, 360, FPS, 2, 8_000_000, gop=FPS)
    session = new_session(store, split=300)
    count = round(24 * 1024**2 / clip.bytes_per_frame)
    for frame in looped(clip, START, count):
        session.feed(frame)
    session.finish()
    (block,) = session.blocks
    size = store.plain_size(store.root / store.index.blocks(session.recording_id)[0].mkv)
    assert size > 20 * WINDOW
    asked = ExportRequest(session.recording_id, "SD_DISK", MATROSKA, START + timedelta(seconds=17.3))
    indexed = plan_export(store, asked, NOW)

    db = keyframes.ensure_keyframe_table(store.root / INDEX_NAME)
    keyframes.delete_keyframes(db, block)
    tracemalloc.start()
    try:
        scanned = plan_export(store, asked, NOW)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert scanned.start == indexed.start == START + timedelta(seconds=17)
    assert [(p.begin, p.end, p.header_size) for p in scanned.pieces] == [
        (p.begin, p.end, p.header_size) for p in indexed.pieces
    ]
    assert peak < 6 * WINDOW  # a few windows (and their decryption), against 1x (3x encrypted) the block before
    assert len(keyframes.keyframes_for(db, block)) == -(-count // FPS)  # and its rows put back
    db.close()


def test_a_cancelled_export_stops_and_says_so(tmp_path: Path):
    store = make_store(tmp_path / "card", encrypted=False)
    session = record(store, 12)
    plan = plan_export(store, ExportRequest(session.recording_id, "SD_DISK", MATROSKA), NOW)
    seen = []
    with pytest.raises(ExportCancelled):
        remux(plan, seen.append, cancelled=lambda: True)
    assert seen == []  # nothing half-made was handed on


def test_a_recording_without_blocks_has_nothing_to_export(tmp_path: Path):
    store = make_store(tmp_path / "card", encrypted=False)
    session = new_session(store)
    with pytest.raises(ExportError) as refused:
        plan_export(store, ExportRequest(session.recording_id, "SD_DISK", MATROSKA), NOW)
    assert refused.value.code == 10
    session.finish(START + timedelta(seconds=1))


def test_progress_runs_from_zero_to_one(tmp_path: Path):
    store = make_store(tmp_path / "card", encrypted=False)
    session = record(store, 12)
    plan = plan_export(store, ExportRequest(session.recording_id, "SD_DISK", MATROSKA), NOW)
    fractions: list[float] = []
    remux(plan, lambda _data: None, progress=fractions.append)
    assert fractions == sorted(fractions)
    assert fractions[0] == 0.0
    assert fractions[-1] > 0.95
    with av.open(io.BytesIO(export_bytes(store, session.recording_id))) as container:
        assert container.duration is not None
        assert abs(container.duration / 1e6 - 12) < 0.5
