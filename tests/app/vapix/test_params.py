"""Parameters in the VAPIX text format: the client reads values and errors alike from a 200 answer, and a
refused update names the parameter the camera refused."""

from __future__ import annotations

import pytest

from app.vapix.errors import ParamError, ProtocolError, Unauthorized
from app.vapix.params import ParamApi, parse_param_list
from tests.conftest import transport_for

# Real AXIS OS 9.80.2.2 lines (WIRE.md section 10), with a value holding '=' and an empty value.
REAL_LIST = (
    "root.Storage.S0.CleanupLevel=90\n"
    "root.Storage.S0.CleanupMaxAge=7\n"
    "root.Storage.S0.CleanupPolicyActive=fifo\n"
    "root.Storage.S0.DiskID=SD_DISK\n"
    "root.Storage.S0.FriendlyName=\n"
    "root.Storage.S0.ExtraMountOptions=uid=0,gid=0\n"
)


def test_lines_become_values_by_name_without_the_root_prefix():
    assert parse_param_list(REAL_LIST) == {
        "Storage.S0.CleanupLevel": "90",
        "Storage.S0.CleanupMaxAge": "7",
        "Storage.S0.CleanupPolicyActive": "fifo",
        "Storage.S0.DiskID": "SD_DISK",
        "Storage.S0.FriendlyName": "",
        "Storage.S0.ExtraMountOptions": "uid=0,gid=0",
    }


def test_crlf_line_ends_and_blank_lines_are_tolerated():
    assert parse_param_list("root.Brand.Brand=AXIS\r\n\r\nroot.Brand.ProdNbr=M3086-V\r\n") == {
        "Brand.Brand": "AXIS",
        "Brand.ProdNbr": "M3086-V",
    }


def test_an_empty_answer_is_no_values():
    assert parse_param_list("") == {}


def test_an_answer_of_only_errors_raises_param_error_with_the_cameras_words():
    text = (
        "# Error: Error -1 getting param in group 'root.Nothing'\n# Error: Error -1 getting param in group 'root.No'\n"
    )
    with pytest.raises(ParamError) as caught:
        parse_param_list(text)
    assert caught.value.description == (
        "Error -1 getting param in group 'root.Nothing'; Error -1 getting param in group 'root.No'"
    )
    assert caught.value.code is None


def test_values_mixed_with_errors_give_the_values():
    text = "root.Brand.Brand=AXIS\n# Error: Error -1 getting param in group 'root.Nothing'\n"
    assert parse_param_list(text) == {"Brand.Brand": "AXIS"}


@pytest.mark.parametrize("line", ["<HTML><BODY>Unauthorized</BODY></HTML>", "root.Brand.Brand", "OK"])
def test_a_line_that_is_not_name_value_is_a_protocol_error(line):
    with pytest.raises(ProtocolError):
        parse_param_list(f"root.Brand.Brand=AXIS\n{line}\n")


# -- against the camera ----------------------------------------------------------------------------------------------


@pytest.mark.functional
async def test_an_operator_lists_the_storage_groups(shared_device):
    async with transport_for(shared_device, "operator") as transport:
        values = await ParamApi(transport).list("Storage.S0", "root.Storage.S1")
    assert values["Storage.S0.DiskID"] == "SD_DISK"
    assert values["Storage.S1.DiskID"] == "NetworkShare"
    assert values["Storage.S0.CleanupPolicyActive"] == "fifo"
    assert {name.split(".")[1] for name in values} == {"S0", "S1"}


@pytest.mark.functional
async def test_listing_everything_includes_the_brand_and_the_http_policy(shared_device):
    async with transport_for(shared_device, "admin") as transport:
        values = await ParamApi(transport).list()
    assert values["Brand.Brand"] == "AXIS"
    assert values["Network.HTTP.AuthenticationPolicy"] in ("digest", "basic", "basic_digest")
    assert all(not name.startswith("root.") for name in values)


@pytest.mark.functional
async def test_a_group_the_camera_does_not_have_raises_param_error(shared_device):
    async with transport_for(shared_device, "viewer") as transport:
        with pytest.raises(ParamError, match=r"root\.NoSuchGroup"):
            await ParamApi(transport).list("NoSuchGroup")


@pytest.mark.functional
async def test_an_update_is_read_back_by_the_next_list(device):
    async with transport_for(device, "admin") as transport:
        params = ParamApi(transport)
        await params.update({"Storage.S0.CleanupMaxAge": "30", "root.Storage.S0.CleanupPolicyActive": "none"})
        values = await params.list("Storage.S0")
    assert values["Storage.S0.CleanupMaxAge"] == "30"
    assert values["Storage.S0.CleanupPolicyActive"] == "none"


@pytest.mark.functional
async def test_an_invalid_value_is_refused_naming_the_parameter_and_nothing_changes(device):
    async with transport_for(device, "admin") as transport:
        params = ParamApi(transport)
        with pytest.raises(ParamError, match=r"root\.Storage\.S0\.CleanupMaxAge") as caught:
            await params.update({"Storage.S0.CleanupMaxAge": "forever"})
        assert "forever" in caught.value.description
        assert not caught.value.description.startswith("#")
        assert (await params.list("Storage.S0.CleanupMaxAge")) == {"Storage.S0.CleanupMaxAge": "7"}


@pytest.mark.functional
async def test_a_read_only_parameter_is_refused(device):
    async with transport_for(device, "admin") as transport:
        with pytest.raises(ParamError, match=r"root\.Storage\.S0\.DiskID"):
            await ParamApi(transport).update({"Storage.S0.DiskID": "USB_DISK"})


@pytest.mark.functional
async def test_a_viewer_may_not_update(device):
    async with transport_for(device, "viewer") as transport:
        with pytest.raises(Unauthorized):
            await ParamApi(transport).update({"Storage.S0.FriendlyName": "Lobby"})
    async with transport_for(device, "operator") as transport:
        values = await ParamApi(transport).list("Storage.S0.FriendlyName")
    assert values == {"Storage.S0.FriendlyName": ""}
