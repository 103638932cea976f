"""ExportQueue: the operator's exports, one at a time per camera and cameras side by side.

A camera makes one export to its USB disk at a time (error 220 otherwise) and shares one uplink for downloads,
so a second job for the same camera waits for the first; jobs for different cameras run in parallel. Each job
asks properties.cgi for every piece first: the key-frame-snapped start is passed back as the export's start (the
spec says so), and the estimated sizes weigh each piece's share of the progress bar.

A cancelled job leaves nothing on this computer: the download being written is removed (app.vapix.export), and
so are the job's pieces already saved, since half a range is not what the operator asked for. A failed job keeps
the pieces that were saved whole and says so. A job on the camera's USB disk cannot be stopped there (the API
has no cancel), so cancelling it only stops following it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from app.exports.jobs import ExportJob, JobState, LocalDestination
from app.vapix.errors import ApiError, ConnectionFailed, VapixError
from app.vapix.export import ExportJobStatus, ExportRange, Exports, error_text
from app.vapix.transport import VapixTransport

log = logging.getLogger(__name__)
USB_BUSY = 220
TransportFactory = Callable[[str], VapixTransport | None]
JobListener = Callable[[ExportJob], None]


class ExportFailed(Exception):
    """A job cannot go on; the message is for the operator."""


class _Progress:
    """One job's percent across its pieces, each weighted by its estimated size; reports only real changes."""

    def __init__(self, job: ExportJob, estimates: list[int | None], changed: JobListener) -> None:
        known = [float(e) for e in estimates if e]
        self.expected = estimates
        self.weights = known if len(known) == len(estimates) else [1.0] * len(estimates)
        self.total = sum(self.weights)
        self.job = job
        self.changed = changed

    def update(self, index: int, fraction: float) -> None:
        done = sum(self.weights[:index]) + self.weights[index] * min(max(fraction, 0.0), 1.0)
        percent = min(99, int(100 * done / self.total))  # 100 only once the job is done
        if percent > self.job.percent:
            self.job.percent = percent
            self.changed(self.job)

    def received(self, index: int, size: int) -> None:
        expected = self.expected[index]
        if expected:
            self.update(index, size / expected)


