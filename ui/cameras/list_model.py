"""CameraListModel: the camera list as a Qt table model (name, address, model, status, storage summary)."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QBrush, QColor

from app.cameras.fleet import CameraEntry, CameraState
from resources import icon
from ui.controllers.cameras import CamerasController
from ui.widgets.table_model import Index, RowsModel

COLUMNS = ("Name", "Address", "Model", "Status", "Storage")
STORAGE_COLUMN = 4
ID_ROLE = Qt.ItemDataRole.UserRole + 1
_STATE_COLOURS = {
    CameraState.ONLINE: "#1b7f3b",
    CameraState.CONNECTING: "#6b6b6b",
    CameraState.OFFLINE: "#b3261e",
    CameraState.AUTH_FAILED: "#b3261e",
    CameraState.NEEDS_PASSWORD: "#a15c00",
    CameraState.FAILED: "#b3261e",
}


class CameraListModel(RowsModel):
    columns = COLUMNS

    def __init__(self, controller: CamerasController, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._controller = controller
        self.rows: list[CameraEntry] = controller.entries()
        controller.cameras_changed.connect(self.on_cameras_changed)
        controller.camera_changed.connect(self.on_camera_changed)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        entry = self.rows[index.row()]
        if role == ID_ROLE:
            return entry.config.id
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(entry, index.column())
        storage = entry.storage
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == STORAGE_COLUMN and storage:
            return "\n".join(storage.problems) or "All disks are fine."
        if role == Qt.ItemDataRole.ToolTipRole and entry.message:
            return entry.message
        if role == Qt.ItemDataRole.ForegroundRole and index.column() == 3:
            return QBrush(QColor(_STATE_COLOURS[entry.state]))
        if role == Qt.ItemDataRole.ForegroundRole and index.column() == STORAGE_COLUMN and storage:
            return QBrush(QColor("#b3261e")) if storage.problems else None
        if role == Qt.ItemDataRole.DecorationRole and index.column() == 0:
            return icon("camera-virtual" if entry.config.embedded else "camera")
        return None

    def camera_id(self, row: int) -> str | None:
        return self.rows[row].config.id if 0 <= row < len(self.rows) else None

    def row_of(self, camera_id: str) -> int:
        return next((i for i, e in enumerate(self.rows) if e.config.id == camera_id), -1)

    def on_cameras_changed(self) -> None:
        self.beginResetModel()
        self.rows = self._controller.entries()
        self.endResetModel()

    def on_camera_changed(self, camera_id: str) -> None:
        row = self.row_of(camera_id)
        entry = self._controller.entry(camera_id)
        if row < 0 or entry is None:
            return
        self.rows[row] = entry
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    @staticmethod
    def _text(entry: CameraEntry, column: int) -> str:
        config = entry.config
        if column == 0:
            return config.name
        if column == 1:
            return f"{config.host}:{config.port}" if config.port else "—"
        if column == 2:
            return entry.summary.info.model if entry.summary else ""
        if column == STORAGE_COLUMN:
            return entry.storage.describe() if entry.storage and entry.state is CameraState.ONLINE else ""
        return entry.state.value
