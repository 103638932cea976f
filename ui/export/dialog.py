"""ExportDialog: export the range selected on a disk's timeline, after the camera has said what it will give.

It opens at once, non-modally, and asks the camera (properties.cgi for every recording the range crosses) while
the operator chooses the format and where to: the clip starts at a key frame, possibly before the selection, and
the operator should see that and the size before committing. A refusal (the recording was removed meanwhile)
shows as a sentence, and Add stays off. Add hands the job to the queue and closes; the queue panel shows the rest.
"""

from __future__ import annotations

import time
from datetime import datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QStandardPaths
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from app.exports.jobs import (
    Destination,
    ExportFormat,
    ExportJob,
    LocalDestination,
    UsbDestination,
    password_problem,
    safe_file_name,
)
from app.exports.plan import pieces
from app.exports.preview import ExportPreview
from app.storage.overview import DISK_KINDS
from app.timeline.spans import Span
from app.vapix.export import MAX_PASSWORD_BYTES
from ui.widgets.units import human_size

if TYPE_CHECKING:
    from ui.controllers.exports import ExportController

ASKING = "Asking the camera…"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
NO_ZIP = "This camera cannot encrypt exports (capabilities.cgi offers no zip-aes256)."


def local_time(moment: datetime | float, zone: tzinfo) -> str:
    when = moment if isinstance(moment, datetime) else datetime.fromtimestamp(moment, zone)
    return when.astimezone(zone).strftime(TIME_FORMAT)


def describe_seconds(seconds: float) -> str:
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def default_folder() -> str:
    location = QStandardPaths.StandardLocation
    for kind in (location.MoviesLocation, location.DownloadLocation, location.HomeLocation):
        folder = QStandardPaths.writableLocation(kind)
        if folder and Path(folder).is_dir():
            return folder
    return str(Path.home())


