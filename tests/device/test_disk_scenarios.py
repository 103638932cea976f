"""What an installer meets in the field, rehearsed with the camera's scenario hooks: a lost index and a damaged
block repaired, a card pulled and put back, a write-protected or failed card, old recordings cleaned up, and
settings that must survive a restart."""

from __future__ import annotations

import sqlite3

import httpx
import pytest

from tests.device.disk_client import (
    SD,
    card,
    disk,
    get,
    health,
    limit_of,
    lock,
    mkv_files,
    mount,
    param,
    param_update,
    props,
    run_job,
    run_ok,
    sample,
    scenario,
    set_limit,
    snapshot,
    start_job,
    unmount,
    wait_job,
)
from tests.support.device_process import CREDENTIALS

pytestmark = pytest.mark.functional


def recording_folder(device, recording_id: str):
    (folder,) = card(device).glob(f"[0-9]*/[0-9]*/{recording_id}")
    return folder


# --- format, check, repair -------------------------------------------------------------------------------------


def test_repair_rebuilds_a_deleted_index_from_the_recordings_without_touching_them(camera):
    run_ok(camera, "format", filesystem="ext4")
    recording = sample(camera, seconds=6, blockseconds=2)
    blocks = mkv_files(camera, recording)
    assert len(blocks) == 3
    before = snapshot(blocks)
    unmount(camera)
    assert "3 blocks" in run_ok(camera, "checkdisk")

    for path in card(camera).glob("index.db*"):
        path.unlink()
    checked = run_job(camera, "checkdisk")
    assert checked["result"] == "ERROR"
    assert "index" in checked["description"].lower()

    repaired = run_ok(camera, "repair")
    assert "3 block(s)" in repaired
    assert "1 recording(s)" in repaired
    assert (card(camera) / "index.db").exists()
    assert "No errors" in run_ok(camera, "checkdisk")
    assert snapshot(blocks) == before
    mount(camera)
    assert disk(camera)["status"] == "OK"


def test_repair_sets_an_unreadable_block_aside_in_lost_and_found_and_indexes_the_rest(camera):
    recording = sample(camera, seconds=6, blockseconds=2)
    blocks = mkv_files(camera, recording)
    damaged, *healthy = blocks
    kept = snapshot(healthy)
    unmount(camera)
    damaged.write_bytes(b"")  # the block's data never reached the card

    checked = run_job(camera, "checkdisk")
    assert checked["result"] == "ERROR"
    assert "1 block(s) unreadable" in checked["description"]

    repaired = run_ok(camera, "repair")
    assert "2 block(s)" in repaired
    assert "lost+found" in repaired
    lost = card(camera) / "lost+found"
    assert (lost / damaged.name).exists()
    assert (lost / damaged.with_suffix(".xml").name).exists()
    assert not damaged.exists()
    assert snapshot(healthy) == kept
    assert "2 blocks" in run_ok(camera, "checkdisk")


def test_a_block_that_lost_its_index_row_is_reported_and_repair_takes_it_back(camera):
    sample(camera, seconds=4, blockseconds=2)
    unmount(camera)
    with sqlite3.connect(card(camera) / "index.db") as db:
        db.execute("DELETE FROM blocks WHERE rowid = (SELECT min(rowid) FROM blocks)")
    db.close()
    checked = run_job(camera, "checkdisk")
    assert checked["result"] == "ERROR"
    assert "1 block(s) not indexed" in checked["description"]
    assert "2 block(s)" in run_ok(camera, "repair")


def test_a_card_with_a_damaged_index_is_repaired_when_it_is_mounted(camera):
    """Regression: with AutoRepair=yes, mounting a card whose index.db is not a database ends the mount job with
    "Internal error: index.db is not a usable index" instead of rebuilding the index."""
    recording = sample(camera, seconds=4, blockseconds=2)
    unmount(camera)
    (card(camera) / "index.db").write_bytes(b"not a database" * 100)
    mounted = run_job(camera, "mount", action="mount")
    assert mounted["result"] == "OK", mounted["description"]
    assert disk(camera)["status"] == "OK"
    unmount(camera)
    assert "2 blocks" in run_ok(camera, "checkdisk")
    assert len(mkv_files(camera, recording)) == 2


