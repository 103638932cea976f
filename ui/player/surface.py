"""One picture of the player: libvlc's native window while playing, and an exact still (or a "nothing recorded"
note) while scrubbing, paused or stepping.

libvlc draws straight into a native child window, with no copy through Qt; the still is painted by Qt from the
decoded RGB. Both sit in a stack and the controller says which one shows. A surface is never destroyed while
the app runs: a libvlc player still closing may be drawing into its window.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QImage, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QFrame, QStackedLayout, QWidget

from app.playback.still import Still


def still_image(still: Still) -> QImage:
    """A QImage that owns its pixels (the Still's bytes may go)."""
    return QImage(still.rgb, still.width, still.height, still.stride, QImage.Format.Format_RGB888).copy()


class StillView(QWidget):
    """The still, scaled to fit with its aspect ratio, on black; or a line of text where there is no picture."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image: QImage | None = None
        self.text = ""
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

    def show_image(self, image: QImage) -> None:
        self.image, self.text = image, ""
        self.update()

    def show_text(self, text: str) -> None:
        self.image, self.text = None, text
        self.update()

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("black"))
        if self.image is not None and not self.image.isNull():
            size = self.image.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
            x, y = (self.width() - size.width()) / 2, (self.height() - size.height()) / 2
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.drawImage(QRectF(x, y, size.width(), size.height()), self.image)
        elif self.text:
            painter.setPen(QColor("#bdbdbd"))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.text)
        painter.end()


class VideoSurface(QWidget):
    """Signals: double_clicked() — the operator wants full screen (or out of it)."""

    double_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.video = QFrame()
        self.video.setObjectName("videoSurface")
        self.video.setStyleSheet("QFrame#videoSurface { background: black; }")
        self.native = QGuiApplication.platformName() not in ("offscreen", "minimal")  # no windows to draw into
        if self.native:
            self.video.setAttribute(Qt.WidgetAttribute.WA_NativeWindow)
        self.still = StillView()
        self.stack = QStackedLayout(self)
        self.stack.addWidget(self.video)
        self.stack.addWidget(self.still)
        self.setMinimumSize(240, 135)

    def window_id(self) -> int | None:
        return int(self.video.winId()) if self.native else None

    def show_video(self) -> None:
        self.stack.setCurrentWidget(self.video)

    def show_still(self, still: Still) -> None:
        self.still.show_image(still_image(still))
        self.stack.setCurrentWidget(self.still)

    def show_gap(self, moment: datetime, zone: tzinfo | None) -> None:
        local = moment.astimezone(zone) if zone is not None else moment.astimezone()
        self.still.show_text(f"Nothing recorded at {local:%H:%M:%S}")
        self.stack.setCurrentWidget(self.still)

    @property
    def showing_still(self) -> bool:
        return self.stack.currentWidget() is self.still

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self.double_clicked.emit()
        event.accept()
