"""ShareDialog (add or change a NAS share, tested first) and SplitDialog (one NAS between several cameras).

The dialog stays open while the camera tests and saves, with the progress bar in it, and closes only when the
share is saved; a failed test leaves the installer's typing in place next to the reason.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.storage.nas_split import NasUse, SplitError, equal_percents, split_limits
from app.storage.share_actions import SMB_VERSIONS, ShareSettings
from app.vapix.networkshare import NetworkShare
from ui.controllers.storage import StorageController
from ui.widgets.units import human_size


class ShareDialog(QDialog):
    def __init__(
        self, controller: StorageController, share: NetworkShare | None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.controller = controller
        self.share = share
        self.saving = False
        self.options_loaded = False  # the camera's SMB version and port have arrived
        self._options_touched = False
        self.setWindowTitle("Change network share" if share else "Add network share")
        self.setMinimumWidth(460)
        self.nice_name = QLineEdit(share.nice_name if share else "")
        self.nice_name.setPlaceholderText("e.g. Office NAS")
        self.address = QLineEdit(share.address if share else "")
        self.address.setPlaceholderText("host name or IP address of the NAS")
        self.share_name = QLineEdit(share.share if share else "")
        self.share_name.setPlaceholderText("the share's name, optionally with a folder: recordings/entrance")
        self.user = QLineEdit(share.user if share else "")
        self.password = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        if share:
            self.password.setPlaceholderText("unchanged (the camera never sends it back)")
        self.version = QComboBox()
        for value, label in SMB_VERSIONS:
            self.version.addItem(label, value)
        self.version.setToolTip("Pin a version if the NAS needs one; Automatic suits most.")
        self.port = QSpinBox(minimum=0, maximum=65535)
        self.port.setSpecialValueText("445 (standard)")
        self.bind = QCheckBox("Record to this share now (bind it to the camera's network share disk)")
        self.bind.setChecked(share is None)
        self.bind.setVisible(share is None)
        form = QFormLayout()
        form.addRow("&Name:", self.nice_name)
        form.addRow("&Address:", self.address)
        form.addRow("&Share:", self.share_name)
        form.addRow("&User:", self.user)
        form.addRow("&Password:", self.password)
        advanced = QGroupBox("Connection")
        advanced_form = QFormLayout(advanced)
        advanced_form.addRow("SMB &version:", self.version)
        advanced_form.addRow("P&ort:", self.port)
        self.test_button = QPushButton("&Test connection")
        self.test_button.clicked.connect(self.on_test)
        self.progress = QProgressBar()
        self.progress.setObjectName("jobProgress")
        self.progress.setRange(0, 100)
        self.progress.hide()
        self.outcome = QLabel()
        self.outcome.setObjectName("checkResult")
        self.outcome.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.save_button.setText("Test and save" if share else "Test and add")
        self.buttons.accepted.connect(self.on_save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(advanced)
        layout.addWidget(self.bind)
        layout.addWidget(self.test_button)
        layout.addWidget(self.progress)
        layout.addWidget(self.outcome)
        layout.addWidget(self.buttons)
        for field in (self.nice_name, self.address, self.share_name):
            field.textChanged.connect(self._validate)
        self.version.activated.connect(self._touched)
        self.port.editingFinished.connect(self._touched)
        controller.progress.connect(self.on_progress)
        controller.finished.connect(self.on_finished)
        controller.share_tested.connect(self.on_tested)
        controller.connection_options.connect(self.on_connection_options)
        controller.read_connection_options()
        self._validate()

    @property
    def save_button(self) -> QPushButton:
        button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        assert button is not None, "the box was made with an OK button"
        return button

    def settings(self) -> ShareSettings:
        return ShareSettings(
            self.nice_name.text().strip(),
            self.address.text().strip(),
            self.share_name.text().strip().strip("/"),
            self.user.text().strip(),
            self.password.text(),
            str(self.version.currentData()),
            self.port.value(),
        )

    def _validate(self) -> None:
        settings = self.settings()
        missing = [n for n, v in (("a name", settings.nice_name), ("the address", settings.address)) if not v]
        if not settings.share:
            missing.append("the share")
        ok = not missing
        self.save_button.setEnabled(ok)
        self.test_button.setEnabled(bool(settings.address and settings.share))
        self.save_button.setToolTip("" if ok else "Enter " + ", ".join(missing) + ".")

    def on_connection_options(self, version: str, port: int) -> None:
        """The camera's current version and port, unless the installer has already chosen others."""
        self.options_loaded = True
        if self._options_touched:
            return
        self.version.setCurrentIndex(max(self.version.findData(version), 0))
        self.port.setValue(port)
        self._options_touched = False

    def _touched(self) -> None:
        self._options_touched = True

    def _start(self) -> None:
        self.outcome.setText("")
        self.progress.setValue(0)
        self.progress.show()
        self.test_button.setEnabled(False)
        self.save_button.setEnabled(False)

    def on_test(self) -> None:
        self._start()
        self.controller.test_share(self.settings(), self.share.share_id if self.share else None)

    def on_save(self) -> None:
        self._start()
        self.saving = True
        if self.share is None:
            self.controller.add_share(self.settings(), self.bind.isChecked())
        else:
            self.controller.modify_share(self.share.share_id, self.settings())

    def on_progress(self, _step: str, percent: int) -> None:
        if self.isVisible():
            self.progress.setValue(percent)

    def on_tested(self, ok: bool, message: str) -> None:
        self._show_result(ok, message)

    def on_finished(self, ok: bool, message: str) -> None:
        if not self.isVisible():
            return
        self.progress.hide()
        self._validate()
        if self.saving:
            self.saving = False
            if ok:
                self.accept()
                return
        self._show_result(ok, message)

    def _show_result(self, ok: bool, message: str) -> None:
        self.outcome.setText(message)
        self.outcome.setProperty("kind", "ok" if ok else "error")
        self.outcome.style().unpolish(self.outcome)
        self.outcome.style().polish(self.outcome)

    def done(self, result: int) -> None:
        for signal, slot in (
            (self.controller.progress, self.on_progress),
            (self.controller.finished, self.on_finished),
            (self.controller.share_tested, self.on_tested),
            (self.controller.connection_options, self.on_connection_options),
        ):
            signal.disconnect(slot)
        super().done(result)


