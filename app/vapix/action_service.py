"""Action service client (`http://www.axis.com/vapix/ws/action1`, EVENTS.md §1): templates, action
configurations and action rules.

There is no update operation: change a rule or configuration by removing it and adding it again (a rule first,
since a configuration in use cannot go). Parameters are looked up by name, because cameras return them in an
order of their own; lists are not sorted by ID on real cameras either.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from app.vapix import soap
from app.vapix.errors import ProtocolError
from app.vapix.soap import ACTION_NS, WSNT, find, find_all, operation, sub, text
from app.vapix.transport import VapixTransport

CONCRETE = "http://docs.oasis-open.org/wsn/t-1/TopicExpression/Concrete"
ITEM_FILTER = "http://www.onvif.org/ver10/tev/messageContentFilter/ItemFilter"
FIXED_RECORDING = "com.axis.action.fixed.recording.storage"
UNLIMITED_RECORDING = "com.axis.action.unlimited.recording.storage"
GROUP_RECORDING = "com.axis.action.unlimited.recording_group.storage"


@dataclass(frozen=True)
class ActionTemplate:
    token: str
    parameters: tuple[str, ...]
    recipient_template: str | None = None


@dataclass(frozen=True)
class ActionConfiguration:
    configuration_id: int
    name: str | None
    template: str
    parameters: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class EventFilter:
    """A start event or condition: a topic expression and an optional ItemFilter content expression."""

    topic: str
    content: str | None = None


@dataclass(frozen=True)
class ActionRule:
    name: str | None
    primary_action: int
    enabled: bool = True
    start_event: EventFilter | None = None
    conditions: tuple[EventFilter, ...] = ()
    activation_timeout: str | None = None  # xs:duration, e.g. "PT10S"
    rule_id: int | None = None  # set on rules read from the camera


def recording_parameters(
    storage_id: str, pre_ms: int = 0, post_ms: int = 0, stream_options: str = ""
) -> dict[str, str]:
    """The four parameters of the record-video templates (all required; unused ones empty)."""
    return {
        "stream_options": stream_options,
        "pre_duration": str(pre_ms),
        "post_duration": str(post_ms),
        "storage_id": storage_id,
    }


def item_filter(**items: str) -> str:
    """`boolean(//SimpleItem[@Name="k" and @Value="v"]) and ...`, the form real clients write."""
    return " and ".join(f'boolean(//SimpleItem[@Name="{k}" and @Value="{v}"])' for k, v in items.items())


class ActionService:
    def __init__(self, transport: VapixTransport) -> None:
        self._transport = transport

    async def get_action_templates(self) -> list[ActionTemplate]:
        answer = await soap.call(self._transport, operation(ACTION_NS, "GetActionTemplates"))
        return [
            ActionTemplate(
                text(t, "TemplateToken") or "",
                tuple(p.get("Name", "") for p in find_all(find(t, "Parameters"), "Parameter")),
                text(t, "RecipientTemplate"),
            )
            for t in find_all(find(answer, "ActionTemplates"), "ActionTemplate")
        ]

    async def add_action_configuration(self, template: str, parameters: dict[str, str], name: str | None = None) -> int:
        request = operation(ACTION_NS, "AddActionConfiguration")
        new = sub(request, "NewActionConfiguration")
        if name is not None:
            sub(new, "Name", name)
        sub(new, "TemplateToken", template)
        holder = sub(new, "Parameters")
        for key, value in parameters.items():
            sub(holder, "Parameter", Name=key, Value=value)
        return _integer(await soap.call(self._transport, request), "ConfigurationID")

    async def get_action_configurations(self) -> list[ActionConfiguration]:
        answer = await soap.call(self._transport, operation(ACTION_NS, "GetActionConfigurations"))
        return [
            ActionConfiguration(
                _integer(c, "ConfigurationID"),
                text(c, "Name"),
                text(c, "TemplateToken") or "",
                {p.get("Name", ""): p.get("Value", "") for p in find_all(find(c, "Parameters"), "Parameter")},
            )
            for c in find_all(find(answer, "ActionConfigurations"), "ActionConfiguration")
        ]

    async def remove_action_configuration(self, configuration_id: int) -> None:
        request = operation(ACTION_NS, "RemoveActionConfiguration")
        sub(request, "ConfigurationID", str(configuration_id))
        await soap.call(self._transport, request)

    async def add_action_rule(self, rule: ActionRule) -> int:
        request = operation(ACTION_NS, "AddActionRule")
        new = sub(request, "NewActionRule")
        if rule.name is not None:
            sub(new, "Name", rule.name)
        sub(new, "Enabled", "true" if rule.enabled else "false")
        if rule.start_event is not None:
            _filter(sub(new, "StartEvent"), rule.start_event)
        if rule.conditions:
            holder = sub(new, "Conditions")
            for condition in rule.conditions:
                _filter(sub(holder, "Condition"), condition)
        if rule.activation_timeout is not None:
            sub(new, "ActivationTimeout", rule.activation_timeout)
        sub(new, "PrimaryAction", str(rule.primary_action))
        return _integer(await soap.call(self._transport, request), "RuleID")

    async def get_action_rules(self) -> list[ActionRule]:
        answer = await soap.call(self._transport, operation(ACTION_NS, "GetActionRules"))
        return [_rule(r) for r in find_all(find(answer, "ActionRules"), "ActionRule")]

    async def remove_action_rule(self, rule_id: int) -> None:
        request = operation(ACTION_NS, "RemoveActionRule")
        sub(request, "RuleID", str(rule_id))
        await soap.call(self._transport, request)


def _filter(parent: etree._Element, given: EventFilter) -> None:
    topic = etree.SubElement(parent, f"{{{WSNT}}}TopicExpression", Dialect=CONCRETE)
    topic.text = given.topic
    if given.content is not None:
        content = etree.SubElement(parent, f"{{{WSNT}}}MessageContent", Dialect=ITEM_FILTER)
        content.text = given.content


def _read_filter(node: etree._Element | None) -> EventFilter | None:
    if node is None:
        return None
    return EventFilter((text(node, "TopicExpression") or "").strip(), text(node, "MessageContent"))


def _rule(node: etree._Element) -> ActionRule:
    conditions = tuple(
        f for f in (_read_filter(c) for c in find_all(find(node, "Conditions"), "Condition")) if f is not None
    )
    return ActionRule(
        text(node, "Name"),
        _integer(node, "PrimaryAction"),
        (text(node, "Enabled") or "").strip() in ("true", "1"),
        _read_filter(find(node, "StartEvent")),
        conditions,
        text(node, "ActivationTimeout"),
        _integer(node, "RuleID"),
    )


def _integer(node: etree._Element, local: str) -> int:
    value = (text(node, local) or "").strip()
    try:
        return int(value)
    except ValueError:
        raise ProtocolError(f"{etree.QName(node).localname} has no integer {local}: {value!r}") from None
