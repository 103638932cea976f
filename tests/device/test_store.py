"""The recording store on its own, without a camera: the AXIS layout on the card (WIRE.md §9), its SQLite index,
encryption at rest in chunks, and the check and rebuild that keep the index in step with the files."""

from __future__ import annotations

import random
import re
import sqlite3
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given, settings
from hypothesis import strategies as st

from device.storage import crypto
from device.storage.crypto import CHUNK, TAG, DecryptionError, EncryptedWriter, WrappedKey
from device.storage.index import SCHEMA_VERSION, IndexUnusable, RecordingIndex
from device.storage.layout import (
    LOST_FOUND,
    BlockMeta,
    RecordingMeta,
    VideoAttributes,
    block_paths,
    block_xml,
    format_time,
    make_token,
    parse_block_xml,
    parse_recording_xml,
    parse_time,
    recording_dir,
    recording_xml,
)
from device.storage.space import DiskFull, Space
from device.storage.store import EBML_MAGIC, RecordingStore

ZONE = ZoneInfo("Europe/Stockholm")
SERIAL = "ACCC8E000001"
# 22:30 UTC on midsummer is 00:30 the next day in Stockholm: folders must use the local date and hour.
START = datetime(2024, 6, 21, 22, 30, 5, 123456, tzinfo=UTC)
MIB = 1024 * 1024


def video(size: int, seed: int = 0) -> bytes:
    """Bytes that start as a Matroska file does, so the store's read check accepts them."""
    body = random.Random(seed).randbytes(max(0, size - len(EBML_MAGIC)))
    return (EBML_MAGIC + body)[:size] if size >= len(EBML_MAGIC) else EBML_MAGIC


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "card"
    folder.mkdir()
    return folder


def make_store(root: Path, key: bytes | None = None, capacity: int = 64 * MIB) -> RecordingStore:
    return RecordingStore(root, Space(capacity), ZONE, SERIAL, key)


def record(
    store: RecordingStore, payloads: list[bytes], start: datetime = START, seconds: int = 10, piece: int = 7000
) -> tuple[RecordingMeta, list[Path]]:
    """One finished recording with a block per payload, each written in pieces as a recorder writes."""
    meta = RecordingMeta(make_token(start, ZONE, SERIAL), "1", start, video=VideoAttributes(640, 360, "25:1"))
    writer = store.begin_recording(meta)
    files = []
    for n, data in enumerate(payloads):
        block_start = start + timedelta(seconds=n * seconds)
        block = writer.begin_block(block_start)
        for at in range(0, len(data), piece):
            block.write(data[at : at + piece])
        block.close(block_start + timedelta(seconds=seconds))
        files.append(block.mkv)
    writer.finish(start + timedelta(seconds=len(payloads) * seconds))
    return writer.meta, files


# --- layout ----------------------------------------------------------------------------------------------------

REAL_RECORDING = (
    b'<Recording RecordingToken="20260406_183625_0D88_00408CE298CD" ><SourceToken>1</SourceToken>'
    b"<StartTime>2026-04-06T18:36:25.656980Z</StartTime><StopTime>2026-04-06T18:36:38.561046Z</StopTime>"
    b'<Content></Content><Track TrackToken="Video"><VideoAttributes>  <Width>720</Width>  <Height>1280</Height>'
    b"  <Framerate>30.00000</Framerate>  <Framerate_fraction>30:1</Framerate_fraction>  <Encoding>video/x-h264"
    b"</Encoding>  <Bitrate>0</Bitrate></VideoAttributes></Track><Application>AxisCamera</Application>"
    b"<CustomAttributes>  <TriggerTrigger>Record Video</TriggerTrigger>  <TriggerName>New Rule</TriggerName>"
    b"  <TriggerType>triggered</TriggerType></CustomAttributes></Recording>"
)
REAL_BLOCK = (
    b'<RecordingBlock RecordingBlockToken="20260406_183625_69F9_00408CE298CD" >'
    b"<RecordingToken>20260406_183625_0D88_00408CE298CD</RecordingToken>"
    b"<StartTime>2026-04-06T18:36:25.656980Z</StartTime><StopTime>2026-04-06T18:36:38.561046Z</StopTime>"
    b"<Status>Complete</Status></RecordingBlock>"
)


