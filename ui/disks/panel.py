"""DisksPanel: the selected camera's disks with their state, and every disk action behind a toolbar.

Disabled actions carry the reason in their tooltip (and `reasons`), from app.storage.availability. Problems
(a failed card, a lost share, wear over the alert level) show in a banner above the table as soon as the
controller reads them: within a second of the camera's storage event where it streams them, else at the next
poll. A line above says whether the camera records and which of the two applies ("Live events" or "Checked
every 5 s").
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QItemSelection, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHeaderView,
    QLabel,
    QTableView,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from app.storage.availability import disk_action_reasons
from app.storage.disk_actions import LossEstimate
from app.storage.overview import DiskView, StorageOverview
from app.vapix.usergroup import Role
from ui.controllers.storage import StorageController
from ui.disks.dialogs import (
    AlertLevelsDialog,
    CleanupDialog,
    EncryptionDialog,
    FormatDialog,
    LimitDialog,
    RequiredFsDialog,
)
from ui.disks.model import USAGE_COLUMN, DiskTableModel
from ui.disks.usage_delegate import UsageDelegate
from ui.widgets.actions import ActionSpec, apply_reasons, make_actions, retint
from ui.widgets.job_bar import JobBar
from ui.widgets.storage_feed import FeedBar

USAGE_WIDTH = 200
_ACTIONS = (
    ActionSpec("format", "&Format…", "format", "Ctrl+Shift+F", "Erase the disk and create a file system on it"),
    ActionSpec("mount", "&Mount", "mount", "Ctrl+M", "Make the disk available for recording"),
    ActionSpec("unmount", "&Unmount", "eject", "Ctrl+E", "Stop recording to the disk so it can be removed safely"),
    ActionSpec("lock", "&Lock", "lock", "", "Protect the disk's recordings: no formatting, no writing"),
    ActionSpec("unlock", "Un&lock", "unlock", "", "Allow formatting and recording again"),
    ActionSpec("check", "&Check", "check", "", "Check the file system (the disk is unmounted meanwhile)"),
    ActionSpec("repair", "&Repair", "repair", "", "Repair the file system (the disk is unmounted meanwhile)"),
    ActionSpec("required_fs", "Required file s&ystem…", "settings", "", "Format new cards automatically"),
    ActionSpec("encryption", "&Encryption…", "encryption", "", "Encrypt the recordings on the disk"),
    ActionSpec("cleanup", "Clea&nup…", "cleanup", "", "When the camera deletes old recordings"),
    ActionSpec("alerts", "&Alert levels…", "alert", "", "Wear and temperature that raise a storage alert"),
    ActionSpec("limit", "Storage l&imit…", "limit", "", "How much of the disk recordings may use"),
)


class DisksPanel(QWidget):
    def __init__(self, controller: StorageController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.role = Role.ADMIN
        self.model = DiskTableModel(self)
        self.dialog: QDialog | None = None
        self.reasons: dict[str, str] = {}
        self._dialog_disk = ""
        self.actions_by_name: dict[str, QAction] = {}
        self._build()
        controller.overview_changed.connect(self.on_overview)
        controller.busy_changed.connect(lambda _busy: self._update_actions())
        controller.loss_estimated.connect(self.on_loss_estimated)
        controller.feed_changed.connect(self.feed_bar.show_feed)
        self.feed_bar.show_feed(controller.feed)

    def _build(self) -> None:
        # Two rows: what is done to the disk, then its settings; one row would not fit beside the camera list.
        self.toolbar = QToolBar("Disk actions", self)
        self.settings_toolbar = QToolBar("Disk settings", self)
        for bar in (self.toolbar, self.settings_toolbar):
            bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.actions_by_name = make_actions(self, _ACTIONS, self.trigger)
        for name, action in self.actions_by_name.items():
            settings = name in ("required_fs", "encryption", "cleanup", "alerts", "limit")
            (self.settings_toolbar if settings else self.toolbar).addAction(action)
        self.feed_bar = FeedBar(with_recording=True)
        self.banner = QLabel()
        self.banner.setObjectName("banner")
        self.banner.setProperty("kind", "error")
        self.banner.setWordWrap(True)
        self.banner.hide()
        self.empty = QLabel("Select a camera that is online to see its disks.")
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setItemDelegateForColumn(USAGE_COLUMN, UsageDelegate(self.table))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.table.selectionModel().selectionChanged.connect(self.on_selection)
        self.table.setAccessibleName("Disks")
        self.job_bar = JobBar(self.controller, self)
        layout = QVBoxLayout(self)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.settings_toolbar)
        layout.addWidget(self.feed_bar)
        layout.addWidget(self.banner)
        layout.addWidget(self.empty)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.job_bar)
        self._update_actions()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            retint(self.actions_by_name)  # light/dark switched: icons follow the text colour
        super().changeEvent(event)

    # --- state ---------------------------------------------------------------------------------------------------

    def selected(self) -> DiskView | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.view(rows[0].row()) if rows else None

    def select_disk(self, disk_id: str) -> None:
        for row, view in enumerate(self.model.views):
            if view.disk_id == disk_id:
                self.table.selectRow(row)

    def on_overview(self, overview: StorageOverview | None) -> None:
        selected = self.selected()
        self.model.set_overview(overview)
        self.empty.setVisible(overview is None)
        if selected is not None:
            self.select_disk(selected.disk_id)
        if self.selected() is None and self.model.rowCount():
            self.table.selectRow(0)
        problems = overview.problems + list(self.controller.live_problems.values()) if overview else []
        self.banner.setText("\n".join(problems))
        self.banner.setVisible(bool(problems))
        entry = self.controller.fleet.entries.get(self.controller.camera_id or "")
        self.role = entry.summary.role if entry and entry.summary else Role.ADMIN
        self.table.resizeColumnsToContents()
        self.table.setColumnWidth(USAGE_COLUMN, USAGE_WIDTH)  # the bar, not its text, sets the width
        self._update_actions()

    def on_selection(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        self._update_actions()

    def _update_actions(self) -> None:
        self.reasons = disk_action_reasons(self.selected(), self.controller.support, self.role)
        apply_reasons(self.actions_by_name, self.reasons, self.controller.busy)

    # --- actions -------------------------------------------------------------------------------------------------

    def trigger(self, name: str) -> None:
        view = self.selected()
        if view is None or self.reasons.get(name):
            return
        disk_id = view.disk_id
        simple = {
            "mount": lambda: self.controller.mount(disk_id),
            "unmount": lambda: self.controller.unmount(disk_id),
            "lock": lambda: self.controller.set_locked(disk_id, True),
            "unlock": lambda: self.controller.set_locked(disk_id, False),
            "check": lambda: self.controller.check(disk_id),
            "repair": lambda: self.controller.repair(disk_id),
        }
        if name in simple:
            simple[name]()
            return
        dialog = {
            "format": FormatDialog,
            "encryption": EncryptionDialog,
            "cleanup": CleanupDialog,
            "alerts": AlertLevelsDialog,
            "limit": LimitDialog,
            "required_fs": RequiredFsDialog,
        }[name](view, self)
        self._dialog_disk = disk_id
        dialog.accepted.connect(self._dialog_accepted)
        dialog.finished.connect(self._dialog_finished)
        if isinstance(dialog, FormatDialog):
            self.controller.estimate_loss(disk_id)
        self.dialog = dialog
        dialog.open()

    def _dialog_accepted(self) -> None:
        if self.dialog is not None:
            self._accepted(self.dialog, self._dialog_disk)

    def _dialog_finished(self) -> None:
        """Free the dialog now: a closed dialog left to the garbage collector holds Qt connections to the end."""
        dialog, self.dialog = self.dialog, None
        if dialog is not None:
            dialog.deleteLater()

    def on_loss_estimated(self, disk_id: str, loss: LossEstimate) -> None:
        if isinstance(self.dialog, FormatDialog) and self.dialog.isVisible():
            selected = self.selected()
            if selected is not None and selected.disk_id == disk_id:
                self.dialog.show_loss(loss)

    def _accepted(self, dialog: QDialog, disk_id: str) -> None:
        c = self.controller
        if isinstance(dialog, FormatDialog):
            c.format(disk_id, dialog.chosen)
        elif isinstance(dialog, EncryptionDialog):
            fs = str(dialog.filesystem.currentData() or "") or None
            if dialog.action == dialog.ENABLE:
                c.enable_encryption(disk_id, dialog.new.text(), fs)
            elif dialog.action == dialog.DISABLE:
                c.disable_encryption(disk_id, fs)
            else:
                c.change_passphrase(disk_id, dialog.old.text(), dialog.new.text())
        elif isinstance(dialog, CleanupDialog):
            c.set_cleanup(disk_id, str(dialog.policy.currentData()), dialog.max_age.value())
        elif isinstance(dialog, AlertLevelsDialog):
            c.set_alert_levels(disk_id, dialog.wear.value(), dialog.temperature.value())
        elif isinstance(dialog, LimitDialog):
            c.set_limit(disk_id, dialog.size_kb)
        elif isinstance(dialog, RequiredFsDialog):
            c.set_required_fs(disk_id, str(dialog.filesystem.currentData()))
