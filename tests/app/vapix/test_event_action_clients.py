"""The Action and Event service clients and the event-stream subscriber against the virtual camera: real SOAP
over HTTP with Digest, real WebSocket; the stream reconnects by itself across a camera restart."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest

from app.vapix.action_service import (
    FIXED_RECORDING,
    UNLIMITED_RECORDING,
    ActionRule,
    ActionService,
    EventFilter,
    item_filter,
    recording_parameters,
)
from app.vapix.errors import ApiError
from app.vapix.event_service import EventService, ScheduleType
from app.vapix.event_stream import EventFilter as StreamFilter
from app.vapix.event_stream import EventNotification, EventStream, StreamRefused
from app.vapix.soap import SoapFaultError
from tests.conftest import transport_for
from tests.device.disk_client import scenario

pytestmark = pytest.mark.functional

VIRTUAL_INPUT = "tns1:Device/tnsaxis:IO/VirtualInput"
DISRUPTION = "tnsaxis:Storage/Disruption"


async def test_declarations_decode_with_every_item_by_name(shared_device):
    async with transport_for(shared_device, "operator") as transport:
        declared = {d.topic: d for d in await EventService(transport).get_event_instances()}
    alert = declared["tnsaxis:Storage/Alert"]
    assert alert.stateful
    assert alert.nice_name == "Storage alert"
    assert [i.name for i in alert.data] == ["temperature", "alert", "wear", "overall_health"]
    assert [i.name for i in alert.data if i.property_state] == ["alert"]
    assert alert.source[0].values == ("SD_DISK", "NetworkShare")
    assert declared[VIRTUAL_INPUT].data[0].name == "active"
    assert "tns1:UserAlarm/tnsaxis:Recurring/Interval" in declared


async def test_schedules_configurations_and_rules_round_trip(device):
    async with transport_for(device) as transport:
        events, actions = EventService(transport), ActionService(transport)
        schedule = await events.add_scheduled_event("DTSTART:19700101T000000\nRRULE:FREQ=HOURLY", "Hourly")
        pulses = await events.get_scheduled_events(ScheduleType.PULSE)
        assert [(s.event_id, s.name, s.kind) for s in pulses] == [(schedule, "Hourly", ScheduleType.PULSE)]
        assert {s.kind for s in await events.get_scheduled_events(ScheduleType.INTERVAL)} == {ScheduleType.INTERVAL}

        templates = {t.token: t.parameters for t in await actions.get_action_templates()}
        assert set(templates[FIXED_RECORDING]) == {"stream_options", "pre_duration", "post_duration", "storage_id"}
        action = await actions.add_action_configuration(
            FIXED_RECORDING, recording_parameters("SD_DISK", 2000, 3000, "resolution=320x180&fps=10"), "Clip"
        )
        (stored,) = await actions.get_action_configurations()
        assert (stored.configuration_id, stored.name, stored.parameters["pre_duration"]) == (action, "Clip", "2000")
        assert stored.parameters["stream_options"] == "resolution=320x180&fps=10"

        rule = ActionRule(
            "Hourly clip",
            action,
            start_event=EventFilter("tns1:UserAlarm/tnsaxis:Recurring/Pulse", item_filter(id=schedule)),
            conditions=(EventFilter(DISRUPTION, item_filter(disk_id="SD_DISK", disruption="0")),),
            activation_timeout="PT10S",
        )
        rule_id = await actions.add_action_rule(rule)
        (read,) = await actions.get_action_rules()
        assert read == ActionRule(**{**rule.__dict__, "rule_id": rule_id})

        with pytest.raises(SoapFaultError) as in_use:
            await actions.remove_action_configuration(action)
        assert in_use.value.name == "ActionConfigurationIsInUseFault"
        await actions.remove_action_rule(rule_id)
        await actions.remove_action_configuration(action)
        await events.remove_scheduled_event(schedule)
        assert await actions.get_action_rules() == []
        assert await actions.get_action_configurations() == []


async def test_faults_arrive_as_typed_errors(shared_device):
    async with transport_for(shared_device) as transport:
        actions, events = ActionService(transport), EventService(transport)
        with pytest.raises(SoapFaultError) as missing:
            await actions.add_action_configuration(UNLIMITED_RECORDING, {"storage_id": "SD_DISK"})
        assert (missing.value.name, missing.value.reason) == (
            "ParametersMissmatchFault",
            "Configuration parameter missing: stream_options",
        )
        with pytest.raises(SoapFaultError) as empty:
            await actions.add_action_rule(ActionRule("x", 1, conditions=()))
        assert empty.value.name in ("InsufficientActivationRuleFault", "ActionConfigurationNotFoundFault")
        with pytest.raises(SoapFaultError) as schedule:
            await events.add_scheduled_event("DTSTART:whenever")
        assert schedule.value.name == "InvalidScheduleFault"
        with pytest.raises(ApiError) as port:
            await events.activate_virtual_input(99)
        assert port.value.code == 20


async def test_virtual_inputs_through_the_cgi_and_soap(device):
    async with transport_for(device, "operator") as transport:
        events = EventService(transport)
        assert await events.activate_virtual_input(3) is True
        assert await events.change_virtual_input_state(3, True) is False
        assert await events.deactivate_virtual_input(3) is True
        await events.manual_trigger(True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def next_matching(events: AsyncIterator[EventNotification], disk: str, value: str) -> EventNotification:
    async def wait() -> EventNotification:
        async for notification in events:
            if notification.source.get("disk_id") == disk and notification.data.get("disruption") == value:
                return notification
        raise AssertionError("the stream ended")

    return await asyncio.wait_for(wait(), 30)


async def test_the_stream_follows_the_card_and_reconnects_by_itself_across_a_restart(device_factory):
    device = device_factory("--http-port", str(free_port()))  # the restarted camera comes back on the same port
    async with transport_for(device) as transport:
        stream = EventStream(transport, [StreamFilter(DISRUPTION)], first_delay=0.2, max_delay=1.0)
        events = stream.events()
        try:
            first = await next_matching(events, "SD_DISK", "0")  # the current state on connect
            assert first.topic == DISRUPTION
            assert first.timestamp is not None
            await asyncio.to_thread(scenario, device, "pull")
            await next_matching(events, "SD_DISK", "1")
            await asyncio.to_thread(device.restart)  # drops the connection; the card stays out of its slot
            await next_matching(events, "SD_DISK", "1")  # only a new connection's current states say it again
            assert stream.connections >= 2
            await asyncio.to_thread(scenario, device, "insert")
            await next_matching(events, "SD_DISK", "0")
        finally:
            await events.aclose()


async def test_a_filter_the_camera_refuses_is_raised_not_retried(shared_device):
    async with transport_for(shared_device) as transport:
        events = EventStream(transport, [StreamFilter("not a topic !!")]).events()
        with pytest.raises(StreamRefused) as refused:
            await asyncio.wait_for(events.__anext__(), 10)
        assert refused.value.code == 2104