def test_a_real_cameras_recording_xml_parses():
    meta = parse_recording_xml(REAL_RECORDING)
    assert meta.id == "20260406_183625_0D88_00408CE298CD"
    assert meta.source == "1"
    assert meta.start == datetime(2026, 4, 6, 18, 36, 25, 656980, tzinfo=UTC)
    assert meta.stop == datetime(2026, 4, 6, 18, 36, 38, 561046, tzinfo=UTC)
    assert meta.video == VideoAttributes(720, 1280, "30:1", "video/x-h264")
    assert meta.video.fps == 30.0
    assert (meta.trigger_type, meta.trigger_name, meta.trigger_trigger) == ("triggered", "New Rule", "Record Video")


def test_a_real_cameras_block_sidecar_parses():
    block = parse_block_xml(REAL_BLOCK)
    assert block == BlockMeta(
        "20260406_183625_69F9_00408CE298CD",
        "20260406_183625_0D88_00408CE298CD",
        datetime(2026, 4, 6, 18, 36, 25, 656980, tzinfo=UTC),
        datetime(2026, 4, 6, 18, 36, 38, 561046, tzinfo=UTC),
        "Complete",
    )


def test_the_vi3o_variant_with_a_recording_group_parses():
    variant = REAL_RECORDING.replace(b"<SourceToken>1", b"<RecordingGroup> </RecordingGroup><SourceToken>4")
    assert parse_recording_xml(variant).source == "4"


def test_an_ongoing_recording_has_no_stop_time_and_its_block_is_recording():
    meta = RecordingMeta("20240622_003005_ABCD_ACCC8E000001", "1", START)
    xml = recording_xml(meta)
    assert b"StopTime" not in xml
    assert parse_recording_xml(xml).stop is None
    block = BlockMeta("20240622_003005_0123_ACCC8E000001", meta.id, START, None, "Recording")
    assert b"StopTime" not in block_xml(block)
    assert parse_block_xml(block_xml(block)) == block


def test_recording_and_block_xml_round_trip():
    meta = RecordingMeta(
        "20240622_003005_ABCD_ACCC8E000001",
        "1",
        START,
        START + timedelta(seconds=42, microseconds=7),
        "continuous",
        "continuous",
        "continuous",
        VideoAttributes(1920, 1080, "30000:1001", "video/x-h265"),
    )
    assert parse_recording_xml(recording_xml(meta)) == meta
    assert b"<Framerate>29.97003</Framerate>" in recording_xml(meta)
    block = BlockMeta("20240622_003005_0123_ACCC8E000001", meta.id, START, meta.stop, "Complete")
    assert parse_block_xml(block_xml(block)) == block


def test_times_are_utc_with_microseconds():
    assert format_time(START) == "2024-06-21T22:30:05.123456Z"
    assert format_time(START.astimezone(ZONE)) == "2024-06-21T22:30:05.123456Z"
    assert parse_time("2024-06-21T22:30:05.123456Z") == START


def test_tokens_and_folders_use_the_cameras_local_time():
    token = make_token(START, ZONE, SERIAL)
    assert re.fullmatch(r"20240622_003005_[0-9A-F]{4}_ACCC8E000001", token)
    folder = recording_dir(Path("/card"), token, START, ZONE)
    assert folder == Path("/card/20240622/00") / token
    mkv, sidecar = block_paths(folder, "T", START, ZONE)
    assert (mkv, sidecar) == (folder / "20240622_00" / "T.mkv", folder / "20240622_00" / "T.xml")


# --- the store writing the layout ------------------------------------------------------------------------------


def test_a_recording_is_written_in_the_axis_layout_and_indexed(root):
    store = make_store(root)
    meta, files = record(store, [video(20000, 1), video(30000, 2)])
    folder = root / "20240622" / "00" / meta.id
    assert (folder / "recording.xml").exists()
    assert [f.parent for f in files] == [folder / "20240622_00"] * 2
    assert parse_recording_xml((folder / "recording.xml").read_bytes()).stop == START + timedelta(seconds=20)
    sidecars = [parse_block_xml(f.with_suffix(".xml").read_bytes()) for f in files]
    assert [s.status for s in sidecars] == ["Complete", "Complete"]
    assert {s.recording_id for s in sidecars} == {meta.id}
    indexed = store.index.blocks(meta.id)
    assert [b.mkv for b in indexed] == [f.relative_to(root).as_posix() for f in files]
    assert [b.size for b in indexed] == [20000, 30000]
    assert store.index.recordings()[0][0] == meta
    store.close()