class ExportDialog(QDialog):
    def __init__(
        self,
        controller: ExportController,
        camera_id: str,
        disk_id: str,
        title: str,
        spans: list[Span],
        selection: tuple[float, float],
        zone: tzinfo,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.controller = controller
        self.camera_id, self.disk_id, self.zone = camera_id, disk_id, zone
        self.camera_name = controller.camera_name(camera_id)
        self.t0, self.t1 = selection
        self.pieces = pieces(spans, self.t0, self.t1, time.time())
        self.preview: ExportPreview | None = None
        self.refusal = "" if self.pieces else "No recording covers the selected range."
        self._closed = False
        self.setWindowTitle(f"Export — {title}")
        self.setMinimumWidth(520)
        self._build()
        controller.previewed.connect(self.on_previewed)
        self._asked = controller.preview(camera_id, disk_id, self.pieces) if self.pieces else 0
        self._validate()

    # --- building ------------------------------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.addLayout(self._what())
        layout.addWidget(self._format_box())
        layout.addWidget(self._destination_box())
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        layout.addWidget(self.hint)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.add_button.setText("&Add to queue")
        self.buttons.accepted.connect(self.on_add)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

    def _what(self) -> QFormLayout:
        form = QFormLayout()
        seconds = self.t1 - self.t0
        zone_name = datetime.fromtimestamp(self.t0, self.zone).tzname() or str(self.zone)
        self.range_label = QLabel(
            f"{local_time(self.t0, self.zone)} – {local_time(self.t1, self.zone)} {zone_name} "
            f"({describe_seconds(seconds)})"
        )
        self.start_label = QLabel(ASKING if self.pieces else "—")
        self.start_label.setWordWrap(True)
        self.size_label = QLabel(ASKING if self.pieces else "—")
        self.outcome = QLabel(self.refusal)
        self.outcome.setObjectName("checkResult")
        self.outcome.setProperty("kind", "error")
        self.outcome.setWordWrap(True)
        self.outcome.setVisible(bool(self.refusal))
        form.addRow("Camera:", QLabel(self.camera_name))
        form.addRow("Disk:", QLabel(DISK_KINDS.get(self.disk_id, self.disk_id)))
        form.addRow("Selected:", self.range_label)
        form.addRow("Starts at:", self.start_label)
        form.addRow("Size:", self.size_label)
        form.addRow(self.outcome)
        return form

    def _format_box(self) -> QGroupBox:
        box = QGroupBox("Format")
        self.matroska = QRadioButton("&Matroska video (.mkv)")
        self.zip = QRadioButton("AES-256 &ZIP with a password (.zip)")
        self.matroska.setChecked(True)
        self.formats = QButtonGroup(self)
        self.formats.addButton(self.matroska)
        self.formats.addButton(self.zip)
        self.password = QLineEdit(echoMode=QLineEdit.EchoMode.Password, maxLength=MAX_PASSWORD_BYTES)
        self.confirm = QLineEdit(echoMode=QLineEdit.EchoMode.Password, maxLength=MAX_PASSWORD_BYTES)
        self.password.setPlaceholderText(f"at most {MAX_PASSWORD_BYTES} bytes")
        form = QFormLayout(box)
        form.addRow(self.matroska)
        form.addRow(self.zip)
        form.addRow("&Password:", self.password)
        form.addRow("&Confirm:", self.confirm)
        for widget in (self.password, self.confirm):
            widget.textChanged.connect(self._validate)
        self.formats.buttonToggled.connect(self._validate)
        return box

    def _destination_box(self) -> QGroupBox:
        box = QGroupBox("Save to")
        self.local = QRadioButton("&This computer")
        self.usb = QRadioButton("The camera's &USB disk")
        self.local.setChecked(True)
        self.destinations = QButtonGroup(self)
        self.destinations.addButton(self.local)
        self.destinations.addButton(self.usb)
        self.folder = QLineEdit(default_folder())
        self.choose = QPushButton("C&hoose…")
        self.choose.clicked.connect(self.on_choose_folder)
        start = datetime.fromtimestamp(self.t0, self.zone)
        self.file_name = QLineEdit(safe_file_name(f"{self.camera_name} {start:%Y-%m-%d %H.%M.%S}"))
        self.usb_path = QLineEdit()
        self.usb_path.setPlaceholderText("optional: clips/door.mkv, or a folder ending in /")
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(self.choose)
        form = QFormLayout(box)
        form.addRow(self.local)
        folder_label = QLabel("&Folder:")  # a row holding a layout gets no buddy by itself: the mnemonic needs one
        folder_label.setBuddy(self.folder)
        form.addRow(folder_label, folder_row)
        form.addRow("File &name:", self.file_name)
        form.addRow(self.usb)
        form.addRow("&Path on the disk:", self.usb_path)
        for line in (self.folder, self.file_name, self.usb_path):
            line.textChanged.connect(self._validate)
        self.destinations.buttonToggled.connect(self._validate)
        return box

    @property
    def add_button(self) -> QPushButton:
        button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        assert button is not None, "the box was made with an OK button"
        return button

    # --- the camera's answer -------------------------------------------------------------------------------------

    def on_previewed(self, number: int, answer: object) -> None:
        if number != self._asked:
            return
        if isinstance(answer, ExportPreview):
            self.preview = answer
            self._show_preview(answer)
        else:
            self.refusal = str(answer)
            self.start_label.setText("—")
            self.size_label.setText("—")
            self.outcome.setText(self.refusal)
            self.outcome.show()
        self._validate()

    def _show_preview(self, preview: ExportPreview) -> None:
        start = local_time(preview.start, self.zone)
        if preview.snapped_by > 0.0005:
            start += f" — {preview.snapped_by:.1f} s earlier than selected: an export begins at a key frame"
        self.start_label.setText(start)
        files = len(preview.pieces)
        spread = f" in {files} files (the range crosses {files} recordings)" if files > 1 else ""
        size = preview.estimated_bytes
        known = f"about {human_size(-(-size // 1024))}" if size is not None else "unknown (the camera cannot tell)"
        self.size_label.setText(known + spread)
        if not preview.encrypts:
            self.zip.setEnabled(False)
            self.zip.setToolTip(NO_ZIP)
            self.matroska.setChecked(True)

    # --- choosing ------------------------------------------------------------------------------------------------

    def chosen_format(self) -> ExportFormat:
        return ExportFormat.ZIP_AES256 if self.zip.isChecked() else ExportFormat.MATROSKA

    def destination(self) -> Destination:
        if self.usb.isChecked():
            return UsbDestination(self.usb_path.text().strip())
        return LocalDestination(Path(self.folder.text().strip()), self.file_name.text().strip())

    def on_choose_folder(self) -> None:
        """A folder chooser opened window-modal on the dialog: the rest of the app goes on meanwhile."""
        chooser = QFileDialog(self, "Save exports in", self.folder.text())
        chooser.setFileMode(QFileDialog.FileMode.Directory)
        chooser.setOption(QFileDialog.Option.ShowDirsOnly, True)
        chooser.fileSelected.connect(self.folder.setText)
        chooser.finished.connect(chooser.deleteLater)
        chooser.open()

    def problem(self) -> str:
        """Why Add is off, or "" when the job can be queued."""
        if self.refusal:
            return self.refusal
        if self.preview is None:
            return "Waiting for the camera's answer."
        if self.zip.isChecked():
            problem = password_problem(self.password.text())
            if problem:
                return problem
            if self.password.text() != self.confirm.text():
                return "The passwords do not match."
        return self._local_problem() if self.local.isChecked() else self._usb_problem()

    def _local_problem(self) -> str:
        folder = self.folder.text().strip()
        if not folder:
            return "Choose a folder."
        if not Path(folder).is_dir():
            return "The folder does not exist."
        if not safe_file_name(self.file_name.text()):
            return "Enter a file name."
        return ""

    def _usb_problem(self) -> str:
        path = self.usb_path.text().strip().replace("\\", "/")
        if ".." in path.split("/"):
            return "The path may not contain '..'."
        return ""

    def _validate(self) -> None:
        zipped, local = self.zip.isChecked(), self.local.isChecked()
        fields: list[tuple[QWidget, bool]] = [(self.password, zipped), (self.confirm, zipped)]
        fields += [(self.folder, local), (self.choose, local), (self.file_name, local)]
        for widget, enabled in fields:
            widget.setEnabled(enabled)
        self.usb_path.setEnabled(not local)
        problem = self.problem()
        self.add_button.setEnabled(not problem)
        self.add_button.setToolTip(problem)
        self.hint.setText(problem)

    def on_add(self) -> None:
        if self.problem() or self.preview is None:
            return
        zipped = self.chosen_format() is ExportFormat.ZIP_AES256
        job = ExportJob(
            self.camera_id,
            self.disk_id,
            self.camera_name,
            self.preview.pieces,
            self.destination(),
            self.chosen_format(),
            self.password.text() if zipped else None,
            self.zone,
        )
        self.controller.enqueue(job)
        self.accept()

    def done(self, result: int) -> None:
        """Closed for good: the camera's late answer is not wanted, and the dialog is freed."""
        if not self._closed:
            self._closed = True
            self.controller.previewed.disconnect(self.on_previewed)
            self.deleteLater()
        super().done(result)
