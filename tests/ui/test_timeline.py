"""An operator opens the Recordings tab: the camera's recordings appear as spans on a painted timeline with the
gap between them, zoom keeps the time under the pointer, dragging pans, hovering names the recording, a click
sets the playhead, and an ongoing recording grows until it stops."""

from __future__ import annotations

from datetime import datetime

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from app.timeline.spans import SpanKind
from app.vapix.recordings import RecordingControl, RecordingQuery, Recordings
from tests.conftest import transport_for
from tests.device.disk_client import SD, sample
from tests.ui.desktop import Desktop
from ui.main_window import TIMELINE_TAB
from ui.timeline.view import AXIS_HEIGHT, KIND_COLOURS, LABEL_WIDTH, TRACK_HEIGHT

pytestmark = [pytest.mark.gui, pytest.mark.functional]


async def open_timeline(desktop: Desktop, device) -> str:
    camera = await desktop.add_camera(device, "Entrance")
    desktop.window.controller.timeline.refresh_seconds = 0.5
    desktop.window.tabs.setCurrentIndex(TIMELINE_TAB)
    return camera


def wheel(view, x: float, notches: int) -> None:
    position = QPointF(x, AXIS_HEIGHT + 5)
    event = QWheelEvent(
        position,
        view.mapToGlobal(position),
        QPoint(),
        QPoint(0, 120 * notches),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(view, event)


async def test_recordings_appear_as_spans_with_the_gap_between_them(desktop, device):
    older = sample(device, seconds=20, blockseconds=5, agedays=0.01)  # about 14 minutes ago
    newer = sample(device, seconds=20, blockseconds=5)
    camera = await open_timeline(desktop, device)
    view = desktop.window.timeline_panel.view
    await desktop.wait(lambda: (t := view.track(f"{camera}/{SD}")) is not None and len(t.spans) == 2)
    track = view.track(f"{camera}/{SD}")
    async with transport_for(device) as transport:
        listed = [r async for r in Recordings(transport).iterate(RecordingQuery(disk_id=SD, ascending=True))]
    assert [s.recording_id for s in track.spans.spans] == [older, newer] == [r.recording_id for r in listed]
    assert [s.start for s in track.spans.spans] == [r.start.timestamp() for r in listed]
    assert track.title == "Entrance · SD card"
    assert "2 recording(s) on" in desktop.window.timeline_panel.status.text()

    first, second = track.spans.spans
    gap_middle = (first.stop + second.start) / 2
    view.show_range(first.start - 60, second.stop + 60)
    row_y = AXIS_HEIGHT + TRACK_HEIGHT * view.tracks.index(track) + TRACK_HEIGHT // 2
    picture = view.grab().toImage()
    in_first = view._x((first.start + first.stop) / 2)
    assert first.kind is SpanKind.of(listed[0].recording_type)
    assert picture.pixelColor(int(in_first), row_y) == KIND_COLOURS[first.kind]
    assert picture.pixelColor(int(view._x(gap_middle)), row_y) != KIND_COLOURS[first.kind]

    hit = view.span_at(in_first, row_y)
    assert hit is not None
    described = view.describe(hit)
    assert older in described
    assert f"{first.kind.value.capitalize()} recording" in described
    assert "(0 min 20 s)" in described


async def test_zoom_keeps_the_time_under_the_pointer_drag_pans_and_a_click_sets_the_playhead(desktop, device, qtbot):
    sample(device, seconds=10, blockseconds=5)
    camera = await open_timeline(desktop, device)
    view = desktop.window.timeline_panel.view
    await desktop.wait(lambda: (t := view.track(f"{camera}/{SD}")) is not None and len(t.spans) == 1)
    x = LABEL_WIDTH + 300
    before, per_px = view.time_at(x), view.scale.seconds_per_px
    wheel(view, x, 2)
    assert view.scale.seconds_per_px == pytest.approx(per_px / 1.25**2)
    assert view.time_at(x) == pytest.approx(before, abs=per_px)

    left = view.scale.left
    row_y = AXIS_HEIGHT + TRACK_HEIGHT // 2
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(x, row_y))
    qtbot.mouseMove(view, QPoint(x + 100, row_y))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(x + 100, row_y))
    assert view.scale.left == pytest.approx(left - 100 * view.scale.seconds_per_px)
    assert view.playhead is None  # a drag is not a click

    moved: list[float] = []  # not qtbot.waitSignal: its nested Qt loop would run coroutines outside asyncio's
    view.playhead_moved.connect(moved.append)
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=QPoint(x, row_y))
    assert moved == [pytest.approx(view.time_at(x))]
    assert view.playhead == moved[0]

    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Minus)
    assert view.scale.seconds_per_px == pytest.approx(per_px / 1.25**2 * 2)


async def test_an_ongoing_recording_grows_on_the_timeline_until_it_stops(desktop, device):
    camera = await open_timeline(desktop, device)
    view = desktop.window.timeline_panel.view
    await desktop.wait(lambda: view.track(f"{camera}/{SD}") is not None)
    track = view.track(f"{camera}/{SD}")
    async with transport_for(device) as transport:
        control = RecordingControl(transport)
        recording_id = await control.record(SD)
        await desktop.wait(lambda: any(s.recording_id == recording_id for s in track.spans.ongoing))
        await control.stop(recording_id)
    await desktop.wait(lambda: not track.spans.ongoing)
    (span,) = [s for s in track.spans.spans if s.recording_id == recording_id]
    assert span.stop is not None
    assert span.stop > span.start


async def test_clicking_a_recording_plays_it_and_the_playhead_and_clock_follow_the_picture(desktop, device, qtbot):
    from app.playback.vlcfeed import MemoryVideo

    recording_id = sample(device, seconds=20, blockseconds=5)
    camera = await open_timeline(desktop, device)
    panel = desktop.window.timeline_panel
    view = panel.view
    player = desktop.window.controller.player
    player.video_factory = lambda: MemoryVideo(keep=20)
    await desktop.wait(lambda: (t := view.track(f"{camera}/{SD}")) is not None and len(t.spans) == 1)
    (span,) = view.track(f"{camera}/{SD}").spans.spans
    assert span.recording_id == recording_id
    view.show_range(span.start - 10, span.stop + 10)
    asked = span.start + 5
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=QPoint(round(view._x(asked)), AXIS_HEIGHT + 5))
    await desktop.wait(lambda: player.video is not None and player.video.count >= 10, timeout=30)
    await desktop.wait(lambda: panel.player_panel.play_button.isEnabled())
    shown = player.current_time()
    assert shown is not None
    assert span.start <= shown.timestamp() <= span.stop
    assert shown.timestamp() >= asked - 5.5  # from the key frame at or before the click (5 s blocks)
    await desktop.wait(lambda: view.playhead is not None and view.playhead > asked - 5.5)
    assert span.start <= view.playhead <= span.stop + 1
    assert panel.player_panel.time_label.text().startswith(datetime.fromtimestamp(view.playhead).strftime("%a %d"))

    panel.player_panel.speed.setCurrentIndex(panel.player_panel.speed.findData(4.0))
    assert player.speed == 4.0
    await desktop.wait(lambda: player.frames is not None and player.frames.speed == 4.0 and player.video.count >= 3)
    desktop.click(panel.player_panel.play_button)  # pause
    assert panel.player_panel.play_button.text() == "&Play"