def test_a_camera_whose_card_has_a_damaged_index_still_starts(camera):
    """Regression: DiskManager.start() only catches DiskError, so the IndexUnusable a damaged index.db raises at
    mount-on-boot stops the camera from starting at all."""
    sample(camera, seconds=4, blockseconds=2)
    unmount(camera)
    (card(camera) / "index.db").write_bytes(b"not a database" * 100)
    camera.restart()
    assert disk(camera)["status"] in {"OK", "connected"}
    assert health(camera)[SD]["wear"] == "0"


# --- the card in the slot --------------------------------------------------------------------------------------


def test_a_pulled_card_is_disconnected_and_mounts_again_when_put_back(camera):
    recording = sample(camera)
    scenario(camera, "pull").raise_for_status()
    sd = disk(camera)
    assert sd["status"] == "disconnected"
    assert (sd["totalsize"], sd["freesize"]) == ("0", "0")
    assert scenario(camera, "sample-recording", seconds="2", blockseconds="2").status_code == 409

    response = scenario(camera, "insert")
    assert response.json() == {"diskid": SD, "status": "OK", "mounted": True}
    assert disk(camera)["status"] == "OK"
    assert mkv_files(camera, recording)


def test_a_card_put_back_with_mount_on_boot_off_waits_to_be_mounted(camera):
    param_update(camera, **{"root.Storage.S0.MountOnBoot": "no"})
    scenario(camera, "pull").raise_for_status()
    assert scenario(camera, "insert").json()["mounted"] is False
    assert disk(camera)["status"] == "connected"
    mount(camera)
    assert disk(camera)["status"] == "OK"


def test_a_write_protected_card_is_listed_read_only_and_takes_no_recording(camera):
    scenario(camera, "readonly", state="yes").raise_for_status()
    sd = disk(camera)
    assert sd["readonly"] == "yes"
    assert sd["status"] == "OK"
    refused = scenario(camera, "sample-recording", seconds="2", blockseconds="2")
    assert refused.status_code == 409
    assert "error" in refused.json()
    scenario(camera, "readonly", state="no").raise_for_status()
    assert disk(camera)["readonly"] == "no"
    sample(camera, seconds=2, blockseconds=2)


def test_a_write_protected_card_is_not_formatted(camera):
    """Regression: preflight()/format() ignore the read-only switch, so format.cgi erases a card whose write-protect
    switch is on (and whose recordings the switch is there to keep)."""
    recording = sample(camera)
    scenario(camera, "readonly", state="yes").raise_for_status()
    started = start_job(camera, "format", filesystem="ext4")
    if started["result"] == "OK":
        finished = wait_job(camera, started["jobid"])
        assert finished["result"] == "ERROR", "a write-protected card was formatted"
    assert mkv_files(camera, recording)


def test_a_failed_card_is_listed_as_failed_and_runs_no_job(camera):
    scenario(camera, "fail", state="yes").raise_for_status()
    sd = disk(camera)
    assert sd["status"] == "failed"
    started = start_job(camera, "mount", action="mount")
    assert started["result"] == "ERROR"
    assert "failed" in started["description"]
    scenario(camera, "fail", state="no").raise_for_status()
    assert disk(camera)["status"] == "connected"
    mount(camera)
    assert disk(camera)["status"] == "OK"


def test_scenario_hooks_are_for_admins_only(camera):
    response = get(camera, "/axis-cgi/disks/list.cgi", "operator", diskid="all")
    assert response.status_code == 200
    for role in ("operator", "viewer"):
        refused = httpx.post(
            f"{camera.http_url}/local/edgestore/scenario/disks/{SD}/pull", auth=httpx.DigestAuth(*CREDENTIALS[role])
        )
        assert refused.status_code == 401
    assert disk(camera)["status"] == "OK"


