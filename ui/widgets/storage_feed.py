"""FeedBar: one line above a storage panel saying whether the camera records and how fresh the panel is.

"Live events" means the camera tells the app of each storage event as it happens; "Checked every 5 s" that the
app reads the storage on a timer (a camera without the event stream, or one whose stream is down). The user
then knows whether a card just pulled shows at once or within the interval. Only words from a StorageFeed:
no camera work here.
"""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from app.cameras.live_storage import StorageFeed

RECORDING = "● Recording"
NOT_RECORDING = "Not recording"


class FeedBar(QWidget):
    def __init__(self, with_recording: bool = True, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.recording = QLabel()
        self.recording.setObjectName("recordingState")
        self.recording.setAccessibleName("Recording state")
        self.recording.setVisible(with_recording)
        self.source = QLabel()
        self.source.setObjectName("feedState")
        self.source.setAccessibleName("How storage is kept current")
        self._with_recording = with_recording
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.recording)
        layout.addStretch(1)
        layout.addWidget(self.source)
        self.show_feed(None)

    def show_feed(self, feed: StorageFeed | None) -> None:
        if feed is None or feed.recording is None:
            text, kind, tip = "", "", ""
        elif feed.recording:
            text, kind, tip = RECORDING, "on", "The camera is writing a recording now."
        else:
            text, kind, tip = NOT_RECORDING, "off", "No recording is being written now."
        self.recording.setText(text)
        self.recording.setToolTip(tip)
        if self.recording.property("kind") != kind:
            self.recording.setProperty("kind", kind)
            self.recording.style().unpolish(self.recording)  # the style sheet colours by [kind]
            self.recording.style().polish(self.recording)
        self.recording.setVisible(self._with_recording and bool(text))
        self.source.setText(feed.describe() if feed else "")
        self.source.setToolTip(feed.explain() if feed else "")
