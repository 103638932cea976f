"""The Disks panel's dialogs. Each only collects what the installer chooses; the panel hands it to the
controller when the dialog is accepted. They open non-modally (`open()`), so the app's event loop, and the
camera polling on it, keep running while one is shown."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.storage.disk_actions import LossEstimate
from app.storage.overview import DiskView
from app.vapix.storage_limit import MIN_LIMIT_KB

KB_PER_GIB = 1024 * 1024
MAX_PASSPHRASE_BYTES = 512


class _Dialog(QDialog):
    """A form above OK/Cancel; OK is enabled only while `problem()` finds nothing wrong."""

    def __init__(self, title: str, intro: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(420)
        layout = QVBoxLayout(self)
        self.intro = QLabel(intro)
        self.intro.setWordWrap(True)
        layout.addWidget(self.intro)
        self.form = QFormLayout()
        layout.addLayout(self.form)
        self.problem_label = QLabel()
        self.problem_label.setObjectName("checkResult")
        self.problem_label.setProperty("kind", "error")
        self.problem_label.setWordWrap(True)
        layout.addWidget(self.problem_label)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

    @property
    def ok_button(self) -> QPushButton:
        button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        assert button is not None, "the box was made with an OK button"
        return button

    def problem(self) -> str:
        return ""

    def revalidate(self) -> None:
        problem = self.problem()
        self.problem_label.setText(problem)
        self.ok_button.setEnabled(not problem)


class FormatDialog(_Dialog):
    """Choose a file system the disk supports; the confirmation says what is lost before anything is."""

    def __init__(self, view: DiskView, parent: QWidget | None = None) -> None:
        super().__init__(f"Format {view.label}", "Counting the recordings on the disk…", parent)
        self.filesystem = QComboBox()
        names = view.capabilities.filesystem_names if view.capabilities else ()
        for name in names or ((view.disk.filesystem,) if view.disk.filesystem else ()):
            self.filesystem.addItem(name, name)
        current = self.filesystem.findData(
            view.disk.required_filesystem if view.disk.required_filesystem != "none" else view.disk.filesystem
        )
        self.filesystem.setCurrentIndex(max(current, 0))
        self.filesystem.setToolTip("The file systems this disk can be formatted with, as the camera reports them.")
        self.form.addRow("&File system:", self.filesystem)
        self.confirm = QCheckBox("I understand that the recordings on this disk are deleted")
        self.confirm.toggled.connect(self.revalidate)
        self.form.addRow(self.confirm)
        self.ok_button.setText("Format")
        self.revalidate()

    def show_loss(self, loss: LossEstimate) -> None:
        self.intro.setText(f"Formatting erases the disk. {loss.describe()}")

    @property
    def chosen(self) -> str | None:
        data = self.filesystem.currentData()
        return str(data) if data else None

    def problem(self) -> str:
        return "" if self.confirm.isChecked() else "Tick the box to confirm."


class EncryptionDialog(_Dialog):
    """Switch encryption on or off, or change the passphrase; the steps (unmount, enable, mount, format) are
    taken by the app, and the dialog says so, because formatting deletes the recordings."""

    ENABLE, DISABLE, CHANGE = "enable", "disable", "change"

    def __init__(self, view: DiskView, parent: QWidget | None = None) -> None:
        super().__init__(f"Encryption of {view.label}", "", parent)
        self.view = view
        self.mode = QComboBox()
        if view.disk.encryption_enabled:
            self.mode.addItem("Change the passphrase", self.CHANGE)
            self.mode.addItem("Switch encryption off (formats the disk)", self.DISABLE)
        else:
            self.mode.addItem("Switch encryption on (formats the disk)", self.ENABLE)
        self.old = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        self.new = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        self.repeat = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        self.filesystem = QComboBox()
        for name in view.capabilities.filesystem_names if view.capabilities else ("ext4",):
            self.filesystem.addItem(name, name)
        self.form.addRow("&Action:", self.mode)
        self.form.addRow("&Current passphrase:", self.old)
        self.form.addRow("&New passphrase:", self.new)
        self.form.addRow("&Repeat:", self.repeat)
        self.form.addRow("&File system:", self.filesystem)
        for field in (self.old, self.new, self.repeat):
            field.textChanged.connect(self.revalidate)
        self.mode.currentIndexChanged.connect(self._mode_changed)
        self._mode_changed()

    @property
    def action(self) -> str:
        return str(self.mode.currentData())

    def _mode_changed(self) -> None:
        action = self.action
        self.old.setEnabled(action == self.CHANGE)
        self.new.setEnabled(action != self.DISABLE)
        self.repeat.setEnabled(action != self.DISABLE)
        self.filesystem.setEnabled(action != self.CHANGE)
        self.intro.setText(
            {
                self.ENABLE: "Edgestore unmounts the disk, switches encryption on, mounts it and formats it. "
                "Its recordings are deleted. Keep the passphrase: without it the recordings cannot be read.",
                self.DISABLE: "Edgestore unmounts the disk, switches encryption off, mounts it and formats it. "
                "Its recordings are deleted.",
                self.CHANGE: "The passphrase changes while the disk stays mounted; recording goes on.",
            }[action]
        )
        self.revalidate()

    def problem(self) -> str:
        action = self.action
        if action == self.DISABLE:
            return ""
        if action == self.CHANGE and not self.old.text():
            return "Enter the current passphrase."
        if not self.new.text():
            return "Enter a passphrase."
        if len(self.new.text().encode()) > MAX_PASSPHRASE_BYTES:
            return f"The passphrase may be at most {MAX_PASSPHRASE_BYTES} bytes."
        if self.new.text() != self.repeat.text():
            return "The two passphrases differ."
        return ""


class CleanupDialog(_Dialog):
    def __init__(self, view: DiskView, parent: QWidget | None = None) -> None:
        super().__init__(
            f"Cleanup of {view.label}",
            "When the disk is full the camera can delete the oldest recordings, and it can delete recordings "
            "older than a number of days. Locked recordings are never deleted.",
            parent,
        )
        self.policy = QComboBox()
        self.policy.addItem("Delete the oldest recordings when full", "fifo")
        self.policy.addItem("Keep everything (recording stops when full)", "none")
        self.policy.setCurrentIndex(max(self.policy.findData(view.disk.cleanup_policy), 0))
        self.max_age = QSpinBox(minimum=0, maximum=7000, suffix=" days")
        self.max_age.setSpecialValueText("no age limit")
        self.max_age.setValue(view.disk.cleanup_max_age)
        self.form.addRow("When &full:", self.policy)
        self.form.addRow("Delete after:", self.max_age)
        self.revalidate()


class AlertLevelsDialog(_Dialog):
    def __init__(self, view: DiskView, parent: QWidget | None = None) -> None:
        super().__init__(
            f"Health alerts for {view.label}",
            "The camera raises a storage alert event when the disk's wear or temperature reaches these levels.",
            parent,
        )
        alerts = view.alerts
        self.wear = QSpinBox(minimum=1, maximum=200, suffix=" %")
        self.wear.setValue(alerts.wear if alerts and alerts.wear is not None else 90)
        self.temperature = QSpinBox(minimum=-40, maximum=150, suffix=" °C")
        kelvin = alerts.temperature if alerts and alerts.temperature is not None else None
        self.temperature.setValue(round(kelvin - 273.15) if kelvin is not None else 80)
        self.form.addRow("&Wear:", self.wear)
        self.form.addRow("&Temperature:", self.temperature)
        self.revalidate()


class LimitDialog(_Dialog):
    def __init__(self, view: DiskView, parent: QWidget | None = None) -> None:
        super().__init__(
            f"Storage limit of {view.label}",
            "Recordings may use at most this much of the disk; the oldest are deleted to stay under it. "
            "0 means the whole disk.",
            parent,
        )
        self.total_gib = view.disk.total_kb / KB_PER_GIB
        self.limit_gib = QDoubleSpinBox(decimals=1, minimum=0.0, maximum=max(self.total_gib, 1.0) * 100, suffix=" GiB")
        self.limit_gib.setSpecialValueText("no limit")
        self.limit_gib.setValue((view.limit.size_kb if view.limit else 0) / KB_PER_GIB)
        self.limit_gib.valueChanged.connect(self.revalidate)
        self.form.addRow("&Limit:", self.limit_gib)
        self.revalidate()

    @property
    def size_kb(self) -> int:
        return round(self.limit_gib.value() * KB_PER_GIB)

    def problem(self) -> str:
        if 0 < self.size_kb < MIN_LIMIT_KB:
            return "A limit must be at least 1 GiB (or 0 for none)."
        return ""


class RequiredFsDialog(_Dialog):
    def __init__(self, view: DiskView, parent: QWidget | None = None) -> None:
        super().__init__(
            f"Required file system of {view.label}",
            "With a required file system, the camera formats any card with another file system when it is "
            "inserted, so a card from a shop is ready without an installer's visit.",
            parent,
        )
        self.filesystem = QComboBox()
        self.filesystem.addItem("Any (no requirement)", "none")
        supported = view.capabilities.filesystems if view.capabilities else ()
        for fs in supported:
            if fs.required_fs_supported:
                self.filesystem.addItem(fs.name, fs.name)
        self.filesystem.setCurrentIndex(max(self.filesystem.findData(view.disk.required_filesystem), 0))
        self.form.addRow("&Require:", self.filesystem)
        self.revalidate()
