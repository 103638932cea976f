"""TimelineView: the operator's timeline, painted: one track per camera and disk, recordings as coloured spans
(gaps are the background between them), a time axis with day boundaries in the camera's local time, and the
playhead.

Painting asks each track for its intervals at about one pixel (app.timeline.spans), so a frame costs about one
rectangle per pixel column however many recordings there are. Zoom with the wheel, +/- or a pinch (around the
pointer); pan by dragging or with Page Up/Down; hover for a recording's details; click to move the playhead.

Three drags, told apart where they start: on the playhead or the time axis it scrubs (the player shows the
picture under it and plays on release), with Shift it selects a range of one track to export, anywhere else it
pans. Ctrl+click on a track links it to the others linked, and linked tracks play together.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFontMetrics,
    QKeyEvent,
    QMouseEvent,
    QNativeGestureEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QWheelEvent,
)
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from app.timeline.scale import TimeScale, day_boundaries, ticks
from app.timeline.spans import Span, SpanKind, SpanTrack

AXIS_HEIGHT = 34
TRACK_HEIGHT = 30
LABEL_WIDTH = 190
KIND_COLOURS = {
    SpanKind.CONTINUOUS: QColor("#2e7d32"),
    SpanKind.SCHEDULED: QColor("#1565c0"),
    SpanKind.TRIGGERED: QColor("#ef6c00"),
    SpanKind.OTHER: QColor("#6d4c41"),
}
EXPORTED_COLOUR = QColor("#8e24aa")
SELECTION_COLOUR = QColor(41, 121, 255, 70)
WHEEL_STEP = 1.25  # zoom per wheel notch
KEY_PAN_FRACTION = 0.2
PLAYHEAD_GRAB_PX = 6  # how near the playhead a press grabs it


@dataclass
class Track:
    """One row: a camera's disk."""

    key: str  # camera id / disk id
    title: str
    spans: SpanTrack = field(default_factory=SpanTrack)
    zone: tzinfo = UTC  # the camera's: where its days begin
    exported: list[tuple[float, float]] = field(default_factory=list)  # ranges already exported, to mark


@dataclass(frozen=True)
class Selection:
    """A range of one track, for export."""

    key: str
    start: float
    stop: float


