"""Action service (`http://www.axis.com/vapix/ws/action1`) operations at `/vapix/services` (EVENTS.md §1).

Element order, attribute order (`Type, Name` in templates, `Value, Name` in configurations) and the fault
shapes follow the captures; rules come back with the topic dialect normalised to Concrete and the expressions
verbatim.
"""

from __future__ import annotations

from lxml import etree

from device.events.actions import TEMPLATES, ActionRule, Filter
from device.events.itemfilter import ITEM_FILTER
from device.events.rulecheck import MAX_ACTIVATION_TIMEOUT_TEXT, ActionRefused
from device.events.topics import CONCRETE, TOPIC_DIALECTS
from device.http.keys import services_of, state_of
from device.http.soap import (
    ACTION_NS,
    WSNT,
    SoapFault,
    SoapHandler,
    SoapRequest,
    element,
    envelope_of,
    find,
    find_all,
    invalid_args,
    response_body,
    text_of,
)


async def get_action_templates(request: SoapRequest) -> etree._Element:
    _, response = response_body(ACTION_NS, "GetActionTemplatesResponse")
    listing = element(response, ACTION_NS, "ActionTemplates")
    for found in TEMPLATES:
        node = element(listing, ACTION_NS, "ActionTemplate")
        element(node, ACTION_NS, "TemplateToken", found.token)
        if found.recipient_template:
            element(node, ACTION_NS, "RecipientTemplate", found.recipient_template)
        parameters = element(node, ACTION_NS, "Parameters")
        for name in found.parameters:
            element(parameters, ACTION_NS, "Parameter", Type="string", Name=name)
    return envelope_of(response)


async def add_action_configuration(request: SoapRequest) -> etree._Element:
    new = request.child("NewActionConfiguration")
    token = None if new is None else text_of(new, "TemplateToken")
    if new is None or token is None:
        raise invalid_args("Validation constraint violation: occurrence violation in element TemplateToken")
    parameters: dict[str, str] = {}
    holder = find(new, "Parameters")
    for parameter in [] if holder is None else find_all(holder, "Parameter"):
        name, value = parameter.get("Name"), parameter.get("Value")
        if name is None or value is None:
            raise invalid_args("Validation constraint violation: Parameter needs the attributes Name and Value")
        parameters[name] = value
    try:
        configuration = services_of(request.http).events.add_configuration(
            text_of(new, "Name"), token.strip(), parameters
        )
    except ActionRefused as exc:
        raise _fault(request, exc) from None
    _, response = response_body(ACTION_NS, "AddActionConfigurationResponse")
    element(response, ACTION_NS, "ConfigurationID", str(configuration.id))
    return envelope_of(response)


async def get_action_configurations(request: SoapRequest) -> etree._Element:
    _, response = response_body(ACTION_NS, "GetActionConfigurationsResponse")
    listing = element(response, ACTION_NS, "ActionConfigurations")
    for configuration in services_of(request.http).events.actions.configurations():
        node = element(listing, ACTION_NS, "ActionConfiguration")
        element(node, ACTION_NS, "ConfigurationID", str(configuration.id))
        if configuration.name is not None:
            element(node, ACTION_NS, "Name", configuration.name)
        element(node, ACTION_NS, "TemplateToken", configuration.template)
        parameters = element(node, ACTION_NS, "Parameters")
        for name, value in sorted(configuration.parameters.items()):  # an order of its own, as firmware's
            element(parameters, ACTION_NS, "Parameter", Value=value, Name=name)
    return envelope_of(response)


async def remove_action_configuration(request: SoapRequest) -> etree._Element:
    configuration_id = _integer(request, "ConfigurationID")
    try:
        services_of(request.http).events.remove_configuration(configuration_id)
    except ActionRefused as exc:
        raise _fault(request, exc) from None
    _, response = response_body(ACTION_NS, "RemoveActionConfigurationResponse")
    return envelope_of(response)


async def add_action_rule(request: SoapRequest) -> etree._Element:
    new = request.child("NewActionRule")
    if new is None:
        raise invalid_args("Validation constraint violation: occurrence violation in element NewActionRule")
    rule = _parse_rule(new)
    try:
        stored = await services_of(request.http).events.add_rule(rule)
    except ActionRefused as exc:
        raise _fault(request, exc) from None
    _, response = response_body(ACTION_NS, "AddActionRuleResponse")
    element(response, ACTION_NS, "RuleID", str(stored.id))
    return envelope_of(response)


async def get_action_rules(request: SoapRequest) -> etree._Element:
    _, response = response_body(ACTION_NS, "GetActionRulesResponse")
    listing = element(response, ACTION_NS, "ActionRules")
    for rule in services_of(request.http).events.actions.rules():
        node = element(listing, ACTION_NS, "ActionRule")
        element(node, ACTION_NS, "RuleID", str(rule.id))
        if rule.name is not None:
            element(node, ACTION_NS, "Name", rule.name)
        element(node, ACTION_NS, "Enabled", "true" if rule.enabled else "false")
        if rule.start_event is not None:
            _render_filter(element(node, ACTION_NS, "StartEvent"), rule.start_event)
        if rule.conditions:
            conditions = element(node, ACTION_NS, "Conditions")
            for condition in rule.conditions:
                _render_filter(element(conditions, ACTION_NS, "Condition"), condition)
        if rule.activation_timeout is not None:
            element(node, ACTION_NS, "ActivationTimeout", rule.activation_timeout)
        element(node, ACTION_NS, "PrimaryAction", str(rule.primary_action))
    return envelope_of(response)


