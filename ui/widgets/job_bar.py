"""JobBar: the progress of the action running on a camera, and how it ended.

Every long action (format, check, encryption, share test, bind) reports through one bar under the panel, so
the installer always looks at the same place; the result stays until the next action starts.
"""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QVBoxLayout, QWidget

from ui.controllers.storage import StorageController


class JobBar(QWidget):
    def __init__(self, controller: StorageController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.step = QLabel()
        self.bar = QProgressBar()
        self.bar.setObjectName("jobProgress")
        self.bar.setRange(0, 100)
        self.bar.setTextVisible(True)
        self.result = QLabel()
        self.result.setObjectName("jobResult")
        self.result.setWordWrap(True)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.step)
        row.addWidget(self.bar, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.result)
        self.step.hide()
        self.bar.hide()
        self.result.hide()
        controller.busy_changed.connect(self.on_busy)
        controller.progress.connect(self.on_progress)
        controller.finished.connect(self.on_finished)

    def on_busy(self, busy: bool) -> None:
        if busy:
            self.bar.setValue(0)
            self.result.hide()
        self.step.setVisible(busy)
        self.bar.setVisible(busy)

    def on_progress(self, step: str, percent: int) -> None:
        self.step.setText(f"{step}…")
        self.bar.setValue(percent)

    def on_finished(self, ok: bool, message: str) -> None:
        self.result.setText(message)
        self.result.setProperty("kind", "ok" if ok else "error")
        self.result.style().unpolish(self.result)
        self.result.style().polish(self.result)
        self.result.show()
