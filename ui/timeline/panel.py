"""TimelinePanel: the recordings of every online camera on one time axis, with zoom buttons and a legend."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSplitter, QToolBar, QVBoxLayout, QWidget

from app.timeline.spans import SpanKind
from resources import icon
from ui.controllers.player import PlayerController
from ui.controllers.timeline import TimelineController
from ui.player.panel import PlayerPanel
from ui.timeline.view import KIND_COLOURS, TimelineView

DAY = 86400.0


class TimelinePanel(QWidget):
    def __init__(self, controller: TimelineController, player: PlayerController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.player = player
        self.player_panel = PlayerPanel(player, self)
        self.view = TimelineView(self)
        self.status = QLabel("Loading recordings…")
        toolbar = QToolBar("Timeline", self)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.zoom_in = QAction(icon("add"), "Zoom &in", self)
        self.zoom_in.setShortcut(QKeySequence(QKeySequence.StandardKey.ZoomIn))
        self.zoom_out = QAction(icon("remove"), "Zoom &out", self)
        self.zoom_out.setShortcut(QKeySequence(QKeySequence.StandardKey.ZoomOut))
        self.fit = QAction(icon("refresh"), "&All recordings", self)
        self.last_day = QAction(icon("recording"), "&Last 24 hours", self)
        self.zoom_in.triggered.connect(lambda: self.view.zoom(2.0))
        self.zoom_out.triggered.connect(lambda: self.view.zoom(0.5))
        self.fit.triggered.connect(self.show_all)
        self.last_day.triggered.connect(lambda: self.view.show_range(time.time() - DAY, time.time() + DAY / 48))
        for action in (self.zoom_in, self.zoom_out, self.fit, self.last_day):
            toolbar.addAction(action)
        legend = QHBoxLayout()
        legend.addWidget(self.status, 1)
        for kind in (SpanKind.CONTINUOUS, SpanKind.SCHEDULED, SpanKind.TRIGGERED):
            swatch = QLabel(f"■ {kind.value}")
            swatch.setStyleSheet(f"color: {KIND_COLOURS[kind].name()};")
            legend.addWidget(swatch)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.player_panel)
        timeline = QWidget()
        lower = QVBoxLayout(timeline)
        lower.setContentsMargins(0, 0, 0, 0)
        lower.addWidget(toolbar)
        lower.addWidget(self.view, 1)
        lower.addLayout(legend)
        splitter.addWidget(timeline)
        splitter.setSizes([420, 260])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        controller.tracks_changed.connect(self.on_tracks_changed)
        controller.spans_changed.connect(self.view.update)
        controller.spans_changed.connect(self._count)
        controller.loaded.connect(self.on_loaded)
        self.view.track_clicked.connect(self.on_track_clicked)
        player.time_changed.connect(lambda moment: self.view.set_playhead(moment.timestamp()))

    def on_track_clicked(self, key: str, moment: float) -> None:
        track = self.view.track(key)
        if track is not None:
            self.player_panel.zone = track.zone
            self.player.play_from(track, moment)

    def on_tracks_changed(self) -> None:
        self.view.set_tracks(self.controller.tracks)
        self._count()

    def on_loaded(self, t0: float, t1: float) -> None:
        if t1 > t0:
            self.view.show_range(t0 - (t1 - t0) * 0.02, t1 + (t1 - t0) * 0.02)
        self._count()

    def show_all(self) -> None:
        spans = [s for t in self.controller.tracks for s in t.spans.spans]
        if spans:
            now = time.time()
            self.on_loaded(min(s.start for s in spans), max(s.end(now) for s in spans))

    def _count(self) -> None:
        total = sum(len(t.spans) for t in self.controller.tracks)
        cameras = len({t.key.split("/", 1)[0] for t in self.controller.tracks})
        self.status.setText(f"{total} recording(s) on {len(self.controller.tracks)} disk(s) of {cameras} camera(s)")
