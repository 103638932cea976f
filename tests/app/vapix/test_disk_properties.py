"""Disk properties: answers in a default namespace or none, errors with the API's own codes and words a person
can act on, and the encryption workflow of the worked example (unmount, enable, format, mount)."""

from __future__ import annotations

import pytest

from app.vapix import xmlwire
from app.vapix.disk_properties import ERROR_TEXTS, AlertLevels, DiskProperties, error_text
from app.vapix.disks import DiskManagement, DiskStatus
from app.vapix.errors import ApiError, InvalidRequest, ProtocolError, RequestFailed, Unauthorized, UnsupportedVersion
from app.vapix.jobs import wait_for_job
from app.vapix.schemaversions import SchemaVersion
from tests.conftest import transport_for

NS = "http://www.axis.com/vapix/http_cgi/disks/properties1"
XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'

# WIRE.md §2.7: the success and error forms in the default namespace.
SUCCESS = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    f'<DiskPropertiesResponse xmlns="{NS}" {XSI} '
    f'xsi:schemaLocation="{NS} http://www.axis.com/vapix/http_cgi/disks/properties/disk_properties1.xsd" '
    'SchemaVersion="1.0">\n  <Success>\n    {inner}\n  </Success>\n</DiskPropertiesResponse>\n'
)
ERROR = (
    f'<?xml version="1.0" encoding="UTF-8"?>\n<DiskPropertiesResponse xmlns="{NS}" {XSI} SchemaVersion="1.0">'
    "<Error><GeneralError><ErrorCode>{code}</ErrorCode><ErrorDescription>{text}</ErrorDescription></GeneralError>"
    "</Error></DiskPropertiesResponse>"
)
# The getdiskalertlevels doc sample: no namespace, no declaration, SchemaVersion 1.1 (P-6).
DOC_ALERT_LEVELS = (
    f"<DiskPropertiesResponse {XSI}\n"
    '    xsi:noNamespaceSchemaLocation="http://www.axis.com/vapix/http_cgi/disks/properties/disk_properties1.xsd"'
    ' SchemaVersion="1.1">\n'
    '  <Success><GetAlertLevelsSuccess><AlertLevels Wear="50" Temperature="360"/></GetAlertLevelsSuccess></Success>\n'
    "</DiskPropertiesResponse>\n"
)


def xml(body: str):
    return xmlwire.parse(body.encode())


def test_the_documents_alert_levels_without_a_namespace():
    assert AlertLevels.from_xml(xml(DOC_ALERT_LEVELS)) == AlertLevels(wear=50, temperature=360)


def test_alert_levels_in_the_default_namespace_and_without_wrappers():
    namespaced = SUCCESS.replace("{inner}", '<GetAlertLevelsSuccess><AlertLevels Wear="80"/></GetAlertLevelsSuccess>')
    assert AlertLevels.from_xml(xml(namespaced)) == AlertLevels(80, None)
    bare = '<DiskPropertiesResponse SchemaVersion="1.1"><AlertLevels Temperature="330"/></DiskPropertiesResponse>'
    assert AlertLevels.from_xml(xml(bare)) == AlertLevels(None, 330)


@pytest.mark.parametrize(
    "body",
    [
        SUCCESS.replace("{inner}", "<GeneralSuccess/>"),  # no AlertLevels at all
        DOC_ALERT_LEVELS.replace('Wear="50"', 'Wear="high"'),
        DOC_ALERT_LEVELS[:120],
    ],
    ids=["no-levels", "words", "truncated"],
)
def test_alert_levels_that_cannot_be_read_are_a_protocol_error(body):
    with pytest.raises(ProtocolError):
        AlertLevels.from_xml(xmlwire.parse(body.encode()))


@pytest.mark.parametrize(
    ("code", "cls"), [(10, RequestFailed), (20, InvalidRequest), (40, UnsupportedVersion), (130, ApiError)]
)
def test_an_error_in_the_namespace_keeps_its_code_and_a_readable_meaning(code, cls):
    body = ERROR.format(code=code, text="The oldpassphrase does not match the existing passphrase.")
    with pytest.raises(cls) as caught:
        xmlwire.raise_for_error(xml(body))
    assert caught.value.code == code
    assert error_text(caught.value) == ERROR_TEXTS[code]


def test_error_text_names_every_code_of_the_api_and_falls_back_to_the_cameras_words():
    assert set(ERROR_TEXTS) == {10, 20, 30, 40, 50, 100, 110, 120, 130, 140, 150, 160}
    assert ERROR_TEXTS[130] == "The old passphrase is wrong."
    assert error_text(ApiError("Something new.", 999)) == "Something new."
    assert error_text(ApiError("No code.")) == "No code."


# -- against the camera ---------------------------------------------------------------------------------------------

SD = "SD_DISK"
FAST = 0.02


async def run_job(disks: DiskManagement, jobid: int) -> None:
    await wait_for_job(lambda: disks.job(jobid, SD), interval=FAST, timeout=15)


@pytest.mark.functional
async def test_schema_versions(shared_device):
    async with transport_for(shared_device, "operator") as transport:
        versions = await DiskProperties(transport).schema_versions()
    assert versions.versions == (SchemaVersion(1, 0), SchemaVersion(1, 1))
    assert versions.supports(1, 1)


