"""An installer sets a card's properties with the Disk properties API: encryption at rest, required file system,
cleanup rules and alert levels (WIRE.md §2.7, AMBIGUITIES.md P-*), and the error code each refusal gives."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.device.disk_client import (
    DP_NS,
    MATROSKA_MAGIC,
    SCHEMA_BASE,
    SD,
    SHARE,
    XSI,
    card,
    disk,
    dp,
    dp_error,
    dp_ok,
    get,
    get_xml,
    lock,
    mkv_files,
    mount,
    param,
    props,
    run_job,
    run_ok,
    sample,
    snapshot,
    unmount,
)

pytestmark = pytest.mark.functional


def ffprobe_reads(path) -> bool:
    result = subprocess.run(["ffprobe", "-v", "error", str(path)], capture_output=True, timeout=30)
    return result.returncode == 0


needs_ffprobe = pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffprobe is not installed")


# --- response shapes -------------------------------------------------------------------------------------------


def test_a_success_has_the_default_namespace_and_the_success_wrapper(shared_device):
    root = props(shared_device, "setcleanupmaxage", maxage="7")  # the default: the shared camera stays as it was
    dp_ok(root)
    assert root.nsmap[None] == DP_NS
    assert root.get(f"{{{XSI}}}schemaLocation") == f"{DP_NS} {SCHEMA_BASE}disks/properties/disk_properties1.xsd"
    assert root.get("SchemaVersion", "").startswith("1.")
    assert [child.tag for child in root] == [dp("Success")]


def test_an_error_has_the_error_general_error_and_code_elements(shared_device):
    root = props(shared_device, "setcleanupmaxage", maxage="7001")
    assert [child.tag for child in root] == [dp("Error")]
    (general,) = root.find(dp("Error"))
    assert general.tag == dp("GeneralError")
    assert [child.tag for child in general] == [dp("ErrorCode"), dp("ErrorDescription")]
    assert general.findtext(dp("ErrorCode")) == "20"


def test_the_schema_versions_are_listed_without_arguments(shared_device):
    root = get_xml(shared_device, "/axis-cgi/disks/properties/schemaversions.cgi")
    versions = root.findall(f"{dp('Success')}/{dp('SchemaVersionsSuccess')}/{dp('SchemaVersion')}")
    numbers = [v.findtext(dp("VersionNumber")) for v in versions]
    assert "1.0" in numbers
    assert all(n.startswith("1.") for n in numbers)
    assert {v.findtext(dp("Deprecated")) for v in versions} == {"false"}


@pytest.mark.parametrize("version", ["1", "1.0", "1.1"])
def test_schemaversion_1_is_accepted_with_or_without_a_minor(shared_device, version):
    dp_ok(props(shared_device, "setcleanuppolicy", schemaversion=version, cleanuppolicy="fifo"))


# --- error codes, each from a real request ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cgi", "params"),
    [
        ("enablediskencryption", {}),  # no passphrase
        ("changediskpassphrase", {"oldpassphrase": "a"}),  # no newpassphrase
        ("changediskpassphrase", {"newpassphrase": "a"}),  # no oldpassphrase
        ("setcleanupmaxage", {}),
        ("setcleanupmaxage", {"maxage": "7001"}),
        ("setcleanupmaxage", {"maxage": "-1"}),
        ("setcleanupmaxage", {"maxage": "week"}),
        ("setcleanuppolicy", {}),
        ("setcleanuppolicy", {"cleanuppolicy": "lifo"}),
        ("setrequiredfs", {}),  # no filesystem
        ("setrequiredfs", {"diskid": "USB_DISK", "filesystem": "ext4"}),  # P-12: no disk code here
        ("setdiskalertlevels", {}),
        ("setdiskalertlevels", {"wear": "-5"}),
        ("setcleanupmaxage", {"schemaversion": None, "maxage": "30"}),  # no schemaversion
        ("setcleanupmaxage", {"schemaversion": "one", "maxage": "30"}),
    ],
)
def test_an_invalid_request_is_error_20(shared_device, cgi, params):
    assert dp_error(props(shared_device, cgi, **params)) == 20


def test_an_invalid_request_changes_nothing(camera):
    props(camera, "setcleanupmaxage", maxage="7001")
    props(camera, "setcleanuppolicy", cleanuppolicy="lifo")
    assert param(camera, "Storage.S0.CleanupMaxAge") == "7"
    assert param(camera, "Storage.S0.CleanupPolicyActive") == "fifo"


@pytest.mark.parametrize(("diskid", "file_system"), [(SD, "ntfs"), (SD, "vfat"), (SHARE, "ext4")])
def test_a_required_file_system_the_disk_does_not_support_is_error_30(shared_device, diskid, file_system):
    """Only ext4 can be required of the SD card (getcapabilities), and nothing of a network share."""
    assert dp_error(props(shared_device, "setrequiredfs", diskid=diskid, filesystem=file_system)) == 30
    assert param(shared_device, "Storage.S0.RequiredFileSystem") == "none"


@pytest.mark.parametrize("cgi", ["setcleanupmaxage", "enablediskencryption", "setrequiredfs"])
def test_another_major_schema_version_is_error_40(shared_device, cgi):
    assert dp_error(props(shared_device, cgi, schemaversion="2", maxage="1", passphrase="x", filesystem="ext4")) == 40


@pytest.mark.parametrize(
    ("cgi", "params"),
    [
        ("enablediskencryption", {"passphrase": "secret"}),
        ("disablediskencryption", {}),
        ("changediskpassphrase", {"oldpassphrase": "a", "newpassphrase": "b"}),
        ("setcleanupmaxage", {"maxage": "30"}),
        ("setcleanuppolicy", {"cleanuppolicy": "none"}),
        ("setdiskalertlevels", {"wear": "50"}),
        ("getdiskalertlevels", {}),
    ],
)
def test_an_unknown_disk_is_error_50(shared_device, cgi, params):
    assert dp_error(props(shared_device, cgi, diskid="USB_DISK", **params)) == 50


@pytest.mark.parametrize(
    ("cgi", "params"),
    [
        ("enablediskencryption", {"passphrase": "secret"}),
        ("disablediskencryption", {}),
        ("changediskpassphrase", {"oldpassphrase": "a", "newpassphrase": "b"}),
    ],
)
def test_encryption_on_a_network_share_is_error_100(shared_device, cgi, params):
    assert dp_error(props(shared_device, cgi, diskid=SHARE, **params)) == 100


def test_an_empty_or_too_long_passphrase_is_error_110(camera):
    unmount(camera)
    for passphrase in ["", "x" * 513, "é" * 257]:
        assert dp_error(props(camera, "enablediskencryption", passphrase=passphrase)) == 110
    assert disk(camera)["encryptionenabled"] == "false"
    dp_ok(props(camera, "enablediskencryption", passphrase="x" * 512))  # 512 bytes is the limit, not over it


@pytest.fixture
def encrypted(camera):
    """A mounted card encrypted with the passphrase `secret`."""
    unmount(camera)
    dp_ok(props(camera, "enablediskencryption", passphrase="secret"))
    run_ok(camera, "format", filesystem="ext4")
    mount(camera)
    return camera


def test_an_empty_or_too_long_new_passphrase_is_error_120(encrypted):
    for new in ["", "y" * 513]:
        assert dp_error(props(encrypted, "changediskpassphrase", oldpassphrase="secret", newpassphrase=new)) == 120


def test_a_wrong_old_passphrase_is_error_130(encrypted):
    assert dp_error(props(encrypted, "changediskpassphrase", oldpassphrase="guess", newpassphrase="new")) == 130
    unmount(encrypted)
    mount(encrypted)  # the passphrase is unchanged: the card still opens


def test_enabling_encryption_twice_is_error_140(encrypted):
    unmount(encrypted)
    assert dp_error(props(encrypted, "enablediskencryption", passphrase="other")) == 140
    mount(encrypted)  # the first passphrase still holds


def test_changing_the_passphrase_of_an_unmounted_card_is_error_150(encrypted):
    unmount(encrypted)
    assert dp_error(props(encrypted, "changediskpassphrase", oldpassphrase="secret", newpassphrase="new")) == 150


def test_enabling_or_disabling_encryption_of_a_mounted_card_is_error_160(camera):
    assert dp_error(props(camera, "enablediskencryption", passphrase="secret")) == 160
    assert disk(camera)["encryptionenabled"] == "false"
    unmount(camera)
    dp_ok(props(camera, "enablediskencryption", passphrase="secret"))
    run_ok(camera, "format", filesystem="ext4")
    mount(camera)
    assert dp_error(props(camera, "disablediskencryption")) == 160
    assert disk(camera)["encryptionenabled"] == "true"


# --- encryption at rest, the whole story -----------------------------------------------------------------------


def test_encryption_at_rest_from_enabling_to_disabling(camera):
    unmount(camera)
    dp_ok(props(camera, "enablediskencryption", passphrase="secret"))
    sd = disk(camera)
    assert sd["status"] == "not encrypted"
    assert (sd["encryptionenabled"], sd["diskencryptionenabled"], sd["diskencrypted"]) == ("true", "true", "false")

    refused = run_job(camera, "mount", action="mount")
    assert refused["result"] == "ERROR"
    assert "not encrypted" in refused["description"]

    run_ok(camera, "format", filesystem="ext4")
    mount(camera)
    sd = disk(camera)
    assert (sd["status"], sd["diskencrypted"]) == ("OK", "true")

    recording = sample(camera, seconds=4, blockseconds=2)
    blocks = mkv_files(camera, recording)
    assert len(blocks) == 2
    for block in blocks:
        assert not block.read_bytes().startswith(MATROSKA_MAGIC)
        assert MATROSKA_MAGIC not in block.read_bytes()[:64]
    if shutil.which("ffprobe"):
        assert not any(ffprobe_reads(block) for block in blocks)
    before = snapshot(blocks)

    camera.restart()  # the camera keeps its key: the card mounts at boot
    assert disk(camera)["status"] == "OK"

    dp_ok(props(camera, "changediskpassphrase", oldpassphrase="secret", newpassphrase="better secret"))
    unmount(camera)
    mount(camera)
    assert disk(camera)["status"] == "OK"
    unmount(camera)
    assert "2 blocks" in run_ok(camera, "checkdisk")
    assert snapshot(blocks) == before  # a new passphrase re-wraps the key; no recording was re-encrypted

    dp_ok(props(camera, "disablediskencryption"))
    sd = disk(camera)
    assert sd["status"] == "no passphrase"
    assert (sd["encryptionenabled"], sd["diskencrypted"]) == ("false", "true")
    assert run_job(camera, "mount", action="mount")["result"] == "ERROR"

    dp_ok(props(camera, "enablediskencryption", passphrase="secret"))  # the old one no longer opens the card
    assert disk(camera)["status"] == "wrong passphrase"
    dp_ok(props(camera, "disablediskencryption"))
    dp_ok(props(camera, "enablediskencryption", passphrase="better secret"))
    mount(camera)
    assert disk(camera)["status"] == "OK"
    assert snapshot(blocks) == before


@needs_ffprobe
def test_a_plain_cards_blocks_are_matroska_that_ffprobe_reads(camera):
    """The control for the encrypted case: without encryption the same recording is readable video."""
    blocks = mkv_files(camera, sample(camera, seconds=2, blockseconds=2))
    assert blocks
    assert all(block.read_bytes().startswith(MATROSKA_MAGIC) for block in blocks)
    assert all(ffprobe_reads(block) for block in blocks)


# --- required file system --------------------------------------------------------------------------------------


def test_a_required_file_system_formats_a_card_with_another_one_when_it_is_mounted(camera):
    run_ok(camera, "format", filesystem="vfat")
    recording = sample(camera)
    dp_ok(props(camera, "setrequiredfs", filesystem="ext4"))
    assert disk(camera)["requiredfilesystem"] == "ext4"
    assert param(camera, "Storage.S0.RequiredFileSystem") == "ext4"
    assert disk(camera)["filesystem"] == "vfat"  # nothing happens until the next mount
    unmount(camera)
    mount(camera)
    sd = disk(camera)
    assert (sd["filesystem"], sd["status"]) == ("ext4", "OK")
    assert param(camera, "Storage.S0.FileSystem") == "ext4"
    assert not list(card(camera).glob(f"*/*/{recording}"))


def test_a_locked_card_is_not_reformatted_for_the_required_file_system(camera):
    run_ok(camera, "format", filesystem="vfat")
    recording = sample(camera)
    dp_ok(props(camera, "setrequiredfs", filesystem="ext4"))
    lock(camera, "lock")
    unmount(camera)
    mount(camera)
    assert disk(camera)["filesystem"] == "vfat"
    assert list(card(camera).glob(f"*/*/{recording}"))


def test_required_file_system_none_turns_it_off(camera):
    dp_ok(props(camera, "setrequiredfs", filesystem="ext4"))
    dp_ok(props(camera, "setrequiredfs", filesystem="none"))
    assert disk(camera)["requiredfilesystem"] == "none"
    run_ok(camera, "format", filesystem="vfat")
    unmount(camera)
    mount(camera)
    assert disk(camera)["filesystem"] == "vfat"


# --- cleanup and alert levels ----------------------------------------------------------------------------------


def test_cleanup_max_age_and_policy_are_the_storage_parameters(camera):
    dp_ok(props(camera, "setcleanupmaxage", maxage="0"))
    dp_ok(props(camera, "setcleanuppolicy", cleanuppolicy="none"))
    assert param(camera, "Storage.S0.CleanupMaxAge") == "0"
    assert param(camera, "Storage.S0.CleanupPolicyActive") == "none"
    dp_ok(props(camera, "setcleanupmaxage", maxage="7000"))
    assert disk(camera)["cleanupmaxage"] == "7000"


def alert_levels(device) -> dict[str, str]:
    root = props(device, "getdiskalertlevels")
    levels = root.find(f"{dp('Success')}/{dp('GetAlertLevelsSuccess')}/{dp('AlertLevels')}")
    assert levels is not None
    return dict(levels.attrib)


def test_alert_levels_are_stored_and_read_back(camera):
    assert alert_levels(camera) == {}
    dp_ok(props(camera, "setdiskalertlevels", wear="50", temperature="360"))
    assert alert_levels(camera) == {"Wear": "50", "Temperature": "360"}
    dp_ok(props(camera, "setdiskalertlevels", wear="60"))  # P-7: the other level is kept
    assert alert_levels(camera) == {"Wear": "60", "Temperature": "360"}


def test_an_operator_reads_alert_levels_but_only_an_admin_sets_them(camera):
    dp_ok(props(camera, "setdiskalertlevels", wear="50"))
    root = props(camera, "getdiskalertlevels", role="operator")
    assert root.find(f".//{dp('AlertLevels')}").get("Wear") == "50"
    response = get(
        camera, "/axis-cgi/disks/properties/setdiskalertlevels.cgi", "operator", schemaversion="1", diskid=SD, wear="1"
    )
    assert response.status_code == 401
