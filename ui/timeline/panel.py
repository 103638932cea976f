"""TimelinePanel: the player above the recordings of every online camera on one time axis, with the operator's
keys (J/K/L, frame steps, ±10 s, I/O for an export range, F for full screen), zoom buttons and a legend.

An ongoing recording is painted up to "now"; a one-second repaint while one is ongoing makes it grow on screen
between refreshes, which are rare for cameras whose storage events arrive live."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSplitter, QToolBar, QVBoxLayout, QWidget

from app.timeline.spans import SpanKind
from resources import icon
from ui.controllers.exports import ExportController
from ui.controllers.player import JUMP_SECONDS, PlayerController
from ui.controllers.timeline import TimelineController
from ui.export.dialog import ExportDialog
from ui.export.queue_panel import ExportQueuePanel
from ui.player.panel import PlayerPanel
from ui.timeline.view import EXPORTED_COLOUR, KIND_COLOURS, Selection, TimelineView, Track

DAY = 86400.0
GROW_MS = 1000  # how often an ongoing recording's end is repainted


class TimelinePanel(QWidget):
    """Signals: full_screen_changed(bool) — the window should hide everything but the picture, or bring it back."""

    full_screen_changed = Signal(bool)

    def __init__(
        self,
        controller: TimelineController,
        player: PlayerController,
        exports: ExportController,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.controller = controller
        self.player = player
        self.exports = exports
        self.export_dialog: ExportDialog | None = None
        self.queue_panel = ExportQueuePanel(exports)
        self.full_screen = False
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
        self.export = QAction(icon("export"), "E&xport…", self)
        self.export.setShortcut(QKeySequence("E"))
        self.export.setEnabled(False)
        self.export.setToolTip("Export the selected range (Shift+drag on a track, or I and O at the playhead)")
        self.zoom_in.triggered.connect(lambda: self.view.zoom(2.0))
        self.zoom_out.triggered.connect(lambda: self.view.zoom(0.5))
        self.fit.triggered.connect(self.show_all)
        self.last_day.triggered.connect(lambda: self.view.show_range(time.time() - DAY, time.time() + DAY / 48))
        self.export.triggered.connect(self.on_export)
        for action in (self.zoom_in, self.zoom_out, self.fit, self.last_day, self.export):
            toolbar.addAction(action)
        self._keys()
        legend = QHBoxLayout()
        legend.addWidget(self.status, 1)
        for kind in (SpanKind.CONTINUOUS, SpanKind.SCHEDULED, SpanKind.TRIGGERED):
            legend.addWidget(_swatch(f"■ {kind.value}", KIND_COLOURS[kind].name()))
        legend.addWidget(_swatch("▁ exported", EXPORTED_COLOUR.name()))
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.player_panel)
        self.timeline_part = QWidget()
        lower = QVBoxLayout(self.timeline_part)
        lower.setContentsMargins(0, 0, 0, 0)
        lower.addWidget(toolbar)
        lower.addWidget(self.view, 1)
        lower.addLayout(legend)
        splitter.addWidget(self.timeline_part)
        splitter.addWidget(self.queue_panel)
        splitter.setSizes([400, 250, 90])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self.layout_ = layout
        controller.tracks_changed.connect(self.on_tracks_changed)
        controller.spans_changed.connect(self.view.update)
        controller.spans_changed.connect(self._count)
        controller.loaded.connect(self.on_loaded)
        self.view.track_clicked.connect(self.on_track_clicked)
        self.view.scrubbed.connect(self.on_scrubbed)
        self.view.scrub_released.connect(self.on_scrub_released)
        self.view.selection_changed.connect(lambda: self.export.setEnabled(self.view.selection is not None))
        exports.exported.connect(self.mark_exported)
        self.player_panel.full_screen_toggled.connect(lambda: self.set_full_screen(not self.full_screen))
        player.time_changed.connect(lambda moment: self.view.set_playhead(moment.timestamp()))
        self.grow_timer = QTimer(self)
        self.grow_timer.setInterval(GROW_MS)
        self.grow_timer.timeout.connect(self.grow)
        self.grow_timer.start()

    def grow(self) -> None:
        """Repaint while a recording is ongoing: its span ends at the view's clock, which has moved on."""
        if any(track.spans.ongoing for track in self.view.tracks):
            self.view.update()

    def _keys(self) -> None:
        """The operator's keys, live anywhere in the tab (not only with the timeline focused)."""
        bindings: list[tuple[str, str, Callable[[], object]]] = [
            ("K", "Pause or play on", self.player.toggle_pause),
            ("J", "Slower", self.player.slower),
            ("L", "Play, or faster", self.player.faster),
            ("Left", "One frame back", lambda: self.player.step(-1)),
            ("Right", "One frame on", lambda: self.player.step(1)),
            ("Shift+Left", "10 s back", lambda: self.player.jump(-JUMP_SECONDS)),
            ("Shift+Right", "10 s on", lambda: self.player.jump(JUMP_SECONDS)),
            ("I", "Export range starts at the playhead", lambda: self.mark(True)),
            ("O", "Export range ends at the playhead", lambda: self.mark(False)),
            ("F", "Full screen", lambda: self.set_full_screen(not self.full_screen)),
        ]
        self.key_actions: dict[str, QAction] = {}
        for key, text, slot in bindings:
            action = QAction(text, self)
            action.setShortcut(QKeySequence(key))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.triggered.connect(slot)
            self.addAction(action)
            self.key_actions[key] = action
        self.leave_full_screen = QAction("Leave full screen", self)
        self.leave_full_screen.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        self.leave_full_screen.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.leave_full_screen.setEnabled(False)
        self.leave_full_screen.triggered.connect(lambda: self.set_full_screen(False))
        self.addAction(self.leave_full_screen)
        self.export.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)

    # --- playing -------------------------------------------------------------------------------------------------

    def _tracks_for(self, key: str | None) -> list[Track]:
        """What plays: the clicked track and those linked with it; when scrubbing, what is playing already."""
        if key is not None:
            return self.view.tracks_to_play(key)
        if self.player.lanes:
            return [lane.track for lane in self.player.lanes]
        if self.view.linked:
            return self.view.tracks_to_play(self.view.linked[0])
        return self.view.tracks[:1]

    def on_track_clicked(self, key: str, moment: float) -> None:
        tracks = self._tracks_for(key)
        if tracks:
            self.player_panel.zone = tracks[0].zone
            self.player.play_from(tracks, moment)

    def on_scrubbed(self, moment: float) -> None:
        tracks = self._tracks_for(None)
        if tracks:
            self.player_panel.zone = tracks[0].zone
            self.player.scrub(tracks, moment)

    def on_scrub_released(self, moment: float) -> None:
        tracks = self._tracks_for(None)
        if tracks:
            self.player.play_from(tracks, moment)

    def set_full_screen(self, on: bool) -> None:
        """Only the picture and its controls; the window goes full screen (MainWindow hides its own parts)."""
        if on == self.full_screen:
            return
        self.full_screen = on
        self.timeline_part.setVisible(not on)
        self.queue_panel.setVisible(not on)
        self.layout_.setContentsMargins(*((0, 0, 0, 0) if on else (9, 9, 9, 9)))
        self.leave_full_screen.setEnabled(on)
        self.full_screen_changed.emit(on)

    # --- export range --------------------------------------------------------------------------------------------

    def mark(self, start: bool) -> None:
        """I and O: the export range begins or ends at the playhead, on the track playing (or the first)."""
        moment = self.view.playhead
        tracks = self._tracks_for(None)
        if moment is None or not tracks:
            return
        current = self.view.selection
        key = tracks[0].key
        if current is None or current.key != key:
            current = Selection(key, moment, moment)
        if start:
            self.view.set_selection(Selection(key, moment, max(moment, current.stop)))
        else:
            self.view.set_selection(Selection(key, min(moment, current.start), moment))

    def on_export(self) -> None:
        """The export dialog for the selected range; it asks the camera first (properties.cgi)."""
        selection = self.view.selection
        track = self.view.track(selection.key) if selection is not None else None
        if selection is None or track is None or selection.stop <= selection.start:
            return
        camera_id, disk_id = track.key.split("/", 1)
        self.export_dialog = self.exports.open_dialog(
            camera_id, disk_id, track.title, track.spans.spans, selection.start, selection.stop, track.zone, self
        )

    def mark_exported(self, key: str, _start: float = 0.0, _stop: float = 0.0) -> None:
        """Exported ranges are drawn under their track, as the history holds them (merged, kept across runs)."""
        track = self.view.track(key)
        if track is not None:
            track.exported = self.exports.history.ranges(key)
            self.view.update()

    # --- content -------------------------------------------------------------------------------------------------

    def on_tracks_changed(self) -> None:
        for track in self.controller.tracks:
            track.exported = self.exports.history.ranges(track.key)
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


def _swatch(text: str, colour: str) -> QLabel:
    swatch = QLabel(text)
    swatch.setStyleSheet(f"color: {colour};")
    return swatch
