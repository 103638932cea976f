"""The camera's events and actions as one component: schedules, virtual inputs, action rules and their
actions, and the WebSocket sessions, with one start()/stop() lifecycle.

The SOAP and CGI handlers call the verbs here (add a rule, remove a configuration); each verb checks the request
(:mod:`device.events.rulecheck`), stores it, and tells the rule engine.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from device.clock import Clock
from device.events.actions import (
    FIXED_RECORDING,
    GROUP_RECORDING,
    UNLIMITED_RECORDING,
    ActionConfiguration,
    ActionRule,
    ActionStore,
)
from device.events.bus import EventBus
from device.events.declarations import TopicDeclaration, Value, declare
from device.events.inputs import VirtualInputs
from device.events.rulecheck import ActionRefused, check_configuration, check_rule
from device.events.rules import ActionRunner, RuleEngine
from device.events.scheduler import Scheduler
from device.events.schedules import ScheduleStore
from device.events.sessions import WsSessions
from device.events.topics import SCHEDULE_INTERVAL, SCHEDULE_PULSE, SYSTEM_READY, parse_expression
from device.recorder.group_recorder import GroupRecorders
from device.recorder.groups import (
    IN_USE,
    INVALID_REQUEST,
    INVALID_STREAM_OPTIONS,
    PROCESSING_FAILED,
    GroupChange,
    GroupRefused,
    GroupStore,
    RecordingGroup,
)
from device.recorder.service import RecordingRefused, RecordingService, parse_stream_options
from device.recorder.triggered import RecordSettings, TriggeredRecorder
from device.storage.disk import DiskStatus


class Closable(Protocol):
    async def close(self) -> bool: ...


class EventSystem:
    def __init__(self, bus: EventBus, clock: Clock, zone: ZoneInfo, data_dir: Path, recorder: RecordingService) -> None:
        self.bus, self._clock, self._recorder = bus, clock, recorder
        self.scheduler = Scheduler(ScheduleStore(data_dir / "schedules.json"), bus, clock, zone)
        self.inputs = VirtualInputs(bus)
        self.actions = ActionStore(data_dir / "actions.json")
        self.groups = GroupRecorders(recorder, GroupStore(data_dir / "recording_groups.json", self._present, clock.now))
        recorder.disks.retention = self._retention
        self.engine = RuleEngine(bus, self.actions, clock, self._runner_for)
        self.sessions = WsSessions(clock)
        self.streams: set[Closable] = set()
        """Open event streams: closed before the HTTP server stops, which otherwise waits for them."""

    async def start(self) -> None:
        await self.scheduler.start()
        await self.engine.start()
        self.bus.set_state(SYSTEM_READY, {}, {"ready": "1"})

    async def close_streams(self) -> None:
        for stream in list(self.streams):
            await stream.close()

    async def stop(self) -> None:
        await self.close_streams()
        await self.engine.stop()
        await self.scheduler.stop()
        await self.inputs.stop()

    def declarations(self) -> list[TopicDeclaration]:
        intervals: list[Value] = []
        pulses: list[Value] = []
        for event in self.scheduler.store.all():
            (pulses if event.schedule.is_pulse else intervals).append(Value(event.id, event.name))
        return declare(tuple(self._recorder.disks.disks), tuple(intervals), tuple(pulses))

    # --- action configurations

    def add_configuration(self, name: str | None, token: str, parameters: dict[str, str]) -> ActionConfiguration:
        groups = tuple(g.id for g in self.groups.store.visible())
        check_configuration(token, parameters, tuple(self._recorder.disks.disks), groups, _stream_options_ok)
        return self.actions.add_configuration(name, token, parameters)

    def remove_configuration(self, configuration_id: int) -> None:
        if self.actions.configuration(configuration_id) is None:
            raise ActionRefused("ActionConfigurationNotFoundFault", "")
        users = self.actions.rules_using(configuration_id)
        if users:
            raise ActionRefused("ActionConfigurationIsInUseFault", "action configuration is in use", used_by=users)
        self.actions.remove_configuration(configuration_id)

    # --- action rules

    async def add_rule(self, rule: ActionRule) -> ActionRule:
        timeout = check_rule(rule, self.actions, self.declarations())
        stored = self.actions.add_rule(dataclasses.replace(rule, timeout_seconds=timeout))
        await self.engine.add(stored)
        return stored

    async def remove_rule(self, rule_id: int) -> None:
        if self.actions.rule(rule_id) is None:
            raise ActionRefused("ActionRuleNotFoundFault", f"No action rule with id '{rule_id}' exists")
        await self.engine.remove(rule_id)
        self.actions.remove_rule(rule_id)

    # --- recording groups (EVENTS.md §4.1)

    def create_group(self, group: RecordingGroup) -> RecordingGroup:
        if not group.disk_id:
            raise GroupRefused(INVALID_REQUEST, "Invalid request. diskid is required.")
        if group.disk_id not in self._recorder.disks.disks:
            raise GroupRefused(INVALID_REQUEST, f"Invalid request. Unknown diskid '{group.disk_id}'.")
        if not self._present(group.disk_id):
            raise GroupRefused(INVALID_REQUEST, f"Invalid request. The disk {group.disk_id} is not there.")
        _check_stream_options(group.stream_options)
        return self.groups.store.create(group)

    async def update_group(self, group_id: str, change: GroupChange) -> RecordingGroup:
        if change.stream_options is not None:
            _check_stream_options(change.stream_options)
        before, after = self.groups.store.update(group_id, change)
        await self.groups.changed(before, after, self._clock.now())
        return after

    async def delete_group(self, group_id: str) -> None:
        """The group and its recordings; refused while an action configuration records into it."""
        group = self.groups.store.get(group_id)
        users = [
            c.name or str(c.id)
            for c in self.actions.configurations()
            if c.template == GROUP_RECORDING and c.parameters.get("recording_group_id") == group_id
        ]
        if users:
            raise GroupRefused(IN_USE, f"Recording group in use by the action configuration(s) {', '.join(users)}.")
        recordings = set(self.groups.store.recordings(group_id))
        if recordings and self._recorder.disks.disk(group.disk_id).store is None:
            raise GroupRefused(
                PROCESSING_FAILED,
                f"The disk {group.disk_id} is not mounted, so the group's recordings cannot be removed.",
            )
        try:
            if recordings:
                await self._recorder.remove([group.disk_id], recordings)
        except RecordingRefused as exc:
            raise GroupRefused(PROCESSING_FAILED, f"The group's recordings could not be removed: {exc}") from None
        self.groups.store.delete(group_id)

    def _present(self, disk_id: str) -> bool:
        disk = self._recorder.disks.disks.get(disk_id)
        return disk is not None and disk.status is not DiskStatus.DISCONNECTED

    def _retention(self, recording_id: str) -> timedelta | None:
        group = self.groups.store.group_of(recording_id)
        return timedelta(hours=group.retention_hours) if group is not None and group.retention_hours else None

    async def _runner_for(self, rule: ActionRule) -> ActionRunner | None:
        configuration = self.actions.configuration(rule.primary_action)
        if configuration is None:
            return None
        name = configuration.name or f"action{configuration.id}"
        if configuration.template == GROUP_RECORDING:
            trigger = (_recording_type(rule), rule.event_id, name)
            return self.groups.action(rule.id, configuration.parameters.get("recording_group_id", ""), trigger)
        if configuration.template not in (FIXED_RECORDING, UNLIMITED_RECORDING):
            return None
        parameters = configuration.parameters
        disk_id = parameters.get("storage_id", "").strip() or self._recorder.state.params.get("Recording.DefaultDiskId")
        settings = RecordSettings(
            disk_id,
            parameters.get("stream_options", ""),
            timedelta(milliseconds=int(parameters.get("pre_duration") or 0)),
            timedelta(milliseconds=int(parameters.get("post_duration") or 0)),
            (_recording_type(rule), rule.event_id, name),
        )
        return TriggeredRecorder(self._recorder, settings)


def _recording_type(rule: ActionRule) -> str:
    """`scheduled` when a schedule drives the rule, `triggered` otherwise (list.cgi's recordingtype)."""
    filters = [f for f in (rule.start_event, *rule.conditions) if f is not None]
    for given in filters:
        expression = parse_expression(given.topic)
        if expression.matches(SCHEDULE_INTERVAL) or expression.matches(SCHEDULE_PULSE):
            return "scheduled"
    return "triggered"


def _check_stream_options(text: str) -> None:
    try:
        parse_stream_options(text)
    except ValueError as exc:
        raise GroupRefused(INVALID_STREAM_OPTIONS, f"Invalid stream options: {exc}") from None


def _stream_options_ok(text: str) -> bool:
    try:
        parse_stream_options(text)
    except ValueError:
        return False
    return True
