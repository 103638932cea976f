"""ScheduleController: the selected camera's recording schedule, rules, continuous profiles and manual recording.

Panels call its slots and listen to its signals; the order of API calls lives in `app.schedule`. One change runs
at a time, and after each the camera is read again, so the panel always shows what the camera now holds (another
client may have changed it too). The camera is read when it is selected and on `refresh()`, not polled: rules
change only when someone changes them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from PySide6.QtCore import QObject, Signal

from app.cameras.fleet import Fleet
from app.schedule.errors import Refused, sentence
from app.schedule.overview import ScheduleOverview, read_overview
from app.schedule.rules import RecordingRules, RecordSettings
from app.schedule.triggers import Trigger
from app.schedule.week import WeekGrid
from app.vapix.errors import VapixError
from app.vapix.event_service import EventService
from app.vapix.recording_groups import RecordingGroup
from app.vapix.recordings import RecordingControl
from app.vapix.transport import VapixTransport
from ui.controllers.tasks import TaskGroup

R = TypeVar("R")
MANUAL_PULSE_SECONDS = 0.5  # how long the manual trigger is held "pressed"


class NotConnected(Exception):
    """No transport for the camera (no password saved)."""


class ScheduleController(QObject):
    """Signals:
    overview_changed(object): a ScheduleOverview, or None while nothing is known about the camera.
    busy_changed(bool): a change started or ended.
    finished(bool, str): a change ended; ok and a sentence for the user.
    manual_recording_changed(str): the ID of the manual recording running, or "" when none runs.
    """

    overview_changed = Signal(object)
    busy_changed = Signal(bool)
    finished = Signal(bool, str)
    manual_recording_changed = Signal(str)

    def __init__(self, fleet: Fleet, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.fleet = fleet
        self.camera_id: str | None = None
        self.overview: ScheduleOverview | None = None
        self.manual_recording = ""  # the shown camera's
        self._manual: dict[str, str] = {}  # every camera's, so Stop still works after looking at another camera
        self.read_error = ""  # why the camera's schedule could not be read, for the panel's empty state
        self._busy = False
        self._reads = 0
        self._tasks = TaskGroup(lambda exc: self.finished.emit(False, sentence(exc)))

    @property
    def busy(self) -> bool:
        return self._busy

    def select(self, camera_id: str | None) -> None:
        if camera_id == self.camera_id:
            return
        self.camera_id = camera_id
        self.overview = None
        self._show_manual()
        self.overview_changed.emit(None)
        self.refresh()

    def refresh(self) -> None:
        if self.camera_id is not None:
            self._tasks.spawn(self._read(self.camera_id))

    # --- changes -------------------------------------------------------------------------------------------------

    def save_week(self, disk_id: str, grid: WeekGrid, stream_options: str = "") -> None:
        async def save(transport: VapixTransport) -> str:
            saved = await RecordingRules(transport).save_week(disk_id, grid, stream_options)
            if saved.rule_id is None:
                return f"The week schedule of {disk_id} is removed."
            return f"The week schedule is saved: {grid.hours} hours a week to {disk_id}."

        self._start(save)

    def add_triggered(self, trigger: Trigger, settings: RecordSettings) -> None:
        async def add(transport: VapixTransport) -> str:
            await RecordingRules(transport).add_triggered(trigger, settings)
            return f"Added: {trigger.describe()} records to {settings.disk_id}."

        self._start(add)

    def add_to_group(self, trigger: Trigger, group: RecordingGroup) -> None:
        async def add(transport: VapixTransport) -> str:
            await RecordingRules(transport).add_to_group(trigger, group)
            return f"Added: {trigger.describe()} records into the group {group.label}."

        self._start(add)

    def save_group(self, group: RecordingGroup) -> None:
        """Create the group (empty or unknown ID) or update it."""

        async def save(transport: VapixTransport) -> str:
            await RecordingRules(transport).save_group(group)
            return f"The recording group {group.label} is saved on {group.disk_id}."

        self._start(save)

    def delete_group(self, group: RecordingGroup) -> None:
        async def delete(transport: VapixTransport) -> str:
            await RecordingRules(transport).delete_group(group.group_id)
            return f"The recording group {group.label} and its recordings are deleted."

        self._start(delete)

    def remove_rule(self, rule_id: int) -> None:
        async def remove(transport: VapixTransport) -> str:
            await RecordingRules(transport).remove_rule(rule_id)
            return "The rule is removed."

        self._start(remove)

    def add_profile(self, disk_id: str, options: str) -> None:
        async def add(transport: VapixTransport) -> str:
            number = await RecordingControl(transport).add_profile(disk_id, options)
            return f"Continuous recording profile {number} records to {disk_id}."

        self._start(add)

    def remove_profile(self, profile: int) -> None:
        async def remove(transport: VapixTransport) -> str:
            await RecordingControl(transport).remove_profile(profile)
            return f"Continuous recording profile {profile} is removed."

        self._start(remove)

    def record(self, disk_id: str, options: str = "") -> None:
        camera_id = self.camera_id

        async def record(transport: VapixTransport) -> str:
            self._set_manual(camera_id, await RecordingControl(transport).record(disk_id, options))
            return f"Recording to {disk_id} until you stop it."

        self._start(record)

    def stop_recording(self) -> None:
        camera_id, recording_id = self.camera_id, self.manual_recording

        async def stop(transport: VapixTransport) -> str:
            await RecordingControl(transport).stop(recording_id)
            self._set_manual(camera_id, "")
            return "The manual recording is stopped."

        if recording_id:
            self._start(stop)

    def manual_trigger(self) -> None:
        """Press and release the camera's manual trigger: rules on it start as on any event."""

        async def pulse(transport: VapixTransport) -> str:
            events = EventService(transport)
            await events.manual_trigger(True)
            await asyncio.sleep(MANUAL_PULSE_SECONDS)
            await events.manual_trigger(False)
            return "The manual trigger was pressed."

        self._start(pulse)

    # --- plumbing ------------------------------------------------------------------------------------------------

    def _set_manual(self, camera_id: str | None, recording_id: str) -> None:
        if camera_id is None:
            return
        if recording_id:
            self._manual[camera_id] = recording_id
        else:
            self._manual.pop(camera_id, None)
        self._show_manual()

    def _show_manual(self) -> None:
        recording_id = self._manual.get(self.camera_id, "") if self.camera_id else ""
        if recording_id != self.manual_recording:
            self.manual_recording = recording_id
            self.manual_recording_changed.emit(recording_id)

    def _start(self, work: Callable[[VapixTransport], Awaitable[str]]) -> None:
        if self._busy:
            self.finished.emit(False, "Another change is still being saved; wait until it has ended.")
            return
        camera_id = self.camera_id
        if camera_id is not None:
            self._busy = True  # at once, so a double click cannot start a second change
            self.busy_changed.emit(True)
            self._tasks.spawn(self._run(camera_id, work))

    async def _run(self, camera_id: str, work: Callable[[VapixTransport], Awaitable[str]]) -> None:
        try:
            message = await self._with_transport(camera_id, work)
        except (VapixError, NotConnected, Refused) as exc:
            self.finished.emit(False, str(exc) if isinstance(exc, NotConnected) else sentence(exc))
        else:
            self.finished.emit(True, message)
        finally:
            self._busy = False
            self.busy_changed.emit(False)
        await self._read(camera_id)

    async def _read(self, camera_id: str) -> None:
        self._reads += 1
        number = self._reads
        error = ""
        try:
            overview: ScheduleOverview | None = await self._with_transport(camera_id, read_overview)
        except (VapixError, NotConnected, ValueError) as exc:
            overview, error = None, str(exc) if isinstance(exc, NotConnected) else sentence(exc)
        if camera_id == self.camera_id and number == self._reads:  # only the latest read of the shown camera
            self.overview, self.read_error = overview, error
            self.overview_changed.emit(overview)

    async def _with_transport(self, camera_id: str, work: Callable[[VapixTransport], Awaitable[R]]) -> R:
        transport = self.fleet.transport(camera_id)
        if transport is None:
            raise NotConnected("The camera is not connected: select it and enter its password.")
        async with transport:
            return await work(transport)

    async def shutdown(self) -> None:
        self.camera_id = None
        await self._tasks.cancel_all()
