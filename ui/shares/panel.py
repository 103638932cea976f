"""SharesPanel: the NAS shares the selected camera knows, which one it records to, and the actions on them.

Bind, unbind and remove take the camera's required order themselves (see app.storage.share_actions); the
Split action sets storage limits on every camera that records to the same NAS.

A lost NAS shows in a banner above the table within a second of the camera's Storage/Disruption event where it
streams its events, else at the next poll; the line above says which ("Live events" or "Checked every 5 s").
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHeaderView,
    QLabel,
    QMessageBox,
    QTableView,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from app.storage.availability import share_action_reasons
from app.storage.nas_split import NasUse, nas_use
from app.storage.overview import SHARE_DISK, StorageOverview, describe_status
from app.vapix.networkshare import NetworkShare
from app.vapix.usergroup import Role
from ui.controllers.storage import StorageController
from ui.shares.dialogs import ShareDialog, SplitDialog
from ui.widgets.actions import ActionSpec, apply_reasons, make_actions, retint
from ui.widgets.job_bar import JobBar
from ui.widgets.storage_feed import FeedBar
from ui.widgets.table_model import Index, RowsModel

COLUMNS = ("Name", "Address", "Share", "User", "Recording to it")

_ACTIONS = (
    ActionSpec("add", "&Add share…", "add", "Ctrl+Shift+N", "Add a NAS share; the camera tests it first"),
    ActionSpec("edit", "&Edit…", "edit", "", "Change the share; the camera tests it first"),
    ActionSpec("bind", "&Bind", "bind", "", "Record to this share"),
    ActionSpec("unbind", "&Unbind", "unbind", "", "Stop recording to this share (it is unmounted safely first)"),
    ActionSpec("remove", "&Remove", "remove", "", "Forget the share (unbound first); recordings on the NAS stay"),
    ActionSpec("split", "S&plit NAS…", "split", "", "Give each camera that records to this NAS a share of its size"),
)


class ShareTableModel(RowsModel):
    columns = COLUMNS

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.rows: list[NetworkShare] = []
        self.disk_state = ""

    def set_overview(self, overview: StorageOverview | None) -> None:
        self.beginResetModel()
        self.rows = list(overview.shares) if overview else []
        view = overview.disk(SHARE_DISK) if overview else None
        self.disk_state = describe_status(view.disk) if view else ""
        self.endResetModel()

    @property
    def shares(self) -> list[NetworkShare]:
        return self.rows

    def share(self, row: int) -> NetworkShare | None:
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        share = self.share(index.row()) if index.isValid() else None
        if share is None or role != Qt.ItemDataRole.DisplayRole:
            return None
        bound = f"yes — {self.disk_state}" if share.disk_id else "no"
        return (share.nice_name, share.address, share.share, share.user or "(guest)", bound)[index.column()]


class SharesPanel(QWidget):
    def __init__(self, controller: StorageController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.model = ShareTableModel(self)
        self.role = Role.ADMIN
        self.dialog: QDialog | None = None
        self.reasons: dict[str, str] = {}
        self.actions_by_name: dict[str, QAction] = {}
        self.toolbar = QToolBar("Share actions", self)
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.actions_by_name = make_actions(self, _ACTIONS, self.trigger)
        for action in self.actions_by_name.values():
            self.toolbar.addAction(action)
        self.feed_bar = FeedBar(with_recording=False)  # the camera records somewhere: the Disks tab says so
        self.banner = QLabel()
        self.banner.setObjectName("banner")
        self.banner.setProperty("kind", "error")
        self.banner.setWordWrap(True)
        self.banner.hide()
        self.empty = QLabel("Select a camera that is online to see its network shares.")
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_actions())
        self.table.doubleClicked.connect(lambda _i: self.trigger("edit"))
        self.table.setAccessibleName("Network shares")
        self.job_bar = JobBar(controller, self)
        layout = QVBoxLayout(self)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.feed_bar)
        layout.addWidget(self.banner)
        layout.addWidget(self.empty)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.job_bar)
        controller.overview_changed.connect(self.on_overview)
        controller.busy_changed.connect(lambda _b: self._update_actions())
        controller.feed_changed.connect(self.feed_bar.show_feed)
        self.feed_bar.show_feed(controller.feed)
        self._update_actions()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            retint(self.actions_by_name)
        super().changeEvent(event)

    def selected(self) -> NetworkShare | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.share(rows[0].row()) if rows else None

    def on_overview(self, overview: StorageOverview | None) -> None:
        selected = self.selected()
        self.model.set_overview(overview)
        self.empty.setVisible(overview is None)
        problems = overview.share_problems if overview else []
        if overview and SHARE_DISK in self.controller.live_problems:
            problems.append(self.controller.live_problems[SHARE_DISK])
        self.banner.setText("\n".join(problems))
        self.banner.setVisible(bool(problems))
        for row, share in enumerate(self.model.shares):
            if selected is None or share.share_id == selected.share_id:
                self.table.selectRow(row)
                break
        entry = self.controller.fleet.entries.get(self.controller.camera_id or "")
        self.role = entry.summary.role if entry and entry.summary else Role.ADMIN
        self._update_actions()

    def _update_actions(self) -> None:
        self.reasons = share_action_reasons(self.selected(), self.controller.support, self.role)
        if not self.nas_uses():
            self.reasons["split"] = self.reasons["split"] or "No camera records to a NAS share yet."
        apply_reasons(self.actions_by_name, self.reasons, self.controller.busy)

    def nas_uses(self) -> list[NasUse]:
        """The cameras recording to the same NAS as the selected camera, from their last storage reads."""
        overview = self.controller.overview
        camera_id = self.controller.camera_id
        if overview is None or camera_id is None:
            return []
        fleet = self.controller.fleet
        mine = nas_use(camera_id, fleet.entries[camera_id].config.name, overview)
        if mine is None:
            return []
        uses = [mine]
        for other_id, overview_of_other in fleet.overviews.items():
            entry = fleet.entries.get(other_id)
            use = nas_use(other_id, entry.config.name, overview_of_other) if entry else None
            if other_id != camera_id and use is not None and use.nas == mine.nas:
                uses.append(use)
        return uses

    def trigger(self, name: str) -> None:
        if self.reasons.get(name):
            return
        share = self.selected()
        if name in ("add", "edit"):
            self.dialog = ShareDialog(self.controller, share if name == "edit" else None, self)
            self.dialog.open()
        elif name == "split":
            dialog = SplitDialog(self.nas_uses(), self)
            dialog.accepted.connect(lambda: self.controller.split_nas(dialog.chosen(), dialog.total_kb))
            self.dialog = dialog
            dialog.open()
        elif share is not None and name == "bind":
            self.controller.bind_share(share.share_id)
        elif share is not None and name == "unbind":
            self.controller.unbind_share(share.share_id)
        elif share is not None and name == "remove":
            box = QMessageBox(
                QMessageBox.Icon.Question,
                "Remove share",
                f"Remove {share.nice_name} from the camera?"
                + ("\nIt is unmounted and unbound first; recording to it stops." if share.disk_id else "")
                + "\nThe recordings on the NAS are kept.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                self,
            )
            yes = box.button(QMessageBox.StandardButton.Yes)
            assert yes is not None
            yes.clicked.connect(lambda: self.controller.remove_share(share.share_id))
            self.dialog = box
            box.open()
