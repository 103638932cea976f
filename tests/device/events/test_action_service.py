"""The Action service at /vapix/services against a running camera: templates, configurations, rules, the faults
real firmware sends, IDs that are never reused, and persistence across a restart (EVENTS.md §1)."""

from __future__ import annotations

import pytest
from lxml import etree

from tests.device.events.soap import (
    AA,
    CONCRETE,
    CONCRETE_SET,
    NS,
    WSRFBF,
    add_configuration,
    add_rule,
    call,
    detail_name,
    fault,
    item,
    recording_configuration,
    rule_body,
)

pytestmark = pytest.mark.functional

FIXED = "com.axis.action.fixed.recording.storage"
UNLIMITED = "com.axis.action.unlimited.recording.storage"
VIRTUAL_INPUT = "tns1:Device/tnsaxis:IO/VirtualInput"
DISRUPTION = "tnsaxis:Storage/Disruption//."


def configurations(device) -> dict[int, etree._Element]:
    answer = call(device, f'<GetActionConfigurations xmlns="{AA}"/>')
    return {
        int(c.findtext("aa:ConfigurationID", namespaces=NS)): c
        for c in answer.iterfind(".//aa:ActionConfiguration", NS)
    }


def rules(device) -> dict[int, etree._Element]:
    answer = call(device, f'<GetActionRules xmlns="{AA}"/>')
    return {int(r.findtext("aa:RuleID", namespaces=NS)): r for r in answer.iterfind("aa:ActionRules/aa:ActionRule", NS)}


def remove(device, what: str, id_tag: str, value: int) -> etree._Element:
    return call(device, f'<Remove{what} xmlns="{AA}"><{id_tag}>{value}</{id_tag}></Remove{what}>')


def test_templates_offer_the_record_video_actions_with_their_four_string_parameters(shared_device):
    answer = call(shared_device, f'<aa:GetActionTemplates xmlns:aa="{AA}" xmlns="{AA}" />')
    templates = {t.findtext("aa:TemplateToken", namespaces=NS): t for t in answer.iterfind(".//aa:ActionTemplate", NS)}
    for token in (FIXED, UNLIMITED):
        parameters = templates[token].findall("aa:Parameters/aa:Parameter", NS)
        assert [p.get("Name") for p in parameters] == ["stream_options", "pre_duration", "post_duration", "storage_id"]
        assert all(list(p.attrib.items()) == [("Type", "string"), ("Name", p.get("Name"))] for p in parameters)
        assert templates[token].find("aa:RecipientTemplate", NS) is None
    group = templates["com.axis.action.unlimited.recording_group.storage"]
    assert [p.get("Name") for p in group.iterfind(".//aa:Parameter", NS)] == ["recording_group_id"]


def test_a_configuration_comes_back_with_value_before_name_in_an_order_of_its_own(device):
    configuration_id = add_configuration(
        device,
        FIXED,
        stream_options="&amp;streamprofile=Quality&amp;camera=1",
        pre_duration="1000",
        post_duration="1000",
        storage_id="SD_DISK",
    )
    assert configuration_id == 1
    node = configurations(device)[1]
    assert [etree.QName(c).localname for c in node] == ["ConfigurationID", "Name", "TemplateToken", "Parameters"]
    assert node.findtext("aa:Name", namespaces=NS) == "Record Video"
    parameters = node.findall("aa:Parameters/aa:Parameter", NS)
    assert [p.get("Name") for p in parameters] == ["post_duration", "pre_duration", "storage_id", "stream_options"]
    assert list(parameters[0].attrib) == ["Value", "Name"]
    assert parameters[3].get("Value") == "&streamprofile=Quality&camera=1"  # verbatim


def test_a_configuration_without_a_name_is_accepted_and_listed_without_one(device):
    configuration_id = add_configuration(
        device, UNLIMITED, name=None, stream_options="", pre_duration="", post_duration="", storage_id=""
    )
    assert configurations(device)[configuration_id].find("aa:Name", NS) is None


