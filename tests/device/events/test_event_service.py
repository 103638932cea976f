"""The Event service at /vapix/services against a running camera: the declaration tree, scheduled events with
their faults, and the virtual-input and manual-trigger CGIs (EVENTS.md §2)."""

from __future__ import annotations

import time

import httpx
import pytest
from lxml import etree

from tests.device.disk_client import get, param
from tests.device.events.soap import (
    AEV,
    NS,
    WSTOP,
    add_schedule,
    call,
    detail_name,
    envelope,
    fault,
    post,
    scheduled_events,
)

pytestmark = pytest.mark.functional

XSD = "{http://www.w3.org/2001/XMLSchema-instance}"


def leaves(topic_set: etree._Element) -> dict[str, etree._Element]:
    """Each leaf (wstop:topic="true") under its topic path as clients build it: QNames joined by '/'."""
    found = {}
    for node in topic_set.iter():
        if node.get(f"{{{WSTOP}}}topic") == "true":
            path = []
            walk = node
            while walk is not topic_set:
                qname = etree.QName(walk)
                prefix = next((p for p, u in walk.nsmap.items() if u == qname.namespace and p), None)
                path.append(f"{prefix}:{qname.localname}" if qname.namespace else qname.localname)
                walk = walk.getparent()
            found["/".join(reversed(path))] = node
    return found


def items(leaf: etree._Element, where: str) -> dict[str, etree._Element]:
    return {i.get("Name"): i for i in leaf.iterfind(f"aev:MessageInstance/aev:{where}/aev:SimpleItemInstance", NS)}


def test_event_instances_declare_the_storage_subtree_as_axis_os_12_does(shared_device):
    answer = call(shared_device, f'<GetEventInstances xmlns="{AEV}"/>')
    assert answer.tag == f"{{{AEV}}}GetEventInstancesResponse"
    tree = leaves(answer.find("wstop:TopicSet", NS))
    for topic in ("tnsaxis:Storage/Recording", "tnsaxis:Storage/Disruption", "tnsaxis:Storage/Alert"):
        message = tree[topic].find("aev:MessageInstance", NS)
        assert message.get(f"{{{AEV}}}isProperty") == "true", topic
    disruption = tree["tnsaxis:Storage/Disruption"]
    assert disruption.get(f"{{{AEV}}}NiceName") == "Storage disruption"
    disk = items(disruption, "SourceInstance")["disk_id"]
    assert [v.text for v in disk.iterfind("aev:Value", NS)] == ["SD_DISK", "NetworkShare"]
    state = items(disruption, "DataInstance")["disruption"]
    # The attribute order of AXIS OS 12 (EVENTS.md §2.1).
    assert list(state.attrib) == ["isPropertyState", f"{{{AEV}}}NiceName", "Type", "Name"]
    assert state.get("Type") == "xsd:boolean"
    alert = items(tree["tnsaxis:Storage/Alert"], "DataInstance")
    assert set(alert) == {"temperature", "alert", "wear", "overall_health"}
    assert alert["alert"].get("isPropertyState") == "true"
    assert alert["wear"].get("isPropertyState") is None
    assert set(items(tree["tnsaxis:Storage/Recording"], "DataInstance")) == {"recording"}
    assert not items(tree["tnsaxis:Storage/Recording"], "SourceInstance")


def test_event_instances_declare_inputs_manual_trigger_and_schedules(shared_device):
    answer = call(shared_device, '<m:GetEventInstances xmlns:m="http://www.axis.com/vapix/ws/event1"/>')
    tree = leaves(answer.find("wstop:TopicSet", NS))
    virtual = tree["tns1:Device/tnsaxis:IO/VirtualInput"]
    ports = [v.text for v in items(virtual, "SourceInstance")["port"].iterfind("aev:Value", NS)]
    assert sorted(map(int, ports)) == list(range(1, 33))
    assert set(items(virtual, "DataInstance")) == {"active"}
    assert set(items(tree["tns1:Device/tnsaxis:IO/VirtualPort"], "DataInstance")) == {"state"}
    interval = tree["tns1:UserAlarm/tnsaxis:Recurring/Interval"]
    schedules = {v.text: v.get(f"{{{AEV}}}NiceName") for v in interval.iterfind(".//aev:Value", NS)}
    assert schedules["com.axis.schedules.office_hours"] == "Office Hours"
    assert "tns1:Device/tnsaxis:HardwareFailure/StorageFailure" in tree
    assert "tns1:Device/tnsaxis:Status/SystemReady" in tree


