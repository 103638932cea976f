"""The recorder: synthetic frames → Matroska blocks on a real store, split, indexed, crash-recovered, disk-full."""

from __future__ import annotations

import io
import itertools
import os
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import av
import pytest

from device.clock import ManualClock
from device.media import timestrip
from device.media.synthetic import EncodedFrame, SyntheticSource
from device.recorder import keyframes
from device.recorder.muxer import BlockMuxer, scan
from device.recorder.recovery import recover_interrupted
from device.recorder.session import RecordingSession, RecordingStopped
from device.storage.files import tree_size
from device.storage.layout import INDEX_NAME, RecordingMeta, VideoAttributes, make_token, parse_block_xml
from device.storage.space import Space
from device.storage.store import RecordingStore

START = datetime(2024, 6, 21, 7, 0, 0, tzinfo=UTC)
SERIAL = "ACCC8E000001"
FPS = 15
FRAME = timedelta(seconds=1 / FPS)
MS = timedelta(milliseconds=1)
CLUSTER_ID = bytes.fromhex("1f43b675")
PROBE = ["ffprobe", "-v", "error", "-count_frames"]


def make_store(root: Path, encrypted: bool, capacity: int = 1 << 30) -> RecordingStore:
    root.mkdir(exist_ok=True)
    key = os.urandom(32) if encrypted else None
    return RecordingStore(root, Space(capacity), ZoneInfo("UTC"), SERIAL, data_key=key)


def reopen(store: RecordingStore) -> RecordingStore:
    """The same card after a restart: same key, a fresh index connection."""
    store.close()
    space = Space(store.space.capacity)
    space.recount(tree_size(store.root))
    return RecordingStore(store.root, space, store.zone, store.serial, store.data_key)


def new_session(store: RecordingStore, codec: str = "h264", split: float = 10) -> RecordingSession:
    encoding = "video/x-h264" if codec == "h264" else "image/jpeg"
    meta = RecordingMeta(
        make_token(START, store.zone, store.serial), "1", START, video=VideoAttributes(640, 360, f"{FPS}:1", encoding)
    )
    return RecordingSession(store, meta, split_seconds=split, writing_app="AXIS M1065-LW")


def frames(seconds: float, codec: str = "h264") -> list[EncodedFrame]:
    source = SyntheticSource(ManualClock(), 640, 360, FPS, codec)  # type: ignore[arg-type]
    return list(source.frames(START, round(seconds * FPS)))


def decode_times(data: bytes) -> list[datetime]:
    """Every decodable frame's capture time, read from its time strip."""
    times = []
    with av.open(io.BytesIO(data), "r") as container:
        for frame in container.decode(video=0):
            luma = frame.planes[0]
            millis = timestrip.read_strip(bytes(luma), frame.width, frame.height, luma.line_size)
            times.append(timestrip.from_millis(millis))
    return times


def sidecar_of(store: RecordingStore, mkv: str) -> Path:
    return (store.root / mkv).with_suffix(".xml")


