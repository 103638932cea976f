"""Recording storage limit: limits in kB per disk, `usedspace` or its documented alias `usedsize`, and the API's
error codes for an unknown disk, a size that is not a number and one below the 1 GiB minimum."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.vapix import xmlwire
from app.vapix.errors import ApiError, ProtocolError, Unauthorized, UnsupportedVersion
from app.vapix.schemaversions import SchemaVersion
from app.vapix.storage_limit import ERROR_TEXTS, MIN_LIMIT_KB, StorageLimit, StorageLimits, error_text
from tests.conftest import transport_for

ROOT = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    '<StorageLimitsResponse xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" SchemaVersion="1.0"\n'
    '    xsi:noNamespaceSchemaLocation="http://www.axis.com/vapix/http_cgi/recordingstoragelimit1.xsd">\n'
    "{inner}\n</StorageLimitsResponse>\n"
)
# WIRE.md §4
DOC_LIMITS = ROOT.format(
    inner="  <GetStorageLimitsResponse>\n"
    '    <StorageLimit diskid="NetworkShare" size="2796202667" usedspace="553324" />\n'
    '    <StorageLimit diskid="SD_DISK" size="0" usedspace="661324" />\n'
    "  </GetStorageLimitsResponse>"
)


def limits_of(body: str) -> list[StorageLimit]:
    return StorageLimit.list_from_xml(xmlwire.parse(body.encode()))


def test_the_documents_limits():
    share, sd = limits_of(DOC_LIMITS)
    assert share == StorageLimit("NetworkShare", 2796202667, 553324)
    assert share.enabled
    assert sd == StorageLimit("SD_DISK", 0, 661324)
    assert not sd.enabled


def test_usedsize_is_read_as_an_alias_and_the_wrapper_may_be_missing():
    body = ROOT.format(inner='<StorageLimit diskid="SD_DISK" size="1048576" usedsize="42" />')
    assert limits_of(body) == [StorageLimit("SD_DISK", 1048576, 42)]


def test_an_empty_wrapper_is_no_limits():
    assert limits_of(ROOT.format(inner="<GetStorageLimitsResponse/>")) == []


@pytest.mark.parametrize(
    ("code", "description"), [(110, "Disk not found"), (120, "Invalid size value"), (40, "Unsupported")]
)
def test_the_documents_errors_keep_their_codes(code, description):
    body = ROOT.format(
        inner=f"<GeneralError><ErrorCode>{code}</ErrorCode><ErrorDescription>{description}</ErrorDescription>"
        "</GeneralError>"
    )
    with pytest.raises(ApiError) as caught:
        limits_of(body)
    assert (caught.value.code, caught.value.description) == (code, description)
    assert error_text(caught.value) == ERROR_TEXTS[code]
    assert isinstance(caught.value, UnsupportedVersion) == (code == 40)


@pytest.mark.parametrize(
    "body",
    [
        ROOT.format(inner='<StorageLimit diskid="SD_DISK" size="big" usedspace="1"/>'),
        ROOT.format(inner='<StorageLimit diskid="SD_DISK" usedspace="1"/>'),
        ROOT.format(inner='<StorageLimit size="0" usedspace="1"/>'),
        ROOT.format(inner="<GeneralSuccess/>"),
        DOC_LIMITS[: len(DOC_LIMITS) - 40],
    ],
    ids=["size-words", "no-size", "no-diskid", "no-limits", "truncated"],
)
def test_limits_that_cannot_be_read_are_a_protocol_error(body):
    with pytest.raises(ProtocolError):
        limits_of(body)


# -- against the camera ---------------------------------------------------------------------------------------------


@pytest.mark.functional
async def test_schema_versions(shared_device):
    async with transport_for(shared_device, "operator") as transport:
        versions = await StorageLimits(transport).schema_versions()
    assert versions.versions == (SchemaVersion(1, 0),)


@pytest.mark.functional
async def test_limits_start_disabled_for_every_disk(shared_device):
    async with transport_for(shared_device, "operator") as transport:
        limits = StorageLimits(transport)
        every = await limits.limits()
        one = await limits.limits("SD_DISK")
    assert {limit.disk_id for limit in every} == {"SD_DISK", "NetworkShare"}
    assert all(not limit.enabled for limit in every)
    assert [limit.disk_id for limit in one] == ["SD_DISK"]


@pytest.mark.functional
async def test_an_operator_sets_a_limit_and_reads_it_back(device):
    async with transport_for(device, "operator") as transport:
        limits = StorageLimits(transport)
        await limits.set_limit("SD_DISK", 2 * MIN_LIMIT_KB)
        (sd,) = await limits.limits("SD_DISK")
        assert (sd.size_kb, sd.enabled) == (2 * MIN_LIMIT_KB, True)
        await limits.set_limit("SD_DISK", 0)
        assert not (await limits.limits("SD_DISK"))[0].enabled


def recording_kb(card: Path) -> int:
    """What the recordings take on the card: every file but the index and the card's own metadata."""
    files = (f for f in card.rglob("*") if f.is_file())
    return sum(f.stat().st_size for f in files if not f.name.startswith("index.db") and f.name != "card.json") // 1024


@pytest.mark.functional
async def test_used_space_is_what_the_recordings_take(device_factory):
    # Fails on the current device: usedspace subtracts the SQLite index's current size (its WAL grows with every
    # recording) from a count that never included those writes, so it reads 0 or far too little. See the report.
    device = device_factory("--sd-size", "2G")
    async with transport_for(device, "admin") as transport:
        for _ in range(3):
            await transport.request(
                "POST", "/local/edgestore/scenario/disks/SD_DISK/sample-recording", params={"seconds": "10"}
            )
        limits = StorageLimits(transport)
        await limits.set_limit("SD_DISK", MIN_LIMIT_KB)
        (sd,) = await limits.limits("SD_DISK")
    assert sd.size_kb == MIN_LIMIT_KB
    expected = recording_kb(device.data_dir / "sdcard")
    assert expected > 0
    assert sd.used_kb == pytest.approx(expected, abs=4)


@pytest.mark.functional
@pytest.mark.parametrize(
    ("disk_id", "size", "code"),
    [("SD_DISK", 5, 130), ("SD_DISK", MIN_LIMIT_KB - 1, 130), ("SD_DISK", "abc", 120), ("USB_DISK", 0, 110)],
    ids=["tiny", "just-below-minimum", "words", "unknown-disk"],
)
async def test_a_refused_limit_has_the_apis_code_and_nothing_changes(device, disk_id, size, code):
    async with transport_for(device, "admin") as transport:
        limits = StorageLimits(transport)
        with pytest.raises(ApiError) as caught:
            await limits.set_limit(disk_id, size)
        assert caught.value.code == code
        assert error_text(caught.value) == ERROR_TEXTS[code]
        assert all(not limit.enabled for limit in await limits.limits())


@pytest.mark.functional
async def test_limits_of_an_unknown_disk_are_error_110(shared_device):
    async with transport_for(shared_device, "operator") as transport:
        with pytest.raises(ApiError) as caught:
            await StorageLimits(transport).limits("USB_DISK")
    assert caught.value.code == 110


@pytest.mark.functional
async def test_a_viewer_may_not_read_limits(shared_device):
    async with transport_for(shared_device, "viewer") as transport:
        with pytest.raises(Unauthorized):
            await StorageLimits(transport).limits()
