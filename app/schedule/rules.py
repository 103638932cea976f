"""The recording rules of one camera: the week schedule of a disk, event-triggered recordings, and a listing of
every rule as what it records and where.

Everything lives on the camera (scheduled events, action configurations, action rules), so a reinstalled desktop
or a second one reads the same schedule back. The app keeps nothing of its own; it recognises the week schedule it
wrote by the names of its scheduled events. There is no update operation on the camera (EVENTS.md §1), so a
changed week is written as new objects that replace the old ones: the new schedules and configuration first
(inert without a rule), then the rules are swapped, then the old objects go. A failure before the swap removes
what was added and leaves the old week recording as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.schedule.errors import Refused
from app.schedule.triggers import Trigger, TriggerKind, schedule_condition, trigger_of
from app.schedule.week import UnsupportedSchedule, WeekGrid, grid_of, windows
from app.vapix.action_service import (
    FIXED_RECORDING,
    GROUP_RECORDING,
    UNLIMITED_RECORDING,
    ActionConfiguration,
    ActionRule,
    ActionService,
    recording_parameters,
)
from app.vapix.errors import ApiError, NotFound, VapixError
from app.vapix.event_service import EventService, ScheduledEvent
from app.vapix.recording_groups import RecordingGroup, RecordingGroups, error_text
from app.vapix.transport import VapixTransport

WEEK_PREFIX = "Edgestore week"
RECORDING_TEMPLATES = (FIXED_RECORDING, UNLIMITED_RECORDING)


def week_schedule_prefix(disk_id: str) -> str:
    return f"{WEEK_PREFIX} {disk_id}:"


@dataclass(frozen=True)
class RecordSettings:
    """Where a rule records and how much around its trigger. Seconds here; the camera takes milliseconds."""

    disk_id: str
    pre_seconds: float = 0.0
    post_seconds: float = 0.0
    stream_options: str = ""

    def parameters(self) -> dict[str, str]:
        return recording_parameters(
            self.disk_id, round(self.pre_seconds * 1000), round(self.post_seconds * 1000), self.stream_options
        )


@dataclass(frozen=True)
class RuleListing:
    """One action rule as the installer reads it: its trigger, what it records and on which disk."""

    rule_id: int
    name: str
    enabled: bool
    trigger: Trigger
    trigger_text: str
    records: str  # "Clip: 5 s before, 3 s after", "While active, then 3 s", or what the action is
    disk_id: str  # "" when the action does not record
    pre_seconds: float
    post_seconds: float
    stream_options: str
    configuration_id: int
    week: bool  # the week schedule this app wrote


@dataclass(frozen=True)
class WeekSchedule:
    """A disk's week as saved on the camera; no rule_id when nothing is saved."""

    disk_id: str
    grid: WeekGrid
    stream_options: str = ""
    rule_id: int | None = None
    configuration_id: int | None = None
    schedule_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class CameraRules:
    """One reading of the camera's rules, configurations and scheduled events, to answer several questions
    from the same moment."""

    rules: list[ActionRule]
    configurations: dict[int, ActionConfiguration]
    schedules: dict[str, ScheduledEvent]
    groups: dict[str, RecordingGroup] = field(default_factory=dict)

    def schedule_names(self) -> dict[str, str]:
        return {i: s.name or i for i, s in self.schedules.items()}

    def is_week_rule(self, rule: ActionRule, disk_id: str | None = None) -> bool:
        configuration = self.configurations.get(rule.primary_action)
        if configuration is None or configuration.template != UNLIMITED_RECORDING:
            return False
        disk = configuration.parameters.get("storage_id", "")
        if disk_id is not None and disk != disk_id:
            return False
        ids = [i for c in rule.conditions for i in trigger_of(c).schedule_ids]
        prefix = week_schedule_prefix(disk)
        return bool(ids) and all((self.schedules[i].name or "").startswith(prefix) for i in ids if i in self.schedules)

    def week(self, disk_id: str) -> WeekSchedule:
        rule = next((r for r in self.rules if self.is_week_rule(r, disk_id)), None)
        if rule is None or rule.rule_id is None:
            return WeekSchedule(disk_id, WeekGrid())
        ids = tuple(i for c in rule.conditions for i in trigger_of(c).schedule_ids if i in self.schedules)
        configuration = self.configurations[rule.primary_action]
        return WeekSchedule(
            disk_id,
            grid_of(self.schedules[i].ical for i in ids),
            configuration.parameters.get("stream_options", ""),
            rule.rule_id,
            configuration.configuration_id,
            ids,
        )

    def listing(self) -> list[RuleListing]:
        return [self._listed(r) for r in self.rules if r.rule_id is not None]

    def _listed(self, rule: ActionRule) -> RuleListing:
        assert rule.rule_id is not None
        configuration = self.configurations.get(rule.primary_action)
        parameters = configuration.parameters if configuration else {}
        week = self.is_week_rule(rule)
        trigger = _trigger(rule)
        group = self._group_of(configuration)
        if group is not None:
            pre, post = group.pre_ms / 1000, group.post_ms / 1000
            records, disk_id, options = f"While active, into group {group.label}", group.disk_id, group.stream_options
        else:
            pre, post = _seconds(parameters.get("pre_duration")), _seconds(parameters.get("post_duration"))
            records, options = _records(configuration, pre, post), parameters.get("stream_options", "")
            recording = configuration is not None and configuration.template in RECORDING_TEMPLATES
            disk_id = parameters.get("storage_id", "") if recording else ""
        return RuleListing(
            rule.rule_id,
            rule.name or f"Rule {rule.rule_id}",
            rule.enabled,
            trigger,
            self._describe(trigger, week, rule),
            records,
            disk_id,
            pre,
            post,
            options,
            rule.primary_action,
            week,
        )

    def _group_of(self, configuration: ActionConfiguration | None) -> RecordingGroup | None:
        if configuration is None or configuration.template != GROUP_RECORDING:
            return None
        group_id = configuration.parameters.get("recording_group_id", "")
        return self.groups.get(group_id) or RecordingGroup(group_id, "", nice_name=f"{group_id} (not on the camera)")

    def group_users(self, group_id: str) -> list[str]:
        """The names of the rules that record into the group (the camera refuses to delete it while any do)."""
        users = {
            c.configuration_id
            for c in self.configurations.values()
            if c.template == GROUP_RECORDING and c.parameters.get("recording_group_id") == group_id
        }
        return [r.name or f"Rule {r.rule_id}" for r in self.rules if r.primary_action in users]

    def _describe(self, trigger: Trigger, week: bool, rule: ActionRule) -> str:
        if week:
            ids = [i for c in rule.conditions for i in trigger_of(c).schedule_ids if i in self.schedules]
            try:
                hours = grid_of(self.schedules[i].ical for i in ids).hours
            except UnsupportedSchedule:
                return "Week schedule"
            return f"Week schedule ({hours} h a week)"
        return trigger.describe(self.schedule_names())


