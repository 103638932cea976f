"""An installer reads and changes the camera's edge-storage parameters with param.cgi, as on a real Axis camera."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.support.device_process import CREDENTIALS, SERIAL

pytestmark = pytest.mark.functional


def param_cgi(device, args: dict[str, str], role: str = "admin", post: bool = False) -> httpx.Response:
    url = f"{device.http_url}/axis-cgi/param.cgi"
    auth = httpx.DigestAuth(*CREDENTIALS[role])
    if post:
        return httpx.post(url, data=args, auth=auth)
    return httpx.get(url, params=args, auth=auth)


def listing(device, group: str | None = None, role: str = "admin") -> str:
    args = {"action": "list"} if group is None else {"action": "list", "group": group}
    response = param_cgi(device, args, role)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


def values(text: str) -> dict[str, str]:
    """`root.X=v` lines as a dict; `# Error` lines are left out."""
    return dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))


def errors(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("#")]


def update(device, changes: dict[str, str], role: str = "admin", post: bool = False) -> httpx.Response:
    return param_cgi(device, {"action": "update", **changes}, role, post)


def value_of(device, name: str) -> str:
    return values(listing(device, name))[name]


# --- Listing -------------------------------------------------------------------------------------------------


def test_an_admin_listing_everything_sees_the_parameters_edge_storage_clients_check(shared_device):
    text = listing(shared_device)
    lines = text.splitlines()
    assert text.endswith("\n")
    assert errors(text) == []
    assert any(re.fullmatch(r"root\.Properties\.LocalStorage\.NbrOfContinuousRecordingProfiles=\d+", x) for x in lines)
    assert "root.Properties.API.HTTP.Version=3" in lines
    assert any(line.startswith("root.Brand.ProdNbr=") for line in lines)
    assert "root.Storage.S0.DiskID=SD_DISK" in lines
    assert "root.Storage.S1.DiskID=NetworkShare" in lines
    assert f"root.Properties.System.SerialNumber={SERIAL}" in lines
    assert all(re.fullmatch(r"root\.[A-Za-z0-9.#]+=.*", line) for line in lines), lines


def test_the_profile_count_is_a_positive_number_under_its_real_name(shared_device):
    found = values(listing(shared_device, "Properties.LocalStorage"))
    assert int(found["root.Properties.LocalStorage.NbrOfContinuousRecordingProfiles"]) > 0
    # S-3: the spec's other spelling is not a parameter of its own
    assert "root.Properties.LocalStorage.ContinuousRecordingProfiles" not in found


def test_a_viewer_sees_properties_recording_and_brand_but_not_storage_or_the_http_policy(shared_device):
    found = values(listing(shared_device, role="viewer"))
    assert any(name.startswith("root.Properties.") for name in found)
    assert any(name.startswith("root.Recording.") for name in found)
    assert any(name.startswith("root.Brand.") for name in found)
    assert not any(name.startswith("root.Storage.") for name in found)  # S-9: no viewer access
    assert not any(name.startswith("root.Network.HTTP.") for name in found)


@pytest.mark.parametrize("group", ["Storage", "root.Storage.S0", "Network.HTTP", "Network.HTTP.AuthenticationPolicy"])
def test_a_group_the_viewer_may_not_read_is_reported_as_unknown(shared_device, group):
    text = listing(shared_device, group, role="viewer")
    assert text == f"# Error: Error -1 getting param in group '{group}'\n"


def test_an_operator_sees_storage_but_not_the_admin_only_network_settings(shared_device):
    found = values(listing(shared_device, role="operator"))
    assert found["root.Storage.S0.DiskID"] == "SD_DISK"
    assert "root.Storage.MountDir" in found
    assert "root.Network.HTTP.AuthenticationPolicy" not in found
    assert "root.Network.RTSP.ProtViewer" not in found


@pytest.mark.parametrize("group", ["Storage.S0", "root.Storage.S0", "STORAGE.s0", "Root.storage.S0", "storage.s0."])
def test_a_group_is_found_with_or_without_root_and_in_any_case(shared_device, group):
    found = values(listing(shared_device, group))
    assert found["root.Storage.S0.DiskID"] == "SD_DISK"
    assert found["root.Storage.S0.FileSystem"] == "ext4"
    assert all(name.startswith("root.Storage.S0.") for name in found)


def test_a_group_name_must_match_whole_name_segments(shared_device):
    assert listing(shared_device, "Storage.S") == "# Error: Error -1 getting param in group 'Storage.S'\n"


def test_several_groups_are_listed_in_the_order_asked(shared_device):
    text = listing(shared_device, "Recording,Brand")
    names = list(values(text))
    assert errors(text) == []
    assert names
    assert all(n.startswith(("root.Recording.", "root.Brand.")) for n in names)
    first_brand = next(i for i, n in enumerate(names) if n.startswith("root.Brand."))
    assert all(n.startswith("root.Recording.") for n in names[:first_brand])
    assert all(n.startswith("root.Brand.") for n in names[first_brand:])


def test_an_unknown_group_among_known_ones_adds_an_error_line(shared_device):
    text = listing(shared_device, "Brand,NoSuchGroup")
    assert any(line.startswith("root.Brand.Brand=") for line in text.splitlines())
    assert errors(text) == ["# Error: Error -1 getting param in group 'NoSuchGroup'"]


@pytest.mark.parametrize("name", ["root.Storage.S0.CleanupMaxAge", "Storage.S0.CleanupMaxAge"])
def test_an_exact_parameter_name_lists_just_that_parameter(shared_device, name):
    text = listing(shared_device, name)
    assert re.fullmatch(r"root\.Storage\.S0\.CleanupMaxAge=\d+\n", text), text


def test_the_rtsp_port_parameter_is_the_port_the_camera_announced(shared_device):
    assert value_of(shared_device, "root.Network.RTSP.Port") == str(shared_device.rtsp_port)
    # and a viewer, who needs it to play recordings, can read it
    assert values(listing(shared_device, "Network.RTSP.Port", role="viewer")) == {
        "root.Network.RTSP.Port": str(shared_device.rtsp_port)
    }


def test_unknown_extra_arguments_are_ignored(shared_device):
    text = param_cgi(shared_device, {"action": "list", "group": "Brand", "timestamp": "123"}).text
    assert errors(text) == []
    assert "root.Brand.Brand=AXIS" in text.splitlines()


# --- Refused updates (nothing changes, so the shared camera is fine) -------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("root.Storage.S0.CleanupMaxAge", "7001"),
        ("root.Storage.S0.CleanupMaxAge", "-1"),
        ("root.Storage.S0.CleanupMaxAge", "seven"),
        ("root.Storage.S0.CleanupLevel", "100"),
        ("root.Storage.S0.CleanupPolicyActive", "lifo"),
        ("root.Storage.S0.Locked", "maybe"),
        ("root.Network.HTTP.AuthenticationPolicy", "none"),
        ("root.Storage.S0.MountPointPermissions", "0999"),
        ("root.Recording.DefaultDiskId", "USB_DISK"),
        ("root.Recording.DefaultSplitDuration", "0"),
        # read-only
        ("root.Storage.S0.DiskID", "MY_DISK"),
        ("root.Storage.S0.FileSystem", "vfat"),
        ("root.Storage.MountDir", "/tmp"),
        ("root.Properties.API.HTTP.Version", "4"),
        ("root.Properties.LocalStorage.SDCard", "no"),
        ("root.Brand.ProdNbr", "P1234"),
        ("root.Network.RTSP.Port", "554"),
        # unknown
        ("root.Storage.S0.NoSuchParameter", "1"),
        ("root.Storage.S7.FriendlyName", "x"),
        ("root.NoSuchGroup.Thing", "1"),
    ],
)
def test_a_refused_update_answers_200_with_the_axis_error_line_and_changes_nothing(shared_device, name, value):
    before = listing(shared_device)
    response = update(shared_device, {name: value})
    assert response.status_code == 200
    assert response.text.startswith(f"# Error: Error setting '{name}' to '{value}'!"), response.text
    assert response.text.count("\n") == 1
    assert listing(shared_device) == before


def test_the_error_line_names_the_parameter_with_root_even_if_sent_without(shared_device):
    response = update(shared_device, {"Storage.S0.CleanupMaxAge": "7001"})
    assert response.text.startswith("# Error: Error setting 'root.Storage.S0.CleanupMaxAge' to '7001'!")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("root.Storage.S0.CleanupMaxAge", "30"),
        ("root.Storage.S0.Locked", "yes"),
        ("root.Network.RTSP.ProtViewer", "anonymous"),  # not even readable by an operator
    ],
)
def test_an_operator_cannot_change_an_admin_only_parameter(shared_device, name, value):
    before = value_of(shared_device, name)
    response = update(shared_device, {name: value}, role="operator")
    assert response.status_code == 200
    assert response.text.startswith(f"# Error: Error setting '{name}' to '{value}'!"), response.text
    assert value_of(shared_device, name) == before


def test_a_viewer_asking_to_update_is_challenged_with_401(shared_device):
    response = update(shared_device, {"root.Recording.DefaultSplitDuration": "60"}, role="viewer")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Digest")
    assert value_of(shared_device, "root.Recording.DefaultSplitDuration") == "300"


def test_an_update_naming_no_parameter_is_an_error(shared_device):
    response = param_cgi(shared_device, {"action": "update", "timestamp": "123"})
    assert response.status_code == 200
    assert response.text.startswith("# Error")


# --- Accepted updates ------------------------------------------------------------------------------------------


def test_an_operator_names_the_sd_card_and_sets_the_split_duration(device):
    response = update(
        device,
        {"root.Storage.S0.FriendlyName": "My SD Card", "root.Recording.DefaultSplitDuration": "600"},
        role="operator",
    )
    assert response.status_code == 200
    assert response.text == "OK\n"
    found = values(listing(device, "Storage.S0.FriendlyName,Recording.DefaultSplitDuration", role="operator"))
    assert found == {"root.Storage.S0.FriendlyName": "My SD Card", "root.Recording.DefaultSplitDuration": "600"}


def test_a_friendly_name_can_be_cleared_again(device):
    assert update(device, {"root.Storage.S0.FriendlyName": "Card"}).text == "OK\n"
    assert update(device, {"root.Storage.S0.FriendlyName": ""}).text == "OK\n"
    assert listing(device, "root.Storage.S0.FriendlyName") == "root.Storage.S0.FriendlyName=\n"


def test_values_are_stored_in_their_canonical_form(device):
    changes = {"root.storage.s0.cleanuppolicyactive": "NONE", "Storage.S0.CleanupMaxAge": "030"}
    assert update(device, changes).text == "OK\n"
    found = values(listing(device, "Storage.S0"))
    assert found["root.Storage.S0.CleanupPolicyActive"] == "none"
    assert found["root.Storage.S0.CleanupMaxAge"] == "30"


def test_an_update_whose_second_parameter_is_invalid_changes_neither(device):
    before = listing(device)
    response = update(device, {"root.Storage.S0.FriendlyName": "Changed", "root.Storage.S0.CleanupMaxAge": "7001"})
    assert response.text.startswith("# Error: Error setting 'root.Storage.S0.CleanupMaxAge' to '7001'!")
    assert listing(device) == before


def test_a_form_encoded_post_updates_like_a_get(device):
    response = update(device, {"root.Storage.S0.CleanupMaxAge": "14", "timestamp": "1718954245000"}, post=True)
    assert response.text == "OK\n"
    assert value_of(device, "root.Storage.S0.CleanupMaxAge") == "14"


def test_a_get_update_with_a_cache_buster_is_accepted(device):
    response = update(device, {"root.Recording.DefaultSplitDuration": "120", "timestamp": "123"}, role="operator")
    assert response.text == "OK\n"
    assert value_of(device, "root.Recording.DefaultSplitDuration") == "120"


# --- Defaults and persistence ----------------------------------------------------------------------------------

DEFAULTS = {  # WIRE.md §10 (real AXIS OS 9.80 listing) and the spec's parameter tables
    "root.Storage.MountDir": "/var/spool/storage",
    "root.Storage.S0.DiskID": "SD_DISK",
    "root.Storage.S0.DeviceNode": "/dev/mmcblk0p1",
    "root.Storage.S0.FileSystem": "ext4",
    "root.Storage.S0.FriendlyName": "",
    "root.Storage.S0.CleanupLevel": "90",
    "root.Storage.S0.CleanupPolicyActive": "fifo",
    "root.Storage.S0.Locked": "no",
    "root.Storage.S0.MountOnBoot": "yes",
    "root.Storage.S0.RequiredFileSystem": "none",
    "root.Storage.S0.AutoRepair": "yes",
    "root.Storage.S0.MountPointPermissions": "0770",
    "root.Storage.S0.Enabled": "yes",
    "root.Storage.S0.ExtraMountOptions": "",
    "root.Storage.S1.DiskID": "NetworkShare",
    "root.Storage.S1.DeviceNode": "NetworkShare:/com/axis/NetworkShare/Device/0",
    "root.Storage.S1.FileSystem": "cifs",
    "root.Storage.S1.CleanupPolicyActive": "fifo",
    "root.Storage.S1.MountOnBoot": "yes",
    "root.Storage.S1.MountPointPermissions": "0770",
    "root.Recording.DefaultDiskId": "SD_DISK",
    "root.Recording.DefaultSplitDuration": "300",
    "root.Network.HTTP.AuthenticationPolicy": "digest",
    "root.Network.RTSP.Timeout": "60",
    "root.Network.RTSP.ProtViewer": "password",
    "root.Properties.API.HTTP.Version": "3",
    "root.Properties.API.RTSP.RTSPAuth": "yes",
    "root.Properties.API.RTSP.Version": "2.01",
    "root.Properties.LocalStorage.LocalStorage": "yes",
    "root.Properties.LocalStorage.SDCard": "yes",
    "root.Properties.LocalStorage.ContinuousRecording": "yes",
    "root.Properties.LocalStorage.Version": "1.00",
    "root.Properties.NetworkShare.NetworkShare": "yes",
    "root.Properties.NetworkShare.CIFS": "yes",
}
CHANGES = {
    "root.Storage.S0.FriendlyName": "Front door card",
    "root.Storage.S0.CleanupMaxAge": "30",
    "root.Storage.S0.Locked": "yes",
    "root.Storage.S1.CleanupPolicyActive": "none",
    "root.Recording.DefaultSplitDuration": "900",
    "root.Recording.DefaultDiskId": "NetworkShare",
    "root.Network.RTSP.Timeout": "30",
}


def test_a_fresh_camera_has_the_documented_defaults_and_keeps_changes_across_a_restart(device):
    found = values(listing(device))
    assert {name: found.get(name) for name in DEFAULTS} == DEFAULTS
    # The spec's CleanupMaxAge cell is garbled (S-1): 1, 7 (fw 5.51) and 7000 (fw 9.80) are all documented.
    assert found["root.Storage.S0.CleanupMaxAge"] in {"1", "7", "7000"}

    assert update(device, CHANGES).text == "OK\n"
    device.restart()

    after = values(listing(device))
    assert {name: after[name] for name in CHANGES} == CHANGES
    unchanged = {name: value for name, value in DEFAULTS.items() if name not in CHANGES}
    assert {name: after[name] for name in unchanged} == unchanged
    # The port is whatever the restarted camera bound, never a saved value.
    assert after["root.Network.RTSP.Port"] == str(device.rtsp_port)


@pytest.mark.parametrize("authorization", ["Digest username=", 'Digest username="root", ='])
def test_a_malformed_authorization_header_is_challenged_not_a_server_error(shared_device, authorization):
    response = httpx.get(
        f"{shared_device.http_url}/axis-cgi/param.cgi",
        params={"action": "list", "group": "Brand"},
        headers={"Authorization": authorization},
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Digest")
