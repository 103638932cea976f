"""`python -m device backfill`: history made faster than real time that the camera then mounts, lists and plays as
its own, and index-only rows for list benchmarks."""

from __future__ import annotations

import io
import itertools
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import pytest

from device.backfill import BENCH_EVENT, BackfillError, backfill
from device.identity import load_identity
from device.media import timestrip
from device.storage.layout import parse_block_xml
from device.storage.space import Space
from device.storage.store import RecordingStore
from tests.device.disk_client import get_xml
from tests.support.device_process import SERIAL

pytestmark = pytest.mark.functional

END = datetime(2024, 6, 21, 12, 0, tzinfo=UTC)


def open_store(data_dir: Path) -> RecordingStore:
    identity = load_identity(data_dir)
    return RecordingStore(data_dir / "sdcard", Space(32 * 1024**3), identity.zone, identity.serial)


def listing(device, **params: str):
    return get_xml(device, "/axis-cgi/record/list.cgi", role="viewer", **params).find("recordings")


def test_backfilled_history_is_checked_ok_listed_and_plays_after_the_camera_starts(tmp_path, device_factory):
    data = tmp_path / "camera"
    end = datetime.now(UTC).replace(microsecond=0)  # recent, so the camera's 7-day cleanup keeps it
    report = backfill(data, 0.5, end=end, seed=1, serial=SERIAL)
    assert report.recordings >= 4
    assert report.triggered >= 1
    assert report.blocks >= report.recordings

    store = open_store(data)
    try:
        check = store.verify(lambda _f: None)
        assert check.ok, check.describe()
        recordings = store.index.recordings()
        continuous = [m for m, _f, _l in recordings if m.trigger_type == "continuous"]
        assert len(continuous) >= 2
        gaps = [(b.start - a.stop).total_seconds() for a, b in itertools.pairwise(continuous)]
        assert max(gaps) >= 60  # an interruption
        assert all(m.start >= end - timedelta(hours=0.5) and m.stop and m.stop <= end for m, _f, _l in recordings)
        for meta, _folder, _locked in recordings:
            blocks = store.index.blocks(meta.id)
            assert blocks
            assert blocks[0].meta.start == meta.start
            assert blocks[-1].meta.stop == meta.stop
            for before, after in itertools.pairwise(blocks):
                assert before.meta.stop == after.meta.start  # contiguous in time
            for block in blocks:
                sidecar = parse_block_xml((store.root / block.mkv).with_suffix(".xml").read_bytes())
                assert sidecar.status == "Complete"
                assert sidecar.stop == block.meta.stop
        block = store.index.blocks(continuous[0].id)[0]
        mkv = (store.root / block.mkv).read_bytes()
    finally:
        store.close()
    with av.open(io.BytesIO(mkv)) as container:
        frame = next(container.decode(video=0))
        assert (frame.width, frame.height) == (320, 180)
        luma = frame.planes[0]
        shown = timestrip.from_millis(timestrip.read_strip(bytes(luma), frame.width, frame.height, luma.line_size))
    assert block.meta.start - timedelta(milliseconds=1) <= shown <= block.meta.stop

    camera = device_factory("--log-level", "INFO", data_dir=data)
    listed = listing(camera, recordingid="all")
    entries = {r.get("recordingid"): r for r in listed}
    assert set(entries) == {m.id for m, _f, _l in recordings}
    assert all(r.get("recordingstatus") == "completed" for r in entries.values())
    triggered = [r for r in entries.values() if r.get("recordingtype") == "triggered"]
    assert triggered
    assert triggered[0].get("eventid") == "motion"
    video = listed[0].find("video")
    assert (video.get("width"), video.get("height"), video.get("framerate")) == ("320", "180", "5:1")
    log = (data / "stderr.log").read_text()
    assert "closed interrupted" not in log
    assert "repairing on mount" not in log
    assert "rebuilding" not in log


def test_index_only_recordings_fill_the_list_for_benchmarks(tmp_path, device_factory):
    data = tmp_path / "camera"
    end = datetime.now(UTC).replace(microsecond=0)
    report = backfill(data, 0, end=end, index_only_count=1000, serial=SERIAL)
    assert (report.recordings, report.index_only) == (0, 1000)
    assert not list((data / "sdcard").glob("2*"))  # no files at all

    camera = device_factory(data_dir=data)
    page = listing(camera, recordingid="all", eventid=BENCH_EVENT, maxnumberofresults="100")
    assert page.get("numberofrecordings") == "1000"
    assert len(page) == 100
    window = listing(
        camera,
        recordingid="all",
        starttime=(end - timedelta(minutes=10)).isoformat(),
        stoptime=end.isoformat(),
        maxnumberofresults="100",
    )
    assert len(window) == 100
    assert int(window.get("numberofrecordings")) >= 100


def test_backfill_refuses_history_that_does_not_fit_the_card(tmp_path):
    with pytest.raises(BackfillError, match="bigger --sd-size"):
        backfill(tmp_path / "camera", 24 * 30, end=END, sd_size=64 * 1024**2)
    assert not list((tmp_path / "camera" / "sdcard").glob("2*"))


def test_the_backfill_subcommand_prints_progress_and_a_summary(tmp_path):
    data = tmp_path / "camera"
    done = subprocess.run(
        [sys.executable, "-m", "device", "backfill", "--data-dir", str(data), "--hours", "0.05"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    lines = done.stdout.splitlines()
    assert lines[0].startswith("backfill: ")
    assert "continuous" in done.stdout
    assert lines[-1].startswith("backfill: done: ")
    assert "x real time" in lines[-1]
    bad = subprocess.run(
        [sys.executable, "-m", "device", "backfill", "--data-dir", str(data), "--hours", "9999", "--sd-size", "64M"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2
    assert "bigger --sd-size" in bad.stderr
