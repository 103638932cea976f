"""The rule engine: action rules evaluated against the event bus, driving their actions (EVENTS.md §1.5, §6.1).

"The primary action will be executed when the start event occurs and all specified conditions are fulfilled
... The action will be stopped when any of the conditions is no longer fulfilled." A rule without a start event
is executed when its conditions become fulfilled together. A fixed action is *fired* (it runs for its own
length); an unlimited one is *held* while the rule's conditions hold and *released* when they stop holding.
ActivationTimeout is the minimum time between two executions.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from device.clock import Clock
from device.events.actions import ActionRule, ActionStore, Filter, template
from device.events.bus import Event, EventBus
from device.events.itemfilter import ItemFilter, parse_filter
from device.events.topics import TopicExpression, parse_expression

log = logging.getLogger(__name__)


class ActionRunner(Protocol):
    """What a rule drives: one action configuration executed for one rule."""

    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    def fire(self, moment: datetime) -> None: ...
    def hold(self, moment: datetime) -> None: ...
    def release(self, moment: datetime) -> None: ...


RunnerFactory = Callable[[ActionRule], Awaitable[ActionRunner | None]]


@dataclass(frozen=True)
class CompiledFilter:
    topic: TopicExpression
    content: ItemFilter | None

    @classmethod
    def of(cls, given: Filter) -> CompiledFilter:
        return cls(parse_expression(given.topic), parse_filter(given.content) if given.content else None)

    def matches(self, event: Event) -> bool:
        return self.topic.matches(event.topic) and (self.content is None or self.content.matches(event.items))


class RuleState:
    def __init__(self, rule: ActionRule, unlimited: bool, runner: ActionRunner, clock: Clock) -> None:
        self.rule, self.unlimited, self.runner, self._clock = rule, unlimited, runner, clock
        self.start = CompiledFilter.of(rule.start_event) if rule.start_event else None
        self.conditions = [CompiledFilter.of(c) for c in rule.conditions]
        self.holding = False  # the conditions held at the last look
        self.running = False  # an unlimited action is held
        self._executed: float | None = None

    def conditions_hold(self, states: list[Event]) -> bool:
        return all(any(c.matches(s) for s in states if s.stateful) for c in self.conditions)

    def on_event(self, event: Event, states: list[Event]) -> None:
        holds = self.conditions_hold(states)
        rising = holds and not self.holding
        self.holding = holds
        if self.running and not holds:
            self.running = False
            self.runner.release(event.time)
        if self.start is not None:
            if holds and not event.initial and self.start.matches(event):
                self._execute(event.time)
        elif rising:
            self._execute(event.time)

    def _execute(self, moment: datetime) -> None:
        now = self._clock.monotonic()
        timeout = self.rule.timeout_seconds
        if self._executed is not None and timeout and now - self._executed < timeout and not self.running:
            return
        self._executed = now
        if self.unlimited:
            self.running = True
            self.runner.hold(moment)
        else:
            self.runner.fire(moment)


class RuleEngine:
    def __init__(self, bus: EventBus, store: ActionStore, clock: Clock, runner_for: RunnerFactory) -> None:
        self._bus, self._store, self._clock, self._runner_for = bus, store, clock, runner_for
        self._rules: dict[int, RuleState] = {}
        self._unsubscribe: Callable[[], None] | None = None

    async def start(self) -> None:
        self._unsubscribe = self._bus.subscribe(self._on_event)
        for rule in self._store.rules():
            await self.add(rule)

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        for rule_id in list(self._rules):
            await self.remove(rule_id)

    async def add(self, rule: ActionRule) -> None:
        if not rule.enabled:
            return
        configuration = self._store.configuration(rule.primary_action)
        runner = await self._runner_for(rule)
        if configuration is None or runner is None:
            return
        found = template(configuration.template)
        state = RuleState(rule, found is not None and found.unlimited, runner, self._clock)
        await runner.start()
        self._rules[rule.id] = state
        # A rule added while its conditions already hold acts at once, as if they had just become true.
        state.on_event(_nothing(self._clock.now()), self._bus.current())

    async def remove(self, rule_id: int) -> None:
        state = self._rules.pop(rule_id, None)
        if state is not None:
            await state.runner.stop()

    def _on_event(self, event: Event) -> None:
        states = self._bus.current()
        for state in list(self._rules.values()):
            try:
                state.on_event(event, states)
            except Exception:  # one broken rule must not silence the others
                log.exception("rule %s failed on %s", state.rule.id, event.topic)


def _nothing(moment: datetime) -> Event:
    """A non-event to re-evaluate conditions with: it matches no start event."""
    return Event("", {}, {}, moment, stateful=False, initial=True)