def test_while_a_block_is_written_its_sidecar_says_recording(root):
    store = make_store(root)
    meta = RecordingMeta(make_token(START, ZONE, SERIAL), "1", START)
    writer = store.begin_recording(meta)
    block = writer.begin_block(START)
    block.write(video(100))
    assert parse_block_xml(block.sidecar.read_bytes()).status == "Recording"
    assert parse_recording_xml((writer.folder / "recording.xml").read_bytes()).stop is None
    block.close(START + timedelta(seconds=1))
    writer.finish(START + timedelta(seconds=1))
    assert parse_block_xml(block.sidecar.read_bytes()).status == "Complete"
    store.close()


def test_a_plain_block_reads_back_as_written(root):
    store = make_store(root)
    data = video(3 * CHUNK + 17, 3)
    _, (mkv,) = record(store, [data])
    assert mkv.read_bytes() == data
    assert store.read(mkv) == data
    assert store.read(mkv, CHUNK - 5, 10) == data[CHUNK - 5 : CHUNK + 5]
    store.close()


def test_an_encrypted_block_is_unreadable_on_the_card_but_reads_back_through_the_store(root):
    key = AESGCM.generate_key(bit_length=256)
    store = make_store(root, key)
    data = video(3 * CHUNK + 17, 4)
    _, (mkv,) = record(store, [data])
    raw = mkv.read_bytes()
    assert raw.startswith(crypto.MAGIC)
    assert not raw.startswith(EBML_MAGIC)
    assert data[100:200] not in raw
    assert len(raw) == crypto.encrypted_size(len(data))
    assert store.read(mkv) == data
    for offset, length in [(0, 1), (CHUNK - 1, 2), (CHUNK, CHUNK), (2 * CHUNK + 5, 10_000_000)]:
        assert store.read(mkv, offset, length) == data[offset : offset + length]
    assert store.index.blocks()[0].size == len(raw)  # the index counts what the card holds
    assert store.block_reads(mkv)
    assert not make_store(root, AESGCM.generate_key(bit_length=256)).block_reads(mkv)
    store.close()


def test_space_is_reserved_before_writing_so_a_full_card_refuses_more(root):
    store = make_store(root, capacity=64 * 1024)
    meta = RecordingMeta(make_token(START, ZONE, SERIAL), "1", START)
    block = store.begin_recording(meta).begin_block(START)
    block.write(video(32 * 1024))
    used = store.space.used
    with pytest.raises(DiskFull):
        block.write(b"\0" * 64 * 1024)
    assert store.space.used == used
    store.close()


# --- crypto at chunk boundaries ----------------------------------------------------------------------------------

KEY = bytes(range(32))


def encrypt_to(path: Path, data: bytes, key: bytes = KEY, piece: int = 10_000) -> None:
    writer = EncryptedWriter(path.open("wb"), key)
    for at in range(0, len(data), piece):
        writer.write(data[at : at + piece])
    writer.close()


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK + 5])
def test_every_size_round_trips(tmp_path, size):
    data = random.Random(size).randbytes(size)
    path = tmp_path / "b.mkv"
    encrypt_to(path, data)
    assert path.stat().st_size == crypto.encrypted_size(size)
    assert crypto.plain_size(path) == size
    assert crypto.decrypt_file(path, KEY) == data


@pytest.mark.parametrize(
    ("offset", "length"),
    [
        (0, 0),
        (0, CHUNK),
        (CHUNK - 1, 1),
        (CHUNK - 1, 2),
        (CHUNK, 1),
        (CHUNK, CHUNK),
        (CHUNK + 1, CHUNK),
        (2 * CHUNK - 1, 3),
        (3 * CHUNK, 5),
        (3 * CHUNK + 4, 100),
        (3 * CHUNK + 5, 10),
        (5 * CHUNK, 10),
        (10, None),
    ],
)
def test_read_range_at_chunk_boundaries(tmp_path, offset, length):
    data = random.Random(7).randbytes(3 * CHUNK + 5)
    path = tmp_path / "b.mkv"
    encrypt_to(path, data)
    expected = data[offset:] if length is None else data[offset : offset + length]
    assert crypto.read_range(path, KEY, offset, length) == expected


@settings(max_examples=40, deadline=None)
@given(
    size=st.integers(0, 3 * CHUNK + 3),
    offset=st.integers(0, 4 * CHUNK),
    length=st.none() | st.integers(0, 2 * CHUNK + 3),
    piece=st.integers(1, 2 * CHUNK),
)
def test_any_range_of_any_file_reads_the_same_as_the_plain_bytes(size, offset, length, piece):
    data = random.Random(size).randbytes(size)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "b.mkv"
        encrypt_to(path, data, piece=piece)
        expected = data[offset:] if length is None else data[offset : offset + length]
        assert crypto.read_range(path, KEY, offset, length) == expected