class ExportQueue:
    def __init__(
        self,
        transports: TransportFactory,
        on_change: JobListener | None = None,
        on_done: JobListener | None = None,
        poll_interval: float = 0.5,
        usb_busy_wait: float = 600.0,
    ) -> None:
        self.jobs: list[ExportJob] = []
        self.poll_interval = poll_interval
        self.usb_busy_wait = usb_busy_wait
        self._transports = transports
        self._on_change = on_change or (lambda _job: None)
        self._on_done = on_done or (lambda _job: None)
        self._runners: dict[str, asyncio.Task[None]] = {}
        self._running: dict[int, asyncio.Task[None]] = {}
        self._reserved: set[Path] = set()
        self._closed = False

    # --- what the window calls -----------------------------------------------------------------------------------

    def add(self, job: ExportJob) -> ExportJob:
        if self._closed:
            raise RuntimeError("the export queue is closed")
        self.jobs.append(job)
        self._changed(job)
        if job.camera_id not in self._runners:
            self._runners[job.camera_id] = asyncio.ensure_future(self._run_camera(job.camera_id))
        return job

    def job(self, number: int) -> ExportJob | None:
        return next((j for j in self.jobs if j.number == number), None)

    def cancel(self, number: int) -> None:
        """A queued job is dropped at once; a running one stops and cleans up, then reports CANCELLED."""
        job = self.job(number)
        if job is None or job.state.finished:
            return
        task = self._running.get(number)
        if task is None:
            self._finish(job, JobState.CANCELLED, "Cancelled before it started.")
            return
        job.message = "Cancelling…"
        self._changed(job)
        task.cancel()

    def clear_finished(self) -> list[ExportJob]:
        cleared = [j for j in self.jobs if j.state.finished]
        self.jobs = [j for j in self.jobs if not j.state.finished]
        return cleared

    async def join(self) -> None:
        """Until every queued job has ended."""
        while self._runners:
            await asyncio.gather(*self._runners.values(), return_exceptions=True)

    async def close(self) -> None:
        """Cancel everything (the app is closing): running downloads remove their partial files."""
        self._closed = True
        for job in self.jobs:
            if job.state is JobState.QUEUED:
                self._finish(job, JobState.CANCELLED, "Cancelled: Edgestore closed.")
        for task in list(self._running.values()):
            task.cancel()
        await self.join()

    # --- running -------------------------------------------------------------------------------------------------

    def _next(self, camera_id: str) -> ExportJob | None:
        return next((j for j in self.jobs if j.camera_id == camera_id and j.state is JobState.QUEUED), None)

    async def _run_camera(self, camera_id: str) -> None:
        try:
            while (job := self._next(camera_id)) is not None:
                task = asyncio.ensure_future(self._run(job))
                self._running[job.number] = task
                try:
                    await asyncio.wait([task])
                finally:
                    self._running.pop(job.number, None)
                if not job.state.finished:  # cancelled before its first step ran
                    self._finish(job, JobState.CANCELLED, "Cancelled.")
        finally:
            self._runners.pop(camera_id, None)

    async def _run(self, job: ExportJob) -> None:
        job.state = JobState.RUNNING
        job.message = "Asking the camera…"
        self._changed(job)
        try:
            message = await self._export(job)
        except asyncio.CancelledError:
            self._cancelled(job)
            raise
        except ExportFailed as exc:
            self._failed(job, str(exc))
        except ApiError as exc:
            self._failed(job, error_text(exc))
        except ConnectionFailed as exc:
            self._failed(job, f"The camera could not be reached: {exc}")
        except VapixError as exc:
            self._failed(job, f"The camera's answer was not understood: {exc}")
        except OSError as exc:
            self._failed(job, f"The file could not be written: {exc.strerror or exc}")
        except Exception as exc:  # a bug: the job must still end, or its row would say Exporting forever
            log.exception("export %d failed unexpectedly", job.number)
            self._failed(job, f"Unexpected error: {exc}")
        else:
            self._finish(job, JobState.DONE, message)
            self._on_done(job)

    async def _export(self, job: ExportJob) -> str:
        transport = self._transports(job.camera_id)
        if transport is None:
            raise ExportFailed("The camera is not connected: select it and enter its password.")
        async with transport:
            exports = Exports(transport)
            ranges, estimates = await self._prepare(exports, job)
            progress = _Progress(job, estimates, self._changed)
            if isinstance(job.destination, LocalDestination):
                await self._download(exports, job, ranges, progress, job.destination.folder)
                where = job.files[0] if len(job.files) == 1 else f"{len(job.files)} files in {job.destination.folder}"
                return f"Saved {where}."
            await self._to_usb(exports, job, ranges, progress)
            return "Written to the camera's USB disk: " + ", ".join(job.files) + "."

    async def _prepare(self, exports: Exports, job: ExportJob) -> tuple[list[ExportRange], list[int | None]]:
        """Every piece's snapped range and estimated size, from properties.cgi, before anything is written."""
        ranges: list[ExportRange] = []
        estimates: list[int | None] = []
        for piece in job.pieces:
            asked = ExportRange(
                piece.recording_id, job.disk_id, piece.start, piece.stop, job.export_format, job.password
            )
            properties = await exports.properties(asked)
            ranges.append(replace(asked, start=properties.start, stop=properties.stop))
            estimates.append(properties.estimated_bytes)
        return ranges, estimates

    async def _download(
        self, exports: Exports, job: ExportJob, ranges: list[ExportRange], progress: _Progress, folder: Path
    ) -> None:
        if not await asyncio.to_thread(folder.is_dir):
            raise ExportFailed(f"The folder {folder} does not exist.")
        for index, export in enumerate(ranges):
            job.message = f"Downloading {index + 1} of {len(ranges)}…" if len(ranges) > 1 else "Downloading…"
            self._changed(job)
            target = self._reserve(folder, job.piece_name(index))
            try:
                received = lambda size, _expected, i=index: progress.received(i, size)  # noqa: E731
                saved = await exports.download(export, target, received, progress.expected[index])
            except asyncio.CancelledError:
                # Cancelled just as the file was complete: download() had already renamed it into place.
                target.unlink(missing_ok=True)
                raise
            finally:
                self._reserved.discard(target)
            job.files.append(str(saved.path))
            progress.update(index, 1.0)

    def _reserve(self, folder: Path, name: str) -> Path:
        """`name` in `folder`, or ``name (2)``… when a file (or another job's download) already has it."""
        path = folder / name
        number = 1
        while path in self._reserved or path.exists() or path.with_name(f".{path.name}.part").exists():
            number += 1
            path = folder / f"{Path(name).stem} ({number}){Path(name).suffix}"
        self._reserved.add(path)
        return path

    async def _to_usb(self, exports: Exports, job: ExportJob, ranges: list[ExportRange], progress: _Progress) -> None:
        for index, export in enumerate(ranges):
            job_id, path = await self._start_usb(exports, job, export, job.usb_path(index))
            job.files.append(path)
            job.message = f"Writing {path} on the USB disk…"
            self._changed(job)

            def seen(status: ExportJobStatus, i: int = index) -> None:
                if status.progress >= 0:
                    progress.update(i, status.progress / 100)

            await exports.wait_for_usb_export(job_id, seen, interval=self.poll_interval)
            progress.update(index, 1.0)

    async def _start_usb(
        self, exports: Exports, job: ExportJob, export: ExportRange, path: str | None
    ) -> tuple[int, str]:
        """Start the camera's job, waiting while the USB disk is busy with another export (another client's, or a
        job cancelled here that the camera is still finishing)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.usb_busy_wait
        while True:
            try:
                return await exports.export_to_usb(export, path)
            except ApiError as exc:
                if exc.code != USB_BUSY or loop.time() > deadline:
                    raise
            job.message = "Waiting: the camera's USB disk is busy with another export."
            self._changed(job)
            await asyncio.sleep(self.poll_interval)

    # --- ending --------------------------------------------------------------------------------------------------

    def _cancelled(self, job: ExportJob) -> None:
        if job.usb:
            note = " The camera may still finish the file it was writing to its USB disk." if job.files else ""
            self._finish(job, JobState.CANCELLED, "Cancelled." + note)
            return
        for name in job.files:
            with contextlib.suppress(OSError):
                Path(name).unlink()
        job.files.clear()
        self._finish(job, JobState.CANCELLED, "Cancelled; nothing was saved.")

    def _failed(self, job: ExportJob, reason: str) -> None:
        log.warning("export %d of %s failed: %s", job.number, job.camera_name, reason)
        if job.files and not job.usb:
            reason += f" {len(job.files)} of {len(job.pieces)} files were saved."
        self._finish(job, JobState.FAILED, reason)

    def _finish(self, job: ExportJob, state: JobState, message: str) -> None:
        job.state = state
        job.message = message
        if state is JobState.DONE:
            job.percent = 100
        self._changed(job)

    def _changed(self, job: ExportJob) -> None:
        self._on_change(job)
