"""PlayerPanel: the pictures (one per camera playing together), the wall-clock time of the picture on screen,
and play/pause, speed, snapshot and full screen.

The time comes from the stream clock that the app's RTSP session keeps (ui.controllers.player), not from
libvlc, so it is the camera's capture time even across interrupted recordings; when paused it is the exact
time of the still shown.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.playback.still import Still
from resources import icon
from ui.controllers.player import MAX_LANES, SPEEDS, PlayerController
from ui.player.surface import VideoSurface


def speed_label(speed: float) -> str:
    return f"1/{round(1 / speed)}×" if speed < 1 else f"{speed:g}×"


class PlayerPanel(QWidget):
    """Signals: full_screen_toggled() — the operator asked for full screen, or out of it."""

    full_screen_toggled = Signal()

    def __init__(self, controller: PlayerController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.zone: tzinfo | None = None
        self.surfaces = [VideoSurface() for _ in range(MAX_LANES)]  # made once: libvlc may still draw into one
        self.grid = QGridLayout()
        self.grid.setSpacing(2)
        for surface in self.surfaces:
            surface.double_clicked.connect(self.full_screen_toggled)
        self._lay_out(1)
        self.time_label = QLabel("Click the timeline to play from there")
        self.time_label.setObjectName("playerTime")
        self.time_label.setStyleSheet("font-size: 14pt; font-weight: 600;")
        # It also carries the controller's messages, which can be a sentence long: wrapped in the room the buttons
        # leave, rather than widening the window and squeezing the camera list.
        self.time_label.setWordWrap(True)
        self.time_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.time_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.play_button = QPushButton(icon("pause"), "&Pause")
        self.play_button.setCheckable(True)
        self.play_button.setEnabled(False)
        self.play_button.setToolTip("Pause or play on (K) · J slower, L faster · ←/→ one frame · Shift+←/→ 10 s")
        self.speed = QComboBox()
        for speed in SPEEDS:
            self.speed.addItem(speed_label(speed), speed)
        self.speed.setCurrentIndex(SPEEDS.index(1.0))
        self.speed.setToolTip("Playback speed, 1/8× to 16× (J and L)")
        self.snapshot_button = QPushButton(icon("snapshot"), "&Snapshot…")
        self.snapshot_button.setToolTip("Save the picture on screen as PNG")
        self.snapshot_button.setEnabled(False)
        self.full_button = QPushButton(icon("fullscreen"), "&Full screen")
        self.full_button.setToolTip("Full screen (F or double-click the picture; Esc leaves it)")
        self.full_button.clicked.connect(self.full_screen_toggled)
        controls = QHBoxLayout()
        controls.addWidget(self.play_button)
        controls.addWidget(QLabel("Speed:"))
        controls.addWidget(self.speed)
        controls.addWidget(self.snapshot_button)
        controls.addWidget(self.full_button)
        controls.addWidget(self.time_label, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.grid, 1)
        layout.addLayout(controls)
        controller.set_windows([w for s in self.surfaces if (w := s.window_id()) is not None])
        controller.lanes_changed.connect(self._lay_out)
        controller.time_changed.connect(self.on_time)
        controller.playing_changed.connect(self.on_playing)
        controller.paused_changed.connect(self.on_paused)
        controller.still_changed.connect(self.on_still)
        controller.gap_shown.connect(lambda lane, moment: self.surfaces[lane].show_gap(moment, self.zone))
        controller.speed_changed.connect(self.on_speed)
        controller.message.connect(self.time_label.setText)
        self.play_button.toggled.connect(self.on_pause_toggled)
        self.speed.currentIndexChanged.connect(lambda _i: controller.set_speed(float(self.speed.currentData())))
        self.snapshot_button.clicked.connect(self.on_snapshot)

    @property
    def surface(self) -> VideoSurface:
        return self.surfaces[0]

    def _lay_out(self, lanes: int) -> None:
        """One picture alone, or a 2x2 grid for cameras playing together."""
        columns = 1 if lanes <= 1 else 2
        for index, surface in enumerate(self.surfaces):
            self.grid.removeWidget(surface)
            if index < max(lanes, 1):
                self.grid.addWidget(surface, index // columns, index % columns)
                surface.show()
            else:
                surface.hide()

    def on_time(self, moment: datetime) -> None:
        # whole milliseconds, as the camera stamps its pictures; the RTP clock's 90 kHz ticks can land a few
        # microseconds below the capture time, which must not show as the millisecond before
        rounded = moment + timedelta(microseconds=20)
        shown = rounded.astimezone(self.zone) if self.zone is not None else rounded.astimezone()
        self.time_label.setText(shown.strftime("%a %d %b %Y %H:%M:%S.") + f"{shown.microsecond // 1000:03d}")

    def on_playing(self, playing: bool) -> None:
        self.play_button.setEnabled(playing or self.controller.paused)
        self.snapshot_button.setEnabled(playing or self.controller.paused)

    def on_paused(self, paused: bool) -> None:
        self.play_button.blockSignals(True)
        self.play_button.setChecked(paused)
        self.play_button.blockSignals(False)
        self.play_button.setText("&Play" if paused else "&Pause")
        self.play_button.setIcon(icon("play" if paused else "pause"))
        self.on_playing(self.controller.playing)

    def on_still(self, lane: int, still: Still | None) -> None:
        if lane >= len(self.surfaces):
            return
        if still is None:
            self.surfaces[lane].show_video()
        else:
            self.surfaces[lane].show_still(still)

    def on_speed(self, speed: float) -> None:
        index = self.speed.findData(speed)
        if index >= 0 and index != self.speed.currentIndex():
            self.speed.blockSignals(True)
            self.speed.setCurrentIndex(index)
            self.speed.blockSignals(False)

    def on_pause_toggled(self, paused: bool) -> None:
        self.controller.pause(paused)

    def on_snapshot(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save snapshot", "snapshot.png", "PNG image (*.png)")
        if path and not self.controller.snapshot(Path(path)):
            self.time_label.setText("The snapshot could not be saved.")