@pytest.fixture(params=[False, True], ids=["plain", "encrypted"])
def encrypted(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


# --- recording and splitting ----------------------------------------------------------------------------------


def test_records_split_blocks_that_play(tmp_path: Path, encrypted: bool) -> None:
    store = make_store(tmp_path / "card", encrypted)
    session = new_session(store, split=10)
    for frame in frames(25):
        session.feed(frame)
    session.finish()

    blocks = store.index.blocks(session.recording_id)
    assert [b.meta.token for b in blocks] == session.blocks
    assert len(blocks) == 3
    for before, after in itertools.pairwise(blocks):
        assert before.meta.stop == after.meta.start  # contiguous
    assert blocks[0].meta.start == START
    assert blocks[-1].meta.stop is not None
    assert abs(blocks[-1].meta.stop - (START + timedelta(seconds=25))) <= MS  # last frame + one frame
    recording = next(m for m, _f, _l in store.index.recordings() if m.id == session.recording_id)
    assert recording.stop == blocks[-1].meta.stop

    db = keyframes.ensure_keyframe_table(store.root / INDEX_NAME)
    previous = START - MS
    total = 0
    for block in blocks:
        assert parse_block_xml(sidecar_of(store, block.mkv).read_bytes()).status == "Complete"
        assert block.meta.status == "Complete"
        data = store.read(store.root / block.mkv)
        found = scan(data)
        assert found.end == len(data)
        assert found.frames[0].keyframe  # every block starts on a key frame
        times = decode_times(data)
        total += len(times)
        assert len(times) == len(found.frames)
        assert block.meta.stop is not None
        for moment in times:
            assert block.meta.start <= moment < block.meta.stop
            assert moment > previous  # strictly increasing across blocks
            previous = moment
        with av.open(io.BytesIO(data), "r") as container:
            assert container.metadata.get("creation_time", "").startswith(f"{block.meta.start:%Y-%m-%dT%H:%M:%S}")
        assert b"AXIS M1065-LW" in data[: found.header_size]  # WritingApp
        # key-frame index: one row per key frame, increasing offsets, each the start of its cluster
        rows = keyframes.keyframes_for(db, block.meta.token)
        assert [o for _t, o in rows] == [o for _t, o in found.keyframes(block.meta.start)]
        assert len(rows) == sum(f.keyframe for f in found.frames) == (5 if block is not blocks[-1] else 3)
        offsets = [o for _t, o in rows]
        assert offsets == sorted(offsets)
        assert len(set(offsets)) == len(offsets)
        for moment, offset in rows:
            assert store.read(store.root / block.mkv, offset, 4) == CLUSTER_ID
            assert block.meta.start <= moment < block.meta.stop
        first_time, first_offset = rows[0]
        assert keyframes.keyframe_at_or_before(db, block.meta.token, first_time + timedelta(seconds=3)) == rows[1]
        assert keyframes.keyframe_at_or_before(db, block.meta.token, first_time - MS) is None
        assert first_offset == found.header_size
    assert total == 25 * FPS
    hit = keyframes.recording_keyframe_at_or_before(db, session.recording_id, START + timedelta(seconds=13))
    assert hit is not None
    assert hit[0] == blocks[1].meta.token
    assert hit[1] == START + timedelta(seconds=12)
    db.close()


def test_ffprobe_reads_a_block(tmp_path: Path) -> None:
    if shutil.which("ffprobe") is None:
        pytest.skip("ffprobe not on PATH")
    store = make_store(tmp_path / "card", encrypted=False)
    session = new_session(store)
    for frame in frames(3):
        session.feed(frame)
    session.finish()
    mkv = store.root / store.index.blocks()[0].mkv
    out = subprocess.run(
        [*PROBE, "-show_entries", "stream=codec_name,width,height,nb_read_frames", "-of", "csv=p=0", str(mkv)],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    assert out.stdout.strip() == "h264,640,360,45"
    assert out.stderr == ""


def test_mjpeg_recording(tmp_path: Path) -> None:
    store = make_store(tmp_path / "card", encrypted=False)
    session = new_session(store, codec="jpeg", split=1)
    for frame in frames(3, "jpeg"):
        session.feed(frame)
    session.finish()
    blocks = store.index.blocks()
    assert len(blocks) == 3
    db = keyframes.ensure_keyframe_table(store.root / INDEX_NAME)
    for block in blocks:
        data = store.read(store.root / block.mkv)
        with av.open(io.BytesIO(data), "r") as container:
            assert container.streams.video[0].codec_context.name == "mjpeg"
        times = decode_times(data)
        assert len(times) == FPS
        assert block.meta.stop is not None
        assert all(block.meta.start <= t < block.meta.stop for t in times)
        assert len(keyframes.keyframes_for(db, block.meta.token)) == FPS  # every JPEG is a key frame
    db.close()


def test_block_starts_only_on_a_key_frame() -> None:
    sink = io.BytesIO()
    delta = frames(0.2)[1]
    muxer = BlockMuxer(sink, START, "h264", 640, 360, FPS)
    with pytest.raises(ValueError, match="key frame"):
        muxer.write(delta)
    muxer.abort()


def test_session_skips_frames_before_the_first_key_frame(tmp_path: Path) -> None:
    store = make_store(tmp_path / "card", encrypted=False)
    session = new_session(store)
    for frame in frames(3)[5:]:  # starts mid-GOP: waits for the key frame at 2 s
        session.feed(frame)
    session.finish()
    assert session.skipped == 25
    (block,) = store.index.blocks()
    assert block.meta.start == START + timedelta(seconds=2)


# --- crash recovery -------------------------------------------------------------------------------------------


def crash(session: RecordingSession) -> Path:
    """What a SIGKILL leaves: whatever reached the OS, nothing more; returns the open block's file."""
    block = session._block
    assert block is not None
    block._raw.flush()  # Python's buffer would be lost too, but the OS keeps what was flushed
    block._raw.close()
    session.store.close()
    return block.mkv


@pytest.mark.parametrize("cut", [0.35, 0.8, -7])
def test_recovery_after_a_crash_plain(tmp_path: Path, cut: float) -> None:
    store = make_store(tmp_path / "card", encrypted=False)
    session = new_session(store, split=4)
    for frame in frames(10):
        session.feed(frame)
    mkv = crash(session)
    original = mkv.read_bytes()
    before = scan(original)
    offset = len(original) + int(cut) if cut < 0 else int(len(original) * cut)
    assert offset > before.frames[1].offset  # past the first cluster
    with mkv.open("r+b") as f:
        f.truncate(offset)
    # every frame whose cluster ended before the cut must survive: nothing lost beyond the frame being written
    boundaries = [f.offset for f in before.frames[1:]] + [before.end]
    complete = sum(1 for end in boundaries if end <= offset)

    store = reopen(store)
    assert recover_interrupted(store) == [session.recording_id]
    assert recover_interrupted(store) == []  # idempotent
    blocks = store.index.blocks(session.recording_id)
    assert len(blocks) == 3
    assert blocks[1].meta.stop == blocks[2].meta.start
    last = blocks[-1]
    assert last.meta.status == "Complete"
    assert parse_block_xml(sidecar_of(store, last.mkv).read_bytes()).status == "Complete"
    assert last.size == mkv.stat().st_size
    times = decode_times(store.read(mkv))
    assert len(times) == complete
    assert last.meta.stop is not None
    assert all(last.meta.start <= t < last.meta.stop for t in times)
    assert abs(last.meta.stop - (times[-1] + FRAME)) <= 2 * MS  # stops one frame after the last decodable one
    recording = next(m for m, _f, _l in store.index.recordings() if m.id == session.recording_id)
    assert recording.stop == last.meta.stop
    assert b"<StopTime>" in next(store.root.rglob("recording.xml")).read_bytes()
    db = keyframes.ensure_keyframe_table(store.root / INDEX_NAME)
    rows = keyframes.keyframes_for(db, last.meta.token)
    assert rows == scan(mkv.read_bytes()).keyframes(last.meta.start)
    assert all(offset < mkv.stat().st_size for _t, offset in rows)
    db.close()


@pytest.mark.parametrize("cut", [0, -100])
def test_recovery_after_a_crash_encrypted(tmp_path: Path, cut: int) -> None:
    store = make_store(tmp_path / "card", encrypted=True)
    session = new_session(store, split=30)
    for frame in frames(14):
        session.feed(frame)
    mkv = crash(session)
    size = mkv.stat().st_size
    with mkv.open("r+b") as f:
        f.truncate(size + cut)

    store = reopen(store)
    assert recover_interrupted(store) == [session.recording_id]
    (block,) = store.index.blocks(session.recording_id)
    assert block.meta.status == "Complete"
    data = store.read(mkv)  # decrypts: the file is sealed properly again
    assert scan(data).end == len(data)
    times = decode_times(data)
    assert len(times) >= FPS  # at least the first authenticated chunk's worth
    assert block.meta.stop is not None
    assert abs(block.meta.stop - (times[-1] + FRAME)) <= 2 * MS
    assert store.verify(lambda _p: None).ok


def test_recovery_deletes_a_block_with_no_complete_frame(tmp_path: Path) -> None:
    store = make_store(tmp_path / "card", encrypted=True)
    session = new_session(store, split=4)
    for frame in frames(9):  # the open block (8..9 s) is well under one encrypted chunk: nothing sealed
        session.feed(frame)
    mkv = crash(session)
    store = reopen(store)
    assert recover_interrupted(store) == [session.recording_id]
    blocks = store.index.blocks(session.recording_id)
    assert len(blocks) == 2
    assert not mkv.exists()
    recording = next(m for m, _f, _l in store.index.recordings() if m.id == session.recording_id)
    assert recording.stop == blocks[-1].meta.stop == START + timedelta(seconds=8)


# --- disk full ------------------------------------------------------------------------------------------------


def test_disk_full_stops_cleanly(tmp_path: Path, encrypted: bool) -> None:
    store = make_store(tmp_path / "card", encrypted, capacity=150_000)
    session = new_session(store, split=4)
    stopped = None
    for frame in frames(60):
        try:
            session.feed(frame)
        except RecordingStopped as exc:
            stopped = exc
            break
    assert stopped is not None
    assert "disk full" in stopped.reason
    assert len(session.blocks) >= 2  # stopped mid-recording, after at least one split
    assert store.space.used <= store.space.capacity
    blocks = store.index.blocks(session.recording_id)
    assert blocks
    assert [b.meta.token for b in blocks] == session.blocks
    recording = next(m for m, _f, _l in store.index.recordings() if m.id == session.recording_id)
    assert recording.stop == blocks[-1].meta.stop
    for block in blocks:
        assert parse_block_xml(sidecar_of(store, block.mkv).read_bytes()).status == "Complete"
        data = store.read(store.root / block.mkv)
        found = scan(data)
        assert found.end == len(data)
        times = decode_times(data)
        assert len(times) == len(found.frames)
        assert block.meta.stop is not None
        assert all(block.meta.start <= t < block.meta.stop for t in times)
        assert abs(block.meta.stop - (times[-1] + FRAME)) <= 2 * MS or block is not blocks[-1]
    assert store.verify(lambda _p: None).ok
    with pytest.raises(RuntimeError):
        session.feed(frames(0.1)[0])


def test_no_room_to_start(tmp_path: Path) -> None:
    store = make_store(tmp_path / "card", encrypted=False, capacity=1000)
    with pytest.raises(RecordingStopped):
        new_session(store)
    assert store.space.used == 0


def test_a_stop_while_a_frame_is_being_written_waits_for_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """stop.cgi cancels the feeding task but not the worker thread it awaits, so finish() can arrive from another
    thread while feed() has opened a block and is still muxing its first frame. It must wait for that frame
    instead of closing a half-opened block (this was an HTTP 500 from stop.cgi, seen now and then in tests)."""
    import threading

    store = make_store(tmp_path / "card", encrypted=False)
    session = new_session(store, split=10)
    writing, release = threading.Event(), threading.Event()
    original = BlockMuxer.write

    def slow_write(self: BlockMuxer, frame: EncodedFrame) -> None:
        writing.set()
        release.wait(5)
        original(self, frame)

    monkeypatch.setattr(BlockMuxer, "write", slow_write)
    feeder = threading.Thread(target=session.feed, args=(frames(0.1)[0],))
    feeder.start()
    assert writing.wait(5)
    failures: list[BaseException] = []

    def stop() -> None:
        try:
            session.finish()
        except BaseException as exc:
            failures.append(exc)

    stopper = threading.Thread(target=stop)
    stopper.start()
    stopper.join(0.3)
    assert stopper.is_alive()  # waiting for the frame, not closing under it
    release.set()
    feeder.join(5)
    stopper.join(5)
    assert failures == []
    assert session.finished
    (block,) = store.index.blocks(session.recording_id)
    assert block.meta.status == "Complete"
