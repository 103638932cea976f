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
from device.recorder.service import RecordingService, parse_stream_options
from device.recorder.triggered import RecordSettings, TriggeredRecorder


class Closable(Protocol):
    async def close(self) -> bool: ...


class EventSystem:
    def __init__(self, bus: EventBus, clock: Clock, zone: ZoneInfo, data_dir: Path, recorder: RecordingService) -> None:
        self.bus, self._clock, self._recorder = bus, clock, recorder
        self.scheduler = Scheduler(ScheduleStore(data_dir / "schedules.json"), bus, clock, zone)
        self.inputs = VirtualInputs(bus)
        self.actions = ActionStore(data_dir / "actions.json")
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
        check_configuration(token, parameters, tuple(self._recorder.disks.disks), (), _stream_options_ok)
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

    async def _runner_for(self, rule: ActionRule) -> ActionRunner | None:
        configuration = self.actions.configuration(rule.primary_action)
        if configuration is None or configuration.template not in (FIXED_RECORDING, UNLIMITED_RECORDING):
            return None
        parameters = configuration.parameters
        disk_id = parameters.get("storage_id", "").strip() or self._recorder.state.params.get("Recording.DefaultDiskId")
        settings = RecordSettings(
            disk_id,
            parameters.get("stream_options", ""),
            timedelta(milliseconds=int(parameters.get("pre_duration") or 0)),
            timedelta(milliseconds=int(parameters.get("post_duration") or 0)),
            (_recording_type(rule), rule.event_id, configuration.name or f"action{configuration.id}"),
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


def _stream_options_ok(text: str) -> bool:
    try:
        parse_stream_options(text)
    except ValueError:
        return False
    return True
