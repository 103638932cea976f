"""PlayerPanel: the video, the wall-clock time of the frame on screen, and play/pause, speed and snapshot.

libvlc draws straight into a native child window (no copy through Qt); the time comes from the stream clock
that the app's RTSP session keeps (ui.controllers.player), not from libvlc, so it is the camera's capture time
even across interrupted recordings.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from resources import icon
from ui.controllers.player import SPEEDS, PlayerController


def speed_label(speed: float) -> str:
    return f"1/{round(1 / speed)}×" if speed < 1 else f"{speed:g}×"


class PlayerPanel(QWidget):
    def __init__(self, controller: PlayerController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.zone: tzinfo | None = None
        self.surface = QFrame()
        self.surface.setObjectName("videoSurface")
        self.native = QGuiApplication.platformName() not in ("offscreen", "minimal")  # no windows to draw into
        if self.native:
            self.surface.setAttribute(Qt.WidgetAttribute.WA_NativeWindow)
        self.surface.setMinimumSize(320, 180)
        self.surface.setStyleSheet("QFrame#videoSurface { background: black; }")
        self.time_label = QLabel("Click the timeline to play from there")
        self.time_label.setObjectName("playerTime")
        self.time_label.setStyleSheet("font-size: 14pt; font-weight: 600;")
        self.play_button = QPushButton(icon("recording"), "&Pause")
        self.play_button.setCheckable(True)
        self.play_button.setEnabled(False)
        self.play_button.setShortcut(QKeySequence(Qt.Key.Key_K))
        self.play_button.setToolTip("Pause or play on (K)")
        self.speed = QComboBox()
        for speed in SPEEDS:
            self.speed.addItem(speed_label(speed), speed)
        self.speed.setCurrentIndex(SPEEDS.index(1.0))
        self.speed.setToolTip("Playback speed, 1/8× to 16×")
        self.snapshot_button = QPushButton(icon("check"), "&Snapshot…")
        self.snapshot_button.setToolTip("Save the picture on screen as PNG")
        self.snapshot_button.setEnabled(False)
        controls = QHBoxLayout()
        controls.addWidget(self.play_button)
        controls.addWidget(QLabel("Speed:"))
        controls.addWidget(self.speed)
        controls.addWidget(self.snapshot_button)
        controls.addStretch(1)
        controls.addWidget(self.time_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.surface, 1)
        layout.addLayout(controls)
        if self.native:
            controller.set_window(int(self.surface.winId()))
        controller.time_changed.connect(self.on_time)
        controller.playing_changed.connect(self.on_playing)
        controller.message.connect(self.time_label.setText)
        self.play_button.toggled.connect(self.on_pause_toggled)
        self.speed.currentIndexChanged.connect(lambda _i: controller.set_speed(float(self.speed.currentData())))
        self.snapshot_button.clicked.connect(self.on_snapshot)

    def on_time(self, moment: datetime) -> None:
        shown = moment.astimezone(self.zone) if self.zone is not None else moment.astimezone()
        self.time_label.setText(shown.strftime("%a %d %b %Y %H:%M:%S.") + f"{shown.microsecond // 1000:03d}")

    def on_playing(self, playing: bool) -> None:
        self.play_button.setEnabled(playing)
        self.snapshot_button.setEnabled(playing)
        if not playing:
            self.play_button.setChecked(False)

    def on_pause_toggled(self, paused: bool) -> None:
        self.play_button.setText("&Play" if paused else "&Pause")
        self.controller.pause(paused)

    def on_snapshot(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save snapshot", "snapshot.png", "PNG image (*.png)")
        if path and not self.controller.snapshot(Path(path)):
            self.time_label.setText("The snapshot could not be saved.")
