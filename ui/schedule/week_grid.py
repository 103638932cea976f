"""WeekGridView: the 7 x 24 recording week, painted by dragging.

A press on an empty hour starts painting, a press on a recording hour starts erasing, and the rectangle between
the press and the pointer follows the drag, shown before the release commits it: this is how installers draw
office hours in a few strokes. The keyboard does the same: arrows move the focused hour, Space toggles it and
sets the mode, Shift+arrows stretch a rectangle in that mode from the hour where Space was pressed.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.schedule.week import DAY_NAMES, DAYS, HOURS, Cell, WeekGrid

LEFT, TOP, CELL = 40, 18, 20  # day labels, hour labels, the smallest readable cell
_MOVES = {
    Qt.Key.Key_Left: (0, -1),
    Qt.Key.Key_Right: (0, 1),
    Qt.Key.Key_Up: (-1, 0),
    Qt.Key.Key_Down: (1, 0),
}


class WeekGridView(QWidget):
    """Signals:
    grid_changed(object): the WeekGrid after a drag or key press changed it.
    """

    grid_changed = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._grid = WeekGrid()
        self._preview: WeekGrid | None = None  # the drag in progress
        self._anchor: Cell | None = None
        self._painting = True
        self.focus_cell: Cell = (0, 8)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(False)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setMinimumSize(LEFT + HOURS * CELL, TOP + DAYS * CELL)
        self.setAccessibleName("Week schedule")
        self._describe()

    @property
    def grid(self) -> WeekGrid:
        return self._grid

    def set_grid(self, grid: WeekGrid) -> None:
        """Show a grid (from the camera); does not emit grid_changed."""
        self._grid, self._preview = grid, None
        self._describe()
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(LEFT + HOURS * (CELL + 4), TOP + DAYS * (CELL + 4))

    # --- geometry ------------------------------------------------------------------------------------------------

    def _cell_size(self) -> tuple[float, float]:
        return (self.width() - LEFT) / HOURS, (self.height() - TOP) / DAYS

    def cell_rect(self, cell: Cell) -> QRect:
        width, height = self._cell_size()
        day, hour = cell
        left, top = LEFT + round(hour * width), TOP + round(day * height)
        return QRect(left, top, LEFT + round((hour + 1) * width) - left, TOP + round((day + 1) * height) - top)

    def cell_at(self, point: QPoint, clamp: bool = False) -> Cell | None:
        width, height = self._cell_size()
        hour, day = int((point.x() - LEFT) // width), int((point.y() - TOP) // height)
        if clamp:
            return min(max(day, 0), DAYS - 1), min(max(hour, 0), HOURS - 1)
        return (day, hour) if 0 <= day < DAYS and 0 <= hour < HOURS else None

    # --- mouse ---------------------------------------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:
        cell = self.cell_at(event.position().toPoint())
        if event.button() != Qt.MouseButton.LeftButton or cell is None:
            super().mousePressEvent(event)
            return
        self._begin(cell)
        self._stretch(cell)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._anchor is not None and self._preview is not None:
            cell = self.cell_at(event.position().toPoint(), clamp=True)
            assert cell is not None
            self._stretch(cell)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._preview is not None and event.button() == Qt.MouseButton.LeftButton:
            cell = self.cell_at(event.position().toPoint(), clamp=True)
            assert cell is not None
            self._stretch(cell)
            assert self._preview is not None
            self._commit(self._preview)

    # --- keyboard ------------------------------------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = Qt.Key(event.key())
        if key == Qt.Key.Key_Space:
            self._begin(self.focus_cell)
            self._commit(self._grid.painted(self.focus_cell, self.focus_cell, self._painting))
        elif key in _MOVES:
            day, hour = self.focus_cell
            step = _MOVES[key]
            self.focus_cell = (min(max(day + step[0], 0), DAYS - 1), min(max(hour + step[1], 0), HOURS - 1))
            if event.modifiers() & Qt.KeyboardModifier.ShiftModifier and self._anchor is not None:
                self._commit(self._grid.painted(self._anchor, self.focus_cell, self._painting))
            self._describe()
            self.update()
        else:
            super().keyPressEvent(event)

    # --- editing -------------------------------------------------------------------------------------------------

    def _begin(self, cell: Cell) -> None:
        self._anchor, self.focus_cell = cell, cell
        self._painting = cell not in self._grid.cells
        self._preview = self._grid

    def _stretch(self, cell: Cell) -> None:
        assert self._anchor is not None
        self._preview = self._grid.painted(self._anchor, cell, self._painting)
        self.update()

    def _commit(self, grid: WeekGrid) -> None:
        self._preview = None
        changed = grid != self._grid
        self._grid = grid
        self._describe()
        self.update()
        if changed:
            self.grid_changed.emit(grid)

    def _describe(self) -> None:
        day, hour = self.focus_cell
        state = "records" if self.focus_cell in self._grid.cells else "does not record"
        self.setAccessibleDescription(
            f"{self._grid.hours} hours a week. {DAY_NAMES[day]} {hour:02d}:00 {state}. "
            "Arrows move, Space switches an hour, Shift+arrows stretch."
        )

    # --- painting ------------------------------------------------------------------------------------------------

    def paintEvent(self, _event: QPaintEvent) -> None:
        shown = self._preview if self._preview is not None else self._grid
        palette = self.palette()
        painter = QPainter(self)
        painter.fillRect(self.rect(), palette.color(QPalette.ColorRole.Window))
        painter.setPen(palette.color(QPalette.ColorRole.WindowText))
        for hour in range(0, HOURS, 3):
            rect = self.cell_rect((0, hour))
            painter.drawText(QRect(rect.left(), 0, rect.width() * 3, TOP), Qt.AlignmentFlag.AlignLeft, f"{hour:02d}")
        for day in range(DAYS):
            rect = self.cell_rect((day, 0))
            label = QRect(0, rect.top(), LEFT - 4, rect.height())
            painter.drawText(label, Qt.AlignmentFlag.AlignVCenter, DAY_NAMES[day][:3])
        on, off = palette.color(QPalette.ColorRole.Highlight), palette.color(QPalette.ColorRole.Base)
        painter.setPen(palette.color(QPalette.ColorRole.Mid))
        for day in range(DAYS):
            for hour in range(HOURS):
                rect = self.cell_rect((day, hour)).adjusted(0, 0, -1, -1)
                painter.fillRect(rect, on if (day, hour) in shown.cells else off)
                painter.drawRect(rect)
        if self.hasFocus():
            painter.setPen(palette.color(QPalette.ColorRole.Text))
            painter.drawRect(self.cell_rect(self.focus_cell).adjusted(1, 1, -2, -2))
        painter.end()
