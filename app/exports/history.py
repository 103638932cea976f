"""Which ranges of which disks have been exported, kept across restarts so the timeline can keep marking them.

Ranges are stored per track (``"<camera_id>/<disk_id>"``) as epoch seconds, merged where they overlap or touch so
the file stays small however often the same stretch is exported. The file is replaced atomically: a crash while
saving leaves the previous history, never half a file. A file that cannot be read is set aside, not fatal: the
marks are a convenience, and the exports themselves are safe on disk.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
VERSION = 1

Range = tuple[float, float]


def track_key(camera_id: str, disk_id: str) -> str:
    return f"{camera_id}/{disk_id}"


def merge(ranges: list[Range]) -> list[Range]:
    """Sorted, with overlapping and touching ranges joined."""
    merged: list[Range] = []
    for start, stop in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], stop))
        else:
            merged.append((start, stop))
    return merged


class ExportHistory:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._ranges: dict[str, list[Range]] = self._load()

    def ranges(self, track_key: str) -> list[Range]:
        return list(self._ranges.get(track_key, []))

    def add(self, track_key: str, t0: float, t1: float) -> None:
        if t1 <= t0:
            return
        self._ranges[track_key] = merge([*self._ranges.get(track_key, []), (t0, t1)])
        self._save()

    def _load(self) -> dict[str, list[Range]]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            return {str(key): merge([_range(r) for r in value]) for key, value in raw["tracks"].items()}
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("export history %s cannot be read (%s); starting a new one", self.path, exc)
            return {}

    def _save(self) -> None:
        raw = {"version": VERSION, "tracks": {key: [list(r) for r in value] for key, value in self._ranges.items()}}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".exports.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(raw, f, indent=1)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _range(value: Any) -> Range:
    start, stop = value
    return float(start), float(stop)
