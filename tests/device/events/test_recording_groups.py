"""Recording groups (EVENTS.md §4.1): an installer makes a group on the SD card, points several rules at it, and
gets one recording however many of them are active; the group's retention removes its recordings and nobody
else's; deleting the group takes its recordings with it, but not while an action still records into it.

Everything over real HTTP with Digest auth against the virtual camera."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from lxml import etree

from tests.device.disk_client import get, get_xml, scenario, until
from tests.device.events.camera import set_clock, switch
from tests.device.events.recordings import completed, frame_times, recordings, span
from tests.device.events.soap import AA, add_configuration, add_rule, call, detail_name, fault, item
from tests.support.device_process import CREDENTIALS

pytestmark = pytest.mark.functional

GROUP_CGI = "/axis-cgi/record/recording_group/"
GROUP_TEMPLATE = "com.axis.action.unlimited.recording_group.storage"
VIRTUAL_INPUT = "tns1:Device/tnsaxis:IO/VirtualInput"
GOP = timedelta(seconds=2)
TICK = timedelta(milliseconds=400)


def group_call(device, cgi: str, role: str = "operator", **params: str) -> etree._Element:
    params.setdefault("schemaversion", "1")
    response = get(device, GROUP_CGI + cgi, role, **params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/xml")
    root = etree.fromstring(response.content)
    assert root.tag == "RecordingGroupResponse"
    return root


def error_of(root: etree._Element) -> tuple[int, str] | None:
    found = root.find("GeneralError")
    return None if found is None else (int(found.findtext("ErrorCode") or 0), found.findtext("ErrorDescription") or "")


def create(device, **params: str) -> str:
    root = group_call(device, "create.cgi", **params)
    assert error_of(root) is None, etree.tostring(root)
    return root.find("CreateSuccess").get("RecordingGroupId")


def listed(device, **params: str) -> dict[str, dict[str, str]]:
    root = group_call(device, "list.cgi", role="viewer", **params)
    assert error_of(root) is None, etree.tostring(root)
    return {g.get("RecordingGroupId"): dict(g.attrib) for g in root.iterfind("ListSuccess/RecordingGroup")}


def resolution(device, recording_id: str) -> str:
    root = get_xml(device, "/axis-cgi/record/list.cgi", role="viewer", recordingid=recording_id)
    return root.find("recordings/recording/video").get("resolution")


def group_rule(device, name: str, group: str, port: int) -> tuple[int, int]:
    """An action recording into `group` while virtual input `port` is active: (configuration, rule)."""
    action = add_configuration(device, GROUP_TEMPLATE, name=f"Record to {group}", recording_group_id=group)
    rule = add_rule(
        device, name, action, conditions=[(VIRTUAL_INPUT, item("port", str(port)) + " and " + item("active", "1"))]
    )
    return action, rule


def test_an_installer_creates_lists_and_updates_a_group_on_the_sd_card(device):
    versions = group_call(device, "schemaversions.cgi", role="viewer")
    assert versions.findtext("SchemaVersionsSuccess/SchemaVersion/VersionNumber") == "1.0"

    generated = create(
        device, diskid="SD_DISK", retentiontime="168", streamoptions="resolution=320x180&fps=10", preduration="3000"
    )
    assert re.fullmatch(r"SD_DISK_\d{8}_\d{6}_[0-9A-F]{8}", generated), generated
    named = create(device, recordinggroupid="Loading-dock_1", diskid="SD_DISK", nicename="Loading dock")

    groups = listed(device)
    assert groups[generated] == {
        "RecordingGroupId": generated,
        "NiceName": "",
        "Description": "",
        "RetentionTime": "168",
        "DiskId": "SD_DISK",
        "StreamOptions": "resolution=320x180&fps=10",
        "PreDuration": "3000",
        "PostDuration": "0",
    }
    assert list(listed(device, recordinggroupid=named)) == [named]

    updated = group_call(device, "update.cgi", recordinggroupid=named, description="Gate B", postduration="2500")
    assert updated.find("GeneralSuccess") is not None
    after = listed(device)[named]
    assert (after["NiceName"], after["Description"], after["PostDuration"]) == ("Loading dock", "Gate B", "2500")

    discovered = httpx.post(
        f"{device.http_url}/axis-cgi/apidiscovery.cgi",
        json={"apiVersion": "1.0", "method": "getApiList"},
        auth=httpx.DigestAuth(*CREDENTIALS["viewer"]),
    ).json()["data"]["apiList"]
    assert {"id": "recording-group", "version": "1.0", "name": "Edge Recording group", "docLink": ""} in discovered


@pytest.mark.parametrize(
    ("cgi", "params", "code"),
    [
        ("list.cgi", {"schemaversion": ""}, 20),
        ("list.cgi", {"schemaversion": "2"}, 40),
        ("create.cgi", {}, 20),  # no diskid
        ("create.cgi", {"diskid": "USB_DISK"}, 20),
        ("create.cgi", {"diskid": "SD_DISK", "recordinggroupid": "no spaces"}, 20),
        ("create.cgi", {"diskid": "SD_DISK", "recordinggroupid": "x" * 51}, 20),
        ("create.cgi", {"diskid": "SD_DISK", "preduration": "soon"}, 20),
        ("create.cgi", {"diskid": "SD_DISK", "streamoptions": "resolution=7x7"}, 130),
        ("update.cgi", {"recordinggroupid": "nobody"}, 110),
        ("delete.cgi", {"recordinggroupid": "nobody"}, 110),
        ("list.cgi", {"recordinggroupid": "nobody"}, 110),
    ],
)
def test_requests_the_api_refuses_get_its_error_codes(shared_device, cgi, params, code):
    found = error_of(group_call(shared_device, cgi, **params))
    assert found is not None
    assert found[0] == code, found
    assert found[1]


def test_ids_are_unique_the_disk_stays_and_the_number_of_groups_is_bounded(device):
    create(device, recordinggroupid="only", diskid="SD_DISK")
    assert error_of(group_call(device, "create.cgi", recordinggroupid="only", diskid="SD_DISK"))[0] == 20
    assert error_of(group_call(device, "update.cgi", recordinggroupid="only", diskid="NetworkShare"))[0] == 20
    assert error_of(group_call(device, "update.cgi", recordinggroupid="only", streamoptions="fps=abc"))[0] == 130
    refused = get(device, GROUP_CGI + "create.cgi", "viewer", schemaversion="1", diskid="SD_DISK")
    assert refused.status_code == 401
    for n in range(31):
        create(device, recordinggroupid=f"g{n}", diskid="SD_DISK")
    assert error_of(group_call(device, "create.cgi", diskid="SD_DISK"))[0] == 120


def test_two_rules_active_in_parallel_make_one_recording_with_the_groups_pre_and_post_time(device):
    group = create(
        device,
        recordinggroupid="Entrance",
        diskid="SD_DISK",
        streamoptions="resolution=320x180&fps=10",
        preduration="2000",
        postduration="1000",
    )
    group_rule(device, "Door", group, 21)
    group_rule(device, "Motion", group, 22)
    time.sleep(3.0)  # the group's pre-event buffer fills
    door_opened, _ = switch(device, 21, True)
    time.sleep(1.0)
    switch(device, 22, True)  # the second rule joins the recording the first one started
    switch(device, 21, False)
    time.sleep(1.0)
    assert [r["recordingstatus"] for r in recordings(device)] == ["recording"]  # held by Motion alone
    motion_ended, motion_ended_after = switch(device, 22, False)

    (recording,) = completed(device)
    assert (recording["recordingtype"], recording["eventid"], recording["eventtrigger"]) == (
        "triggered",
        "Door",
        "Record to Entrance",
    )
    assert resolution(device, recording["recordingid"]) == "320x180"
    times = frame_times(device, recording["recordingid"])
    assert door_opened - timedelta(seconds=2) - GOP - TICK <= times[0] <= door_opened - timedelta(seconds=2) + TICK
    assert (
        motion_ended + timedelta(seconds=1) - TICK <= times[-1] <= motion_ended_after + timedelta(seconds=1) + 2 * TICK
    )


def test_new_stream_options_restart_the_groups_recording(device):
    group = create(device, recordinggroupid="Yard", diskid="SD_DISK", streamoptions="resolution=320x180&fps=10")
    group_rule(device, "Yard watch", group, 23)
    switch(device, 23, True)
    until(lambda: [r for r in recordings(device) if r["recordingstatus"] == "recording"], timeout=10)
    time.sleep(1.0)
    group_call(device, "update.cgi", recordinggroupid=group, streamoptions="resolution=640x360&fps=10")
    time.sleep(1.5)
    switch(device, 23, False)

    first, second = completed(device, count=2)
    assert (resolution(device, first["recordingid"]), resolution(device, second["recordingid"])) == (
        "320x180",
        "640x360",
    )
    assert span(first)[1] <= span(second)[0] + GOP


def test_a_group_in_use_cannot_go_and_deleting_it_takes_only_its_recordings(device):
    group = create(device, recordinggroupid="Temporary", diskid="SD_DISK", streamoptions="resolution=320x180&fps=10")
    action, rule = group_rule(device, "Short", group, 24)
    switch(device, 24, True)
    time.sleep(1.5)
    switch(device, 24, False)
    (ours,) = completed(device)
    record = get(device, "/axis-cgi/record/record.cgi", "operator", diskid="SD_DISK", options="resolution=320x180")
    theirs = etree.fromstring(record.content).find("record").get("recordingid")
    time.sleep(1.0)
    get(device, "/axis-cgi/record/stop.cgi", "operator", recordingid=theirs)

    code, description = error_of(group_call(device, "delete.cgi", recordinggroupid=group))
    assert code == 140
    assert "Record to Temporary" in description
    remove_action = f'<RemoveActionConfiguration xmlns="{AA}"><ConfigurationID>{action}</ConfigurationID>'
    remove_action += "</RemoveActionConfiguration>"
    unused = fault(device, remove_action)
    assert detail_name(unused) == "aa:ActionConfigurationIsInUseFault"
    call(device, f'<RemoveActionRule xmlns="{AA}"><RuleID>{rule}</RuleID></RemoveActionRule>')
    call(device, remove_action)

    assert group_call(device, "delete.cgi", recordinggroupid=group).find("GeneralSuccess") is not None
    assert listed(device) == {}
    assert [r["recordingid"] for r in recordings(device)] == [theirs]
    assert ours["recordingid"] != theirs


def test_an_action_for_a_group_that_does_not_exist_is_refused(shared_device):
    body = (
        f'<AddActionConfiguration xmlns="{AA}"><NewActionConfiguration><TemplateToken>{GROUP_TEMPLATE}</TemplateToken>'
        '<Parameters><Parameter Name="recording_group_id" Value="ghost"/></Parameters>'
        "</NewActionConfiguration></AddActionConfiguration>"
    )
    found = fault(shared_device, body)
    assert detail_name(found) == "aa:InvalidActionConfigurationFault"
    assert "ghost" in found.reason


def test_retention_removes_the_groups_old_recordings_and_no_one_elses(device):
    group = create(device, recordinggroupid="Hour", diskid="SD_DISK", retentiontime="1", streamoptions="fps=10")
    group_rule(device, "Brief", group, 25)
    switch(device, 25, True)
    time.sleep(1.5)
    switch(device, 25, False)
    (ours,) = completed(device)
    record = get(device, "/axis-cgi/record/record.cgi", "operator", diskid="SD_DISK", options="fps=10")
    theirs = etree.fromstring(record.content).find("record").get("recordingid")
    time.sleep(1.0)
    get(device, "/axis-cgi/record/stop.cgi", "operator", recordingid=theirs)

    assert scenario(device, "cleanup").status_code == 200
    assert {r["recordingid"] for r in recordings(device)} == {ours["recordingid"], theirs}  # not an hour old yet
    set_clock(device, datetime.now(UTC) + timedelta(hours=1, minutes=5))
    assert scenario(device, "cleanup").status_code == 200
    assert [r["recordingid"] for r in recordings(device)] == [theirs]


def test_the_group_forgets_recordings_the_card_no_longer_has(device):
    group = create(device, recordinggroupid="Busy", diskid="SD_DISK", streamoptions="fps=10")
    group_rule(device, "Often", group, 26)
    for count in (1, 2):
        switch(device, 26, True)
        time.sleep(0.5)
        switch(device, 26, False)
        completed(device, count=count)
    first, second = (r["recordingid"] for r in recordings(device))
    get(device, "/axis-cgi/record/remove.cgi", "operator", recordingid=first)
    switch(device, 26, True)
    time.sleep(0.5)
    switch(device, 26, False)
    (third,) = {r["recordingid"] for r in completed(device, count=2)} - {second}

    saved = json.loads((device.data_dir / "recording_groups.json").read_text())
    assert saved["recordings"] == {"Busy": [second, third]}


def test_a_group_is_hidden_while_its_card_is_out(device):
    group = create(device, recordinggroupid="Card", diskid="SD_DISK")
    assert scenario(device, "pull").status_code == 200
    assert listed(device) == {}
    assert error_of(group_call(device, "update.cgi", recordinggroupid=group, nicename="x"))[0] == 110
    assert error_of(group_call(device, "create.cgi", diskid="SD_DISK"))[0] == 20
    assert scenario(device, "insert").status_code == 200
    assert list(listed(device)) == [group]