class SplitDialog(QDialog):
    """The cameras recording to one NAS, each with a percentage; Apply sets their storage limits."""

    def __init__(self, uses: list[NasUse], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Split a NAS between cameras")
        self.uses = uses
        self.total_kb = max((u.total_kb for u in uses), default=0)
        layout = QVBoxLayout(self)
        nas = uses[0].nas if uses else "—"
        intro = QLabel(
            f"{len(uses)} camera(s) record to {nas} ({human_size(self.total_kb)}). Give each a share of it: "
            "Edgestore sets each camera's storage limit, so one camera filling the NAS cannot starve the others."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.percents: dict[str, QDoubleSpinBox] = {}
        for camera_id, percent in equal_percents([u.camera_id for u in uses]).items():
            spin = QDoubleSpinBox(decimals=1, minimum=0.0, maximum=100.0, suffix=" %")
            spin.setValue(round(percent, 1))
            spin.valueChanged.connect(self._validate)
            self.percents[camera_id] = spin
            name = next(u.camera_name for u in uses if u.camera_id == camera_id)
            form.addRow(f"{name}:", spin)
        layout.addLayout(form)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        assert ok is not None
        ok.setText("Set limits")
        self.ok = ok
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self._validate()

    def chosen(self) -> dict[str, float]:
        return {camera: spin.value() for camera, spin in self.percents.items() if spin.value() > 0}

    def _validate(self) -> None:
        try:
            limits = split_limits(self.total_kb, self.chosen())
        except SplitError as exc:
            self.summary.setText(str(exc))
            self.ok.setEnabled(False)
            return
        self.summary.setText(" · ".join(f"{human_size(kb)}" for kb in limits.values()))
        self.ok.setEnabled(bool(limits))
