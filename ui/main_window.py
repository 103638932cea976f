"""MainWindow: the camera list beside the selected camera's details, with add, remove and refresh."""

from __future__ import annotations

from PySide6.QtCore import QItemSelection, Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QTableView,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from app import __version__
from ui.cameras.add_dialog import AddCameraDialog
from ui.cameras.details import CameraDetails
from ui.cameras.list_model import CameraListModel
from ui.controllers.cameras import CamerasController


class MainWindow(QMainWindow):
    def __init__(self, controller: CamerasController) -> None:
        super().__init__()
        self.controller = controller
        self.setWindowTitle(f"Edgestore {__version__}")
        self.resize(1000, 600)
        self.model = CameraListModel(controller, self)
        self._build()
        controller.cameras_changed.connect(self.on_cameras_changed)
        controller.camera_changed.connect(self.on_camera_changed)
        controller.error_occurred.connect(self.on_error)
        self.add_dialog: AddCameraDialog | None = None

    def _build(self) -> None:
        toolbar = QToolBar("Cameras", self)
        toolbar.setMovable(False)
        self.add_action = QAction("Add camera…", self, shortcut=QKeySequence(QKeySequence.StandardKey.New))
        self.remove_action = QAction("Remove", self, enabled=False)
        refresh = QKeySequence(QKeySequence.StandardKey.Refresh)
        self.refresh_action = QAction("Refresh", self, shortcut=refresh, enabled=False)
        for action in (self.add_action, self.remove_action, self.refresh_action):
            toolbar.addAction(action)
        self.addToolBar(toolbar)
        self.add_action.triggered.connect(self.on_add_triggered)
        self.remove_action.triggered.connect(self.on_remove_triggered)
        self.refresh_action.triggered.connect(self.on_refresh_triggered)

        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.table.selectionModel().selectionChanged.connect(self.on_selection_changed)
        self.details = CameraDetails()
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.table)
        splitter.addWidget(self.details)
        splitter.setSizes([560, 440])

        self.banner = QLabel(self.controller.secrets_warning)
        self.banner.setObjectName("banner")
        self.banner.setWordWrap(True)
        self.banner.setVisible(bool(self.controller.secrets_warning))
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(self.banner)
        layout.addWidget(splitter, 1)
        self.setCentralWidget(central)
        self.statusBar().showMessage("Ready")

    def selected_camera(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.camera_id(rows[0].row()) if rows else None

    def on_add_triggered(self) -> None:
        self.add_dialog = AddCameraDialog(self.controller, self)
        self.add_dialog.open()

    def on_remove_triggered(self) -> None:
        camera_id = self.selected_camera()
        entry = self.controller.entry(camera_id) if camera_id else None
        if entry is None:
            return
        question = f"Remove {entry.config.name} from the list?"
        if entry.config.embedded:
            question += "\nThe virtual camera stops; its recordings stay in its data folder."
        answer = QMessageBox.question(self, "Remove camera", question)
        if answer == QMessageBox.StandardButton.Yes:
            self.controller.remove(entry.config.id)

    def on_refresh_triggered(self) -> None:
        camera_id = self.selected_camera()
        if camera_id:
            self.controller.refresh(camera_id)

    def on_selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        camera_id = self.selected_camera()
        self.remove_action.setEnabled(camera_id is not None)
        self.refresh_action.setEnabled(camera_id is not None)
        self.details.show_entry(self.controller.entry(camera_id) if camera_id else None)

    def on_cameras_changed(self) -> None:
        if self.model.rowCount() and not self.table.selectionModel().hasSelection():
            self.table.selectRow(0)
        self.details.show_entry(self.controller.entry(self.selected_camera() or ""))
        self.statusBar().showMessage(f"{self.model.rowCount()} camera(s)")

    def on_camera_changed(self, camera_id: str) -> None:
        if camera_id == self.selected_camera():
            self.details.show_entry(self.controller.entry(camera_id))

    def on_error(self, message: str) -> None:
        self.statusBar().showMessage(message, 10000)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.add_dialog is not None:
            self.add_dialog.close()
        super().closeEvent(event)
