"""ExportController: the operator's clip exports (app.exports) as Qt signals and slots.

The export dialog asks it for a preview (properties.cgi for every piece, capabilities.cgi) and hands it the job;
the queue panel shows the jobs and cancels them. Exported ranges go into the history before `exported` is
emitted, so a timeline that repaints on the signal reads them back at once.
"""

from __future__ import annotations

from datetime import tzinfo

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from app.cameras.fleet import Fleet
from app.exports.history import ExportHistory
from app.exports.jobs import ExportJob
from app.exports.plan import Piece
from app.exports.preview import preview
from app.exports.queue import ExportQueue
from app.timeline.spans import Span
from app.vapix.errors import ApiError, ConnectionFailed, VapixError
from app.vapix.export import error_text
from ui.controllers.tasks import TaskGroup
from ui.export.dialog import ExportDialog


class ExportController(QObject):
    """Signals:
    job_changed(object): an ExportJob was queued, or its state, progress or message changed.
    jobs_cleared(): finished jobs were taken off the queue.
    exported(str, float, float): a job ended well: its track key (camera/disk) and the range it exported (epoch
        seconds, from the first key frame exported to the last piece's stop), already in the history.
    previewed(int, object): the answer to preview(): its number, and an ExportPreview or a sentence (str) saying
        why the camera would not export the range.
    error_occurred(str): something failed unexpectedly.
    """

    job_changed = Signal(object)
    jobs_cleared = Signal()
    exported = Signal(str, float, float)
    previewed = Signal(int, object)
    error_occurred = Signal(str)

    def __init__(self, fleet: Fleet, history: ExportHistory, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.fleet = fleet
        self.history = history
        self.queue = ExportQueue(fleet.transport, self.job_changed.emit, self._on_done)
        self._tasks = TaskGroup(lambda exc: self.error_occurred.emit(f"Unexpected error: {exc}"))
        self._previews = 0

    def camera_name(self, camera_id: str) -> str:
        entry = self.fleet.entries.get(camera_id)
        return entry.config.name if entry else camera_id

    def open_dialog(
        self,
        camera_id: str,
        disk_id: str,
        title: str,
        spans: list[Span],
        t0: float,
        t1: float,
        zone: tzinfo,
        parent: QWidget,
    ) -> ExportDialog:
        """The export dialog for [t0, t1] of one disk's timeline (`title` names the track), shown non-modally."""
        dialog = ExportDialog(self, camera_id, disk_id, title, spans, (t0, t1), zone, parent)
        dialog.show()
        return dialog

    def preview(self, camera_id: str, disk_id: str, pieces: list[Piece]) -> int:
        """Ask the camera what exporting `pieces` will give; answered by previewed with the returned number."""
        self._previews += 1
        self._tasks.spawn(self._preview(self._previews, camera_id, disk_id, pieces))
        return self._previews

    async def _preview(self, number: int, camera_id: str, disk_id: str, pieces: list[Piece]) -> None:
        transport = self.fleet.transport(camera_id)
        if transport is None:
            self.previewed.emit(number, "The camera is not connected: select it and enter its password.")
            return
        try:
            async with transport:
                answer: object = await preview(transport, disk_id, pieces)
        except ApiError as exc:
            answer = error_text(exc)
        except ConnectionFailed as exc:
            answer = f"The camera could not be reached: {exc}"
        except VapixError as exc:
            answer = f"The camera's answer was not understood: {exc}"
        except Exception as exc:  # a bug: still answer, or the dialog would ask the camera forever
            self.previewed.emit(number, f"Unexpected error: {exc}")
            raise
        self.previewed.emit(number, answer)

    def enqueue(self, job: ExportJob) -> None:
        self.queue.add(job)

    def cancel(self, number: int) -> None:
        self.queue.cancel(number)

    def clear_finished(self) -> None:
        if self.queue.clear_finished():
            self.jobs_cleared.emit()

    def _on_done(self, job: ExportJob) -> None:
        t0, t1 = job.extent
        self.history.add(job.track_key, t0, t1)
        self.exported.emit(job.track_key, t0, t1)

    async def shutdown(self) -> None:
        """Cancel previews and exports: downloads being written are removed."""
        await self._tasks.cancel_all()
        await self.queue.close()
