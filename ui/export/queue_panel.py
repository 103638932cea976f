"""ExportQueuePanel: the operator's exports, each with its progress as a bar, and Cancel and Clear finished.

It only shows what the controller's jobs say (app.exports.jobs); running, cancelling and cleaning up happen in
the queue. Jobs stay listed after they end, so the result (or the reason for a failure) can be read, until the
operator clears them.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QItemSelection, QModelIndex, QObject, QPersistentModelIndex, QSize, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.exports.jobs import ExportJob, LocalDestination
from resources import icon
from ui.controllers.exports import ExportController
from ui.widgets.table_model import Index, RowsModel

COLUMNS = ("Camera", "Range", "Format", "Destination", "Progress", "State")
PROGRESS_COLUMN = COLUMNS.index("Progress")
PROGRESS_ROLE = Qt.ItemDataRole.UserRole + 1
BAR_WIDTH = 160


def describe_range(job: ExportJob) -> str:
    t0, t1 = job.extent
    start, stop = (datetime.fromtimestamp(t, job.zone) for t in (t0, t1))
    end = f"{stop:%H:%M:%S}" if stop.date() == start.date() else f"{stop:%Y-%m-%d %H:%M:%S}"
    return f"{start:%Y-%m-%d %H:%M:%S} – {end}"


def describe_destination(job: ExportJob) -> str:
    if isinstance(job.destination, LocalDestination):
        return str(job.destination.folder / job.piece_name(0))
    return f"USB disk: {job.destination.path}" if job.destination.path.strip() else "USB disk"


class JobsModel(RowsModel):
    columns = COLUMNS

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.rows: list[ExportJob] = []

    def job(self, row: int) -> ExportJob | None:
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def row_of(self, job: ExportJob) -> int:
        return next((row for row, j in enumerate(self.rows) if j.number == job.number), -1)

    def show(self, job: ExportJob) -> None:
        row = self.row_of(job)
        if row < 0:
            self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows))
            self.rows.append(job)
            self.endInsertRows()
            return
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    def set_jobs(self, jobs: list[ExportJob]) -> None:
        self.beginResetModel()
        self.rows = list(jobs)
        self.endResetModel()

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        job = self.job(index.row()) if index.isValid() else None
        if job is None:
            return None
        column = COLUMNS[index.column()]
        if role == PROGRESS_ROLE and column == "Progress":
            return job.percent
        if role == Qt.ItemDataRole.ToolTipRole:
            return job.message or None
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        texts = {
            "Camera": job.camera_name,
            "Range": describe_range(job),
            "Format": job.format.label,
            "Destination": describe_destination(job),
            "Progress": f"{job.percent} %",
            "State": f"{job.state.value} — {job.message}" if job.message else job.state.value,
        }
        return texts[column]


class ProgressDelegate(QStyledItemDelegate):
    """The job's percent as the platform's progress bar, so progress reads at a glance in a long queue."""

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        percent = index.data(PROGRESS_ROLE)
        if percent is None:
            super().paint(painter, option, index)
            return
        bar = QStyleOptionProgressBar()
        bar.rect = option.rect.adjusted(2, 3, -2, -3)
        bar.minimum, bar.maximum = 0, 100
        bar.progress = int(percent)
        bar.text = index.data(Qt.ItemDataRole.DisplayRole)
        bar.textVisible = True
        bar.state = option.state
        style = option.widget.style() if option.widget else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter, option.widget)

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        hint = super().sizeHint(option, index)
        return QSize(max(hint.width(), BAR_WIDTH), hint.height() + 6)


class ExportQueuePanel(QWidget):
    def __init__(self, controller: ExportController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.model = JobsModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setItemDelegateForColumn(PROGRESS_COLUMN, ProgressDelegate(self.table))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setColumnWidth(PROGRESS_COLUMN, BAR_WIDTH)
        self.table.setAccessibleName("Exports")
        self.table.selectionModel().selectionChanged.connect(self.on_selection)
        self.empty = QLabel("No exports. Select a range on the timeline and choose Export.")
        self.cancel_button = QPushButton(icon("remove"), "&Cancel export")
        self.cancel_button.setToolTip("Stop the selected export; a file being saved is removed")
        self.cancel_button.clicked.connect(self.on_cancel)
        self.clear_button = QPushButton(icon("cleanup"), "C&lear finished")
        self.clear_button.setToolTip("Take the exports that have ended off the list (their files stay)")
        self.clear_button.clicked.connect(controller.clear_finished)
        buttons = QHBoxLayout()
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.clear_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.empty)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        controller.job_changed.connect(self.on_job_changed)
        controller.jobs_cleared.connect(self.on_cleared)
        self.model.set_jobs(controller.queue.jobs)
        self._update()

    def selected(self) -> ExportJob | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.job(rows[0].row()) if rows else None

    def on_job_changed(self, job: ExportJob) -> None:
        self.model.show(job)
        self._update()

    def on_cleared(self) -> None:
        self.model.set_jobs(self.controller.queue.jobs)
        self._update()

    def on_selection(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        self._update()

    def on_cancel(self) -> None:
        job = self.selected()
        if job is not None:
            self.controller.cancel(job.number)

    def _update(self) -> None:
        jobs = self.model.rows
        self.empty.setVisible(not jobs)
        self.table.setVisible(bool(jobs))
        selected = self.selected()
        self.cancel_button.setEnabled(selected is not None and not selected.state.finished)
        self.cancel_button.setVisible(bool(jobs))
        self.clear_button.setEnabled(any(j.state.finished for j in jobs))
        self.clear_button.setVisible(bool(jobs))
