"""An installer opens a camera's Schedule tab: draws the office week on the grid and saves it, adds a recording on
a virtual input, presses the manual trigger, records by hand. Assertions are on what the camera then holds and
records, read back over its own API with the app's VAPIX clients."""

from __future__ import annotations

import asyncio

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QMessageBox

from app.schedule.triggers import TriggerKind
from app.schedule.week import WeekGrid
from app.vapix.action_service import ActionService
from app.vapix.event_service import EventService, ScheduleType
from app.vapix.recordings import Recording, RecordingQuery, Recordings
from tests.conftest import transport_for
from tests.ui.desktop import Desktop
from ui.main_window import SCHEDULE_TAB
from ui.schedule.panel import GROUP_COLUMNS, RULE_COLUMNS, SchedulePanel
from ui.schedule.week_grid import WeekGridView

pytestmark = [pytest.mark.gui, pytest.mark.functional]
OFFICE = WeekGrid.rectangle(range(5), range(8, 17))


async def open_schedule(desktop: Desktop, device) -> SchedulePanel:
    camera = await desktop.add_camera(device, "Entrance")
    desktop.window.table.selectRow(desktop.window.model.row_of(camera))
    desktop.window.tabs.setCurrentIndex(SCHEDULE_TAB)
    panel = desktop.window.schedule_panel
    await desktop.wait(lambda: panel.overview is not None and panel.disk_id == "SD_DISK")
    return panel


def watch(panel: SchedulePanel) -> list[object]:
    """Every change's end (ok, sentence) and every reading of the camera ("read"), in the order they came."""
    seen: list[object] = []
    panel.controller.finished.connect(lambda ok, message: seen.append((ok, message)))
    panel.controller.overview_changed.connect(lambda _overview: seen.append("read"))
    return seen


async def finish(desktop: Desktop, panel: SchedulePanel, seen: list[object]) -> tuple[bool, str]:
    """The next change ended and the camera has been read again after it."""
    start = len(seen)

    def ended() -> bool:
        new = seen[start:]
        ends = [n for n, e in enumerate(new) if isinstance(e, tuple)]
        return bool(ends) and "read" in new[ends[0] :] and not panel.controller.busy

    await desktop.wait(ended)
    return next(e for e in seen[start:] if isinstance(e, tuple))  # type: ignore[return-value]


def drag(desktop: Desktop, grid: WeekGridView, start: tuple[int, int], end: tuple[int, int]) -> None:
    bot = desktop.qtbot
    bot.mousePress(grid, Qt.MouseButton.LeftButton, pos=grid.cell_rect(start).center())  # type: ignore[attr-defined]
    bot.mouseMove(grid, grid.cell_rect(end).center())  # type: ignore[attr-defined]
    bot.mouseRelease(grid, Qt.MouseButton.LeftButton, pos=grid.cell_rect(end).center())  # type: ignore[attr-defined]


def rule_rows(panel: SchedulePanel) -> list[dict[str, str]]:
    table = panel.rules
    return [
        {name: table.item(row, column).text() for column, name in enumerate(RULE_COLUMNS)}
        for row in range(table.rowCount())
    ]


async def recordings_of(device, kind: str) -> list[Recording]:
    async with transport_for(device) as transport:
        page = await Recordings(transport).page(RecordingQuery(disk_id="SD_DISK"))
    return [r for r in page.recordings if r.recording_type == kind]


async def test_the_office_week_drawn_on_the_grid_is_saved_on_the_camera_and_reads_back(desktop, device):
    panel = await open_schedule(desktop, device)
    assert not panel.save_button.isEnabled()
    drag(desktop, panel.grid, (0, 8), (4, 16))  # Monday 08 to Friday 16: the hours 08-17
    assert panel.grid.grid == OFFICE
    assert panel.save_button.isEnabled()
    assert "not saved yet" in panel.week_state.text()
    results = watch(panel)
    desktop.click(panel.save_button)
    assert await finish(desktop, panel, results) == (True, "The week schedule is saved: 45 hours a week to SD_DISK.")

    async with transport_for(device) as transport:
        schedules = await EventService(transport).get_scheduled_events(ScheduleType.INTERVAL)
        (rule,) = await ActionService(transport).get_action_rules()
    mine = [s for s in schedules if s.event_id.startswith("com.axis.schedules.genid.")]
    assert [s.ical for s in mine] == [
        "DTSTART:19700101T080000\nDTEND:19700101T170000\nRRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
    ]
    (condition,) = rule.conditions
    assert condition.topic == "tns1:UserAlarm/tnsaxis:Recurring/Interval"
    assert f'@Value="{mine[0].event_id}"' in (condition.content or "")
    assert rule_rows(panel)[0]["Trigger"] == "Week schedule (45 h a week)"
    assert not panel.save_button.isEnabled()

    drag(desktop, panel.grid, (2, 8), (2, 8))  # erase Wednesday 08, then think better of it
    assert (2, 8) not in panel.grid.grid.cells
    desktop.click(panel.revert_button)
    assert panel.grid.grid == OFFICE

    panel.controller.select(None)  # another camera, and back: the week is read from the camera again
    await desktop.wait(lambda: panel.overview is None)
    panel.controller.select(desktop.window.selected_camera())
    await desktop.wait(lambda: panel.overview is not None)
    assert panel.grid.grid == OFFICE
    assert panel.week_state.text() == "45 hours a week — as on the camera"


