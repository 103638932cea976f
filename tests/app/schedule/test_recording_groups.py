"""Recording groups from the desktop's side, on the real virtual camera: the client reads back what it created,
a rule records into a group while its input is active, the listing says so, and a group a rule still uses is
refused in words before the camera is even asked."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from app.schedule.errors import Refused, sentence
from app.schedule.rules import RecordingRules
from app.schedule.triggers import Trigger
from app.vapix.errors import ApiError
from app.vapix.event_service import EventService
from app.vapix.recording_groups import RecordingGroup, RecordingGroups, error_text
from app.vapix.recordings import RecordingQuery, Recordings
from tests.app.schedule.test_rules import until_async
from tests.conftest import transport_for

pytestmark = pytest.mark.functional


async def test_the_client_creates_reads_updates_and_deletes_a_group(device):
    async with transport_for(device) as transport:
        groups = RecordingGroups(transport)
        assert [str(v) for v in (await groups.schema_versions()).versions] == ["1.0"]
        wanted = RecordingGroup("", "SD_DISK", "Front door", "Porch", 48, "resolution=320x180&fps=10", 2500, 1500)
        group_id = await groups.create(wanted)
        assert group_id.startswith("SD_DISK_")
        (found,) = await groups.list()
        assert found == dataclasses.replace(wanted, group_id=group_id)
        await groups.update(RecordingGroup(group_id, "SD_DISK", "Front door", "Porch", 0, "fps=5", 0, 4000))
        (found,) = await groups.list(group_id)
        assert (found.retention_hours, found.stream_options, found.pre_ms, found.post_ms) == (0, "fps=5", 0, 4000)
        await groups.delete(group_id)
        assert await groups.list() == []
        with pytest.raises(ApiError) as refused:
            await groups.delete(group_id)
        assert refused.value.code == 110
        assert error_text(refused.value).startswith("The camera has no recording group with this ID")


async def test_a_rule_records_into_a_group_and_the_group_cannot_go_while_it_does(device):
    async with transport_for(device, "operator") as operator, transport_for(device) as transport:
        rules = RecordingRules(transport)
        group_id = await rules.save_group(
            RecordingGroup("Lobby", "SD_DISK", "Lobby", stream_options="fps=10", post_ms=500)
        )
        group = (await rules.read()).groups[group_id]
        rule_id = await rules.add_to_group(Trigger.virtual_input(9), group)

        (listed,) = (await rules.read()).listing()
        assert (listed.rule_id, listed.trigger_text, listed.records) == (
            rule_id,
            "Virtual input 9",
            "While active, into group Lobby",
        )
        assert (listed.disk_id, listed.post_seconds) == ("SD_DISK", 0.5)

        with pytest.raises(Refused) as refused:
            await rules.delete_group(group_id)
        assert sentence(refused.value) == (
            "The recording group is still used by Record Virtual input 9 into Lobby: remove those rules first."
        )
        with pytest.raises(Refused, match="A schedule is an instant"):
            await rules.add_to_group(Trigger.pulse("com.axis.schedules.after_hours"), group)

        events = EventService(operator)
        await events.activate_virtual_input(9)
        await asyncio.sleep(1.5)
        await events.deactivate_virtual_input(9)
        recordings = Recordings(transport)

        async def finished() -> bool:
            page = await recordings.page(RecordingQuery(disk_id="SD_DISK"))
            return [(r.recording_type, r.status.value) for r in page.recordings] == [("triggered", "completed")]

        await until_async(finished)

        await rules.remove_rule(rule_id)
        await rules.delete_group(group_id)
        assert (await rules.read()).groups == {}
        assert (await recordings.page(RecordingQuery(disk_id="SD_DISK"))).recordings == []  # went with the group


async def test_a_refused_group_reads_as_a_sentence(device):
    async with transport_for(device) as transport:
        with pytest.raises(Refused) as refused:
            await RecordingRules(transport).save_group(RecordingGroup("", "SD_DISK", stream_options="resolution=7x7"))
        assert sentence(refused.value).startswith(
            "The recording group was not saved: The camera does not accept these stream options. (Invalid stream"
        )
