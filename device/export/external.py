"""exporttoexternal.cgi's jobs: one export at a time to the USB disk, each a job with progress.

The file is written as ``.<name>.partial`` next to its target and renamed when complete, so the stick never
holds a file that looks finished but is not; a failed or interrupted export removes its partial file, and its
error says whether the stick failed (210) or the recording did (10: a block removed under the export). An
existing file of the same name is replaced, as a person who chose that name expects; an encrypted export's
name ends in ``.zip`` whatever the filepath's extension (:func:`zip_path`). getjobstatus.cgi answers for
running jobs and the last five finished ones (the spec's number).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from device.export.archive import random_zip_name
from device.export.blockio import BlockReadError
from device.export.failures import read_failure
from device.export.formats import FORMATS
from device.export.plan import ExportError, ExportPlan, ExportRequest
from device.export.produce import produce
from device.export.remux import ExportCancelled, NothingToExport, SeekableOutput, Sink
from device.export.usb import InvalidPath, UsbDisk
from device.jobs import Job, JobFailed, JobRegistry, Progress

KEEP_FINISHED = 5
_VIDEO_EXTENSIONS = frozenset(f.extension for f in FORMATS.values())


class DiskFullError(OSError):
    """The export outgrew the USB disk's free space."""


class ExternalExports:
    def __init__(self, usb: UsbDisk) -> None:
        self.usb = usb
        self.jobs = JobRegistry(keep_finished=KEEP_FINISHED)
        self._closing = False

    def start(self, plan: ExportPlan, request: ExportRequest, filepath: str | None) -> tuple[Job, str]:
        """Start exporting `plan` to the USB disk; (the job, the file path as reported). Raises ExportError."""
        if self.jobs.running():
            raise ExportError(220, "Maximum number of jobs reached: an export to the USB disk is already running.")
        if not self.usb.attached:
            raise ExportError(200, "Invalid external disk: no USB disk is attached.")
        if self.usb.readonly:
            raise ExportError(210, "Unusable external disk: the USB disk is write-protected.")
        default = random_zip_name() if request.password else plan.default_name()
        if request.password and filepath:
            filepath = zip_path(filepath)
        try:
            reported, target = self.usb.target(filepath, default)
        except InvalidPath as exc:
            raise ExportError(230, f"Invalid file path: {exc}") from None
        try:
            free = self.usb.free()
        except OSError as exc:  # the disk's folder gone or unreadable on the host: as good as a dead stick
            raise ExportError(210, f"Unusable external disk: it cannot be read ({exc.strerror or exc}).") from None
        needed = plan.estimated_bytes(request.encryption)
        if needed > free:
            raise ExportError(
                210, f"Unusable external disk: the export needs about {_mb(needed)}, the USB disk has {_mb(free)} free."
            )
        if request.filename:
            entry = f"{request.filename}.{plan.format.extension}"
        elif request.password and target.name != default:  # a name the filepath gave: v.zip holds v.mkv
            entry = f"{target.stem}.{plan.format.extension}"
        else:
            entry = plan.default_name()

        async def work(progress: Progress) -> str:
            await asyncio.to_thread(self._write, plan, target, entry, request.password, progress, free)
            return f"Exported to {reported}"

        return self.jobs.start("export", plan.recording.id, work), reported

    def _write(
        self, plan: ExportPlan, target: Path, entry: str, password: str | None, progress: Progress, room: int
    ) -> None:
        partial = target.with_name(f".{target.name}.partial")
        written = 0
        began = time.monotonic()

        def cancelled() -> bool:
            return self._closing or not self.usb.attached

        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with partial.open("w+b") as f:

                def sink(data: bytes) -> None:
                    nonlocal written
                    written += len(data)
                    if written > room:
                        raise DiskFullError("the USB disk is full")
                    f.write(data)
                    self._pace(written, began, cancelled)

                # A plain export gets the file itself, seekable, so the muxer adds Cues and the real Duration:
                # a file on a stick is played from the stick, and seeking in it should be instant.
                output: Sink | SeekableOutput = sink if password else _Accounted(f, sink)
                produce(plan, output, entry, password, progress, cancelled)
                f.flush()
                os.fsync(f.fileno())
                if cancelled():  # pulled while the last bytes were written: the file is not whole on the stick
                    raise ExportCancelled("the USB disk went away while it was being written")
            os.replace(partial, target)
        except ExportCancelled:
            _remove(partial)
            if self._closing:
                raise JobFailed("The camera stopped before the export finished.", 10) from None
            raise JobFailed("The USB disk was detached during the export.", 210) from None
        except DiskFullError:
            _remove(partial)
            raise JobFailed("The USB disk became full during the export.", 210) from None
        except BlockReadError as exc:  # the recording's side failed, not the stick: not 210
            _remove(partial)
            raise JobFailed(read_failure(exc), 10) from None
        except OSError as exc:
            _remove(partial)
            raise JobFailed(f"Writing to the USB disk failed: {exc.strerror or exc}.", 210) from None
        except NothingToExport as exc:
            _remove(partial)
            raise JobFailed(f"Error while processing the request: {exc}.", 10) from None
        except BaseException:
            _remove(partial)
            raise

    def _pace(self, written: int, began: float, cancelled: Callable[[], bool]) -> None:
        """Take as long as the stick's write rate says (a detach still ends the export at once)."""
        rate = self.usb.write_rate
        if rate <= 0:
            return
        due = began + written / rate
        while (wait := due - time.monotonic()) > 0:
            if cancelled():
                raise ExportCancelled("the USB disk went away while it was being written")
            time.sleep(min(wait, 0.05))

    async def stop(self) -> None:
        """Stop a running export; its worker notices within a frame and removes its partial file."""
        self._closing = True
        await self.jobs.stop()


def zip_path(filepath: str) -> str:
    """The file path of an encrypted export: the file is a ZIP, so its name ends in ``.zip``, as exportrecording.cgi
    adds the extension to ``filename``. An export format's extension is replaced (``v.mkv`` is ``v.zip``: a ZIP
    under a video's name would not open in a player, and not as an archive either without renaming); any other
    name gets ``.zip`` added. A folder (a path ending in a separator) is left as it is: the file in it gets the
    random ``XXXXXX.zip``."""
    text = filepath.strip()
    folder, name = _split_name(text)
    if not name:
        return text
    base, dot, extension = name.rpartition(".")
    if dot and base and extension.lower() == "zip":
        return text
    if dot and base and extension.lower() in _VIDEO_EXTENSIONS:
        name = base
    return f"{folder}{name}.zip"


def _split_name(path: str) -> tuple[str, str]:
    """(the folders, with their last separator; the file name) of a path with "/" or "\\" separators."""
    cut = max(path.rfind("/"), path.rfind("\\")) + 1
    return path[:cut], path[cut:]


class _Accounted:
    """A seekable view of the partial file whose writes go through the accounting sink (room, pace, detach)."""

    def __init__(self, file: BinaryIO, sink: Callable[[bytes], None]) -> None:
        self._file, self._sink = file, sink

    def write(self, data: bytes) -> int:
        self._sink(data)
        return len(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"
