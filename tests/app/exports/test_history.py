"""Exported ranges stay marked after a restart: a JSON file per user, replaced atomically, merged per track."""

from __future__ import annotations

import json
from pathlib import Path

from app.exports.history import ExportHistory, track_key


def test_ranges_survive_a_restart_and_merge_per_track(tmp_path: Path):
    path = tmp_path / "state" / "exports.json"
    history = ExportHistory(path)
    door, yard = track_key("cam1", "SD_DISK"), track_key("cam1", "NetworkShare")
    history.add(door, 100.0, 200.0)
    history.add(door, 150.0, 260.5)
    history.add(door, 500.0, 600.0)
    history.add(yard, 10.0, 20.0)
    history.add(yard, 30.0, 30.0)  # empty: nothing to mark

    again = ExportHistory(path)
    assert again.ranges(door) == [(100.0, 260.5), (500.0, 600.0)]
    assert again.ranges(yard) == [(10.0, 20.0)]
    assert again.ranges("cam2/SD_DISK") == []
    assert [p.name for p in path.parent.iterdir()] == ["exports.json"]  # no temporary file left


def test_a_damaged_file_starts_a_new_history_instead_of_failing(tmp_path: Path):
    path = tmp_path / "exports.json"
    path.write_text('{"version": 1, "tracks": {"cam1/SD_DISK": [[1, 2], "oops"]}')
    history = ExportHistory(path)
    assert history.ranges("cam1/SD_DISK") == []
    history.add("cam1/SD_DISK", 5.0, 6.0)
    assert json.loads(path.read_text())["tracks"] == {"cam1/SD_DISK": [[5.0, 6.0]]}