async def remove_action_rule(request: SoapRequest) -> etree._Element:
    rule_id = _integer(request, "RuleID")
    try:
        await services_of(request.http).events.remove_rule(rule_id)
    except ActionRefused as exc:
        raise _fault(request, exc) from None
    _, response = response_body(ACTION_NS, "RemoveActionRuleResponse")
    return envelope_of(response)


async def get_recipient_templates(request: SoapRequest) -> etree._Element:
    _, response = response_body(ACTION_NS, "GetRecipientTemplatesResponse")
    element(response, ACTION_NS, "RecipientTemplates")
    return envelope_of(response)


async def get_recipient_configurations(request: SoapRequest) -> etree._Element:
    _, response = response_body(ACTION_NS, "GetRecipientConfigurationsResponse")
    element(response, ACTION_NS, "RecipientConfigurations")
    return envelope_of(response)


# --- parsing and faults ------------------------------------------------------------------------------------------


def _parse_rule(new: etree._Element) -> ActionRule:
    enabled = (text_of(new, "Enabled") or "").strip()
    if enabled not in ("true", "false", "1", "0"):
        raise invalid_args("Validation constraint violation: occurrence violation in element Enabled")
    primary = (text_of(new, "PrimaryAction") or "").strip()
    if not primary.lstrip("-").isdigit():
        raise invalid_args("Validation constraint violation: occurrence violation in element PrimaryAction")
    start = find(new, "StartEvent")
    holder = find(new, "Conditions")
    conditions = [] if holder is None else find_all(holder, "Condition")
    if holder is not None and not conditions:
        raise invalid_args("Validation constraint violation: occurrence violation in element Conditions")
    timeout = text_of(new, "ActivationTimeout")
    return ActionRule(
        0,
        text_of(new, "Name"),
        enabled in ("true", "1"),
        int(primary),
        None if start is None else _parse_filter(start),
        tuple(_parse_filter(c) for c in conditions),
        timeout.strip() if timeout is not None else None,
    )


def _parse_filter(node: etree._Element) -> Filter:
    topic = find(node, "TopicExpression")
    if topic is None:
        raise invalid_args("Validation constraint violation: occurrence violation in element TopicExpression")
    if topic.get("Dialect", CONCRETE) not in TOPIC_DIALECTS:
        raise SoapFault("unknown topic expression dialect", (WSNT, "TopicExpressionDialectUnknownFault"))
    content = find(node, "MessageContent")
    if content is not None and content.get("Dialect", ITEM_FILTER) != ITEM_FILTER:
        raise SoapFault("unknown message content dialect", (WSNT, "InvalidFilterFault"))
    return Filter((topic.text or "").strip(), None if content is None else (content.text or "").strip())


def _render_filter(parent: etree._Element, given: Filter) -> None:
    element(parent, WSNT, "TopicExpression", given.topic, Dialect=CONCRETE)
    if given.content is not None:
        element(parent, WSNT, "MessageContent", given.content, Dialect=ITEM_FILTER)


def _integer(request: SoapRequest, local: str) -> int:
    text = (text_of(request.operation, local) or "").strip()
    if not text.lstrip("-").isdigit():
        raise invalid_args(f"Validation constraint violation: occurrence violation in element {local}")
    return int(text)


def _fault(request: SoapRequest, refused: ActionRefused) -> SoapFault:
    if refused.kind == "args":
        return invalid_args(refused.reason)
    if refused.kind == "wsnt":
        return SoapFault(refused.reason, (WSNT, refused.fault), timestamp=state_of(request.http).clock.now())
    children = []
    if refused.used_by:
        used = etree.Element(f"{{{ACTION_NS}}}UsedByActionRules")
        for rule in refused.used_by:
            node = element(used, ACTION_NS, "ActionRule")
            element(node, ACTION_NS, "ActionRuleID", str(rule.id))
            element(node, ACTION_NS, "ActionRuleName", rule.name or "")
        children.append(used)
    if refused.fault == "InvalidActivationTimeoutFault":
        maximum = etree.Element(f"{{{ACTION_NS}}}MaximumTimeout")
        maximum.text = MAX_ACTIVATION_TIMEOUT_TEXT
        children.append(maximum)
    return SoapFault(refused.reason, (ACTION_NS, refused.fault), children)


OPERATIONS: dict[tuple[str, str], SoapHandler] = {
    (ACTION_NS, "GetActionTemplates"): get_action_templates,
    (ACTION_NS, "AddActionConfiguration"): add_action_configuration,
    (ACTION_NS, "GetActionConfigurations"): get_action_configurations,
    (ACTION_NS, "RemoveActionConfiguration"): remove_action_configuration,
    (ACTION_NS, "AddActionRule"): add_action_rule,
    (ACTION_NS, "GetActionRules"): get_action_rules,
    (ACTION_NS, "RemoveActionRule"): remove_action_rule,
    (ACTION_NS, "GetRecipientTemplates"): get_recipient_templates,
    (ACTION_NS, "GetRecipientConfigurations"): get_recipient_configurations,
}
