"""An export the operator queued: which recordings of which disk, in which format, to where, and how far it is.

The job is plain data that the queue (app.exports.queue) updates as it runs; the window shows it as it is. The
password of an encrypted export lives only here, in memory, and never in a repr or a log line.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from enum import Enum, StrEnum
from pathlib import Path

from app.exports.history import track_key
from app.exports.plan import Piece
from app.vapix.export import MATROSKA, MAX_PASSWORD_BYTES

_numbers = itertools.count(1)


class ExportFormat(StrEnum):
    MATROSKA = "matroska"
    ZIP_AES256 = "zip-aes256"
    """Matroska inside an AES-256 encrypted ZIP."""

    @property
    def label(self) -> str:
        return "Matroska" if self is ExportFormat.MATROSKA else "AES-256 ZIP"

    @property
    def extension(self) -> str:
        return ".mkv" if self is ExportFormat.MATROSKA else ".zip"


class JobState(Enum):
    QUEUED = "Queued"
    RUNNING = "Exporting"
    DONE = "Done"
    FAILED = "Failed"
    CANCELLED = "Cancelled"

    @property
    def finished(self) -> bool:
        return self in (JobState.DONE, JobState.FAILED, JobState.CANCELLED)


@dataclass(frozen=True)
class LocalDestination:
    """Files on this computer: ``<base>.mkv``, then ``<base>-2.mkv``… for the later pieces."""

    folder: Path
    base_name: str


@dataclass(frozen=True)
class UsbDestination:
    """The camera's USB disk; `path` (optional) is the file's path there (``clips/door.mkv``) or a folder
    (``clips/``); without it the camera names the file."""

    path: str = ""


Destination = LocalDestination | UsbDestination


class InvalidExport(ValueError):
    """The job cannot be made as asked (a sentence for the operator)."""


def password_problem(password: str) -> str:
    """Why the camera would refuse this password, or ""."""
    if not password:
        return "An encrypted export needs a password."
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        return f"The password is too long (at most {MAX_PASSWORD_BYTES} bytes)."
    return ""


def safe_file_name(name: str) -> str:
    """A name every desktop file system accepts: no folders, no reserved characters, no trailing dots."""
    return re.sub(r'[\\/:*?"<>|\x00-\x1f]', "_", name.strip()).strip(" .")


@dataclass(eq=False)
class ExportJob:
    camera_id: str
    disk_id: str
    camera_name: str
    pieces: tuple[Piece, ...]
    destination: Destination
    format: ExportFormat = ExportFormat.MATROSKA
    password: str | None = field(default=None, repr=False)
    zone: tzinfo = UTC
    """The camera's time zone, to show the range as the operator chose it."""
    number: int = field(default_factory=lambda: next(_numbers))
    state: JobState = JobState.QUEUED
    percent: int = 0
    message: str = ""
    files: list[str] = field(default_factory=list)
    """What was written: local paths, or paths on the USB disk."""

    def __post_init__(self) -> None:
        if not self.pieces:
            raise InvalidExport("No recording covers the selected range.")
        if self.format is ExportFormat.ZIP_AES256:
            problem = password_problem(self.password or "")
            if problem:
                raise InvalidExport(problem)
        elif self.password:
            raise InvalidExport("A password needs the AES-256 ZIP format.")
        if isinstance(self.destination, LocalDestination) and not safe_file_name(self.destination.base_name):
            raise InvalidExport("Enter a file name.")

    @property
    def track_key(self) -> str:
        return track_key(self.camera_id, self.disk_id)

    @property
    def extent(self) -> tuple[float, float]:
        """From the first piece's start to the last one's stop, in epoch seconds."""
        return self.pieces[0].start.timestamp(), self.pieces[-1].stop.timestamp()

    @property
    def export_format(self) -> str:
        """The wire's export format: always Matroska; ZIP is its encryption."""
        return MATROSKA

    @property
    def usb(self) -> bool:
        return isinstance(self.destination, UsbDestination)

    def piece_name(self, index: int) -> str:
        """The file name of piece `index` (0-based) before any clash is resolved: ``<base>-2.mkv`` from the second."""
        base = self.base_name
        return f"{base}{'' if index == 0 else f'-{index + 1}'}{self.format.extension}"

    @property
    def base_name(self) -> str:
        if isinstance(self.destination, LocalDestination):
            return safe_file_name(self.destination.base_name)
        stem = self.destination.path.strip().strip("/")
        suffix = Path(stem).suffix.lower()
        return stem[: -len(suffix)] if suffix in (".mkv", ".zip") else stem

    def usb_path(self, index: int) -> str | None:
        """The file path on the USB disk for piece `index`. None lets the camera name it (start_stop.mkv), and so
        does a folder (a path ending in "/"): the camera's names differ per piece."""
        if not isinstance(self.destination, UsbDestination) or not self.destination.path.strip().strip("/"):
            return None
        if self.destination.path.strip().endswith("/"):
            return self.destination.path.strip()
        return self.piece_name(index)