def test_a_tampered_chunk_does_not_decrypt_but_the_other_chunks_still_do(tmp_path):
    data = random.Random(1).randbytes(3 * CHUNK)
    path = tmp_path / "b.mkv"
    encrypt_to(path, data)
    raw = bytearray(path.read_bytes())
    raw[16 + (CHUNK + TAG) + 100] ^= 0x01  # a bit of chunk 1
    path.write_bytes(bytes(raw))
    assert crypto.read_range(path, KEY, 0, CHUNK) == data[:CHUNK]
    assert crypto.read_range(path, KEY, 2 * CHUNK, CHUNK) == data[2 * CHUNK :]
    with pytest.raises(DecryptionError):
        crypto.read_range(path, KEY, CHUNK - 1, 2)
    with pytest.raises(DecryptionError):
        crypto.decrypt_file(path, KEY)


@pytest.mark.parametrize("cut", [TAG + CHUNK, 1])  # a whole chunk, or one byte
def test_a_file_cut_short_does_not_decrypt(tmp_path, cut):
    data = random.Random(2).randbytes(3 * CHUNK)
    path = tmp_path / "b.mkv"
    encrypt_to(path, data)
    raw = path.read_bytes()
    path.write_bytes(raw[:-cut])
    with pytest.raises(DecryptionError):
        crypto.decrypt_file(path, KEY)


def test_chunks_cannot_be_swapped(tmp_path):
    data = random.Random(3).randbytes(3 * CHUNK)
    path = tmp_path / "b.mkv"
    encrypt_to(path, data)
    raw = path.read_bytes()
    size = CHUNK + TAG
    header, first, second, third = raw[:16], raw[16 : 16 + size], raw[16 + size : 16 + 2 * size], raw[16 + 2 * size :]
    path.write_bytes(header + second + first + third)
    with pytest.raises(DecryptionError):
        crypto.read_range(path, KEY, 0, 10)


def test_a_wrong_key_or_a_plain_file_does_not_decrypt(tmp_path):
    path = tmp_path / "b.mkv"
    encrypt_to(path, b"secret video")
    with pytest.raises(DecryptionError):
        crypto.decrypt_file(path, bytes(32))
    plain = tmp_path / "plain.mkv"
    plain.write_bytes(video(1000))
    with pytest.raises(DecryptionError):
        crypto.decrypt_file(plain, KEY)


def test_a_wrapped_data_key_opens_only_with_its_passphrase_and_survives_json():
    salt = crypto.new_salt()
    key = crypto.derive_key("secret", salt)
    assert key == crypto.derive_key("secret", salt)
    assert key != crypto.derive_key("secret", crypto.new_salt())
    wrapped = WrappedKey.create(key, salt)
    data_key = wrapped.unwrap(key)
    assert data_key is not None
    assert len(data_key) == 32
    assert wrapped.unwrap(crypto.derive_key("Secret", salt)) is None
    again = WrappedKey.from_json(wrapped.to_json())
    assert again == wrapped
    # a new passphrase re-wraps the same data key: nothing needs re-encrypting
    other_salt = crypto.new_salt()
    other = crypto.derive_key("better", other_salt)
    assert WrappedKey.create(other, other_salt, data_key).unwrap(other) == data_key


# --- the index -------------------------------------------------------------------------------------------------


def test_the_index_survives_reopening_and_has_schema_version_1(root):
    store = make_store(root)
    meta, files = record(store, [video(1000), video(2000)])
    store.index.set_locked(meta.id, True)
    store.close()

    assert SCHEMA_VERSION == 1
    with sqlite3.connect(root / "index.db") as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 1
    db.close()
    index = RecordingIndex(root / "index.db")
    (found, folder, locked) = index.recordings()[0]
    assert found == meta
    assert locked is True
    assert folder == f"20240622/00/{meta.id}"
    assert [b.mkv for b in index.blocks()] == [f.relative_to(root).as_posix() for f in files]
    assert index.integrity_ok()
    index.close()


