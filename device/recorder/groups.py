"""Recording groups (EVENTS.md §4.1): named recording settings on one disk that several action rules record into.

A group holds what its recordings are made with (stream options, pre and post time in ms) and how long they are
kept (retention in hours, 0 = as long as the disk's own rules allow). The disk is fixed at creation, as the API
says. Groups are kept in `recording_groups.json` in the camera's data dir together with the IDs of the recordings
made through each, so that retention and delete.cgi know which recordings are the group's; the recordings
themselves stay ordinary recordings ("will still appear as normal recording in the system").

A group "resides on a storage": while its disk is gone (no card in the slot, no share bound) it is hidden from
list.cgi and cannot be updated, deleted or recorded to, and it is back when the disk is.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from device.errors import CodedError
from device.persist import read_json, write_json_atomic

MAX_GROUPS = 32
"""Decided (the API names the limit, error 120, but not its size): more than any edge installation uses."""
_ID = re.compile(r"^[A-Za-z0-9_-]{1,50}$")

PROCESSING_FAILED = 10
INVALID_REQUEST = 20
NOT_FOUND = 110
TOO_MANY = 120
INVALID_STREAM_OPTIONS = 130
IN_USE = 140


class GroupRefused(CodedError):
    """A request the Recording group API refuses, with its documented code."""


@dataclass(frozen=True)
class RecordingGroup:
    id: str
    disk_id: str
    nice_name: str = ""
    description: str = ""
    retention_hours: int = 0
    stream_options: str = ""
    pre_ms: int = 0
    post_ms: int = 0


@dataclass(frozen=True)
class GroupChange:
    """update.cgi's arguments: None leaves a setting as it is."""

    nice_name: str | None = None
    description: str | None = None
    retention_hours: int | None = None
    stream_options: str | None = None
    pre_ms: int | None = None
    post_ms: int | None = None


@dataclass
class _Saved:
    groups: list[dict[str, Any]] = field(default_factory=list)
    recordings: dict[str, list[str]] = field(default_factory=dict)


class GroupStore:
    """The groups and their recordings. `present(disk_id)` says whether a disk is there now; a group on a disk
    that is not is hidden."""

    def __init__(self, path: Path, present: Callable[[str], bool], now: Callable[[], datetime]) -> None:
        self._path, self._present, self._now = path, present, now
        saved = read_json(path, {})
        self._groups = {g.id: g for g in map(_group, saved.get("groups", []))}
        self._recordings: dict[str, list[str]] = {
            str(k): [str(i) for i in v] for k, v in dict(saved.get("recordings", {})).items()
        }

    def visible(self) -> list[RecordingGroup]:
        return [g for g in self._groups.values() if self._present(g.disk_id)]

    def get(self, group_id: str) -> RecordingGroup:
        """The group, if it exists and its disk is there; else 110."""
        group = self._groups.get(group_id)
        if group is None or not self._present(group.disk_id):
            raise GroupRefused(NOT_FOUND, f"Recording group not found: '{group_id}'.")
        return group

    def stored(self, group_id: str) -> RecordingGroup | None:
        """The group whether its disk is there or not (the recorder waits for a hidden group's disk)."""
        return self._groups.get(group_id)

    def create(self, group: RecordingGroup) -> RecordingGroup:
        if not group.id:
            group = replace(group, id=self._new_id(group.disk_id))
        elif not _ID.match(group.id):
            raise GroupRefused(
                INVALID_REQUEST, "Invalid request. recordinggroupid takes 1 to 50 of the characters a-z A-Z 0-9 _ -."
            )
        if group.id in self._groups:  # hidden or not: an ID names one group
            raise GroupRefused(INVALID_REQUEST, f"Invalid request. A recording group '{group.id}' already exists.")
        if len(self._groups) >= MAX_GROUPS:
            raise GroupRefused(TOO_MANY, f"Max number of recording groups reached ({MAX_GROUPS}).")
        self._groups[group.id] = group
        self._save()
        return group

    def update(self, group_id: str, change: GroupChange) -> tuple[RecordingGroup, RecordingGroup]:
        """Returns (before, after)."""
        before = self.get(group_id)
        given = {k: v for k, v in asdict(change).items() if v is not None}
        after = replace(before, **given)
        self._groups[group_id] = after
        self._save()
        return before, after

    def delete(self, group_id: str) -> None:
        self.get(group_id)
        del self._groups[group_id]
        self._recordings.pop(group_id, None)
        self._save()

    def recordings(self, group_id: str) -> list[str]:
        return list(self._recordings.get(group_id, []))

    def add_recording(self, group_id: str, recording_id: str) -> None:
        if group_id in self._groups:
            self._recordings.setdefault(group_id, []).append(recording_id)
            self._save()

    def forget_recordings(self, group_id: str, gone: Iterable[str]) -> None:
        """Recordings the disk no longer has (cleaned up, removed): the list only names what exists."""
        gone = set(gone)
        kept = [r for r in self._recordings.get(group_id, []) if r not in gone]
        if group_id in self._recordings and len(kept) != len(self._recordings[group_id]):
            self._recordings[group_id] = kept
            self._save()

    def group_of(self, recording_id: str) -> RecordingGroup | None:
        for group_id, ids in self._recordings.items():
            if recording_id in ids:
                return self._groups.get(group_id)
        return None

    def _new_id(self, disk_id: str) -> str:
        """The shape real cameras give generated IDs (EVENTS.md §4.2): disk, date, time and a random hex tail."""
        while True:
            candidate = f"{disk_id}_{self._now():%Y%m%d_%H%M%S}_{secrets.token_hex(4).upper()}"
            if candidate not in self._groups:
                return candidate

    def _save(self) -> None:
        saved = _Saved([asdict(g) for g in self._groups.values()], self._recordings)
        write_json_atomic(self._path, asdict(saved))


def _group(data: dict[str, Any]) -> RecordingGroup:
    return RecordingGroup(
        str(data["id"]),
        str(data["disk_id"]),
        str(data.get("nice_name", "")),
        str(data.get("description", "")),
        int(data.get("retention_hours", 0)),
        str(data.get("stream_options", "")),
        int(data.get("pre_ms", 0)),
        int(data.get("post_ms", 0)),
    )
