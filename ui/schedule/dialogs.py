"""TriggeredRuleDialog (record around an event), ProfileDialog (a continuous recording profile) and GroupDialog
(a recording group: settings on a disk that several rules record into, making one recording).

Both are plain forms: they hold no camera and call no controller, so the panel decides what to do with the
answer and a test can fill them as a user does. Seconds in the form; the camera's milliseconds are app.schedule's
business.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from app.schedule.overview import DiskChoice
from app.schedule.rules import RecordSettings
from app.schedule.triggers import STORAGE_TOPICS, Trigger, TriggerKind
from app.vapix.event_service import ScheduledEvent
from app.vapix.recording_groups import RecordingGroup

TRIGGER_CHOICES = (
    (TriggerKind.VIRTUAL_INPUT, "Virtual input"),
    (TriggerKind.MANUAL_TRIGGER, "Manual trigger"),
    (TriggerKind.STORAGE_EVENT, "Storage event"),
    (TriggerKind.SCHEDULE_PULSE, "Schedule"),
)
STREAM_HINT = "e.g. resolution=640x360&fps=15 (empty: the camera's default)"


def _disk_combo(disks: list[DiskChoice]) -> QComboBox:
    combo = QComboBox()
    for disk in disks:
        combo.addItem(disk.label, disk.disk_id)
    return combo


def _buttons(dialog: QDialog) -> tuple[QDialogButtonBox, QPushButton]:
    box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
    box.accepted.connect(dialog.accept)
    box.rejected.connect(dialog.reject)
    ok = box.button(QDialogButtonBox.StandardButton.Ok)
    assert ok is not None
    return box, ok


class TriggeredRuleDialog(QDialog):
    """Records to a disk with its own pre and post time, or into a recording group, which brings its own."""

    def __init__(
        self,
        disks: list[DiskChoice],
        pulses: list[ScheduledEvent],
        parent: QWidget | None = None,
        groups: list[RecordingGroup] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add triggered recording")
        self.kind = QComboBox()
        for kind, label in TRIGGER_CHOICES:
            self.kind.addItem(label, kind)
        self.port = QSpinBox(minimum=1, maximum=32)
        self.port.setToolTip("The virtual input that starts the recording when it turns active")
        self.storage_disk = _disk_combo(disks)
        self.storage_event = QComboBox()
        for topic, (_item, label) in STORAGE_TOPICS.items():
            self.storage_event.addItem(label.capitalize(), topic)
        self.schedule = QComboBox()
        for pulse in pulses:
            self.schedule.addItem(pulse.name or pulse.event_id, pulse.event_id)
        self.pre = QDoubleSpinBox(minimum=0, maximum=300, decimals=1, suffix=" s")
        self.pre.setToolTip("Video from before the trigger, kept in the camera's memory")
        self.post = QDoubleSpinBox(minimum=0, maximum=3600, decimals=1, suffix=" s", value=10)
        self.post.setToolTip("How long the camera records after the trigger")
        self.disk = _disk_combo(disks)
        for group in groups or []:
            self.disk.addItem(f"Group: {group.label}", group)
        self.disk.setToolTip("A disk, or a recording group: rules recording into one group make one recording")
        self.stream_options = QLineEdit()
        self.stream_options.setPlaceholderText(STREAM_HINT)
        self.group_note = QLabel()
        self.group_note.setWordWrap(True)
        self.form = QFormLayout(self)
        self.form.addRow("&Trigger:", self.kind)
        self.form.addRow("Virtual &input:", self.port)
        self.form.addRow("&Event:", self.storage_event)
        self.form.addRow("On &disk:", self.storage_disk)
        self.form.addRow("&Schedule:", self.schedule)
        self.form.addRow("&Before the trigger:", self.pre)
        self.form.addRow("&After the trigger:", self.post)
        self.form.addRow("Record &to:", self.disk)
        self.form.addRow("Stream &options:", self.stream_options)
        self.form.addRow(self.group_note)
        box, self.ok_button = _buttons(self)
        self.form.addRow(box)
        self.kind.currentIndexChanged.connect(self.on_kind)
        self.disk.currentIndexChanged.connect(self.on_kind)
        self.on_kind()

    def chosen_kind(self) -> TriggerKind:
        kind: TriggerKind = self.kind.currentData()
        return kind

    def chosen_group(self) -> RecordingGroup | None:
        data = self.disk.currentData()
        return data if isinstance(data, RecordingGroup) else None

    def on_kind(self) -> None:
        kind = self.chosen_kind()
        group = self.chosen_group()
        shown = {
            self.port: kind is TriggerKind.VIRTUAL_INPUT,
            self.storage_event: kind is TriggerKind.STORAGE_EVENT,
            self.storage_disk: kind is TriggerKind.STORAGE_EVENT,
            self.schedule: kind is TriggerKind.SCHEDULE_PULSE,
            self.pre: group is None,  # a group records with its own pre and post time and stream options
            self.post: group is None,
            self.stream_options: group is None,
            self.group_note: group is not None,
        }
        for widget, visible in shown.items():
            self.form.setRowVisible(widget, visible)
        if group is not None:
            self.group_note.setText(
                f"Records while the trigger is active, from {group.pre_ms / 1000:g} s before to "
                f"{group.post_ms / 1000:g} s after, with the group's stream options, to {group.disk_id}."
            )
        problem = ""
        if kind is TriggerKind.SCHEDULE_PULSE and self.schedule.count() == 0:
            problem = "The camera has no pulse schedule to start on."
        elif kind is TriggerKind.SCHEDULE_PULSE and group is not None:
            problem = "A schedule is an instant; a recording group records while its trigger is active."
        self.ok_button.setEnabled(self.disk.count() > 0 and not problem)
        self.ok_button.setToolTip(problem)

    def trigger(self) -> Trigger:
        kind = self.chosen_kind()
        if kind is TriggerKind.VIRTUAL_INPUT:
            return Trigger.virtual_input(self.port.value())
        if kind is TriggerKind.STORAGE_EVENT:
            return Trigger.storage(str(self.storage_disk.currentData()), str(self.storage_event.currentData()))
        if kind is TriggerKind.SCHEDULE_PULSE:
            return Trigger.pulse(str(self.schedule.currentData()))
        return Trigger.manual()

    def settings(self) -> RecordSettings:
        return RecordSettings(
            str(self.disk.currentData()), self.pre.value(), self.post.value(), self.stream_options.text().strip()
        )


class ProfileDialog(QDialog):
    def __init__(self, disks: list[DiskChoice], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add continuous recording")
        self.disk = _disk_combo(disks)
        self.options = QLineEdit()
        self.options.setPlaceholderText(STREAM_HINT)
        form = QFormLayout(self)
        form.addRow("Record &to:", self.disk)
        form.addRow("Stream &options:", self.options)
        box, self.ok_button = _buttons(self)
        self.ok_button.setEnabled(self.disk.count() > 0)
        form.addRow(box)

    def disk_id(self) -> str:
        return str(self.disk.currentData())


class GroupDialog(QDialog):
    """A new group (its disk chosen once: the camera cannot move a group) or an existing one's settings."""

    def __init__(
        self, disks: list[DiskChoice], group: RecordingGroup | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.group = group
        self.setWindowTitle("Edit recording group" if group else "New recording group")
        self.name = QLineEdit(group.nice_name if group else "")
        self.name.setPlaceholderText("e.g. Entrance")
        self.description = QLineEdit(group.description if group else "")
        self.disk = _disk_combo(disks)
        if group is not None:
            self.disk.setCurrentIndex(max(self.disk.findData(group.disk_id), 0))
            self.disk.setEnabled(False)
            self.disk.setToolTip("A group stays on the disk it was made on")
        self.pre = QDoubleSpinBox(minimum=0, maximum=300, decimals=1, suffix=" s")
        self.pre.setValue(group.pre_ms / 1000 if group else 0)
        self.pre.setToolTip("Video from before a rule starts the group's recording, kept in the camera's memory")
        self.post = QDoubleSpinBox(minimum=0, maximum=3600, decimals=1, suffix=" s")
        self.post.setValue(group.post_ms / 1000 if group else 10)
        self.post.setToolTip("How long the recording goes on after the last rule lets go")
        self.retention = QSpinBox(minimum=0, maximum=24 * 365, suffix=" h")
        self.retention.setSpecialValueText("As the disk's rules")
        self.retention.setValue(group.retention_hours if group else 0)
        self.retention.setToolTip("The camera deletes the group's recordings once they are this old")
        self.stream_options = QLineEdit(group.stream_options if group else "")
        self.stream_options.setPlaceholderText(STREAM_HINT)
        form = QFormLayout(self)
        form.addRow("&Name:", self.name)
        form.addRow("&Description:", self.description)
        form.addRow("On d&isk:", self.disk)
        form.addRow("&Before:", self.pre)
        form.addRow("&After:", self.post)
        form.addRow("&Keep for:", self.retention)
        form.addRow("Stream &options:", self.stream_options)
        box, self.ok_button = _buttons(self)
        self.ok_button.setEnabled(self.disk.count() > 0)
        form.addRow(box)

    def result_group(self) -> RecordingGroup:
        return RecordingGroup(
            self.group.group_id if self.group else "",
            str(self.disk.currentData()),
            self.name.text().strip(),
            self.description.text().strip(),
            self.retention.value(),
            self.stream_options.text().strip(),
            round(self.pre.value() * 1000),
            round(self.post.value() * 1000),
        )
