"""Continuous recording profiles: which disk, which stream options, which event ID, kept across restarts.

Profile numbers only grow and are never reused (real cameras hand out 20, 21, … and a client holding an
old number must not remove someone else's profile). `options` is kept decoded, as listconfiguration.cgi
shows it (WIRE.md §5.3).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import parse_qsl

from device.persist import read_json, write_json_atomic

FIRST_PROFILE = 20


@dataclass(frozen=True)
class Profile:
    number: int
    disk_id: str
    options: str  # decoded stream options, e.g. "resolution=640x360&fps=15"
    event_id: str

    def option_map(self) -> dict[str, str]:
        return dict(parse_qsl(self.options, keep_blank_values=True))


class ProfileLimitReached(Exception):
    """NbrOfContinuousRecordingProfiles profiles exist already."""


class ProfileStore:
    def __init__(self, path: Path, maximum: int) -> None:
        self._path = path
        self.maximum = maximum
        saved = read_json(path, {})
        self._next = int(saved.get("next", FIRST_PROFILE)) if isinstance(saved.get("next"), int) else FIRST_PROFILE
        self._profiles = {p["number"]: Profile(**p) for p in saved.get("profiles", []) if isinstance(p, dict)}

    def all(self) -> list[Profile]:
        return sorted(self._profiles.values(), key=lambda p: p.number)

    def get(self, number: int) -> Profile | None:
        return self._profiles.get(number)

    def add(self, disk_id: str, options: str, event_id: str) -> Profile:
        if len(self._profiles) >= self.maximum:
            raise ProfileLimitReached(f"The camera supports {self.maximum} continuous recording profile(s).")
        profile = Profile(self._next, disk_id, options, event_id or "continuous")
        self._profiles[profile.number] = profile
        self._next += 1
        self._save()
        return profile

    def remove(self, number: int) -> Profile | None:
        profile = self._profiles.pop(number, None)
        if profile is not None:
            self._save()
        return profile

    def _save(self) -> None:
        write_json_atomic(self._path, {"next": self._next, "profiles": [asdict(p) for p in self.all()]})