async def test_a_virtual_input_rule_is_listed_and_records_when_the_input_turns_on(desktop, device):
    panel = await open_schedule(desktop, device)
    desktop.click(panel.add_rule_button)
    dialog = panel.dialog
    dialog.kind.setCurrentIndex(dialog.kind.findData(TriggerKind.VIRTUAL_INPUT))
    dialog.port.setValue(2)
    dialog.pre.setValue(5)
    dialog.post.setValue(3)
    results = watch(panel)
    desktop.click(dialog.ok_button)
    assert await finish(desktop, panel, results) == (True, "Added: Virtual input 2 records to SD_DISK.")
    (row,) = rule_rows(panel)
    assert (row["Trigger"], row["To"], row["Before"], row["After"]) == ("Virtual input 2", "SD card", "5 s", "3 s")
    assert row["Records"] == "Clip: 5 s before, 3 s after"

    async with transport_for(device, "operator") as operator:
        assert await EventService(operator).activate_virtual_input(2) is True
    found: list[Recording] = []

    async def triggered() -> bool:
        found[:] = await recordings_of(device, "triggered")
        return bool(found)

    await until_async(triggered)
    assert found[0].event_id == row["Rule"]

    panel.rules.selectRow(0)
    desktop.click(panel.remove_rule_button)
    assert await finish(desktop, panel, results) == (True, "The rule is removed.")
    assert rule_rows(panel) == []


async def test_the_manual_trigger_button_starts_a_rule_on_it(desktop, device):
    panel = await open_schedule(desktop, device)
    desktop.click(panel.add_rule_button)
    dialog = panel.dialog
    dialog.kind.setCurrentIndex(dialog.kind.findData(TriggerKind.MANUAL_TRIGGER))
    dialog.post.setValue(1)
    results = watch(panel)
    desktop.click(dialog.ok_button)
    await finish(desktop, panel, results)
    assert [r["Trigger"] for r in rule_rows(panel)] == ["Manual trigger"]
    assert await recordings_of(device, "triggered") == []

    desktop.click(panel.trigger_button)
    assert await finish(desktop, panel, results) == (True, "The manual trigger was pressed.")
    found: list[Recording] = []

    async def triggered() -> bool:
        found[:] = await recordings_of(device, "triggered")
        return bool(found)

    await until_async(triggered)


async def test_recording_by_hand_starts_and_stops_even_after_looking_at_another_camera(desktop, device):
    panel = await open_schedule(desktop, device)
    results = watch(panel)
    desktop.click(panel.record_button)
    ok, message = await finish(desktop, panel, results)
    assert (ok, message) == (True, "Recording to SD_DISK until you stop it.")
    assert panel.stop_button.isEnabled()
    assert not panel.record_button.isEnabled()
    async with transport_for(device) as transport:
        (recording,) = (await Recordings(transport).page(RecordingQuery())).recordings
    assert recording.recording_id == panel.controller.manual_recording
    assert recording.ongoing
    camera = desktop.window.selected_camera()
    panel.controller.select(None)  # the installer looks at another camera, and comes back to stop it
    await desktop.wait(lambda: panel.overview is None)
    assert not panel.stop_button.isEnabled()
    panel.controller.select(camera)
    await desktop.wait(lambda: panel.overview is not None)
    assert panel.stop_button.isEnabled()
    desktop.click(panel.stop_button)
    assert await finish(desktop, panel, results) == (True, "The manual recording is stopped.")
    async with transport_for(device) as transport:
        (recording,) = (await Recordings(transport).page(RecordingQuery())).recordings
    assert not recording.ongoing
    assert panel.record_button.isEnabled()


async def test_a_refused_rule_reads_as_a_sentence_and_adds_nothing(desktop, device):
    panel = await open_schedule(desktop, device)
    desktop.click(panel.add_rule_button)
    dialog = panel.dialog
    dialog.kind.setCurrentIndex(dialog.kind.findData(TriggerKind.MANUAL_TRIGGER))
    dialog.stream_options.setText("fps=many")
    results = watch(panel)
    desktop.click(dialog.ok_button)
    ok, message = await finish(desktop, panel, results)
    assert not ok
    assert message.startswith("The camera refused the recording settings: ")
    assert message.endswith(".")
    assert panel.result.text() == message
    assert panel.result.isVisible()
    assert rule_rows(panel) == []