class TimelineView(QWidget):
    """Signals: playhead_moved(float) when the user clicks the timeline (seconds since the epoch);
    track_clicked(str, float): the same click with the key of the track under it (the first track when the click
    is on the time axis), which is what playback starts from;
    scrubbed(float) while the playhead is dragged, scrub_released(float) when it is let go;
    selection_changed(): the export range changed (or was cleared); linked_changed(): tracks linked or unlinked."""

    playhead_moved = Signal(float)
    track_clicked = Signal(str, float)
    scrubbed = Signal(float)
    scrub_released = Signal(float)
    selection_changed = Signal()
    linked_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tracks: list[Track] = []
        now = time.time()
        self.scale = TimeScale(now - 3600, 3600 / 800)
        self.playhead: float | None = None
        self.clock = time.time  # injectable: what "now" is for ongoing recordings
        self.selection: Selection | None = None
        self.linked: list[str] = []  # keys of the tracks that play together, in the order linked
        self._drag_x: float | None = None
        self._dragged = False
        self._scrubbing = False
        self._selecting: tuple[str, float] | None = None  # track key, where the selection drag began
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setAttribute(Qt.WidgetAttribute.WA_AcceptTouchEvents)
        self.setAccessibleName("Recordings timeline")
        self.setToolTip(
            "Click to play from there · drag the red playhead or the time axis to scrub · drag to move · "
            "wheel or +/- to zoom · Shift+drag to select a range to export · Ctrl+click to link tracks"
        )

    # --- content -------------------------------------------------------------------------------------------------

    def set_tracks(self, tracks: list[Track]) -> None:
        self.tracks = tracks
        self.updateGeometry()
        self.update()

    def track(self, key: str) -> Track | None:
        return next((t for t in self.tracks if t.key == key), None)

    def show_range(self, t0: float, t1: float) -> None:
        self.scale = TimeScale.spanning(t0, t1, self._plot_width())
        self.update()

    def set_playhead(self, moment: float | None) -> None:
        if self._scrubbing:
            return  # the operator's hand is on it: playback reports must not pull it back
        self.playhead = moment
        self.update()

    def set_selection(self, selection: Selection | None) -> None:
        if selection is not None and selection.stop < selection.start:
            selection = Selection(selection.key, selection.stop, selection.start)
        if selection != self.selection:
            self.selection = selection
            self.selection_changed.emit()
            self.update()

    def toggle_link(self, key: str) -> None:
        if key in self.linked:
            self.linked.remove(key)
        else:
            self.linked.append(key)
        self.linked_changed.emit()
        self.update()

    def tracks_to_play(self, key: str) -> list[Track]:
        """The clicked track, and the tracks linked with it when it is one of them."""
        keys = self.linked if key in self.linked else [key]
        return [t for t in (self.track(k) for k in keys) if t is not None]

    @property
    def zone(self) -> tzinfo:
        return self.tracks[0].zone if self.tracks else UTC

    def sizeHint(self) -> QSize:
        return QSize(900, AXIS_HEIGHT + TRACK_HEIGHT * max(len(self.tracks), 2) + 8)

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(400, AXIS_HEIGHT + TRACK_HEIGHT + 8)

    # --- geometry ------------------------------------------------------------------------------------------------

    def _plot_width(self) -> float:
        return max(1.0, self.width() - LABEL_WIDTH)

    def _x(self, moment: float) -> float:
        return LABEL_WIDTH + self.scale.x(moment)

    def time_at(self, x: float) -> float:
        return self.scale.time(x - LABEL_WIDTH)

    def track_at(self, y: float) -> Track | None:
        row = int((y - AXIS_HEIGHT) // TRACK_HEIGHT)
        return self.tracks[row] if y >= AXIS_HEIGHT and 0 <= row < len(self.tracks) else None

    def span_at(self, x: float, y: float) -> tuple[Track, Span] | None:
        track = self.track_at(y)
        if track is None or x < LABEL_WIDTH:
            return None
        slack = 2 * self.scale.seconds_per_px  # a short recording is still hit within two pixels
        moment, now = self.time_at(x), self.clock()
        span = track.spans.at(moment, now)
        if span is None:
            near = track.spans.visible(moment - slack, moment + slack, now)
            span = near[-1] if near else None
        return (track, span) if span is not None else None

    # --- painting ------------------------------------------------------------------------------------------------

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.color(QPalette.ColorRole.Base))
        width = self._plot_width()
        t0, t1, now = self.scale.left, self.scale.right(width), self.clock()
        self._paint_days(painter, palette, t0, t1)
        self._paint_axis(painter, palette, width)
        for row, track in enumerate(self.tracks):
            self._paint_track(painter, palette, row, track, t0, t1, now)
        self._paint_selection(painter)
        self._paint_playhead(painter)
        painter.end()

    def _paint_days(self, painter: QPainter, palette: QPalette, t0: float, t1: float) -> None:
        shade = palette.color(QPalette.ColorRole.AlternateBase)
        line = palette.color(QPalette.ColorRole.Mid)
        bottom = AXIS_HEIGHT + TRACK_HEIGHT * len(self.tracks)
        days = day_boundaries(t0, t1, self.zone)
        for number, day in enumerate(days):
            x = self._x(day.moment)
            if number % 2 == 0:  # every other day shaded, so day boundaries read at a glance
                end = self._x(days[number + 1].moment) if number + 1 < len(days) else self.width()
                painter.fillRect(QRectF(x, AXIS_HEIGHT, end - x, bottom - AXIS_HEIGHT), shade)
            painter.setPen(QPen(line, 1))
            painter.drawLine(QPointF(x, 0), QPointF(x, bottom))
            painter.setPen(palette.color(QPalette.ColorRole.Text))
            painter.drawText(QPointF(x + 4, 12), day.label)

    def _paint_axis(self, painter: QPainter, palette: QPalette, width: float) -> None:
        text = palette.color(QPalette.ColorRole.Text)
        painter.setPen(QPen(palette.color(QPalette.ColorRole.Mid), 1))
        painter.drawLine(QPointF(LABEL_WIDTH, AXIS_HEIGHT - 1), QPointF(self.width(), AXIS_HEIGHT - 1))
        metrics = QFontMetrics(self.font())
        for tick in ticks(self.scale, width, self.zone):
            x = self._x(tick.moment)
            painter.setPen(QPen(palette.color(QPalette.ColorRole.Mid), 1))
            painter.drawLine(QPointF(x, AXIS_HEIGHT - 8), QPointF(x, AXIS_HEIGHT - 1))
            painter.setPen(text)
            painter.drawText(QPointF(x - metrics.horizontalAdvance(tick.label) / 2, AXIS_HEIGHT - 11), tick.label)

    def _paint_track(
        self, painter: QPainter, palette: QPalette, row: int, track: Track, t0: float, t1: float, now: float
    ) -> None:
        top = AXIS_HEIGHT + row * TRACK_HEIGHT
        painter.setPen(QPen(palette.color(QPalette.ColorRole.Midlight), 1))
        painter.drawLine(QPointF(0, top + TRACK_HEIGHT), QPointF(self.width(), top + TRACK_HEIGHT))
        painter.setPen(palette.color(QPalette.ColorRole.Text))
        font = self.font()
        title = track.title
        if track.key in self.linked:
            font.setBold(True)
            title = f"⧉ {title}"  # linked: plays with the other linked tracks
        painter.setFont(font)
        label = QFontMetrics(font).elidedText(title, Qt.TextElideMode.ElideRight, LABEL_WIDTH - 8)
        painter.drawText(QRectF(4, top, LABEL_WIDTH - 8, TRACK_HEIGHT), Qt.AlignmentFlag.AlignVCenter, label)
        painter.setFont(self.font())
        painter.setClipRect(QRectF(LABEL_WIDTH, top, self.width() - LABEL_WIDTH, TRACK_HEIGHT))
        per_px = self.scale.seconds_per_px
        for kind, colour in KIND_COLOURS.items():
            for start, end in track.spans.intervals(kind, t0, t1, per_px, now):
                x0, x1 = self._x(max(start, t0 - per_px)), self._x(min(end, t1 + per_px))
                painter.fillRect(QRectF(x0, top + 5, max(x1 - x0, 1.0), TRACK_HEIGHT - 10), colour)
        for start, end in track.exported:
            if end >= t0 and start <= t1:
                x0, x1 = self._x(max(start, t0 - per_px)), self._x(min(end, t1 + per_px))
                painter.fillRect(QRectF(x0, top + TRACK_HEIGHT - 4, max(x1 - x0, 2.0), 3), EXPORTED_COLOUR)
        painter.setClipping(False)

    def _paint_selection(self, painter: QPainter) -> None:
        if self.selection is None or (track := self.track(self.selection.key)) is None:
            return
        top = AXIS_HEIGHT + self.tracks.index(track) * TRACK_HEIGHT
        x0 = max(float(LABEL_WIDTH), self._x(self.selection.start))
        x1 = min(float(self.width()), self._x(self.selection.stop))
        if x1 < LABEL_WIDTH or x0 > self.width():
            return
        area = QRectF(x0, top + 1, max(x1 - x0, 2.0), TRACK_HEIGHT - 2)
        painter.fillRect(area, SELECTION_COLOUR)
        painter.setPen(QPen(SELECTION_COLOUR.darker(150), 1))
        painter.drawRect(area)

    def _paint_playhead(self, painter: QPainter) -> None:
        if self.playhead is None:
            return
        x = self._x(self.playhead)
        if x < LABEL_WIDTH or x > self.width():
            return
        painter.setPen(QPen(QColor("#d32f2f"), 2))
        painter.drawLine(QPointF(x, AXIS_HEIGHT - 6), QPointF(x, self.height()))

    # --- interaction ---------------------------------------------------------------------------------------------

    def zoom(self, factor: float, anchor_x: float | None = None) -> None:
        anchor = (anchor_x if anchor_x is not None else LABEL_WIDTH + self._plot_width() / 2) - LABEL_WIDTH
        self.scale = self.scale.zoomed(factor, anchor)
        self.update()

    def pan(self, dx: float) -> None:
        self.scale = self.scale.panned(dx)
        self.update()

    def wheelEvent(self, event: QWheelEvent) -> None:
        notches = event.angleDelta().y() / 120
        if notches:
            self.zoom(WHEEL_STEP**notches, event.position().x())
        elif event.angleDelta().x():
            self.pan(event.angleDelta().x() / 2)
        event.accept()

    def event(self, event: QEvent) -> bool:
        if isinstance(event, QNativeGestureEvent) and event.gestureType() == Qt.NativeGestureType.ZoomNativeGesture:
            self.zoom(1 + event.value(), event.position().x())  # a trackpad pinch
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom(2.0)
        elif key == Qt.Key.Key_Minus:
            self.zoom(0.5)
        elif key == Qt.Key.Key_PageUp:
            self.pan(self._plot_width() * KEY_PAN_FRACTION)
        elif key == Qt.Key.Key_PageDown:
            self.pan(-self._plot_width() * KEY_PAN_FRACTION)
        elif key == Qt.Key.Key_Escape and self.selection is not None:
            self.set_selection(None)
        else:
            super().keyPressEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        x, y = event.position().x(), event.position().y()
        modifiers = event.modifiers()
        on_playhead = self.playhead is not None and abs(x - self._x(self.playhead)) <= PLAYHEAD_GRAB_PX
        if x >= LABEL_WIDTH and (y < AXIS_HEIGHT or on_playhead) and self.tracks:
            self._scrubbing = True
            self._scrub_to(x)
            return
        track = self.track_at(y)
        if modifiers & Qt.KeyboardModifier.ShiftModifier and track is not None and x >= LABEL_WIDTH:
            self._selecting = (track.key, self.time_at(x))
            self.set_selection(Selection(track.key, self.time_at(x), self.time_at(x)))
            return
        if modifiers & Qt.KeyboardModifier.ControlModifier and track is not None:
            self.toggle_link(track.key)
            return
        self._drag_x = x
        self._dragged = False

    def _scrub_to(self, x: float) -> None:
        moment = self.time_at(min(max(x, LABEL_WIDTH), self.width()))
        self.playhead = moment
        self.update()
        self.scrubbed.emit(moment)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        x = event.position().x()
        if self._scrubbing:
            self._scrub_to(x)
            return
        if self._selecting is not None:
            key, start = self._selecting
            self.set_selection(Selection(key, start, self.time_at(max(x, LABEL_WIDTH))))
            return
        if self._drag_x is not None:
            if abs(x - self._drag_x) > 2 or self._dragged:
                self._dragged = True
                self.pan(x - self._drag_x)
                self._drag_x = x
            return
        hit = self.span_at(x, event.position().y())
        QToolTip.showText(event.globalPosition().toPoint(), self.describe(hit) if hit else "", self)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        if self._scrubbing:
            self._scrubbing = False
            self._scrub_to(event.position().x())
            if self.playhead is not None:
                self.scrub_released.emit(self.playhead)
            return
        if self._selecting is not None:
            self._selecting = None
            if self.selection is not None and self.selection.stop - self.selection.start < self.scale.seconds_per_px:
                self.set_selection(None)  # a Shift+click without a drag selects nothing
            return
        if self._drag_x is not None:
            if not self._dragged and event.position().x() >= LABEL_WIDTH:
                moment = self.time_at(event.position().x())
                self.set_playhead(moment)
                self.playhead_moved.emit(moment)
                track = self.track_at(event.position().y()) or (self.tracks[0] if self.tracks else None)
                if track is not None:
                    self.track_clicked.emit(track.key, moment)
            self._drag_x = None

    def describe(self, hit: tuple[Track, Span]) -> str:
        """A recording's details for the hover tooltip, in the camera's local time."""
        track, span = hit
        start = datetime.fromtimestamp(span.start, track.zone)
        if span.stop is None:
            until = "now (recording)"
            seconds = self.clock() - span.start
        else:
            until = datetime.fromtimestamp(span.stop, track.zone).strftime("%H:%M:%S")
            seconds = span.stop - span.start
        minutes, secs = divmod(round(seconds), 60)
        hours, minutes = divmod(minutes, 60)
        length = f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s"
        return (
            f"{track.title}\n{span.kind.value.capitalize()} recording {span.recording_id}\n"
            f"{start.strftime('%a %d %b %Y %H:%M:%S')} – {until} ({length})"
        )
