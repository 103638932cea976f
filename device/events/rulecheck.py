"""What AddActionConfiguration and AddActionRule refuse, and with which fault (EVENTS.md §1.2, §1.5, §1.9).

Pure checks against the templates, the declarations and the stored configurations; the SOAP layer turns an
:class:`ActionRefused` into the fault real firmware sends.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from device.events.actions import GROUP_RECORDING, ActionRule, ActionStore, Filter, template
from device.events.declarations import TopicDeclaration
from device.events.itemfilter import ItemFilterError, parse_filter
from device.events.topics import TopicExpressionError, parse_expression

MAX_ACTIVATION_TIMEOUT = 3600.0  # decided (no capture): an hour, answered as aa:MaximumTimeout PT1H
MAX_ACTIVATION_TIMEOUT_TEXT = "PT1H"
_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


class ActionRefused(Exception):
    """`kind`: "aa" (action1 fault), "wsnt" (filter fault with a timestamp) or "args" (ter:InvalidArgs)."""

    def __init__(self, fault: str, reason: str, kind: str = "aa", used_by: Sequence[ActionRule] = ()) -> None:
        super().__init__(reason)
        self.fault, self.reason, self.kind, self.used_by = fault, reason, kind, tuple(used_by)


def check_configuration(
    token: str,
    parameters: dict[str, str],
    disk_ids: Sequence[str],
    group_ids: Sequence[str],
    stream_options_ok: Callable[[str], bool],
) -> None:
    found = template(token)
    if found is None:
        raise ActionRefused("ActionTemplateNotFoundFault", f"action template with id '{token}' not found")
    for name in found.parameters:
        if name not in parameters:
            raise ActionRefused("ParametersMissmatchFault", f"Configuration parameter missing: {name}")
    for name in parameters:
        if name not in found.parameters:
            raise ActionRefused("ParametersMissmatchFault", f"Unknown configuration parameter: {name}")
    problem = _bad_value(token, parameters, disk_ids, group_ids, stream_options_ok)
    if problem:
        raise ActionRefused(
            "InvalidActionConfigurationFault", f"One or more of the specified parameter values are not valid: {problem}"
        )


def _bad_value(
    token: str,
    parameters: dict[str, str],
    disk_ids: Sequence[str],
    group_ids: Sequence[str],
    stream_options_ok: Callable[[str], bool],
) -> str | None:
    if token == GROUP_RECORDING:
        group = parameters["recording_group_id"]
        return None if group in group_ids else f"no recording group '{group}'"
    for name in ("pre_duration", "post_duration"):
        value = parameters[name].strip()
        if value and not value.isdigit():
            return f"{name} must be milliseconds, not '{value}'"
    disk = parameters["storage_id"].strip()
    if disk and disk not in disk_ids:
        return f"unknown storage_id '{disk}'"
    if not stream_options_ok(parameters["stream_options"]):
        return f"invalid stream_options '{parameters['stream_options']}'"
    return None


def check_rule(rule: ActionRule, store: ActionStore, declarations: list[TopicDeclaration]) -> float:
    """Raises ActionRefused; returns the activation timeout in seconds."""
    configuration = store.configuration(rule.primary_action)
    if configuration is None:
        raise ActionRefused(
            "ActionConfigurationNotFoundFault",
            f"Unknown action configuration '{rule.primary_action}' specified for primary action",
        )
    if rule.start_event is None and not rule.conditions:
        raise ActionRefused("InsufficientActivationRuleFault", "No start event or condition is specified")
    found = template(configuration.template)
    if found is not None and found.unlimited and not rule.conditions:
        raise ActionRefused("InsufficientActivationRuleFault", "Unlimited actions require at least one condition")
    if rule.start_event is not None:
        check_filter(rule.start_event)
    for condition in rule.conditions:
        check_filter(condition)
        matching = [d for d in declarations if d.stateful and parse_expression(condition.topic).matches(d.topic)]
        if len(matching) != 1:
            reason = "could not match any property events" if not matching else "matched more than one property event"
            raise ActionRefused("InvalidConditionFilterFault", reason)
    return activation_timeout(rule.activation_timeout)


def check_filter(given: Filter) -> None:
    try:
        parse_expression(given.topic)
    except TopicExpressionError as exc:
        raise ActionRefused("InvalidTopicExpressionFault", str(exc), "wsnt") from None
    if given.content is not None:
        try:
            parse_filter(given.content)
        except ItemFilterError as exc:
            raise ActionRefused("InvalidMessageContentExpressionFault", str(exc), "wsnt") from None


def activation_timeout(text: str | None) -> float:
    if text is None or not text.strip():
        return 0.0
    found = _DURATION.match(text.strip())
    if not found or text.strip() in ("P", "PT"):
        raise ActionRefused(
            "", f"Validation constraint violation: invalid value in element ActivationTimeout: '{text}'", "args"
        )
    days, hours, minutes, seconds = (float(g) if g else 0.0 for g in found.groups())
    total = days * 86400 + hours * 3600 + minutes * 60 + seconds
    if total > MAX_ACTIVATION_TIMEOUT:
        raise ActionRefused("InvalidActivationTimeoutFault", "The activation timeout is too long")
    return total
