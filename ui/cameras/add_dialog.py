"""AddCameraDialog: address, protocol, certificate trust and credentials of a camera, checked before saving.

The same dialog edits a saved camera: the password field may stay empty to keep the one in the keyring (the
check then uses that one), so an installer changing a camera's name or port never has to re-type it."""

from __future__ import annotations

import uuid

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.cameras.config import CameraConfig
from app.cameras.connect import ConnectionReport
from app.vapix.tls import TlsTrust, TrustMode, format_fingerprint
from ui.controllers.cameras import CamerasController

_TRUST_LABELS = {
    TrustMode.SYSTEM: "System certificates",
    TrustMode.CA_FILE: "CA certificate file",
    TrustMode.PINNED: "This camera's certificate (pinned)",
}


class AddCameraDialog(QDialog):
    def __init__(
        self, controller: CamerasController, parent: QWidget | None = None, existing: CameraConfig | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Edit camera" if existing else "Add camera")
        self.setMinimumWidth(460)
        self._controller = controller
        self._existing = existing
        self._camera_id = existing.id if existing else uuid.uuid4().hex
        self._checked: tuple[CameraConfig, str] | None = None
        self._pending: tuple[CameraConfig, str] | None = None
        self._pending_check = 0
        self._pinned_pem = ""
        self._build()
        if existing is not None:
            self._fill(existing)
        controller.check_finished.connect(self.on_check_finished)
        controller.certificate_fetched.connect(self.on_certificate_fetched)

    def _build(self) -> None:
        form = QFormLayout()
        self.name = QLineEdit(placeholderText="Entrance camera")
        self.host = QLineEdit(placeholderText="192.168.0.90 or camera.example.com")
        self.port = QSpinBox(minimum=1, maximum=65535, value=80)
        self.protocol = QComboBox()
        self.protocol.addItems(["HTTP", "HTTPS"])
        self.trust = QComboBox()
        for mode, label in _TRUST_LABELS.items():
            self.trust.addItem(label, mode)
        self.ca_file = QLineEdit(placeholderText="CA certificate (PEM)")
        self.browse = QPushButton("Browse…")
        self.fingerprint = QLabel("Not fetched")
        self.fingerprint.setWordWrap(True)
        self.fetch = QPushButton("Fetch certificate")
        self.user = QLineEdit("root")
        self.password = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        form.addRow("Name:", self.name)
        form.addRow("Host:", self.host)
        form.addRow("Port:", self.port)
        form.addRow("Protocol:", self.protocol)
        form.addRow("Trust:", self.trust)
        form.addRow("CA file:", _row(self.ca_file, self.browse))
        form.addRow("Fingerprint:", _row(self.fingerprint, self.fetch))
        form.addRow("User:", self.user)
        form.addRow("Password:", self.password)
        self.check_result = QLabel("")
        self.check_result.setWordWrap(True)
        self.check_result.setObjectName("checkResult")
        self.check_button = QPushButton("Check connection")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.add_button = buttons.addButton("Add camera", QDialogButtonBox.ButtonRole.AcceptRole)
        self.add_button.setEnabled(False)
        buttons.addButton(self.check_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.add_button.clicked.connect(self.on_add_clicked)
        self.check_button.clicked.connect(self.on_check_clicked)
        self.protocol.currentIndexChanged.connect(self.on_protocol_changed)
        self.trust.currentIndexChanged.connect(self.on_trust_changed)
        self.browse.clicked.connect(self.on_browse_clicked)
        self.fetch.clicked.connect(self.on_fetch_clicked)
        for edit in (self.name, self.host, self.ca_file, self.user, self.password):
            edit.textChanged.connect(self.on_input_changed)
        self.port.valueChanged.connect(self.on_input_changed)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.check_result)
        layout.addWidget(buttons)
        self.on_protocol_changed()

    def _fill(self, config: CameraConfig) -> None:
        self.name.setText(config.name)
        self.host.setText(config.host)
        self.protocol.setCurrentText("HTTPS" if config.https else "HTTP")
        self.port.setValue(config.port)
        self.trust.setCurrentIndex(max(self.trust.findData(config.trust.mode), 0))
        self.ca_file.setText(config.trust.ca_file or "")
        if config.trust.pinned_pem:
            self._pinned_pem = config.trust.pinned_pem
            self.fingerprint.setText(format_fingerprint(config.trust.fingerprint or ""))
            self.fingerprint.setToolTip(config.trust.fingerprint or "")
        self.user.setText(config.username)
        self.password.setPlaceholderText("unchanged")
        self.add_button.setText("Save")
        self._show("Check the connection to save the changes.", "")

    def config(self) -> CameraConfig | None:
        """The camera as entered, or None (with the reason shown) when something is missing."""
        host = self.host.text().strip()
        if not host:
            self._refused("Enter the camera's host name or IP address.")
            return None
        if not self.user.text().strip():
            self._refused("Enter a user name.")
            return None
        https = self.protocol.currentText() == "HTTPS"
        mode: TrustMode = self.trust.currentData()
        trust = TlsTrust()
        if https and mode is TrustMode.CA_FILE:
            if not self.ca_file.text().strip():
                self._refused("Choose the CA certificate file that signed the camera's certificate.")
                return None
            trust = TlsTrust(mode, ca_file=self.ca_file.text().strip())
        elif https and mode is TrustMode.PINNED:
            if not self._pinned_pem:
                self._refused("Fetch the camera's certificate and compare its fingerprint first.")
                return None
            trust = TlsTrust(mode, pinned_pem=self._pinned_pem, fingerprint=self.fingerprint.toolTip())
        name = self.name.text().strip() or host
        return CameraConfig(name, host, self.port.value(), self.user.text().strip(), https, trust, self._camera_id)

    def on_check_clicked(self) -> None:
        config = self.config()
        if config is None:
            return
        self._checked = None
        self.add_button.setEnabled(False)
        self.check_button.setEnabled(False)
        self._show("Checking…", "")
        self._pending = (config, self.password.text())
        keep = self._existing.id if self._existing else None
        self._pending_check = self._controller.check(config, self.password.text(), keep_password_of=keep)

    def on_check_finished(self, number: int, report: ConnectionReport) -> None:
        pending = self._pending
        if pending is None or number != self._pending_check:
            return  # another dialog's check
        self._pending = None
        self.check_button.setEnabled(True)
        self._show(report.message, "ok" if report.ok else "error")
        if report.ok and pending == (self.config(), self.password.text()):
            self._checked = pending
            self.add_button.setEnabled(True)

    def on_add_clicked(self) -> None:
        if self._checked is None:
            return
        config, password = self._checked
        if self._existing is None:
            self._controller.add(config, password)
        else:
            self._controller.update(config, password or None)
        self.accept()

    def on_input_changed(self) -> None:
        if self._checked is not None:
            self._checked = None
            self.add_button.setEnabled(False)
            self._show("The details changed: check the connection again.", "")

    def on_protocol_changed(self) -> None:
        https = self.protocol.currentText() == "HTTPS"
        if https and self.port.value() == 80:
            self.port.setValue(443)
        elif not https and self.port.value() == 443:
            self.port.setValue(80)
        self.trust.setEnabled(https)
        self.on_trust_changed()

    def on_trust_changed(self) -> None:
        https = self.protocol.currentText() == "HTTPS"
        mode = self.trust.currentData()
        for widget in (self.ca_file, self.browse):
            widget.setEnabled(https and mode is TrustMode.CA_FILE)
        self.fetch.setEnabled(https and mode is TrustMode.PINNED)
        self.on_input_changed()

    def on_browse_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "CA certificate", "", "Certificates (*.pem *.crt);;All (*)")
        if path:
            self.ca_file.setText(path)

    def on_fetch_clicked(self) -> None:
        if not self.host.text().strip():
            self._show("Enter the host first.", "error")
            return
        self.fingerprint.setText("Fetching…")
        self._controller.fetch_certificate(self.host.text().strip(), self.port.value())

    def on_certificate_fetched(self, pem: str, fingerprint_or_error: str) -> None:
        if not pem:
            self._pinned_pem = ""
            self.fingerprint.setText("Not fetched")
            self._show(fingerprint_or_error, "error")
            return
        self._pinned_pem = pem
        self.fingerprint.setText(format_fingerprint(fingerprint_or_error))
        self.fingerprint.setToolTip(fingerprint_or_error)
        self._show(
            "Compare this SHA-256 fingerprint with the one the camera shows (System > Security) before you trust it.",
            "",
        )
        self.on_input_changed()

    def done(self, result: int) -> None:
        """A closed dialog stops listening: its controller outlives it."""
        self._controller.check_finished.disconnect(self.on_check_finished)
        self._controller.certificate_fetched.disconnect(self.on_certificate_fetched)
        super().done(result)

    def _refused(self, message: str) -> None:
        """Show why the entry is not a camera yet."""
        self._show(message, "error")

    def _show(self, message: str, kind: str) -> None:
        self.check_result.setText(message)
        self.check_result.setProperty("kind", kind)
        self.check_result.style().unpolish(self.check_result)
        self.check_result.style().polish(self.check_result)


def _row(*widgets: QWidget) -> QWidget:
    holder = QWidget()
    layout = QHBoxLayout(holder)
    layout.setContentsMargins(0, 0, 0, 0)
    for widget in widgets:
        layout.addWidget(widget, 1 if isinstance(widget, QLineEdit | QLabel) else 0)
    return holder
