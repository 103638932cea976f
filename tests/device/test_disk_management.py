"""An installer looks at the camera's disks and runs the disk jobs (format, check, repair, mount) with the Disk
management API, as on a real Axis camera (WIRE.md §2.1-2.6, AMBIGUITIES.md D-*)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from tests.device.disk_client import (
    LIST_ATTRIBUTES,
    SCHEMA_BASE,
    SD,
    SHARE,
    XSI,
    card,
    disk,
    disks,
    get,
    get_xml,
    health,
    job_status,
    list_root,
    lock,
    mount,
    param,
    param_update,
    props,
    run_job,
    run_ok,
    sample,
    scenario,
    start_job,
    unmount,
    wait_job,
)

pytestmark = pytest.mark.functional

SD_SIZE_KB = 1024 * 1024  # --sd-size 1G


# --- list.cgi --------------------------------------------------------------------------------------------------


def test_the_disk_list_has_real_firmwares_root_and_attribute_order(camera):
    root = list_root(camera)
    assert root.tag == "root"
    assert root.get(f"{{{XSI}}}noNamespaceSchemaLocation") == SCHEMA_BASE + "disk/list1.xsd"
    (wrapper,) = root
    assert wrapper.tag == "disks"
    assert wrapper.get("numberofdisks") == "2"
    assert [d.get("diskid") for d in wrapper] == [SD, SHARE]
    for element in wrapper:
        assert list(element.attrib) == LIST_ATTRIBUTES


def test_a_fresh_sd_card_is_mounted_with_the_size_it_was_given(camera):
    sd = disk(camera)
    assert sd["totalsize"] == str(SD_SIZE_KB)
    assert 0 < int(sd["freesize"]) <= SD_SIZE_KB
    assert sd["status"] == "OK"
    assert sd["filesystem"] == "ext4"
    assert sd["group"] == "S0"
    assert (sd["locked"], sd["full"], sd["readonly"]) == ("no", "no", "no")
    assert sd["cleanuplevel"] == "99"  # the internal value real firmware reports (S-8)
    assert (sd["encryptionenabled"], sd["diskencrypted"], sd["diskencryptionenabled"]) == ("false",) * 3
    assert sd["requiredfilesystem"] == "none"


def test_recording_on_the_card_uses_up_free_space(camera):
    before = int(disk(camera)["freesize"])
    sample(camera, seconds=6, blockseconds=3)
    after = disk(camera)
    assert int(after["freesize"]) < before
    assert int(after["freesize"]) <= int(after["totalsize"])


def test_an_unbound_network_share_is_listed_as_disconnected_with_no_space(shared_device):
    share = disks(shared_device)[SHARE]
    assert share["status"] == "disconnected"
    assert (share["totalsize"], share["freesize"]) == ("0", "0")
    assert share["filesystem"] == "cifs"
    assert share["group"] == "S1"


@pytest.mark.parametrize(("diskid", "expected"), [("all", [SD, SHARE]), (SD, [SD]), (SHARE, [SHARE])])
def test_the_list_can_be_asked_for_all_disks_or_one(shared_device, diskid, expected):
    root = list_root(shared_device, diskid)
    assert [d.get("diskid") for d in root.iter("disk")] == expected
    assert root.find("disks").get("numberofdisks") == str(len(expected))


def test_asking_for_an_unknown_disk_lists_none(shared_device):
    root = list_root(shared_device, "USB_DISK")
    assert root.find("disks").get("numberofdisks") == "0"
    assert root.findall("disks/disk") == []


def test_an_operator_can_list_the_disks(shared_device):
    assert [d.get("diskid") for d in list_root(shared_device, role="operator").iter("disk")] == [SD, SHARE]


def test_the_friendly_name_set_through_param_cgi_is_the_disks_name(camera):
    param_update(camera, **{"root.Storage.S0.FriendlyName": "Front door card"})
    assert disk(camera)["name"] == "Front door card"


def test_cleanup_settings_from_the_properties_api_show_in_the_list_and_in_param_cgi(camera):
    props(camera, "setcleanupmaxage", maxage="30")
    props(camera, "setcleanuppolicy", cleanuppolicy="none")
    sd = disk(camera)
    assert (sd["cleanupmaxage"], sd["cleanuppolicy"]) == ("30", "none")
    assert param(camera, "Storage.S0.CleanupMaxAge") == "30"
    assert param(camera, "Storage.S0.CleanupPolicyActive") == "none"


def test_cleanup_settings_from_param_cgi_show_in_the_list(camera):
    param_update(camera, **{"root.Storage.S0.CleanupMaxAge": "14", "root.Storage.S0.CleanupPolicyActive": "none"})
    sd = disk(camera)
    assert (sd["cleanupmaxage"], sd["cleanuppolicy"]) == ("14", "none")


# --- job CGIs: success ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("file_system", ["vfat", "ext4"])
def test_formatting_reports_progress_to_100_and_leaves_the_card_mounted_with_that_file_system(camera, file_system):
    recording = sample(camera)
    started = start_job(camera, "format", filesystem=file_system)
    assert started["action"] == "format"
    assert started["diskid"] == SD
    assert started["result"] == "OK"
    assert started["jobid"].isdigit()
    done = wait_job(camera, started["jobid"])
    assert done["result"] == "OK", done
    assert done["action"] == "format"
    assert done["progress"] == "100"
    assert file_system in done["description"]
    sd = disk(camera)
    assert (sd["status"], sd["filesystem"]) == ("OK", file_system)
    assert param(camera, "Storage.S0.FileSystem") == file_system
    assert not list(card(camera).glob(f"*/*/{recording}"))  # formatting erased the recording


def test_formatting_without_a_file_system_keeps_the_one_on_the_card(camera):
    run_ok(camera, "format", filesystem="vfat")
    assert "vfat" in run_ok(camera, "format")
    assert disk(camera)["filesystem"] == "vfat"


def test_unmounting_and_mounting_the_card(camera):
    assert "unmounted" in unmount(camera)
    sd = disk(camera)
    assert sd["status"] == "connected"
    assert sd["freesize"] == "0"
    assert "mounted" in mount(camera)
    sd = disk(camera)
    assert sd["status"] == "OK"
    assert int(sd["freesize"]) > 0


def test_checking_and_repairing_an_unmounted_ext4_card(camera):
    sample(camera, seconds=4, blockseconds=2)
    unmount(camera)
    checked = run_job(camera, "checkdisk")
    assert (checked["action"], checked["result"], checked["progress"]) == ("checkdisk", "OK", "100")
    assert "2 blocks" in checked["description"]
    repaired = run_job(camera, "repair")
    assert (repaired["action"], repaired["result"], repaired["progress"]) == ("repair", "OK", "100")
    assert "2 block(s)" in repaired["description"]


def test_job_ids_are_unique_and_increase(camera):
    ids = []
    for cgi, params in [("mount", {"action": "unmount"}), ("checkdisk", {}), ("mount", {"action": "mount"})]:
        started = start_job(camera, cgi, **params)
        ids.append(int(started["jobid"]))
        wait_job(camera, started["jobid"])
    assert ids == sorted(set(ids))


def test_two_clients_polling_the_same_job_get_the_same_answer(camera):
    started = start_job(camera, "mount", action="unmount")
    wait_job(camera, started["jobid"])
    as_admin = job_status(camera, started["jobid"], role="admin")
    as_operator = job_status(camera, started["jobid"], role="operator")
    assert as_admin == as_operator
    assert as_admin["result"] == "OK"
    # and asking again gives the same answer: the result is kept after the job ended
    assert job_status(camera, started["jobid"]) == as_admin


@pytest.mark.parametrize(("jobid", "diskid"), [("1", SHARE), ("999", SD), ("abc", SD), ("", SD)])
def test_job_cgi_for_a_job_that_is_not_there_answers_error_with_action_na(camera, jobid, diskid):
    run_ok(camera, "mount", action="unmount")  # job 1 exists, on SD_DISK
    status = job_status(camera, jobid, diskid)
    assert status["result"] == "ERROR"
    assert status["action"] == "N/A"
    assert status["progress"] == "100"
    assert status["description"]


def test_an_operator_may_check_a_disk_but_not_format_it(camera):
    unmount(camera)
    started = start_job(camera, "checkdisk", role="operator")
    assert started["result"] == "OK"
    assert job_status(camera, started["jobid"], role="operator")["action"] == "checkdisk"
    response = get(camera, "/axis-cgi/disks/format.cgi", role="operator", diskid=SD, filesystem="ext4")
    assert response.status_code == 401


# --- job CGIs: refusals in the start response ----------------------------------------------------------------


def assert_refused(started: dict[str, str], action: str, *words: str) -> None:
    assert started["result"] == "ERROR", started
    assert started["action"] == action
    assert "jobid" not in started
    description = started["description"]
    assert description
    for word in words:
        assert word.lower() in description.lower(), description


def test_formatting_with_a_file_system_the_card_does_not_support_is_refused(shared_device):
    assert_refused(start_job(shared_device, "format", filesystem="ntfs"), "format", "ntfs")
    assert disk(shared_device)["status"] == "OK"


@pytest.mark.parametrize("cgi", ["format", "repair"])
def test_a_locked_card_is_neither_formatted_nor_repaired(camera, cgi):
    recording = sample(camera)
    unmount(camera)
    lock(camera, "lock")
    params = {"filesystem": "ext4"} if cgi == "format" else {}
    assert_refused(start_job(camera, cgi, **params), cgi, "locked")
    assert list(card(camera).glob(f"*/*/{recording}"))


@pytest.mark.parametrize("cgi", ["checkdisk", "repair"])
def test_a_mounted_card_is_neither_checked_nor_repaired(shared_device, cgi):
    assert_refused(start_job(shared_device, cgi), cgi, "mounted")


def test_a_vfat_card_cannot_be_checked(camera):
    run_ok(camera, "format", filesystem="vfat")
    unmount(camera)
    assert_refused(start_job(camera, "checkdisk"), "checkdisk", "ext4")


@pytest.mark.parametrize(
    ("cgi", "params"),
    [("format", {"filesystem": "ext4"}), ("checkdisk", {}), ("repair", {}), ("mount", {"action": "mount"})],
)
def test_no_job_runs_on_a_card_that_was_pulled_out(camera, cgi, params):
    scenario(camera, "pull").raise_for_status()
    assert_refused(start_job(camera, cgi, **params), params.get("action", cgi), "no disk")


def test_mount_cgi_knows_only_mount_and_unmount(shared_device):
    assert_refused(start_job(shared_device, "mount", action="eject"), "eject", "mount")
    assert disk(shared_device)["status"] == "OK"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="holds a job open with a named pipe (POSIX)")
def test_a_second_job_is_refused_while_one_runs_and_the_running_one_reports_ok_below_100(camera):
    """A block sidecar that is a named pipe blocks the check's read until the test writes to it, so the check
    is reliably still running while the second job is asked for."""
    unmount(camera)
    folder = card(camera) / "20240621" / "09" / "20240621_091725_ABCD_ACCC8E000001" / "20240621_09"
    folder.mkdir(parents=True)
    fifo = folder / "20240621_091725_0123_ACCC8E000001.xml"
    os.mkfifo(fifo)
    started = start_job(camera, "checkdisk")
    assert started["result"] == "OK"
    try:
        for cgi, params in [("repair", {}), ("checkdisk", {}), ("format", {"filesystem": "ext4"})]:
            assert_refused(start_job(camera, cgi, **params), cgi, "another job")
        running = job_status(camera, started["jobid"])
        assert running["result"] == "OK"
        assert int(running["progress"]) < 100
        assert job_status(camera, started["jobid"], role="operator") == running
    finally:
        _release(fifo)
    done = wait_job(camera, started["jobid"])
    assert done["result"] == "ERROR"  # an empty sidecar is an unreadable block
    assert "unreadable" in done["description"]
    fifo.unlink()
    assert start_job(camera, "checkdisk")["result"] == "OK"  # the disk is free again


def _release(fifo: Path) -> None:
    """Open the pipe for writing (which waits for the check to open it) and close it: the check reads EOF."""

    def write() -> None:
        with fifo.open("wb"):
            pass

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    writer.join(15)


# --- lock.cgi --------------------------------------------------------------------------------------------------


def test_locking_and_unlocking_the_card(camera):
    root = lock(camera, "lock")
    assert root.tag == "root"
    assert root.get(f"{{{XSI}}}noNamespaceSchemaLocation") == SCHEMA_BASE + "disk/lock1.xsd"
    (element,) = root
    assert element.tag == "lock"
    assert dict(element.attrib) == {"diskid": SD, "result": "OK"}
    assert param(camera, "Storage.S0.Locked") == "yes"
    assert disk(camera)["locked"] == "yes"

    (element,) = lock(camera, "unlock")
    assert element.tag == "unlock"
    assert dict(element.attrib) == {"diskid": SD, "result": "OK"}
    assert param(camera, "Storage.S0.Locked") == "no"
    assert disk(camera)["locked"] == "no"


def test_locking_an_unknown_disk_is_a_legacy_error(shared_device):
    (element,) = lock(shared_device, "lock", diskid="USB_DISK")
    assert element.get("result") == "ERROR"
    assert element.get("description")


# --- gethealth.cgi ---------------------------------------------------------------------------------------------


def test_health_has_the_documented_wrappers_and_a_new_card_has_no_wear(camera):
    root = get_xml(camera, "/axis-cgi/disks/gethealth.cgi")
    assert root.tag == "HealthStatusResponse"
    assert root.get(f"{{{XSI}}}noNamespaceSchemaLocation") == SCHEMA_BASE + "disk/gethealth1.xsd"
    (success,) = root
    assert success.tag == "HealthStatusSuccess"
    assert [(e.tag, e.get("diskid")) for e in success] == [("HealthStatus", SD), ("HealthStatus", SHARE)]
    assert health(camera)[SD]["wear"] == "0"
    assert health(camera)[SHARE]["wear"] == "-1"  # unsupported (D-10)


def test_a_worn_card_reports_its_wear(camera):
    scenario(camera, "wear", percent="40").raise_for_status()
    assert health(camera)[SD]["wear"] == "40"


def test_a_pulled_card_reports_not_present(camera):
    scenario(camera, "pull").raise_for_status()
    assert health(camera)[SD]["wear"] == "-3"
