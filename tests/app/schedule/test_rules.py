"""The recording rules on the real virtual camera: a week saved and read back, replaced and removed without
leftovers; a triggered rule listed as what it records and where, and recording for real when triggered."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.schedule.errors import sentence
from app.schedule.rules import RecordingRules, RecordSettings
from app.schedule.triggers import Trigger, TriggerKind
from app.schedule.week import WeekGrid
from app.vapix.action_service import FIXED_RECORDING, UNLIMITED_RECORDING
from app.vapix.event_service import EventService
from app.vapix.recordings import Recording, RecordingQuery, Recordings
from app.vapix.soap import SoapFaultError
from tests.conftest import transport_for

pytestmark = pytest.mark.functional
OFFICE = WeekGrid.rectangle(range(5), range(8, 17))


async def test_a_week_is_saved_as_schedules_and_one_rule_and_reads_back(device):
    async with transport_for(device) as transport:
        rules = RecordingRules(transport)
        saved = await rules.save_week("SD_DISK", OFFICE | WeekGrid.rectangle(range(5, 6), range(10, 12)))
        assert saved.rule_id is not None
        current = await rules.read()
        assert current.week("SD_DISK") == saved
        assert current.week("NetworkShare").rule_id is None
        mine = [current.schedules[i] for i in saved.schedule_ids]
        assert sorted(s.ical for s in mine) == sorted(
            [
                "DTSTART:19700101T080000\nDTEND:19700101T170000\nRRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
                "DTSTART:19700101T100000\nDTEND:19700101T120000\nRRULE:FREQ=WEEKLY;BYDAY=SA",
            ]
        )
        (rule,) = current.rules
        configuration = current.configurations[rule.primary_action]
        assert configuration.template == UNLIMITED_RECORDING
        assert configuration.parameters["storage_id"] == "SD_DISK"
        (listed,) = current.listing()
        assert (listed.week, listed.disk_id, listed.trigger_text) == (True, "SD_DISK", "Week schedule (47 h a week)")


async def test_replacing_and_clearing_a_week_leaves_nothing_behind(device):
    async with transport_for(device) as transport:
        rules = RecordingRules(transport)
        built_in = {s.event_id for s in await EventService(transport).get_scheduled_events()}
        first = await rules.save_week("SD_DISK", OFFICE, "fps=5")
        second = await rules.save_week("SD_DISK", WeekGrid.rectangle(range(6, 7), range(24)))
        current = await rules.read()
        assert current.week("SD_DISK") == second
        assert not set(first.schedule_ids) & set(current.schedules)
        assert list(current.configurations) == [second.configuration_id]
        await rules.save_week("SD_DISK", WeekGrid())
        current = await rules.read()
        assert (current.rules, current.configurations, set(current.schedules)) == ([], {}, built_in)


async def test_a_triggered_rule_is_listed_and_records_when_its_input_turns_on(device):
    async with transport_for(device, "operator") as operator, transport_for(device) as transport:
        rules = RecordingRules(transport)
        rule_id = await rules.add_triggered(Trigger.virtual_input(4), RecordSettings("SD_DISK", 2, 1))
        (listed,) = (await rules.read()).listing()
        assert (listed.rule_id, listed.trigger.kind, listed.trigger.port) == (rule_id, TriggerKind.VIRTUAL_INPUT, 4)
        assert (listed.trigger_text, listed.disk_id) == ("Virtual input 4", "SD_DISK")
        assert (listed.pre_seconds, listed.post_seconds, listed.records) == (2, 1, "Clip: 2 s before, 1 s after")
        configuration = (await rules.read()).configurations[listed.configuration_id]
        assert configuration.template == FIXED_RECORDING
        assert (configuration.parameters["pre_duration"], configuration.parameters["post_duration"]) == ("2000", "1000")

        await asyncio.sleep(2)  # the pre-event buffer fills from the live source
        await EventService(operator).activate_virtual_input(4)
        recordings = Recordings(transport)

        async def triggered() -> list[str]:
            page = await recordings.page(RecordingQuery(disk_id="SD_DISK"))
            return [r.recording_type for r in page.recordings if r.recording_type == "triggered"]

        found: list[str] = []

        async def seen() -> bool:
            found[:] = await triggered()
            return bool(found)

        await until_async(seen)
        assert found == ["triggered"]

        await rules.remove_rule(rule_id)
        current = await rules.read()
        assert (current.rules, current.configurations) == ([], {})


async def test_refusals_read_as_sentences(device):
    async with transport_for(device) as transport:
        rules = RecordingRules(transport)
        with pytest.raises(SoapFaultError) as refused:
            await rules.add_triggered(Trigger.manual(), RecordSettings("SD_DISK", stream_options="fps=many"))
        message = sentence(refused.value)
        assert message.startswith("The camera refused the recording settings: ")
        assert message.endswith(".")
        assert (await rules.read()).configurations == {}


async def until_async(predicate, timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.2)


async def test_the_camera_records_inside_the_saved_week_in_its_own_time_zone(device_factory):
    device = device_factory("--timezone", "Europe/Stockholm")
    friday_morning = datetime(2024, 6, 21, 8, 0, 0, tzinfo=ZoneInfo("Europe/Stockholm"))  # 06:00 UTC
    async with transport_for(device) as transport:
        await transport.request(
            "POST",
            "/local/edgestore/scenario/clock",
            params={"time": (friday_morning - timedelta(seconds=3)).isoformat()},
        )
        await RecordingRules(transport).save_week("SD_DISK", WeekGrid.rectangle(range(4, 5), range(8, 10)))
        recordings = Recordings(transport)
        assert (await recordings.page(RecordingQuery())).recordings == []  # not before the window
        found: list[Recording] = []

        async def seen() -> bool:
            page = await recordings.page(RecordingQuery(disk_id="SD_DISK"))
            found[:] = [r for r in page.recordings if r.recording_type == "scheduled"]
            return bool(found)

        await until_async(seen)
        key_frame_interval, slack = timedelta(seconds=2), timedelta(milliseconds=400)
        assert friday_morning - key_frame_interval - slack <= found[0].start <= friday_morning + slack