def test_an_unknown_scenario_or_disk_is_refused(camera):
    assert scenario(camera, "explode").status_code == 400
    assert scenario(camera, "wear", percent="1001").status_code == 400  # past 100 % is allowed (spec), not past 1000
    assert scenario(camera, "sample-recording", seconds="0").status_code == 400
    assert scenario(camera, "pull", diskid="USB_DISK").status_code == 404


# --- cleanup ---------------------------------------------------------------------------------------------------


def test_cleanup_deletes_recordings_older_than_the_max_age_and_keeps_fresh_ones(camera):
    props(camera, "setcleanuppolicy", cleanuppolicy="none")  # the periodic cleaner keeps its hands off for now
    props(camera, "setcleanupmaxage", maxage="1")
    old = sample(camera, seconds=4, blockseconds=2, agedays=3)
    fresh = sample(camera, seconds=4, blockseconds=2)
    assert len(mkv_files(camera, old)) == 2
    props(camera, "setcleanuppolicy", cleanuppolicy="fifo")

    response = scenario(camera, "cleanup")
    assert response.json() == {"diskid": SD, "deletedblocks": 2}
    assert mkv_files(camera, old) == []
    assert not list(card(camera).glob(f"[0-9]*/[0-9]*/{old}"))  # the recording's folder went with its blocks
    assert len(mkv_files(camera, fresh)) == 2
    unmount(camera)
    assert "2 blocks" in run_ok(camera, "checkdisk")  # index and files still agree


def test_with_cleanup_policy_none_nothing_is_deleted(camera):
    props(camera, "setcleanuppolicy", cleanuppolicy="none")
    props(camera, "setcleanupmaxage", maxage="1")
    old = sample(camera, seconds=4, blockseconds=2, agedays=3)
    assert scenario(camera, "cleanup").json()["deletedblocks"] == 0
    assert len(mkv_files(camera, old)) == 2


def test_a_locked_card_is_not_cleaned_up(camera):
    props(camera, "setcleanuppolicy", cleanuppolicy="none")
    props(camera, "setcleanupmaxage", maxage="1")
    old = sample(camera, seconds=2, blockseconds=2, agedays=3)
    lock(camera, "lock")
    props(camera, "setcleanuppolicy", cleanuppolicy="fifo")
    assert scenario(camera, "cleanup").json()["deletedblocks"] == 0
    assert mkv_files(camera, old)


# --- persistence -----------------------------------------------------------------------------------------------


def test_disk_settings_and_state_survive_a_restart(camera):
    props(camera, "setdiskalertlevels", wear="30", temperature="350")
    set_limit(camera, diskid=SD, size="2097152")
    scenario(camera, "wear", percent="40").raise_for_status()
    props(camera, "setcleanupmaxage", maxage="3")
    unmount(camera)
    props(camera, "enablediskencryption", passphrase="secret")
    run_ok(camera, "format", filesystem="vfat")
    lock(camera, "lock")

    camera.restart()

    sd = disk(camera)
    assert sd["status"] == "OK"  # mounted at boot with the key the camera kept
    assert (sd["encryptionenabled"], sd["diskencrypted"]) == ("true", "true")
    assert sd["filesystem"] == "vfat"
    assert param(camera, "Storage.S0.FileSystem") == "vfat"
    assert (sd["locked"], sd["cleanupmaxage"]) == ("yes", "3")
    assert health(camera)[SD]["wear"] == "40"
    assert limit_of(camera)["size"] == "2097152"
    levels = props(camera, "getdiskalertlevels").find(".//{*}AlertLevels")
    assert dict(levels.attrib) == {"Wear": "30", "Temperature": "350"}


def test_a_pulled_card_stays_pulled_across_a_restart(camera):
    scenario(camera, "pull").raise_for_status()
    camera.restart()
    assert disk(camera)["status"] == "disconnected"
    assert health(camera)[SD]["wear"] == "-3"