@pytest.mark.parametrize(
    ("template", "parameters", "expected", "reason"),
    [
        (
            "com.bogus.nonexistent",
            {},
            "aa:ActionTemplateNotFoundFault",
            "action template with id 'com.bogus.nonexistent' not found",
        ),
        (
            FIXED,
            {"stream_options": "", "pre_duration": "0", "post_duration": "0"},
            "aa:ParametersMissmatchFault",
            "Configuration parameter missing: storage_id",
        ),
        (
            FIXED,
            {"stream_options": "", "pre_duration": "soon", "post_duration": "0", "storage_id": "SD_DISK"},
            "aa:InvalidActionConfigurationFault",
            None,
        ),
        (
            FIXED,
            {"stream_options": "", "pre_duration": "0", "post_duration": "0", "storage_id": "USB_DISK_9"},
            "aa:InvalidActionConfigurationFault",
            None,
        ),
        (
            UNLIMITED,
            {"stream_options": "resolution=7x7", "pre_duration": "0", "post_duration": "0", "storage_id": "SD_DISK"},
            "aa:InvalidActionConfigurationFault",
            None,
        ),
    ],
)
def test_configuration_faults(shared_device, template, parameters, expected, reason):
    params = "".join(f'<Parameter Name="{k}" Value="{v}"/>' for k, v in parameters.items())
    body = (
        f'<AddActionConfiguration xmlns="{AA}"><NewActionConfiguration><TemplateToken>{template}</TemplateToken>'
        f"<Parameters>{params}</Parameters></NewActionConfiguration></AddActionConfiguration>"
    )
    found = fault(shared_device, body)
    assert detail_name(found) == expected
    if reason is not None:
        assert found.reason == reason


def test_rules_come_back_verbatim_with_the_dialect_normalised_to_concrete(device):
    action = recording_configuration(device)
    content = item("port", "3") + " and " + item("active", "1")
    rule_id = add_rule(device, "Hubba", action, start=(VIRTUAL_INPUT, content), dialect=CONCRETE_SET)
    node = rules(device)[rule_id]
    assert [etree.QName(c).localname for c in node] == ["RuleID", "Name", "Enabled", "StartEvent", "PrimaryAction"]
    topic = node.find("aa:StartEvent/wsnt:TopicExpression", NS)
    assert (topic.get("Dialect"), topic.text) == (CONCRETE, VIRTUAL_INPUT)
    assert node.findtext("aa:StartEvent/wsnt:MessageContent", namespaces=NS) == content
    assert node.findtext("aa:PrimaryAction", namespaces=NS) == str(action)


def test_a_condition_rule_on_storage_with_the_subtree_suffix_and_a_timeout(device):
    action = recording_configuration(device, "unlimited")
    ok = item("disk_id", "SD_DISK") + " and " + item("disruption", "0")
    rule_id = add_rule(
        device, "ACC_Continuous", action, conditions=[(DISRUPTION, ok)], enabled="false", timeout="PT10S"
    )
    node = rules(device)[rule_id]
    assert node.findtext("aa:Enabled", namespaces=NS) == "false"
    assert node.findtext("aa:Conditions/aa:Condition/wsnt:TopicExpression", namespaces=NS) == DISRUPTION
    order = [etree.QName(c).localname for c in node]
    assert order == ["RuleID", "Name", "Enabled", "Conditions", "ActivationTimeout", "PrimaryAction"]
    assert node.findtext("aa:ActivationTimeout", namespaces=NS) == "PT10S"


def test_a_configuration_in_use_cannot_go_and_the_fault_names_its_rules(device):
    action = recording_configuration(device)
    rule_id = add_rule(device, "cassette test rule", action, start=(VIRTUAL_INPUT, item("active", "1")))
    found = fault(
        device,
        f'<RemoveActionConfiguration xmlns="{AA}"><ConfigurationID>{action}</ConfigurationID>'
        "</RemoveActionConfiguration>",
    )
    assert detail_name(found) == "aa:ActionConfigurationIsInUseFault"
    assert found.reason == "action configuration is in use"
    used = found.detail.find("aa:UsedByActionRules/aa:ActionRule", NS)
    assert used.findtext("aa:ActionRuleID", namespaces=NS) == str(rule_id)
    assert used.findtext("aa:ActionRuleName", namespaces=NS) == "cassette test rule"
    assert len(remove(device, "ActionRule", "RuleID", rule_id)) == 0
    assert (
        remove(device, "ActionConfiguration", "ConfigurationID", action).tag
        == f"{{{AA}}}RemoveActionConfigurationResponse"
    )
    assert configurations(device) == {}
    assert rules(device) == {}


def test_ids_grow_and_are_never_reused_even_after_a_restart(device):
    first = recording_configuration(device)
    remove(device, "ActionConfiguration", "ConfigurationID", first)
    second = recording_configuration(device)
    rule = add_rule(device, None, second, start=(VIRTUAL_INPUT, None))
    remove(device, "ActionRule", "RuleID", rule)
    device.restart()
    assert recording_configuration(device) == second + 1 == first + 2
    assert add_rule(device, "again", second, start=(VIRTUAL_INPUT, None)) == rule + 1
    assert sorted(configurations(device)) == [second, second + 1]
    assert list(rules(device)) == [rule + 1]
    assert rules(device)[rule + 1].findtext("aa:Name", namespaces=NS) == "again"