def group_rows(panel: SchedulePanel) -> list[dict[str, str]]:
    table = panel.groups
    return [
        {name: table.item(row, column).text() for column, name in enumerate(GROUP_COLUMNS)}
        for row in range(table.rowCount())
    ]


async def test_two_inputs_recording_into_one_group_make_one_recording_and_the_group_goes_with_it(desktop, device):
    panel = await open_schedule(desktop, device)
    results = watch(panel)
    desktop.click(panel.new_group_button)
    dialog = panel.dialog
    dialog.name.setText("Entrance")
    dialog.pre.setValue(1)
    dialog.post.setValue(1)
    dialog.retention.setValue(48)
    dialog.stream_options.setText("resolution=320x180&fps=10")
    desktop.click(dialog.ok_button)
    assert await finish(desktop, panel, results) == (True, "The recording group Entrance is saved on SD_DISK.")
    assert group_rows(panel) == [
        {
            "Group": "Entrance",
            "On": "SD card",
            "Before": "1 s",
            "After": "1 s",
            "Keeps": "48 h",
            "Stream options": "resolution=320x180&fps=10",
        }
    ]

    for port in (3, 4):
        desktop.click(panel.add_rule_button)
        dialog = panel.dialog
        dialog.disk.setCurrentIndex(dialog.disk.findText("Group: Entrance"))
        dialog.kind.setCurrentIndex(dialog.kind.findData(TriggerKind.SCHEDULE_PULSE))
        assert not dialog.ok_button.isEnabled()  # a pulse is an instant: it cannot hold a group's recording
        dialog.kind.setCurrentIndex(dialog.kind.findData(TriggerKind.VIRTUAL_INPUT))
        assert dialog.ok_button.isEnabled()
        assert not dialog.pre.isVisibleTo(dialog)  # the group brings its own times
        assert "from 1 s before to 1 s after" in dialog.group_note.text()
        dialog.port.setValue(port)
        desktop.click(dialog.ok_button)
        assert await finish(desktop, panel, results) == (
            True,
            f"Added: Virtual input {port} records into the group Entrance.",
        )
    rows = rule_rows(panel)
    assert [(r["Trigger"], r["Records"], r["To"]) for r in rows] == [
        ("Virtual input 3", "While active, into group Entrance", "SD card"),
        ("Virtual input 4", "While active, into group Entrance", "SD card"),
    ]

    async with transport_for(device, "operator") as operator:
        events = EventService(operator)
        await events.activate_virtual_input(3)
        await asyncio.sleep(1.0)
        await events.activate_virtual_input(4)
        await events.deactivate_virtual_input(3)
        await asyncio.sleep(1.0)
        await events.deactivate_virtual_input(4)
    found: list[Recording] = []

    async def one_finished() -> bool:
        found[:] = await recordings_of(device, "triggered")
        return len(found) == 1 and not found[0].ongoing

    await until_async(one_finished)
    await asyncio.sleep(1.5)  # a second recording would have started by now
    assert len(await recordings_of(device, "triggered")) == 1

    panel.groups.selectRow(0)
    desktop.click(panel.delete_group_button)
    desktop.click(panel.dialog.button(QMessageBox.StandardButton.Yes))
    ok, message = await finish(desktop, panel, results)
    assert not ok
    assert message == (
        "The recording group is still used by Record Virtual input 3 into Entrance, "
        "Record Virtual input 4 into Entrance: remove those rules first."
    )
    for _ in range(2):
        panel.rules.selectRow(0)
        desktop.click(panel.remove_rule_button)
        assert await finish(desktop, panel, results) == (True, "The rule is removed.")
    panel.groups.selectRow(0)
    desktop.click(panel.delete_group_button)
    desktop.click(panel.dialog.button(QMessageBox.StandardButton.Yes))
    assert await finish(desktop, panel, results) == (
        True,
        "The recording group Entrance and its recordings are deleted.",
    )
    assert group_rows(panel) == []
    assert await recordings_of(device, "triggered") == []


def test_the_keyboard_paints_a_rectangle(qtbot):
    grid = WeekGridView()
    qtbot.addWidget(grid)
    changes: list[WeekGrid] = []
    grid.grid_changed.connect(changes.append)
    grid.focus_cell = (0, 8)
    qtbot.keyClick(grid, Qt.Key.Key_Space)
    for key in (Qt.Key.Key_Down, Qt.Key.Key_Right, Qt.Key.Key_Right):
        qtbot.keyClick(grid, key, Qt.KeyboardModifier.ShiftModifier)
    assert grid.grid == WeekGrid.rectangle(range(2), range(8, 11))
    qtbot.keyClick(grid, Qt.Key.Key_Space)  # on a recording hour: erases it
    assert (1, 10) not in grid.grid.cells
    assert changes[-1] == grid.grid
    assert grid.cell_at(QPoint(0, 0)) is None


async def until_async(predicate, timeout: float = 20.0) -> None:
    """Poll an async condition (one that asks the camera) on Qt's loop."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.2)