def test_an_index_from_a_newer_camera_or_not_an_index_is_unusable(tmp_path):
    newer = tmp_path / "newer.db"
    with sqlite3.connect(newer) as db:
        db.execute("PRAGMA user_version=2")
    db.close()
    with pytest.raises(IndexUnusable, match="newer"):
        RecordingIndex(newer)
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(IndexUnusable):
        RecordingIndex(garbage)


def test_deleting_a_recording_from_the_index_deletes_its_blocks(root):
    store = make_store(root)
    first, _ = record(store, [video(100), video(100)])
    second, _ = record(store, [video(100)], start=START + timedelta(hours=1))
    store.index.delete_recording(first.id)
    assert [b.meta.recording_id for b in store.index.blocks()] == [second.id]
    store.close()


def test_blocks_are_listed_oldest_first(root):
    store = make_store(root)
    later, _ = record(store, [video(100)], start=START + timedelta(hours=2))
    earlier, _ = record(store, [video(100), video(100)], start=START)
    assert [b.meta.recording_id for b in store.index.blocks()] == [earlier.id, earlier.id, later.id]
    store.close()


# --- check and rebuild -----------------------------------------------------------------------------------------


def no_progress(_fraction: float) -> None:
    pass


def test_a_store_that_matches_its_files_checks_ok(root):
    store = make_store(root)
    record(store, [video(100), video(200)])
    report = store.verify(no_progress)
    assert report.ok
    assert report.checked == 2
    assert "2 blocks" in report.describe()
    store.close()


def test_rebuild_makes_the_same_index_from_the_files(root):
    store = make_store(root)
    meta, _files = record(store, [video(100), video(200)])
    before = [(b.meta, b.mkv, b.size) for b in store.index.blocks()]
    store.close()
    for path in root.glob("index.db*"):
        path.unlink()
    store = make_store(root)
    report = store.verify(no_progress)
    assert report.index_damaged == "The index is missing"
    assert len(report.unindexed) == 2
    repaired = store.rebuild(no_progress)
    assert (repaired.recordings, repaired.blocks, repaired.set_aside) == (1, 2, [])
    assert [(b.meta, b.mkv, b.size) for b in store.index.blocks()] == before
    assert store.index.recordings()[0][0] == meta
    assert store.verify(no_progress).ok
    store.close()


def test_a_lost_block_file_is_missing_and_a_lost_recording_xml_is_restored_from_its_blocks(root):
    store = make_store(root)
    meta, files = record(store, [video(100), video(200), video(300)])
    files[0].unlink()
    files[0].with_suffix(".xml").unlink()
    report = store.verify(no_progress)
    assert len(report.missing) == 1
    (root / "20240622" / "00" / meta.id / "recording.xml").unlink()
    repaired = store.rebuild(no_progress)
    assert (repaired.recordings, repaired.blocks) == (1, 2)
    restored = parse_recording_xml((root / "20240622" / "00" / meta.id / "recording.xml").read_bytes())
    assert restored.id == meta.id
    assert store.verify(no_progress).ok
    store.close()


def test_a_tampered_encrypted_block_is_unreadable_and_rebuild_sets_it_aside(root):
    key = AESGCM.generate_key(bit_length=256)
    store = make_store(root, key)
    _, files = record(store, [video(CHUNK + 10), video(100)])
    raw = bytearray(files[0].read_bytes())
    raw[-1] ^= 0xFF
    files[0].write_bytes(bytes(raw))
    report = store.verify(no_progress)
    assert len(report.unreadable) == 1
    assert "1 block(s) unreadable" in report.describe()
    repaired = store.rebuild(no_progress)
    assert repaired.blocks == 1
    assert len(repaired.set_aside) == 1
    assert (root / LOST_FOUND / files[0].name).exists()
    assert store.verify(no_progress).ok
    store.close()


def test_deleting_blocks_frees_their_space_and_removes_empty_folders(root):
    store = make_store(root)
    meta, _files = record(store, [video(5000), video(7000)])
    used = store.space.used
    for block in store.index.blocks():
        assert store.delete_block(block.meta.token) > 0
    assert store.space.used < used - 12000
    assert store.delete_recording_if_empty(meta.id)
    assert not (root / "20240622").exists()
    assert store.index.recordings() == []
    store.close()


def test_erasing_keeps_only_the_cards_own_metadata(root):
    store = make_store(root)
    record(store, [video(100)])
    (root / "card.json").write_text('{"file_system": "ext4"}')
    store.erase()
    assert [p.name for p in root.iterdir()] == ["card.json"]
    assert store.space.used == (root / "card.json").stat().st_size
