"""MainWindow: the camera list beside the selected camera's Camera, Disks and Shares tabs.

The toolbar holds what acts on the camera list (add, edit, remove, refresh, and restart or reset for the
virtual camera); each tab holds the actions on its own objects, so an installer finds "Format" beside the disk
it formats.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QItemSelection, Qt
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QTableView,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from app import __version__
from app.cameras.fleet import CameraState
from resources import icon
from ui.cameras.add_dialog import AddCameraDialog
from ui.cameras.details import CameraDetails
from ui.cameras.list_model import CameraListModel
from ui.controllers.cameras import CamerasController
from ui.disks.panel import DisksPanel
from ui.schedule.panel import SchedulePanel
from ui.shares.panel import SharesPanel
from ui.theme import Theme, apply_theme, save_theme, saved_theme
from ui.timeline.panel import TimelinePanel

DISKS_TAB, SHARES_TAB, TIMELINE_TAB, SCHEDULE_TAB = 1, 2, 3, 4


class MainWindow(QMainWindow):
    def __init__(self, controller: CamerasController) -> None:
        super().__init__()
        self.controller = controller
        self.storage = controller.storage
        self.setWindowTitle(f"Edgestore {__version__}")
        self.resize(1280, 760)
        self.setMinimumSize(900, 560)
        self.model = CameraListModel(controller, self)
        self.add_dialog: AddCameraDialog | None = None
        self.confirm_box: QMessageBox | None = None
        self._selected_id: str | None = None
        self._build()
        controller.cameras_changed.connect(self.on_cameras_changed)
        controller.camera_changed.connect(self.on_camera_changed)
        controller.error_occurred.connect(self.on_error)
        self.storage.finished.connect(lambda ok, message: self.statusBar().showMessage(message, 10000))

    def _action(self, text: str, icon_name: str, tip: str, slot: Callable[[], None], shortcut: str = "") -> QAction:
        action = QAction(icon(icon_name), text, self)
        action.setToolTip(tip)
        action.setStatusTip(tip)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        action.setData(icon_name)
        return action

    def _build(self) -> None:
        toolbar = QToolBar("Cameras", self)
        toolbar.setObjectName("camerasToolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.add_action = self._action("&Add camera…", "add", "Add a camera by its address", self.on_add_triggered)
        self.add_action.setShortcut(QKeySequence(QKeySequence.StandardKey.New))
        self.edit_action = self._action("&Edit…", "edit", "Change the camera's address or sign-in", self.on_edit)
        self.remove_action = self._action("&Remove", "remove", "Remove the camera from the list", self.on_remove)
        self.refresh_action = self._action("Re&fresh", "refresh", "Connect again and re-read", self.on_refresh)
        self.refresh_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Refresh))
        self.restart_action = self._action(
            "Re&start", "restart", "Restart the virtual camera; its recordings stay", self.on_restart
        )
        self.reset_action = self._action(
            "Rese&t…", "reset", "Reset the virtual camera to a new one: its recordings are deleted", self.on_reset
        )
        for action in (self.add_action, self.edit_action, self.remove_action, self.refresh_action):
            toolbar.addAction(action)
        toolbar.addSeparator()
        toolbar.addAction(self.restart_action)
        toolbar.addAction(self.reset_action)
        self.addToolBar(toolbar)
        self._build_menus()

        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.setAccessibleName("Cameras")
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.selectionModel().selectionChanged.connect(self.on_selection_changed)
        self.details = CameraDetails()
        self.disks_panel = DisksPanel(self.storage)
        self.shares_panel = SharesPanel(self.storage)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.details, icon("camera"), "&Camera")
        self.tabs.addTab(self.disks_panel, icon("disk"), "&Disks")
        self.tabs.addTab(self.shares_panel, icon("share"), "S&hares")
        self.timeline_panel = TimelinePanel(self.controller.timeline, self.controller.player, self.controller.exports)
        self.tabs.addTab(self.timeline_panel, icon("recording"), "&Recordings")
        # "Sched&ule": S is the panel's own &Save and h is S&hares'; u is free in the tabs and the menus.
        self.schedule_panel = SchedulePanel(self.controller.schedule)
        self.tabs.addTab(self.schedule_panel, icon("settings"), "Sched&ule")
        self.tabs.currentChanged.connect(self.on_tab_changed)
        self.timeline_panel.full_screen_changed.connect(self.set_full_screen)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.table)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([450, 830])

        self.banner = QLabel(self.controller.secrets_warning)
        self.banner.setObjectName("banner")
        self.banner.setWordWrap(True)
        self.banner.setVisible(bool(self.controller.secrets_warning))
        central = QWidget()
        layout = QVBoxLayout(central)
        self.central_layout = layout
        self._normal_state = self.windowState()
        layout.addWidget(self.banner)
        layout.addWidget(splitter, 1)
        self.setCentralWidget(central)
        self.statusBar().showMessage("Ready")
        self._update_actions()

    def _build_menus(self) -> None:
        cameras = self.menuBar().addMenu("&Cameras")
        for action in (self.add_action, self.edit_action, self.remove_action, self.refresh_action):
            cameras.addAction(action)
        cameras.addSeparator()
        cameras.addAction(self.restart_action)
        cameras.addAction(self.reset_action)
        view = self.menuBar().addMenu("&View")
        theme_menu = view.addMenu(icon("theme"), "&Theme")
        group = QActionGroup(self)
        self.theme_actions: dict[Theme, QAction] = {}
        current = saved_theme(self.controller.fleet.paths.config_dir)
        for theme, label in ((Theme.SYSTEM, "Follow the &system"), (Theme.LIGHT, "&Light"), (Theme.DARK, "&Dark")):
            action = QAction(label, self, checkable=True)
            action.setChecked(theme is current)
            action.triggered.connect(lambda _c=False, t=theme: self.set_theme(t))
            group.addAction(action)
            theme_menu.addAction(action)
            self.theme_actions[theme] = action

    def set_theme(self, theme: Theme) -> None:
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, theme)
            save_theme(self.controller.fleet.paths.config_dir, theme)
        self.theme_actions[theme].setChecked(True)
        for action in (
            self.add_action,
            self.edit_action,
            self.remove_action,
            self.refresh_action,
            self.restart_action,
            self.reset_action,
        ):
            action.setIcon(icon(str(action.data())))

    def set_full_screen(self, on: bool) -> None:
        """The player alone on the screen: everything around the Recordings tab's picture hides."""
        for part in (self.menuBar(), self.statusBar(), self.table, self.tabs.tabBar()):
            part.setVisible(not on)
        self.banner.setVisible(not on and bool(self.controller.secrets_warning))
        self.central_layout.setContentsMargins(*((0, 0, 0, 0) if on else (9, 9, 9, 9)))
        if on:
            self.tabs.setCurrentIndex(TIMELINE_TAB)
            self._normal_state = self.windowState()
            self.showFullScreen()
        else:
            self.setWindowState(self._normal_state)

    def on_tab_changed(self, index: int) -> None:
        if index == TIMELINE_TAB:
            self.controller.timeline.start()  # loads every camera's recordings: only once someone looks
        if index == SCHEDULE_TAB:
            self.controller.schedule.refresh()  # rules change from other clients too: read them when looked at

    # --- selection -----------------------------------------------------------------------------------------------

    def selected_camera(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.camera_id(rows[0].row()) if rows else None

    def _update_actions(self) -> None:
        camera_id = self.selected_camera()
        entry = self.controller.entry(camera_id) if camera_id else None
        embedded = entry is not None and entry.config.embedded
        self.edit_action.setEnabled(entry is not None and not embedded)
        self.edit_action.setToolTip(
            "The virtual camera is set up by Edgestore itself."
            if embedded
            else "Change the camera's address or sign-in"
        )
        self.remove_action.setEnabled(entry is not None)
        self.refresh_action.setEnabled(entry is not None)
        settled = entry is not None and entry.state is not CameraState.CONNECTING  # not while (re)starting
        self.restart_action.setEnabled(embedded and settled)
        self.reset_action.setEnabled(embedded and settled)
        not_virtual = "Select the virtual camera: only it can be restarted or reset from here."
        self.restart_action.setToolTip("Restart the virtual camera; its recordings stay" if embedded else not_virtual)
        self.reset_action.setToolTip(
            "Reset the virtual camera: its recordings are deleted" if embedded else not_virtual
        )

    def on_selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        camera_id = self.selected_camera()
        if camera_id is not None or self.model.rowCount() == 0:
            self._selected_id = camera_id  # a model reset clears the selection; that is not the user's choice
        self._update_actions()
        self.details.show_entry(self.controller.entry(camera_id) if camera_id else None)
        self.storage.select(camera_id)
        self.controller.schedule.select(camera_id)

    def on_cameras_changed(self) -> None:
        """The list was rebuilt (a camera added, edited, removed): keep the camera the user had selected."""
        row = self.model.row_of(self._selected_id) if self._selected_id else -1
        if row >= 0 and not self.table.selectionModel().hasSelection():
            self.table.selectRow(row)
        elif self.model.rowCount() and not self.table.selectionModel().hasSelection():
            self.table.selectRow(0)
        camera_id = self.selected_camera()
        self.details.show_entry(self.controller.entry(camera_id or ""))
        self.storage.select(camera_id)
        self.controller.schedule.select(camera_id)
        self._update_actions()
        self.statusBar().showMessage(f"{self.model.rowCount()} camera(s)")

    def on_camera_changed(self, camera_id: str) -> None:
        if camera_id == self.selected_camera():
            entry = self.controller.entry(camera_id)
            self.details.show_entry(entry)
            self._update_actions()
            if entry is not None and entry.state is CameraState.ONLINE and self.storage.overview is None:
                self.storage.refresh()  # it just came online: read its storage now, not at the next poll
            if entry is not None and entry.state is CameraState.ONLINE and self.controller.schedule.overview is None:
                self.controller.schedule.refresh()

    # --- camera actions ------------------------------------------------------------------------------------------

    def on_add_triggered(self) -> None:
        self.add_dialog = AddCameraDialog(self.controller, self)
        self.add_dialog.open()

    def on_edit(self) -> None:
        camera_id = self.selected_camera()
        entry = self.controller.entry(camera_id) if camera_id else None
        if entry is None or entry.config.embedded:
            return
        self.add_dialog = AddCameraDialog(self.controller, self, existing=entry.config)
        self.add_dialog.open()

    def on_remove(self) -> None:
        camera_id = self.selected_camera()
        entry = self.controller.entry(camera_id) if camera_id else None
        if entry is None:
            return
        question = f"Remove {entry.config.name} from the list?"
        if entry.config.embedded:
            question += "\nThe virtual camera stops; its recordings stay in its data folder."
        self._confirm("Remove camera", question, lambda: self.controller.remove(entry.config.id))

    def on_refresh(self) -> None:
        camera_id = self.selected_camera()
        if camera_id:
            self.controller.refresh(camera_id)
            self.storage.refresh()

    def on_restart(self) -> None:
        self.statusBar().showMessage("Restarting the virtual camera…")
        self.controller.restart_embedded()

    def on_reset(self) -> None:
        self._confirm(
            "Reset the virtual camera",
            "Reset the virtual camera to a new one?\nIts SD card, recordings, shares and settings are deleted.",
            self.controller.reset_embedded,
        )

    def _confirm(self, title: str, question: str, then: Callable[[], None]) -> None:
        """A question that does not block the event loop (the cameras keep being polled meanwhile)."""
        box = QMessageBox(
            QMessageBox.Icon.Question,
            title,
            question,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self,
        )
        yes = box.button(QMessageBox.StandardButton.Yes)
        assert yes is not None
        yes.clicked.connect(then)
        self.confirm_box = box
        box.open()

    def on_error(self, message: str) -> None:
        self.statusBar().showMessage(message, 10000)

    def closeEvent(self, event: QCloseEvent) -> None:
        for dialog in (
            self.add_dialog,
            self.confirm_box,
            self.disks_panel.dialog,
            self.shares_panel.dialog,
            self.schedule_panel.dialog,
        ):
            if dialog is not None:
                dialog.close()
        super().closeEvent(event)