def _trigger(rule: ActionRule) -> Trigger:
    """The StartEvent if there is one, else the first condition: what makes the rule act."""
    given = rule.start_event or (rule.conditions[0] if rule.conditions else None)
    return trigger_of(given) if given is not None else Trigger(TriggerKind.UNKNOWN, topic="")


def _seconds(ms: str | None) -> float:
    try:
        return int(ms or 0) / 1000
    except ValueError:
        return 0.0


def _records(configuration: ActionConfiguration | None, pre: float, post: float) -> str:
    if configuration is None:
        return "Nothing: its action is gone"
    if configuration.template == FIXED_RECORDING:
        return f"Clip: {pre:g} s before, {post:g} s after"
    if configuration.template == UNLIMITED_RECORDING:
        return f"While active, {pre:g} s before, {post:g} s after" if pre or post else "While active"
    if configuration.template == GROUP_RECORDING:
        return "While active, into a recording group"
    return f"Not a recording ({configuration.template})"


class RecordingRules:
    """The use cases over one transport (open it with `async with` first)."""

    def __init__(self, transport: VapixTransport) -> None:
        self.actions = ActionService(transport)
        self.events = EventService(transport)
        self.groups = RecordingGroups(transport)

    async def read(self) -> CameraRules:
        rules = await self.actions.get_action_rules()
        configurations = {c.configuration_id: c for c in await self.actions.get_action_configurations()}
        schedules = {s.event_id: s for s in await self.events.get_scheduled_events()}
        return CameraRules(rules, configurations, schedules, {g.group_id: g for g in await self.read_groups()})

    async def read_groups(self) -> list[RecordingGroup]:
        """The camera's recording groups; none on firmware without the Recording group API."""
        try:
            return await self.groups.list()
        except NotFound:
            return []

    async def save_week(self, disk_id: str, grid: WeekGrid, stream_options: str = "") -> WeekSchedule:
        """Replace the disk's week with `grid` (an empty grid removes it). Returns the week as now saved."""
        old = (await self.read()).week(disk_id)
        added_schedules: list[str] = []
        configuration: int | None = None
        try:
            for window in windows(grid):
                name = f"{week_schedule_prefix(disk_id)} {window.describe()}"
                added_schedules.append(await self.events.add_scheduled_event(window.ical(), name))
            if added_schedules:
                settings = RecordSettings(disk_id, stream_options=stream_options)
                configuration = await self.actions.add_action_configuration(
                    UNLIMITED_RECORDING, settings.parameters(), f"{WEEK_PREFIX} {disk_id}"
                )
            if old.rule_id is not None:
                await self.actions.remove_action_rule(old.rule_id)
        except VapixError:
            await self._undo(None, configuration, added_schedules)
            raise
        rule_id = None
        if configuration is not None:
            rule = ActionRule(
                f"Record the week to {disk_id}", configuration, conditions=(schedule_condition(added_schedules),)
            )
            try:
                rule_id = await self.actions.add_action_rule(rule)
            except VapixError:
                await self._undo(None, configuration, added_schedules)
                raise
        await self._undo(None, old.configuration_id, list(old.schedule_ids))
        return WeekSchedule(disk_id, grid, stream_options, rule_id, configuration, tuple(added_schedules))

    async def add_triggered(self, trigger: Trigger, settings: RecordSettings, name: str | None = None) -> int:
        """A fixed recording from `pre_seconds` before each trigger to `post_seconds` after it. Returns the rule ID."""
        start = trigger.start_event()  # a trigger that cannot be written fails before anything is added
        label = name or f"Record {trigger.describe()} to {settings.disk_id}"
        configuration = await self.actions.add_action_configuration(FIXED_RECORDING, settings.parameters(), label)
        try:
            return await self.actions.add_action_rule(ActionRule(label, configuration, start_event=start))
        except VapixError:
            await self._undo(None, configuration, [])
            raise

    async def add_to_group(self, trigger: Trigger, group: RecordingGroup, name: str | None = None) -> int:
        """A rule recording into `group` while the trigger is active, with the group's own pre and post time and
        stream options. The group action is unlimited only, so the trigger is the rule's condition, not a start
        event: a pulse schedule, which is an instant, cannot hold it. Returns the rule ID."""
        if not trigger.holds:
            raise Refused(
                "A schedule is an instant, and a recording group records while its trigger is active: choose a "
                "virtual input, the manual trigger or a storage event."
            )
        condition = trigger.start_event()
        label = name or f"Record {trigger.describe()} into {group.label}"
        configuration = await self.actions.add_action_configuration(
            GROUP_RECORDING, {"recording_group_id": group.group_id}, label
        )
        try:
            return await self.actions.add_action_rule(ActionRule(label, configuration, conditions=(condition,)))
        except VapixError:
            await self._undo(None, configuration, [])
            raise

    async def save_group(self, group: RecordingGroup) -> str:
        """Create the group (no ID yet, or an ID the camera does not have) or update it. Returns its ID."""
        try:
            known = {g.group_id for g in await self.read_groups()}
            if group.group_id and group.group_id in known:
                await self.groups.update(group)
                return group.group_id
            return await self.groups.create(group)
        except ApiError as exc:
            raise Refused(f"The recording group was not saved: {error_text(exc)}") from None

    async def delete_group(self, group_id: str) -> None:
        """The group and its recordings. The camera refuses while a rule records into it, so say which first."""
        users = (await self.read()).group_users(group_id)
        if users:
            raise Refused(f"The recording group is still used by {', '.join(users)}: remove those rules first")
        try:
            await self.groups.delete(group_id)
        except ApiError as exc:
            raise Refused(f"The recording group was not deleted: {error_text(exc)}") from None

    async def remove_rule(self, rule_id: int) -> None:
        """The rule, its configuration unless another rule uses it, and the week schedules only it named."""
        current = await self.read()
        rule = next((r for r in current.rules if r.rule_id == rule_id), None)
        if rule is None:
            await self.actions.remove_action_rule(rule_id)  # the camera's own fault says it is gone
            return
        others = [r for r in current.rules if r.rule_id != rule_id]
        shared = any(r.primary_action == rule.primary_action for r in others)
        configuration = current.configurations.get(rule.primary_action)
        week = current.week(configuration.parameters.get("storage_id", "")) if configuration else None
        ids = list(week.schedule_ids) if week is not None and week.rule_id == rule_id else []
        await self._undo(rule_id, None if shared or configuration is None else rule.primary_action, ids)

    async def _undo(self, rule_id: int | None, configuration: int | None, schedule_ids: list[str]) -> None:
        """Remove in the only order the camera allows: a rule, then its configuration, then schedules."""
        if rule_id is not None:
            await self.actions.remove_action_rule(rule_id)
        if configuration is not None:
            await self.actions.remove_action_configuration(configuration)
        for schedule_id in schedule_ids:
            await self.events.remove_scheduled_event(schedule_id)