def test_unknown_ids_are_faults(shared_device):
    rule = fault(shared_device, f'<RemoveActionRule xmlns="{AA}"><RuleID>9999</RuleID></RemoveActionRule>')
    assert detail_name(rule) == "aa:ActionRuleNotFoundFault"
    assert rule.reason == "No action rule with id '9999' exists"
    body = (
        f'<RemoveActionConfiguration xmlns="{AA}"><ConfigurationID>9999</ConfigurationID></RemoveActionConfiguration>'
    )
    configuration = fault(shared_device, body)
    assert detail_name(configuration) == "aa:ActionConfigurationNotFoundFault"
    assert configuration.reason == ""  # an empty reason text, as P8815-2 sends
    missing = fault(shared_device, rule_body("x", 9999, start=(VIRTUAL_INPUT, None)))
    assert detail_name(missing) == "aa:ActionConfigurationNotFoundFault"
    assert missing.reason == "Unknown action configuration '9999' specified for primary action"


@pytest.fixture(scope="module")
def action(shared_device) -> int:
    return recording_configuration(shared_device)


@pytest.fixture(scope="module")
def unlimited_action(shared_device) -> int:
    return recording_configuration(shared_device, "unlimited")


@pytest.mark.parametrize(
    ("conditions", "start", "expected", "reason"),
    [
        (
            [("tnsaxis:CameraApplicationPlatform/ObjectAnalytics/Device1ScenarioANY", None)],
            None,
            "aa:InvalidConditionFilterFault",
            "could not match any property events",
        ),
        (
            [("tnsaxis:Storage//.", None)],
            None,
            "aa:InvalidConditionFilterFault",
            "matched more than one property event",
        ),
        ([("tns1:UserAlarm/tnsaxis:Recurring/Pulse", None)], None, "aa:InvalidConditionFilterFault", None),
        (
            [(VIRTUAL_INPUT, "not[valid[xpath")],
            None,
            "wsnt:InvalidMessageContentExpressionFault",
            "around character 4: syntax error, unexpected [, expecting (",
        ),
        (
            None,
            ("definitely not a topic !@#$", None),
            "wsnt:InvalidTopicExpressionFault",
            "failed to parse topic expression 'definitely not a topic !@#$'",
        ),
        (None, None, "aa:InsufficientActivationRuleFault", "No start event or condition is specified"),
    ],
)
def test_rule_faults(shared_device, action, conditions, start, expected, reason):
    found = fault(shared_device, rule_body("bad", action, start=start, conditions=conditions))
    assert detail_name(found) == expected
    if reason is not None:
        assert found.reason == reason
    if expected.startswith("wsnt:"):
        assert found.detail.findtext("wsrfbf:Timestamp", namespaces={"wsrfbf": WSRFBF}).endswith("Z")


def test_empty_conditions_get_the_onvif_schema_fault(shared_device, action):
    found = fault(shared_device, rule_body("bad", action, conditions=[]))
    assert (found.code, found.subcode, found.reason) == ("SOAP-ENV:Sender", "ter:InvalidArgs", "Invalid argument")
    assert found.detail_text == "Validation constraint violation: occurrence violation in element Conditions"


def test_an_unlimited_action_needs_a_condition(shared_device, unlimited_action):
    found = fault(shared_device, rule_body("bad", unlimited_action, start=(VIRTUAL_INPUT, item("active", "1"))))
    assert detail_name(found) == "aa:InsufficientActivationRuleFault"


def test_an_activation_timeout_over_the_maximum_says_the_maximum(shared_device, action):
    found = fault(shared_device, rule_body("bad", action, start=(VIRTUAL_INPUT, None), timeout="PT2H"))
    assert detail_name(found) == "aa:InvalidActivationTimeoutFault"
    assert found.detail.findtext("aa:MaximumTimeout", namespaces=NS) == "PT1H"
    garbage = fault(shared_device, rule_body("bad", action, start=(VIRTUAL_INPUT, None), timeout="ten seconds"))
    assert garbage.subcode == "ter:InvalidArgs"


def test_empty_lists_and_recipients(shared_device):
    assert call(shared_device, f'<GetRecipientTemplates xmlns="{AA}"/>').find("aa:RecipientTemplates", NS) is not None
    answer = call(shared_device, f'<GetRecipientConfigurations xmlns="{AA}"/>')
    assert answer.find("aa:RecipientConfigurations", NS) is not None
