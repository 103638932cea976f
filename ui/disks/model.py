"""DiskTableModel: one row per disk of the selected camera, from the StorageOverview the controller emits."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt

from app.storage.overview import DiskView, StorageOverview, describe_status
from ui.widgets.table_model import Index, RowsModel
from ui.widgets.units import human_size

COLUMNS = (
    "Disk",
    "Status",
    "File system",
    "Used",
    "Cleanup",
    "Locked",
    "Encryption",
    "Required FS",
    "Health",
    "Storage limit",
)
USAGE_COLUMN = COLUMNS.index("Used")
USAGE_ROLE = Qt.ItemDataRole.UserRole + 1  # (used kB, total kB) for the bar


def _cleanup(view: DiskView) -> str:
    disk = view.disk
    policy = "oldest first" if disk.cleanup_policy == "fifo" else "keep all"
    age = f" · {disk.cleanup_max_age} days" if disk.cleanup_max_age else ""
    return f"{policy}{age}"


def _encryption(view: DiskView) -> str:
    disk = view.disk
    if view.capabilities is not None and not view.capabilities.encryption_supported:
        return "not supported"
    if disk.encrypted:
        return "encrypted"
    return "on, not yet formatted" if disk.encryption_enabled else "off"


def _health(view: DiskView) -> str:
    health = view.health
    if health is None or health.unsupported:
        return "not reported"
    parts = [f"wear {health.describe_wear()}"]
    if health.temperature_celsius is not None:
        parts.append(f"{health.temperature_celsius:.0f} °C")
    if health.overall_ok is not None:
        parts.append("healthy" if health.overall_ok else "FAILING")
    return ", ".join(parts)


def _limit(view: DiskView) -> str:
    if view.limit is None:
        return "—"
    if not view.limit.enabled:
        return "none"
    return f"{human_size(view.limit.used_kb)} of {human_size(view.limit.size_kb)}"


def _usage_text(view: DiskView) -> str:
    disk = view.disk
    if not disk.total_kb:
        return "—"
    return f"{human_size(disk.used_kb)} of {human_size(disk.total_kb)}"


class DiskTableModel(RowsModel):
    columns = COLUMNS

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.rows: list[DiskView] = []

    def set_overview(self, overview: StorageOverview | None) -> None:
        new = list(overview.disks) if overview else []
        if [v.disk_id for v in new] == [v.disk_id for v in self.rows]:
            self.rows = new  # same rows: repaint in place, so the selection stays
            if new:
                self.dataChanged.emit(self.index(0, 0), self.index(len(new) - 1, len(COLUMNS) - 1))
            return
        self.beginResetModel()
        self.rows = new
        self.endResetModel()

    @property
    def views(self) -> list[DiskView]:
        return self.rows

    def view(self, row: int) -> DiskView | None:
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        view = self.view(index.row()) if index.isValid() else None
        if view is None:
            return None
        column = COLUMNS[index.column()]
        if role == USAGE_ROLE and index.column() == USAGE_COLUMN:
            return (view.disk.used_kb, view.disk.total_kb)
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == USAGE_COLUMN and view.disk.total_kb:
            return f"{human_size(view.disk.free_kb)} free"
        if role == Qt.ItemDataRole.ToolTipRole:
            return view.problem or None
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        texts = {
            "Disk": view.label,
            "Status": describe_status(view.disk),
            "File system": view.disk.filesystem or "—",
            "Used": _usage_text(view),
            "Cleanup": _cleanup(view),
            "Locked": "locked" if view.disk.locked else "no",
            "Encryption": _encryption(view),
            "Required FS": view.disk.required_filesystem if view.disk.required_filesystem != "none" else "any",
            "Health": _health(view),
            "Storage limit": _limit(view),
        }
        return texts[column]
