"""CameraDetails: what the selected camera is (model, serial, firmware) and what its storage can do."""

from __future__ import annotations

from PySide6.QtWidgets import QFormLayout, QGroupBox, QLabel, QVBoxLayout, QWidget

from app.cameras.fleet import CameraEntry

_FIELDS = ("Name", "Address", "Model", "Product", "Serial number", "Firmware", "Signed in as", "Status")


class CameraDetails(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.values: dict[str, QLabel] = {}
        layout = QVBoxLayout(self)
        self.heading = QLabel("Select a camera")
        self.heading.setObjectName("detailsHeading")
        layout.addWidget(self.heading)
        identity = QGroupBox("Camera")
        form = QFormLayout(identity)
        for name in _FIELDS:
            label = QLabel("—")
            label.setWordWrap(True)
            self.values[name] = label
            form.addRow(f"{name}:", label)
        layout.addWidget(identity)
        self.storage = QGroupBox("Storage capabilities")
        self.storage_form = QFormLayout(self.storage)
        layout.addWidget(self.storage)
        layout.addStretch(1)

    def show_entry(self, entry: CameraEntry | None) -> None:
        while self.storage_form.rowCount():
            self.storage_form.removeRow(0)
        if entry is None:
            self.heading.setText("Select a camera")
            for label in self.values.values():
                label.setText("—")
            return
        config, summary = entry.config, entry.summary
        self.heading.setText(config.name)
        info = summary.info if summary else None
        texts = {
            "Name": config.name,
            "Address": f"{'https' if config.https else 'http'}://{config.host}:{config.port}",
            "Model": info.model if info else "—",
            "Product": info.full_name if info else "—",
            "Serial number": info.serial if info else "—",
            "Firmware": info.firmware if info else "—",
            "Signed in as": f"{config.username} ({summary.role.name.lower()})" if summary else config.username,
            "Status": f"{entry.state.value}{' — ' + entry.message if entry.message else ''}",
        }
        for name, text in texts.items():
            self.values[name].setText(text or "—")
        if summary is None:
            self.storage_form.addRow(QLabel("Not known until the camera answers."))
            return
        for name, value in summary.capabilities.describe():
            shown = value if isinstance(value, int) and not isinstance(value, bool) else ("Yes" if value else "No")
            self.storage_form.addRow(f"{name}:", QLabel(str(shown)))
