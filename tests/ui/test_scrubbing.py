"""An operator finds a moment: drags the playhead and sees the exact picture under it, lets go and it plays from
there; pauses, steps frame by frame and jumps 10 s with the keys, changes speed with J and L, goes full screen;
and plays two cameras together, in step.

The recordings carry the virtual camera's time strip in their pixels, so every assertion about "which picture"
reads the picture itself."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import QPoint, Qt

from app.playback.vlcfeed import MemoryVideo
from app.vapix.recordings import RecordingControl
from tests.conftest import transport_for
from tests.device.disk_client import SD
from tests.support.strips import picture_time, still_time
from tests.ui.desktop import Desktop
from ui.main_window import TIMELINE_TAB
from ui.timeline.view import AXIS_HEIGHT, TRACK_HEIGHT

pytestmark = [pytest.mark.gui, pytest.mark.functional]

STRIPED = "resolution=640x360&fps=15"
FRAME = timedelta(seconds=1 / 15)
GOP = timedelta(seconds=2)  # the virtual camera's key frame interval


async def record(devices, seconds: float) -> list[str]:
    """Recordings with a time strip, made on several cameras at the same time."""
    transports = [transport_for(d) for d in devices]
    for t in transports:
        await t.__aenter__()
    try:
        ids = [await RecordingControl(t).record(SD, STRIPED) for t in transports]
        await asyncio.sleep(seconds)
        for t, recording_id in zip(transports, ids, strict=True):
            await RecordingControl(t).stop(recording_id)
    finally:
        for t in transports:
            await t.__aexit__(None, None, None)
    return ids


async def open_timeline(desktop: Desktop, cameras: list[str], recordings: int = 1):
    desktop.window.controller.timeline.refresh_seconds = 0.5
    desktop.window.tabs.setCurrentIndex(TIMELINE_TAB)
    panel = desktop.window.timeline_panel
    view = panel.view

    def loaded() -> bool:
        tracks = [view.track(f"{c}/{SD}") for c in cameras]
        return all(t is not None and len(t.spans) == recordings and not t.spans.ongoing for t in tracks)

    await desktop.wait(loaded, timeout=30)
    player = desktop.window.controller.player
    player.video_factory = lambda: MemoryVideo(keep=30)
    return panel, view, player


def at(view, moment: float, row: int = 0) -> QPoint:
    return QPoint(round(view._x(moment)), AXIS_HEIGHT + TRACK_HEIGHT * row + TRACK_HEIGHT // 2)


def on_axis(view, moment: float) -> QPoint:
    return QPoint(round(view._x(moment)), AXIS_HEIGHT // 2)


def utc(moment: float) -> datetime:
    return datetime.fromtimestamp(moment, UTC)


async def test_dragging_the_playhead_shows_the_exact_picture_and_letting_go_plays_from_there(desktop, device, qtbot):
    await record([device], 9)
    camera = await desktop.add_camera(device, "Entrance")
    panel, view, player = await open_timeline(desktop, [camera])
    (span,) = view.track(f"{camera}/{SD}").spans.spans
    view.show_range(span.start - 2, span.stop + 2)
    surface = panel.player_panel.surface

    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=on_axis(view, span.start + 2.2))
    target = span.start + 5.5
    qtbot.mouseMove(view, on_axis(view, target))
    moment = view.time_at(view._x(target))  # the time under the pixel the pointer is on
    await desktop.wait(lambda: surface.showing_still and player.lanes[0].still is not None, timeout=20)
    await desktop.wait(lambda: abs(player.lanes[0].still.captured - utc(moment)) < GOP)
    still = player.lanes[0].still
    assert view.playhead == pytest.approx(moment)
    assert still.captured <= utc(moment) < still.following  # the picture on screen at that moment, to the frame
    assert abs(still_time(still) - still.captured) < timedelta(milliseconds=1)  # and it is that picture
    assert not player.playing  # dragging shows pictures, it does not play
    # the clock shows the picture's capture time; the camera's RTCP time and its stamped millisecond may differ
    # by part of a millisecond, as the assertions above allow
    shown_local = still_time(still).astimezone(panel.player_panel.zone or UTC)
    label_time = datetime.strptime(panel.player_panel.time_label.text(), "%a %d %b %Y %H:%M:%S.%f")
    assert abs(label_time - shown_local.replace(tzinfo=None)) <= timedelta(milliseconds=1)

    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=on_axis(view, target))
    await desktop.wait(lambda: player.video is not None and player.video.count >= 5, timeout=20)
    await desktop.wait(lambda: not surface.showing_still)  # libvlc's picture replaced the still
    first = picture_time(player.video.pictures[0])
    assert utc(moment) - GOP <= first <= utc(moment)  # from the key frame at or before where it was let go
    assert player.playing
    assert not player.paused


async def test_pause_steps_frames_jumps_and_changes_speed_with_the_keys(desktop, device, qtbot):
    await record([device], 20)
    camera = await desktop.add_camera(device, "Entrance")
    panel, view, player = await open_timeline(desktop, [camera])
    (span,) = view.track(f"{camera}/{SD}").spans.spans
    view.show_range(span.start - 2, span.stop + 2)
    clicked = view.time_at(view._x(span.start + 2.5))
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=at(view, span.start + 2.5))
    await desktop.wait(lambda: player.video is not None and player.video.count >= 10, timeout=20)
    first = picture_time(player.video.pictures[0])
    assert utc(clicked) - GOP <= first <= utc(clicked)  # the click's moment, from the key frame at or before it
    view.setFocus()

    def key(name: str) -> None:
        action = panel.key_actions[name]
        assert action.shortcut().toString() == name
        action.trigger()

    key("K")
    assert player.paused
    await desktop.wait(lambda: panel.player_panel.surface.showing_still, timeout=20)
    paused_at = player.lanes[0].still
    assert abs(still_time(paused_at) - paused_at.captured) < timedelta(milliseconds=1)
    assert panel.player_panel.play_button.text() == "&Play"

    seen = [paused_at.captured]
    for direction in ("Right", "Right", "Left", "Left", "Left"):
        key(direction)
        await desktop.wait(lambda: player.lanes[0].still.captured != seen[-1], timeout=20)
        still = player.lanes[0].still
        assert abs(still_time(still) - still.captured) < timedelta(milliseconds=1)
        seen.append(still.captured)
    steps = [(b - a) / FRAME for a, b in itertools.pairwise(seen)]
    assert steps == pytest.approx([1, 1, -1, -1, -1], abs=0.3)  # one picture at a time (the camera jitters a little)

    before = player.lanes[0].still.captured
    key("Shift+Right")
    await desktop.wait(lambda: player.lanes[0].still.captured > before + timedelta(seconds=5), timeout=20)
    jumped = player.lanes[0].still.captured - before
    assert timedelta(seconds=10) - 1.1 * FRAME <= jumped <= timedelta(seconds=10)  # the picture on screen 10 s on

    key("L")  # plays on from the still
    await desktop.wait(lambda: player.playing and not player.paused and player.feed is not None, timeout=20)
    key("L")
    key("L")
    assert player.speed == 4.0
    assert panel.player_panel.speed.currentText() == "4×"
    assert await recorded_seconds_per_second(desktop, player, 4.0) > 2.0  # 1x would be 1
    for _ in range(6):
        key("J")
    assert player.speed == 0.125
    assert panel.player_panel.speed.currentText() == "1/8×"
    assert await recorded_seconds_per_second(desktop, player, 0.125) < 0.4


async def recorded_seconds_per_second(desktop: Desktop, player, speed: float) -> float:
    """How fast the pictures libvlc shows move through the recording, read from their time strips."""
    await desktop.wait(
        lambda: player.frames is not None and player.frames.speed == speed and player.video.count >= 3, timeout=20
    )
    first = picture_time(player.video.latest)
    await asyncio.sleep(0.8)
    return (picture_time(player.video.latest) - first).total_seconds() / 0.8


async def test_full_screen_leaves_only_the_picture_and_escape_brings_the_window_back(desktop, device):
    camera = await desktop.add_camera(device, "Entrance")
    desktop.window.tabs.setCurrentIndex(TIMELINE_TAB)
    panel = desktop.window.timeline_panel
    assert camera
    panel.key_actions["F"].trigger()
    assert panel.full_screen
    assert desktop.window.windowState() & Qt.WindowState.WindowFullScreen
    assert not desktop.window.menuBar().isVisible()
    assert not desktop.window.table.isVisible()
    assert not panel.timeline_part.isVisible()
    assert panel.player_panel.surface.isVisible()
    assert panel.leave_full_screen.isEnabled()
    panel.leave_full_screen.trigger()
    assert not panel.full_screen
    assert not desktop.window.windowState() & Qt.WindowState.WindowFullScreen
    assert desktop.window.menuBar().isVisible()
    assert panel.timeline_part.isVisible()


async def test_two_linked_cameras_play_the_same_moment_together(desktop, device_factory, qtbot):
    entrance, garage = device_factory(), device_factory()
    await record([entrance, garage], 14)
    cameras = [await desktop.add_camera(entrance, "Entrance"), await desktop.add_camera(garage, "Garage")]
    panel, view, player = await open_timeline(desktop, cameras)
    spans = [view.track(f"{c}/{SD}").spans.spans[0] for c in cameras]
    view.show_range(min(s.start for s in spans) - 2, max(s.stop for s in spans) + 2)
    rows = [view.tracks.index(view.track(f"{c}/{SD}")) for c in cameras]
    for row in rows:  # Ctrl+click links the tracks
        qtbot.mouseClick(
            view,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.ControlModifier,
            QPoint(20, AXIS_HEIGHT + TRACK_HEIGHT * row + TRACK_HEIGHT // 2),
        )
    assert view.linked == [f"{c}/{SD}" for c in cameras]

    moment = max(s.start for s in spans) + 3.4
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=at(view, moment, rows[0]))
    await desktop.wait(lambda: len(player.lanes) == 2, timeout=10)
    assert [lane.track.key for lane in player.lanes] == view.linked
    assert all(s.isVisible() for s in panel.player_panel.surfaces[:2])
    await desktop.wait(
        lambda: all(lane.video is not None and lane.video.count >= 40 for lane in player.lanes), timeout=30
    )
    apart = []
    for _ in range(5):  # what the two pictures show at the same instant, a few times over
        latest = [lane.video.latest for lane in player.lanes]
        apart.append(abs((picture_time(latest[0]) - picture_time(latest[1])).total_seconds()))
        await asyncio.sleep(0.3)
    assert sorted(apart)[2] <= 0.25, apart  # the median: within a few frames, not a GOP apart


async def test_a_range_selected_on_the_timeline_is_exported_and_marked_as_exported(desktop, device, qtbot, tmp_path):
    from tests.ui.test_export import ffprobe
    from ui.timeline.view import EXPORTED_COLOUR

    await record([device], 9)
    camera = await desktop.add_camera(device, "Entrance")
    panel, view, _player = await open_timeline(desktop, [camera])
    track = view.track(f"{camera}/{SD}")
    (span,) = track.spans.spans
    view.show_range(span.start - 2, span.stop + 2)
    assert not panel.export.isEnabled()

    start, stop = span.start + 3.3, span.start + 7.2
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, at(view, start))
    qtbot.mouseMove(view, at(view, stop))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, at(view, stop))
    selection = view.selection
    assert selection is not None
    assert selection.key == track.key
    assert (selection.start, selection.stop) == (pytest.approx(start, abs=0.1), pytest.approx(stop, abs=0.1))
    assert view.scale.left == pytest.approx(span.start - 2)  # selecting is not panning
    assert panel.export.isEnabled()

    panel.export.trigger()
    dialog = panel.export_dialog
    assert dialog is not None
    assert dialog.isVisible()
    await desktop.wait(lambda: dialog.preview is not None, timeout=20)
    assert dialog.preview.start.timestamp() <= selection.start  # snapped back to a key frame
    folder = tmp_path / "clips"
    folder.mkdir()
    dialog.folder.setText(str(folder))
    dialog.file_name.setText("door")
    desktop.click(dialog.add_button)
    queue = panel.queue_panel
    await desktop.wait(lambda: queue.model.rowCount() == 1)
    job = queue.model.job(0)
    await desktop.wait(lambda: job.state.finished, timeout=60)
    assert job.state.name == "DONE", job.message
    (saved,) = folder.iterdir()
    probed = await ffprobe(saved)
    assert probed["streams"][0]["codec_name"] == "h264"
    assert abs(float(probed["format"]["duration"]) - (selection.stop - dialog.preview.start.timestamp())) <= 2.0

    await desktop.wait(lambda: track.exported)
    ((t0, t1),) = track.exported
    assert t0 == pytest.approx(dialog.preview.start.timestamp(), abs=0.01)
    assert t1 == pytest.approx(selection.stop, abs=0.1)
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Escape)  # Esc drops the selection
    assert view.selection is None
    assert not panel.export.isEnabled()
    picture = view.grab().toImage()
    row_bottom = AXIS_HEIGHT + TRACK_HEIGHT * view.tracks.index(track) + TRACK_HEIGHT - 3
    assert picture.pixelColor(round(view._x((t0 + t1) / 2)), row_bottom) == EXPORTED_COLOUR
    assert picture.pixelColor(round(view._x(span.start + 1)), row_bottom) != EXPORTED_COLOUR
    assert desktop.window.controller.exports.history.ranges(track.key) == track.exported  # kept for the next run