@pytest.mark.functional
async def test_encryption_from_enabling_to_an_encrypted_mounted_card(device_factory):
    device = device_factory("--sd-size", "1G")
    async with transport_for(device, "admin") as transport:
        disks, props = DiskManagement(transport), DiskProperties(transport)
        with pytest.raises(ApiError) as mounted:
            await props.enable_encryption(SD, "secret")
        assert mounted.value.code == 160
        await run_job(disks, await disks.unmount(SD))
        await props.enable_encryption(SD, "secret")
        waiting = await disks.disk(SD)
        assert (waiting.status, waiting.encryption_enabled, waiting.encrypted) == (
            DiskStatus.NOT_ENCRYPTED,
            True,
            False,
        )
        with pytest.raises(ApiError) as again:
            await props.enable_encryption(SD, "secret")
        assert again.value.code == 140
        await run_job(disks, await disks.format(SD, "ext4"))
        await run_job(disks, await disks.mount(SD))
        encrypted = await disks.disk(SD)
        assert (encrypted.status, encrypted.encryption_enabled, encrypted.encrypted) == (DiskStatus.OK, True, True)

        with pytest.raises(ApiError) as wrong:
            await props.change_passphrase(SD, "not the secret", "verysecret")
        assert wrong.value.code == 130
        assert error_text(wrong.value) == "The old passphrase is wrong."
        await props.change_passphrase(SD, "secret", "verysecret")
        with pytest.raises(ApiError) as disable_mounted:
            await props.disable_encryption(SD)
        assert disable_mounted.value.code == 160
        assert error_text(disable_mounted.value) == ERROR_TEXTS[160]

        # The new passphrase is the one that opens the card from now on.
        await run_job(disks, await disks.unmount(SD))
        await run_job(disks, await disks.mount(SD))
        assert (await disks.disk(SD)).status is DiskStatus.OK


@pytest.mark.functional
async def test_encryption_codes_for_the_share_an_unknown_disk_and_an_unmounted_card(device_factory):
    device = device_factory("--sd-size", "1G")
    async with transport_for(device, "admin") as transport:
        disks, props = DiskManagement(transport), DiskProperties(transport)
        with pytest.raises(ApiError) as share:
            await props.enable_encryption("NetworkShare", "secret")
        with pytest.raises(ApiError) as unknown:
            await props.disable_encryption("USB_DISK")
        with pytest.raises(ApiError) as empty:
            await props.enable_encryption(SD, "")
        await run_job(disks, await disks.unmount(SD))
        with pytest.raises(ApiError) as unmounted:
            await props.change_passphrase(SD, "a", "b")
    assert (share.value.code, unknown.value.code, empty.value.code, unmounted.value.code) == (100, 50, 110, 150)


@pytest.mark.functional
async def test_alert_levels_round_trip_keeping_the_level_left_out(device):
    async with transport_for(device, "admin") as transport:
        props = DiskProperties(transport)
        assert await props.alert_levels(SD) == AlertLevels(None, None)
        await props.set_alert_levels(SD, wear=80)
        assert await props.alert_levels(SD) == AlertLevels(80, None)
        await props.set_alert_levels(SD, temperature=330)
        assert await props.alert_levels(SD) == AlertLevels(80, 330)
        await props.set_alert_levels(SD, wear=90, temperature=340)
        assert await props.alert_levels(SD) == AlertLevels(90, 340)
        with pytest.raises(ValueError):
            await props.set_alert_levels(SD)
        with pytest.raises(InvalidRequest):
            await props.set_alert_levels(SD, wear=-5)


@pytest.mark.functional
async def test_cleanup_settings_show_in_the_disk_list(device):
    async with transport_for(device, "admin") as transport:
        disks, props = DiskManagement(transport), DiskProperties(transport)
        await props.set_cleanup_max_age(SD, 30)
        await props.set_cleanup_policy(SD, "none")
        sd = await disks.disk(SD)
        assert (sd.cleanup_max_age, sd.cleanup_policy) == (30, "none")
        with pytest.raises(InvalidRequest):
            await props.set_cleanup_max_age(SD, 7001)
        with pytest.raises(InvalidRequest):
            await props.set_cleanup_policy(SD, "lifo")
        with pytest.raises(ApiError) as unknown:
            await props.set_cleanup_max_age("USB_DISK", 1)
        assert unknown.value.code == 50
        assert (await disks.disk(SD)).cleanup_max_age == 30


@pytest.mark.functional
async def test_required_file_system(device):
    async with transport_for(device, "admin") as transport:
        disks, props = DiskManagement(transport), DiskProperties(transport)
        await props.set_required_fs(SD, "ext4")
        assert (await disks.disk(SD)).required_filesystem == "ext4"
        with pytest.raises(ApiError) as unsupported:
            await props.set_required_fs(SD, "vfat")
        assert unsupported.value.code == 30
        await props.set_required_fs(SD, "none")
        assert (await disks.disk(SD)).required_filesystem == "none"


@pytest.mark.functional
async def test_an_operator_reads_alert_levels_but_may_not_set_them(device):
    async with transport_for(device, "operator") as transport:
        props = DiskProperties(transport)
        assert await props.alert_levels(SD) == AlertLevels(None, None)
        with pytest.raises(Unauthorized):
            await props.set_alert_levels(SD, wear=50)
