"""SchedulePanel: when the selected camera records, and where. A week grid per disk (saved as the camera's own
schedules, so recording follows it with no desktop running), the recording rules with what each records and
where, recording groups (settings several rules record into, making one recording), continuous recording
profiles, and recording by hand.

The panel holds no HTTP and no XML: it shows the controller's ScheduleOverview and calls its slots. A week being
edited is kept through re-reads of the camera until it is saved or reverted, so a refresh never eats a drawing.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.schedule.overview import ScheduleOverview
from app.schedule.week import WeekGrid
from app.vapix.recording_groups import RecordingGroup
from resources import icon
from ui.controllers.schedule import ScheduleController
from ui.schedule.dialogs import STREAM_HINT, GroupDialog, ProfileDialog, TriggeredRuleDialog
from ui.schedule.week_grid import WeekGridView

RULE_COLUMNS = ("Rule", "Trigger", "Records", "To", "Before", "After")
PROFILE_COLUMNS = ("Profile", "To", "Stream options")
GROUP_COLUMNS = ("Group", "On", "Before", "After", "Keeps", "Stream options")


def _table(columns: tuple[str, ...], name: str) -> QTableWidget:
    table = QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels(list(columns))
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().hide()
    table.horizontalHeader().setStretchLastSection(True)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.setAccessibleName(name)
    return table


def _button(label: str, icon_name: str, tip: str) -> QPushButton:
    button = QPushButton(icon(icon_name), label)
    button.setToolTip(tip)
    return button


class SchedulePanel(QWidget):
    def __init__(self, controller: ScheduleController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.overview: ScheduleOverview | None = None
        self.dialog: QDialog | None = None
        self.saved_grid = WeekGrid()  # the shown disk's week as on the camera
        self._build()
        controller.overview_changed.connect(self.on_overview)
        controller.busy_changed.connect(self.on_busy)
        controller.finished.connect(self.on_finished)
        controller.manual_recording_changed.connect(lambda _id: self._update_buttons())

    def _build(self) -> None:
        self.empty = QLabel("Select a camera that is online to see when it records.")
        self.empty.setWordWrap(True)
        self.disk = QComboBox()
        self.disk.setAccessibleName("Disk")
        self.disk.currentIndexChanged.connect(self.on_disk_changed)
        self.grid = WeekGridView()
        self.grid.grid_changed.connect(lambda _grid: self._update_buttons())
        self.week_options = QLineEdit()
        self.week_options.setPlaceholderText(STREAM_HINT)
        self.week_options.setAccessibleName("Week stream options")
        self.save_button = _button("&Save", "ok", "Save the week on the camera: it records in these hours")
        self.revert_button = _button("Rever&t", "refresh", "Show the week as saved on the camera again")
        self.save_button.clicked.connect(self.on_save)
        self.revert_button.clicked.connect(self.on_revert)
        self.week_state = QLabel()
        week_row = QHBoxLayout()
        for widget in (QLabel("Records to:"), self.disk, QLabel("Stream options:")):
            week_row.addWidget(widget)
        week_row.addWidget(self.week_options, 1)
        week_row.addWidget(self.save_button)
        week_row.addWidget(self.revert_button)
        week = QGroupBox("Week schedule (drag to paint or erase hours; the camera's local time)")
        week_layout = QVBoxLayout(week)
        week_layout.addLayout(week_row)
        week_layout.addWidget(self.grid, 1)
        week_layout.addWidget(self.week_state)

        self.rules = _table(RULE_COLUMNS, "Recording rules")
        self.rules.itemSelectionChanged.connect(self._update_buttons)
        self.add_rule_button = _button("&Add triggered recording…", "add", "Record around an event")
        self.remove_rule_button = _button("Re&move rule", "remove", "Remove the rule and its recording settings")
        self.add_rule_button.clicked.connect(self.on_add_rule)
        self.remove_rule_button.clicked.connect(self.on_remove_rule)
        rules = self._group("Recording rules", self.rules, self.add_rule_button, self.remove_rule_button)

        self.profiles = _table(PROFILE_COLUMNS, "Continuous recording profiles")
        self.profiles.itemSelectionChanged.connect(self._update_buttons)
        self.add_profile_button = _button("Add &profile…", "add", "Record all the time to a disk")
        self.remove_profile_button = _button("Remove pro&file", "remove", "Stop recording all the time")
        self.add_profile_button.clicked.connect(self.on_add_profile)
        self.remove_profile_button.clicked.connect(self.on_remove_profile)
        profiles = self._group(
            "Continuous recording", self.profiles, self.add_profile_button, self.remove_profile_button
        )

        self.groups = _table(GROUP_COLUMNS, "Recording groups")
        self.groups.itemSelectionChanged.connect(self._update_buttons)
        self.new_group_button = _button("New gro&up…", "add", "Settings on a disk that several rules record into")
        self.edit_group_button = _button("&Edit group…", "edit", "Change the group's times and stream options")
        self.delete_group_button = _button("&Delete group…", "remove", "Delete the group and its recordings")
        self.new_group_button.clicked.connect(self.on_new_group)
        self.edit_group_button.clicked.connect(self.on_edit_group)
        self.delete_group_button.clicked.connect(self.on_delete_group)
        groups = self._group(
            "Recording groups (rules recording into one group make one recording)",
            self.groups,
            self.new_group_button,
            self.edit_group_button,
            self.delete_group_button,
        )
        lower = QHBoxLayout()
        lower.addWidget(groups, 1)
        lower.addWidget(profiles, 1)

        self.record_button = _button("Record &now", "recording", "Record to the chosen disk until Stop")
        self.stop_button = _button("St&op", "pause", "Stop the recording started here")
        self.trigger_button = _button("Manual tri&gger", "play", "Press the camera's manual trigger")
        self.record_button.clicked.connect(self.on_record)
        self.stop_button.clicked.connect(self.controller.stop_recording)
        self.trigger_button.clicked.connect(self.controller.manual_trigger)
        manual_row = QHBoxLayout()
        for button in (self.record_button, self.stop_button, self.trigger_button):
            manual_row.addWidget(button)
        manual_row.addStretch(1)

        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)  # the camera reports no progress for these: show that it works
        self.busy_bar.setObjectName("jobProgress")
        self.busy_bar.hide()
        self.result = QLabel()
        self.result.setObjectName("jobResult")
        self.result.setWordWrap(True)
        self.result.hide()
        self.content = QWidget()
        content = QVBoxLayout(self.content)
        content.setContentsMargins(0, 0, 0, 0)
        content.addWidget(week, 2)
        content.addWidget(rules, 1)
        content.addLayout(lower, 1)
        content.addLayout(manual_row)
        layout = QVBoxLayout(self)
        layout.addWidget(self.empty)
        layout.addWidget(self.content, 1)
        layout.addWidget(self.busy_bar)
        layout.addWidget(self.result)
        self.on_overview(None)

    def _group(self, title: str, table: QTableWidget, *buttons: QPushButton) -> QGroupBox:
        group = QGroupBox(title)
        layout = QVBoxLayout(group)
        row = QHBoxLayout()
        for button in buttons:
            row.addWidget(button)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addWidget(table, 1)
        return group

    # --- state ---------------------------------------------------------------------------------------------------

    @property
    def disk_id(self) -> str:
        return str(self.disk.currentData() or "")

    @property
    def dirty(self) -> bool:
        return self.grid.grid != self.saved_grid

    def on_overview(self, overview: ScheduleOverview | None) -> None:
        self.overview = overview
        self.empty.setText(self.controller.read_error or "Select a camera that is online to see when it records.")
        self.empty.setVisible(overview is None)
        self.content.setEnabled(overview is not None)
        chosen = self.disk_id
        self.disk.blockSignals(True)
        self.disk.clear()
        for disk in overview.disks if overview else []:
            self.disk.addItem(disk.label, disk.disk_id)
        index = self.disk.findData(chosen)
        self.disk.setCurrentIndex(index if index >= 0 else 0)
        self.disk.blockSignals(False)
        self._show_week(keep_edits=self.disk_id == chosen)
        self._fill_rules()
        self._fill_profiles()
        self._fill_groups()
        self._update_buttons()

    def on_disk_changed(self) -> None:
        self._show_week(keep_edits=False)
        self._update_buttons()

    def _show_week(self, keep_edits: bool) -> None:
        week = self.overview.week(self.disk_id) if self.overview and self.disk_id else None
        editing = keep_edits and self.dirty
        self.saved_grid = week.grid if week else WeekGrid()
        if not editing:
            self.grid.set_grid(self.saved_grid)
            self.week_options.setText(week.stream_options if week else "")

    def _fill_rules(self) -> None:
        listing = self.overview.listing() if self.overview else []
        self.rules.setRowCount(len(listing))
        for row, rule in enumerate(listing):
            where = self.overview.label(rule.disk_id) if self.overview and rule.disk_id else "—"
            cells = (
                rule.name,
                rule.trigger_text,
                rule.records,
                where,
                f"{rule.pre_seconds:g} s",
                f"{rule.post_seconds:g} s",
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, rule.rule_id)
                self.rules.setItem(row, column, item)

    def _fill_profiles(self) -> None:
        profiles = self.overview.profiles if self.overview else []
        self.profiles.setRowCount(len(profiles))
        for row, profile in enumerate(profiles):
            where = self.overview.label(profile.disk_id) if self.overview else profile.disk_id
            for column, text in enumerate((str(profile.profile), where, profile.options or "default")):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, profile.profile)
                self.profiles.setItem(row, column, item)

    def _fill_groups(self) -> None:
        groups = self.overview.groups if self.overview else []
        self.groups.setRowCount(len(groups))
        for row, group in enumerate(groups):
            where = self.overview.label(group.disk_id) if self.overview else group.disk_id
            keeps = f"{group.retention_hours} h" if group.retention_hours else "As the disk"
            cells = (
                group.label,
                where,
                f"{group.pre_ms / 1000:g} s",
                f"{group.post_ms / 1000:g} s",
                keeps,
                group.stream_options or "default",
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, row)
                if column == 0:
                    item.setToolTip(f"{group.group_id}: {group.description}" if group.description else group.group_id)
                self.groups.setItem(row, column, item)

    def selected_group(self) -> RecordingGroup | None:
        row = self._selected(self.groups)
        groups = self.overview.groups if self.overview else []
        return groups[row] if row is not None and row < len(groups) else None

    def _selected(self, table: QTableWidget) -> int | None:
        rows = table.selectionModel().selectedRows()
        item = table.item(rows[0].row(), 0) if rows else None
        return int(item.data(Qt.ItemDataRole.UserRole)) if item is not None else None

    def selected_rule(self) -> int | None:
        return self._selected(self.rules)

    def selected_profile(self) -> int | None:
        return self._selected(self.profiles)

    def _update_buttons(self) -> None:
        ready = self.overview is not None and not self.controller.busy
        has_disk = ready and bool(self.disk_id)
        self.save_button.setEnabled(has_disk and self.dirty)
        self.revert_button.setEnabled(ready)
        self.week_state.setText(
            f"{self.grid.grid.hours} hours a week" + (" — not saved yet" if self.dirty else " — as on the camera")
        )
        self.add_rule_button.setEnabled(has_disk)
        self.remove_rule_button.setEnabled(ready and self.selected_rule() is not None)
        self.add_profile_button.setEnabled(has_disk)
        self.remove_profile_button.setEnabled(ready and self.selected_profile() is not None)
        self.new_group_button.setEnabled(has_disk)
        self.edit_group_button.setEnabled(ready and self.selected_group() is not None)
        self.delete_group_button.setEnabled(ready and self.selected_group() is not None)
        manual = bool(self.controller.manual_recording)
        self.record_button.setEnabled(has_disk and not manual)
        self.stop_button.setEnabled(ready and manual)
        self.trigger_button.setEnabled(ready)

    # --- controller feedback -------------------------------------------------------------------------------------

    def on_busy(self, busy: bool) -> None:
        self.busy_bar.setVisible(busy)
        if busy:
            self.result.hide()
        self._update_buttons()

    def on_finished(self, ok: bool, message: str) -> None:
        self.result.setText(message)
        self.result.setProperty("kind", "ok" if ok else "error")
        self.result.style().unpolish(self.result)
        self.result.style().polish(self.result)
        self.result.show()

    # --- actions -------------------------------------------------------------------------------------------------

    def on_save(self) -> None:
        if self.disk_id:
            self.controller.save_week(self.disk_id, self.grid.grid, self.week_options.text().strip())

    def on_revert(self) -> None:
        self.grid.set_grid(self.saved_grid)
        self._update_buttons()
        self.controller.refresh()

    def on_record(self) -> None:
        if self.disk_id:
            self.controller.record(self.disk_id)

    def on_remove_rule(self) -> None:
        rule_id = self.selected_rule()
        if rule_id is not None:
            self.controller.remove_rule(rule_id)

    def on_remove_profile(self) -> None:
        profile = self.selected_profile()
        if profile is not None:
            self.controller.remove_profile(profile)

    def on_add_rule(self) -> None:
        if self.overview is None:
            return
        dialog = TriggeredRuleDialog(self.overview.disks, self.overview.pulses(), self, self.overview.groups)
        index = dialog.disk.findData(self.disk_id)
        dialog.disk.setCurrentIndex(max(index, 0))
        dialog.accepted.connect(lambda: self._add_rule(dialog))
        self._open(dialog)

    def _add_rule(self, dialog: TriggeredRuleDialog) -> None:
        group = dialog.chosen_group()
        if group is not None:
            self.controller.add_to_group(dialog.trigger(), group)
        else:
            self.controller.add_triggered(dialog.trigger(), dialog.settings())

    def on_new_group(self) -> None:
        if self.overview is None:
            return
        dialog = GroupDialog(self.overview.disks, None, self)
        dialog.disk.setCurrentIndex(max(dialog.disk.findData(self.disk_id), 0))
        dialog.accepted.connect(lambda: self.controller.save_group(dialog.result_group()))
        self._open(dialog)

    def on_edit_group(self) -> None:
        group = self.selected_group()
        if self.overview is None or group is None:
            return
        dialog = GroupDialog(self.overview.disks, group, self)
        dialog.accepted.connect(lambda: self.controller.save_group(dialog.result_group()))
        self._open(dialog)

    def on_delete_group(self) -> None:
        group = self.selected_group()
        if group is None:
            return
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Delete recording group",
            f"Delete the recording group {group.label} from the camera?\nIts recordings are deleted with it.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self,
        )
        box.setDefaultButton(QMessageBox.StandardButton.No)
        yes = box.button(QMessageBox.StandardButton.Yes)
        assert yes is not None
        yes.clicked.connect(lambda: self.controller.delete_group(group))
        self._open(box)

    def on_add_profile(self) -> None:
        if self.overview is None:
            return
        dialog = ProfileDialog(self.overview.disks, self)
        dialog.disk.setCurrentIndex(max(dialog.disk.findData(self.disk_id), 0))
        dialog.accepted.connect(lambda: self.controller.add_profile(dialog.disk_id(), dialog.options.text().strip()))
        self._open(dialog)

    def _open(self, dialog: QDialog) -> None:
        """Non-modal: the cameras keep being polled while the installer types."""
        if self.dialog is not None:
            self.dialog.close()
        self.dialog = dialog
        dialog.finished.connect(self._dialog_finished)
        dialog.open()

    def _dialog_finished(self) -> None:
        dialog, self.dialog = self.dialog, None
        if dialog is not None:
            dialog.deleteLater()
