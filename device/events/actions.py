"""Action templates, action configurations and action rules: the Action service's state (EVENTS.md §1).

Kept in `actions.json` in the data dir like the rest of the camera's state. Configuration IDs and rule IDs are
two separate counters that only grow: a deleted ID is never handed out again (EVENTS.md §1.8), so a client
holding an old ID can never act on a newer object by mistake.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from device.persist import read_json, write_json_atomic

FIXED_RECORDING = "com.axis.action.fixed.recording.storage"
UNLIMITED_RECORDING = "com.axis.action.unlimited.recording.storage"
GROUP_RECORDING = "com.axis.action.unlimited.recording_group.storage"
RECORDING_PARAMETERS = ("stream_options", "pre_duration", "post_duration", "storage_id")


@dataclass(frozen=True)
class ActionTemplate:
    token: str
    parameters: tuple[str, ...]
    recipient_template: str | None = None

    @property
    def unlimited(self) -> bool:
        return ".unlimited." in self.token


TEMPLATES: tuple[ActionTemplate, ...] = (
    ActionTemplate(UNLIMITED_RECORDING, RECORDING_PARAMETERS),
    ActionTemplate(FIXED_RECORDING, RECORDING_PARAMETERS),
    ActionTemplate(GROUP_RECORDING, ("recording_group_id",)),
)


def template(token: str) -> ActionTemplate | None:
    return next((t for t in TEMPLATES if t.token == token), None)


@dataclass(frozen=True)
class ActionConfiguration:
    id: int
    name: str | None
    template: str
    parameters: dict[str, str]  # values verbatim, as the client sent them


@dataclass(frozen=True)
class Filter:
    """A wsnt:FilterType: a topic expression and, optionally, a message content filter, both verbatim."""

    topic: str
    content: str | None = None


@dataclass(frozen=True)
class ActionRule:
    id: int
    name: str | None
    enabled: bool
    primary_action: int
    start_event: Filter | None = None
    conditions: tuple[Filter, ...] = ()
    activation_timeout: str | None = None  # xs:duration, as sent
    timeout_seconds: float = 0.0

    @property
    def event_id(self) -> str:
        """What list.cgi shows as the recording's eventid: the rule's name (EVENTS.md §1.10)."""
        return self.name if self.name else f"rule{self.id}"


@dataclass
class _Saved:
    next_configuration: int = 1
    next_rule: int = 1
    configurations: list[dict[str, Any]] = field(default_factory=list)
    rules: list[dict[str, Any]] = field(default_factory=list)


class ActionStore:
    def __init__(self, path: Path) -> None:
        self._path = path
        saved = read_json(path, {})
        self._next_configuration = int(saved.get("next_configuration", 1))
        self._next_rule = int(saved.get("next_rule", 1))
        self._configurations = {c.id: c for c in map(_configuration, saved.get("configurations", []))}
        self._rules = {r.id: r for r in map(_rule, saved.get("rules", []))}

    # --- configurations

    def configurations(self) -> list[ActionConfiguration]:
        return list(self._configurations.values())

    def configuration(self, configuration_id: int) -> ActionConfiguration | None:
        return self._configurations.get(configuration_id)

    def add_configuration(self, name: str | None, token: str, parameters: dict[str, str]) -> ActionConfiguration:
        configuration = ActionConfiguration(self._next_configuration, name, token, dict(parameters))
        self._next_configuration += 1
        self._configurations[configuration.id] = configuration
        self._save()
        return configuration

    def remove_configuration(self, configuration_id: int) -> None:
        del self._configurations[configuration_id]
        self._save()

    # --- rules

    def rules(self) -> list[ActionRule]:
        return list(self._rules.values())

    def rule(self, rule_id: int) -> ActionRule | None:
        return self._rules.get(rule_id)

    def rules_using(self, configuration_id: int) -> list[ActionRule]:
        return [r for r in self._rules.values() if r.primary_action == configuration_id]

    def add_rule(self, rule: ActionRule) -> ActionRule:
        """Stores `rule` under the next rule ID (its own `id` is ignored)."""
        stored = ActionRule(
            self._next_rule,
            rule.name,
            rule.enabled,
            rule.primary_action,
            rule.start_event,
            rule.conditions,
            rule.activation_timeout,
            rule.timeout_seconds,
        )
        self._next_rule += 1
        self._rules[stored.id] = stored
        self._save()
        return stored

    def remove_rule(self, rule_id: int) -> None:
        del self._rules[rule_id]
        self._save()

    def _save(self) -> None:
        saved = _Saved(
            self._next_configuration,
            self._next_rule,
            [asdict(c) for c in self._configurations.values()],
            [asdict(r) for r in self._rules.values()],
        )
        write_json_atomic(self._path, asdict(saved))


def _configuration(data: dict[str, Any]) -> ActionConfiguration:
    return ActionConfiguration(int(data["id"]), data.get("name"), str(data["template"]), dict(data["parameters"]))


def _filter(data: dict[str, Any] | None) -> Filter | None:
    return None if data is None else Filter(str(data["topic"]), data.get("content"))


def _rule(data: dict[str, Any]) -> ActionRule:
    start = _filter(data.get("start_event"))
    conditions = tuple(f for f in map(_filter, data.get("conditions", [])) if f is not None)
    return ActionRule(
        int(data["id"]),
        data.get("name"),
        bool(data["enabled"]),
        int(data["primary_action"]),
        start,
        conditions,
        data.get("activation_timeout"),
        float(data.get("timeout_seconds", 0.0)),
    )