def test_any_envelope_style_and_headers_are_accepted(shared_device):
    """The Axis AWS example: SOAP-ENV prefix, a Header, the operation namespace on Body, application/xml."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope">'
        f'<SOAP-ENV:Header/><SOAP-ENV:Body xmlns:aev="{AEV}"><aev:GetScheduledEvents/></SOAP-ENV:Body>'
        "</SOAP-ENV:Envelope>"
    )
    response = httpx.post(
        f"{shared_device.http_url}/vapix/services?timestamp=1516042603670",
        content=body,
        headers={"Content-Type": "application/xml", "SOAPAction": "whatever"},
        auth=httpx.DigestAuth("root", "admin-pass"),
    )
    assert response.status_code == 200, response.text
    assert b"<aev:GetScheduledEventsResponse>" in response.content


def test_a_viewer_gets_401_and_an_unknown_operation_a_fault(shared_device):
    assert post(shared_device, envelope(f'<GetEventInstances xmlns="{AEV}"/>'), role="viewer").status_code == 401
    found = fault(shared_device, f'<Frobnicate xmlns="{AEV}"/>')
    assert found.code == "SOAP-ENV:Sender"
    assert "not implemented" in found.reason
    assert post(shared_device, "<not-xml").status_code == 400


def test_builtin_schedules_are_there_and_a_pulse_schedule_is_added_read_and_removed(device):
    builtin = scheduled_events(device)
    assert builtin["com.axis.schedules.weekends"] == (
        "Weekends",
        "DTSTART:19700103T000000\nDTEND:19700105T000000\nRRULE:FREQ=WEEKLY",
    )
    pulse = add_schedule(device, "DTSTART:19700101T000000\nRRULE:FREQ=MINUTELY;INTERVAL=1", name="Every minute")
    assert pulse == "com.axis.schedules.genid.id-0"
    assert scheduled_events(device, "Pulse") == {
        pulse: ("Every minute", "DTSTART:19700101T000000\nRRULE:FREQ=MINUTELY;INTERVAL=1")
    }
    assert pulse not in scheduled_events(device, "Interval")
    tree = leaves(call(device, f'<GetEventInstances xmlns="{AEV}"/>').find("wstop:TopicSet", NS))
    pulse_leaf = tree["tns1:UserAlarm/tnsaxis:Recurring/Pulse"]
    assert pulse_leaf.find("aev:MessageInstance", NS).get(f"{{{AEV}}}isProperty") is None  # stateless
    answer = call(device, f'<RemoveScheduledEvent xmlns="{AEV}"><EventID>{pulse}</EventID></RemoveScheduledEvent>')
    assert answer.tag == f"{{{AEV}}}RemoveScheduledEventResponse"
    assert len(answer) == 0
    assert pulse not in scheduled_events(device)
    assert add_schedule(device, "DTSTART:19700101T000000\nRRULE:FREQ=HOURLY") == "com.axis.schedules.genid.id-1"


def test_a_schedule_with_a_chosen_id_survives_a_restart_and_cannot_be_added_twice(device):
    ical = "DTSTART:19700101T080000\nDTEND:19700101T150000\nRRULE:FREQ=WEEKLY;BYDAY=TU,WE,TH"
    assert add_schedule(device, ical, name="Shop", event_id="shop_hours") == "shop_hours"
    device.restart()
    assert scheduled_events(device)["shop_hours"] == ("Shop", ical)
    body = (
        f'<AddScheduledEvent xmlns="{AEV}"><NewScheduledEvent><EventID>shop_hours</EventID><Schedule>'
        f"<ICalendar>{ical}</ICalendar></Schedule></NewScheduledEvent></AddScheduledEvent>"
    )
    assert detail_name(fault(device, body)) == "aev:ScheduledEventAlreadyExistsFault"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            f'<AddScheduledEvent xmlns="{AEV}"><NewScheduledEvent><Schedule><ICalendar>DTSTART:soon</ICalendar>'
            "</Schedule></NewScheduledEvent></AddScheduledEvent>",
            "aev:InvalidScheduleFault",
        ),
        (
            f'<AddScheduledEvent xmlns="{AEV}"><NewScheduledEvent><EventID>bad id!</EventID><Schedule><ICalendar>'
            "DTSTART:19700101T000000</ICalendar></Schedule></NewScheduledEvent></AddScheduledEvent>",
            "aev:InvalidScheduledEventIDFault",
        ),
        (
            f'<RemoveScheduledEvent xmlns="{AEV}"><EventID>com.axis.schedules.nope</EventID></RemoveScheduledEvent>',
            "aev:ScheduledEventNotFoundFault",
        ),
    ],
)
def test_schedule_faults(shared_device, body, expected):
    assert detail_name(fault(shared_device, body)) == expected


def test_a_builtin_schedule_can_be_removed(device):
    call(
        device,
        f'<RemoveScheduledEvent xmlns="{AEV}"><EventID>com.axis.schedules.after_hours</EventID></RemoveScheduledEvent>',
    )
    assert "com.axis.schedules.after_hours" not in scheduled_events(device)


# --- virtual inputs and the manual trigger ----------------------------------------------------------------------

VI = "{http://www.axis.com/vapix/http_cgi/virtualinput1}"


def virtual(device, verb: str, role: str = "operator", **params: str) -> etree._Element:
    response = get(device, f"/axis-cgi/virtualinput/{verb}.cgi", role, **params)
    assert response.status_code == 200, response.text
    return etree.fromstring(response.content)


def state_changed(root: etree._Element, verb: str) -> str | None:
    return root.findtext(f"{VI}Success/{VI}{verb.title()}Success/{VI}StateChanged")


def test_activate_and_deactivate_say_whether_the_state_changed(device):
    first = virtual(device, "activate", schemaversion="1", port="10")
    assert first.tag == f"{VI}VirtualInputResponse"
    assert first.get("SchemaVersion") == "1.1"
    assert state_changed(first, "activate") == "true"
    assert state_changed(virtual(device, "activate", schemaversion="1", port="10"), "activate") == "false"
    assert state_changed(virtual(device, "deactivate", schemaversion="1.0", port="10"), "deactivate") == "true"
    assert state_changed(virtual(device, "deactivate", schemaversion="1", port="10"), "deactivate") == "false"


def test_the_soap_way_to_flip_a_virtual_input_shares_the_state_with_the_cgi(device):
    body = f'<ChangeVirtualInputState xmlns="{AEV}"><port>4</port><active>1</active></ChangeVirtualInputState>'
    assert call(device, body).findtext("aev:stateChanged", namespaces=NS) == "true"
    assert state_changed(virtual(device, "activate", schemaversion="1", port="4"), "activate") == "false"


def test_activation_with_a_duration_ends_by_itself(device):
    virtual(device, "activate", schemaversion="1", port="5", duration="1")
    time.sleep(1.5)
    assert state_changed(virtual(device, "activate", schemaversion="1", port="5"), "activate") == "true"


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"port": "1"}, "10"),
        ({"schemaversion": "1"}, "10"),
        ({"schemaversion": "1", "port": "33"}, "20"),
        ({"schemaversion": "1", "port": "x"}, "20"),
        ({"schemaversion": "2", "port": "1"}, "30"),
        ({"schemaversion": "1", "port": "1", "duration": "-4"}, "50"),
    ],
)
def test_virtual_input_errors(shared_device, params, code):
    root = virtual(shared_device, "activate", **params)
    assert root.findtext(f"{VI}Error/{VI}GeneralError/{VI}ErrorCode") == code
    assert root.findtext(f"{VI}Error/{VI}GeneralError/{VI}ErrorDescription")


def test_virtual_inputs_need_an_operator(shared_device):
    response = get(shared_device, "/axis-cgi/virtualinput/activate.cgi", "viewer", schemaversion="1", port="1")
    assert response.status_code == 401


def test_the_manual_trigger_answers_ok_for_its_port_only(shared_device):
    assert param(shared_device, "Properties.IO.ManualTriggerNbr") == "6"
    assert param(shared_device, "Properties.VirtualInput.VirtualInput") == "yes"
    ok = get(shared_device, "/axis-cgi/io/virtualinput.cgi", "viewer", action="6:/100\\")
    assert ok.status_code == 200
    assert ok.text == "OK\n"
    assert get(shared_device, "/axis-cgi/io/virtualinput.cgi", action="3:/").status_code == 400
    assert get(shared_device, "/axis-cgi/io/virtualinput.cgi", action="6:?").status_code == 400
