"""Playing a recording while it is still being recorded: the stream follows it past the moment of the PLAY, into
the blocks that appear meanwhile, and ends with a BYE once stop.cgi has stopped it and every frame has been sent.
The reader on a store being written to (plain and encrypted), then a real camera process with FFmpeg and a raw
player."""

from __future__ import annotations

import asyncio
import itertools
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from device.rtsp import server as server_module
from device.rtsp.playback import Batch, Recording, RecordingReader
from tests.device.disk_client import get_xml, mkv_files, param_update
from tests.device.test_recorder import FPS, decode_times, frames, make_store, new_session
from tests.device.test_recording_api import cgi, wait_recorded
from tests.device.test_rtsp_live import open_player, start_in_process
from tests.device.test_rtsp_playback import needs_ffmpeg, playback_url
from tests.device.test_rtsp_sessions import Played, Recorded

OPTIONS = "resolution=320x180&fps=10"
FRAME = timedelta(seconds=0.1)


@pytest.mark.parametrize("codec", ["h264", "jpeg"])
@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
def test_the_reader_follows_a_growing_recording_into_new_blocks_and_says_when_it_has_ended(
    tmp_path: Path, encrypted: bool, codec: str
):
    """Frames are fed a few at a time and the reader asked after each few: it hands out what is written as it is
    written (an encrypted block a whole 64 KiB chunk at a time), each frame once and in order across the blocks
    the recording splits into, says nothing of an end until the recording stops, and then gives the rest."""
    store = make_store(tmp_path / "card", encrypted)
    session = new_session(store, codec, split=1)
    fed = frames(6, codec)
    [meta] = [m for m, _dir, _locked in store.index.recordings()]
    reader = RecordingReader(Recording(meta, store, store.index.blocks(meta.id)), 0.0)
    read: list[float] = []
    while_recording = []
    for start in range(0, len(fed), 6):
        for frame in fed[start : start + 6]:
            session.feed(frame)
        batch = reader.read()
        assert not batch.ended
        read += [f.time for f in batch.frames]
        while_recording.append(len(read))
    session.finish()
    while not (batch := reader.read()).ended:
        read += [f.time for f in batch.frames]
    read += [f.time for f in batch.frames]
    assert len(store.index.blocks(meta.id)) >= 3
    assert [round(t * FPS) for t in read] == list(range(len(fed)))
    assert while_recording[-1] >= len(fed) // 2, while_recording  # it did not wait for the end to give frames
    assert reader.read() == Batch([], True)


@pytest.fixture
def camera(shared_device):
    """The module's camera, splitting blocks at the first key frame after 1 s (every 2 s at 10 fps), so a
    recording grows by new blocks while it is played."""
    param_update(shared_device, **{"root.Recording.DefaultSplitDuration": "1"})
    return shared_device


def start_recording(camera, seconds: float) -> str:
    recording_id = cgi(camera, "record.cgi", diskid="SD_DISK", options=OPTIONS).get("recordingid")
    wait_recorded(camera, recording_id, seconds)
    return recording_id


def recorded_times(camera, recording_id: str) -> list[datetime]:
    return [t for mkv in mkv_files(camera, recording_id) for t in decode_times(mkv.read_bytes())]


@pytest.mark.functional
@needs_ffmpeg
def test_a_recording_in_progress_plays_on_past_the_moment_of_the_play(camera, tmp_path: Path):
    """Started 3 s before the PLAY and played in real time (pull=0) for 7 s: the last frames were captured more
    than 3 s after the PLAY, in blocks that did not exist when it was sent, and none is missing on the way."""
    recording_id = start_recording(camera, 3.0)
    try:
        blocks_before = len(mkv_files(camera, recording_id))
        out = tmp_path / "followed.mkv"
        url = playback_url(camera, recording_id, pull=False)
        played_at = datetime.now(UTC)
        command = ["ffmpeg", "-v", "error", "-rtsp_transport", "tcp", "-i", url, "-t", "7", "-c", "copy", str(out)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=40)
        assert done.returncode == 0, done.stderr
        times = decode_times(out.read_bytes())
        first_recorded = recorded_times(camera, recording_id)[0]
        blocks_after = len(mkv_files(camera, recording_id))
    finally:
        cgi(camera, "stop.cgi", recordingid=recording_id)
    assert times[0] == first_recorded  # from the start, as npt=0 asks
    assert times[-1] > played_at + timedelta(seconds=3), (played_at, times[-1])
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(timedelta(0) < gap < 2 * FRAME for gap in gaps), max(gaps)
    assert blocks_after > blocks_before


@pytest.mark.functional
async def test_a_recording_in_progress_plays_to_its_stop_every_frame_then_a_bye(camera):
    """With pull=1 play catches up with the recording at once and then waits for its frames; stop.cgi ends it:
    every frame it recorded comes, once and in order, then the BYE, within a moment of the stop."""
    recording_id = start_recording(camera, 1.0)
    described_range = ""
    player = await open_player(camera.host, camera.rtsp_port, f"recordingid={recording_id}&pull=1")
    try:
        described = await player.request("DESCRIBE", {"Accept": "application/sdp"})
        described_range = next(x for x in described.body.decode().split("\r\n") if x.startswith("a=range:"))
        session, _ = await player.setup()
        played = await player.request("PLAY", {"Session": session, "Range": "npt=0-"})
        assert played.status == 200
        reading = asyncio.create_task(player.until_bye(timeout=10))
        await asyncio.sleep(2)
        assert not reading.done(), "the stream ended while the recording went on"
        await asyncio.to_thread(cgi, camera, "stop.cgi", recordingid=recording_id)
        stopped = asyncio.get_running_loop().time()
        bye = await reading
    finally:
        await player.close()
    assert described_range == "a=range:npt=0.000-"  # open: the recording has no end yet
    assert (played.header("Range") or "").endswith("-")
    assert bye - stopped < 2
    entry = get_xml(camera, "/axis-cgi/record/list.cgi", recordingid=recording_id).find(".//recording")
    start = datetime.fromisoformat(entry.get("starttime"))
    recording = Recorded(camera, recording_id, start, recorded_times(camera, recording_id))
    frames = Played.of(player.packets)
    frames.assert_in_sequence()
    first = float((played.header("Range") or "npt=0-")[4:].split("-")[0])
    assert recording.assert_played(frames.frames, first) == 0
    assert len(frames.frames) == len(recording.times)


async def test_a_recording_left_open_that_nothing_records_ends_with_a_bye(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """A recording without a stop time that the recorder does not know (a crash left it open, before recovery) is
    played to its last frame, and then, after a grace period, the stream ends instead of waiting for ever."""
    monkeypatch.setattr(server_module, "ORPHAN_GRACE", 0.5)
    device = await start_in_process(tmp_path)
    try:
        store = device.services.disks.disk("SD_DISK").store
        assert store is not None
        left_open = await asyncio.to_thread(new_session, store, "h264", 1)
        await asyncio.to_thread(lambda: [left_open.feed(f) for f in frames(3)])
        player = await open_player("127.0.0.1", device.rtsp.port, f"recordingid={left_open.recording_id}&pull=1")
        try:
            session, _ = await player.setup()
            assert (await player.request("PLAY", {"Session": session})).status == 200
            await player.until_bye(timeout=5)
        finally:
            await player.close()
            await asyncio.to_thread(left_open.finish)
        assert len(Played.of(player.packets).frames) >= 30  # the blocks closed at a split, at least
    finally:
        await device.stop()
