"""Disk management: the client reads list.cgi as real firmware and the document write it, starts jobs and
follows them to the end, and tells a refused start (raised) from a job that ran and failed (a status)."""

from __future__ import annotations

import pytest

from app.vapix import xmlwire
from app.vapix.disks import (
    Disk,
    DiskCapabilities,
    DiskManagement,
    DiskStatus,
    FileSystemSupport,
    HealthStatus,
    JobStatus,
    started_job_id,
)
from app.vapix.errors import ApiError, ProtocolError, RequestFailed, Unauthorized
from app.vapix.jobs import JobFailedError, follow_job, wait_for_job
from tests.conftest import transport_for

FAST = 0.02  # seconds between job polls against the virtual camera

# WIRE.md §2.1: the REAL capture (AXIS OS 9.80.2.2), byte for byte: `" >"`, `"</disks> </root>"`, the newline.
REAL_LIST = (
    '<?xml version="1.0"?>\n'
    '<root xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xsi:noNamespaceSchemaLocation="http://www.axis.com/vapix/http_cgi/disk/list1.xsd">\n'
    '<disks numberofdisks="2" >  <disk diskid="SD_DISK" name="" totalsize="116109036" freesize="63126240" '
    'cleanuplevel="99" cleanupmaxage="7000" cleanuppolicy="fifo" locked="no" full="no" readonly="no" status="OK" '
    'filesystem="ext4" group="S0" requiredfilesystem="none" encryptionenabled="false" diskencrypted="false"/>\n'
    '  <disk diskid="NetworkShare" name="" totalsize="1073741824" freesize="920987392" cleanuplevel="99" '
    'cleanupmaxage="7000" cleanuppolicy="fifo" locked="no" full="no" readonly="no" status="OK" filesystem="cifs" '
    'group="S1" requiredfilesystem="none" encryptionenabled="false" diskencrypted="false"/>\n'
    "</disks> </root>\n"
)

# WIRE.md §2.1: a second real device's disconnected share.
REAL_DISCONNECTED_SHARE = (
    '<root><disks numberofdisks="1"><disk diskid="NetworkShare" name="" totalsize="0" freesize="0" cleanuplevel="90" '
    'cleanupmaxage="7" cleanuppolicy="fifo" locked="no" full="no" readonly="no" status="disconnected" '
    'filesystem="cifs" group="S1" requiredfilesystem="none" encryptionenabled="false" diskencrypted="false"/>'
    "</disks></root>"
)

# WIRE.md §2.1: the document's sample: diskencryptionenabled, and filesystem before status.
DOC_LIST = """<?xml version="1.0" ?>
<root xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xsi:noNamespaceSchemaLocation="http://www.axis.com/vapix/http_cgi/disk/list1.xsd">
  <disks numberofdisks="2">
    <disk diskid="SD_DISK" name="My SD Card" totalsize="2097152" freesize="2097152" cleanuplevel="95"
      cleanupmaxage="1" cleanuppolicy="none" locked="no" full="no" readonly="no" filesystem="vfat"
      status="OK" group="S0" requiredfilesystem="none" diskencryptionenabled="false" diskencrypted="false"/>
    <disk diskid="NetworkShare" name="My Share" totalsize="4194304000" freesize="3670016000" cleanuplevel="95"
      cleanupmaxage="1" cleanuppolicy="none" locked="no" full="no" readonly="no" filesystem="cifs"
      status="OK" group="S1" requiredfilesystem="none" diskencryptionenabled="false" diskencrypted="false"/>
  </disks>
</root>
"""

# WIRE.md §2.2
DOC_CAPABILITIES = """<?xml version="1.0" encoding="UTF-8"?>
<root xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xsi:noNamespaceSchemaLocation="http://www.axis.com/vapix/http_cgi/disk/capabilities1.xsd">
  <disk diskid="SD_DISK" requiredfssupported="true" encryptionsupported="true">
    <filesystems>
      <filesystem name="vfat" nicename=" " requiredfssupported="false"/>
      <filesystem name="ext4" nicename=" " requiredfssupported="true"/>
    </filesystems>
  </disk>
</root>
"""

# WIRE.md §2.6
DOC_HEALTH = """<?xml version="1.0" encoding="UTF-8" ?>
<HealthStatusResponse xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xsi:noNamespaceSchemaLocation="http://www.axis.com/vapix/http_cgi/disk/gethealth1.xsd">
  <HealthStatusSuccess>
    <HealthStatus diskid="SD_DISK" wear="25" />
    <HealthStatus diskid="NetworkShare" wear="-1" />
    <HealthStatus diskid="HDD_DISK" wear="13" temperature="315" overallhealth="1" />
  </HealthStatusSuccess>
</HealthStatusResponse>
"""

LEGACY = (
    '<?xml version="1.0" ?>\n<root xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xsi:noNamespaceSchemaLocation="http://www.axis.com/vapix/http_cgi/disk/{schema}">\n  {body}\n</root>\n'
)


def legacy(schema: str, body: str) -> str:
    return LEGACY.format(schema=schema, body=body)


def xml(body: str):
    return xmlwire.parse(body.encode())


def disk_with(**attrs: str) -> Disk:
    base = {"diskid": "SD_DISK", "totalsize": "10", "freesize": "4", "status": "OK"}
    text = " ".join(f'{k}="{v}"' for k, v in {**base, **attrs}.items())
    return Disk.list_from_xml(xml(f"<root><disks><disk {text}/></disks></root>"))[0]


# -- list.cgi -------------------------------------------------------------------------------------------------------


def test_the_real_capture_with_its_odd_whitespace_gives_both_disks():
    sd, share = Disk.list_from_xml(xml(REAL_LIST))
    assert sd == Disk(
        disk_id="SD_DISK",
        name="",
        total_kb=116109036,
        free_kb=63126240,
        cleanup_max_age=7000,
        cleanup_policy="fifo",
        locked=False,
        full=False,
        readonly=False,
        status=DiskStatus.OK,
        status_text="OK",
        filesystem="ext4",
        group="S0",
        required_filesystem="none",
        encryption_enabled=False,
        encrypted=False,
    )
    assert sd.usable
    assert sd.used_kb == 116109036 - 63126240
    assert (share.disk_id, share.filesystem, share.group, share.total_kb) == ("NetworkShare", "cifs", "S1", 1073741824)


def test_a_disconnected_share_keeps_its_entry_with_zero_sizes():
    (share,) = Disk.list_from_xml(xml(REAL_DISCONNECTED_SHARE))
    assert share.status is DiskStatus.DISCONNECTED
    assert not share.usable
    assert (share.total_kb, share.free_kb, share.filesystem) == (0, 0, "cifs")


def test_the_documents_sample_with_diskencryptionenabled_parses_too():
    sd, share = Disk.list_from_xml(xml(DOC_LIST))
    assert (sd.name, sd.filesystem, sd.cleanup_policy, sd.cleanup_max_age) == ("My SD Card", "vfat", "none", 1)
    assert sd.status is DiskStatus.OK
    assert not sd.encryption_enabled
    assert share.total_kb == 4194304000


@pytest.mark.parametrize("name", ["encryptionenabled", "diskencryptionenabled"])
def test_either_spelling_of_encryption_enabled_is_read(name):
    disk = disk_with(**{name: "true"}, diskencrypted="true")
    assert disk.encryption_enabled
    assert disk.encrypted


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("disconnected", DiskStatus.DISCONNECTED),
        ("connected", DiskStatus.CONNECTED),
        ("OK", DiskStatus.OK),
        ("failed", DiskStatus.FAILED),
        ("no passphrase", DiskStatus.NO_PASSPHRASE),
        ("wrong passphrase", DiskStatus.WRONG_PASSPHRASE),
        ("not encrypted", DiskStatus.NOT_ENCRYPTED),
        ("formatting", DiskStatus.UNKNOWN),
        ("", DiskStatus.UNKNOWN),
    ],
)
def test_status_values_and_an_unknown_one_that_keeps_the_cameras_word(text, status):
    disk = disk_with(status=text)
    assert disk.status is status
    assert disk.status_text == text
    assert disk.usable == (status is DiskStatus.OK)


def test_yes_no_and_true_false_both_read_as_booleans():
    disk = disk_with(locked="yes", full="TRUE", readonly="no", encryptionenabled="false")
    assert (disk.locked, disk.full, disk.readonly, disk.encryption_enabled) == (True, True, False, False)


@pytest.mark.parametrize(
    "attrs",
    [{"totalsize": "lots"}, {"freesize": "1.5"}, {"locked": "maybe"}, {"diskid": ""}, {"cleanupmaxage": "x"}],
)
def test_a_value_of_the_wrong_kind_is_a_protocol_error(attrs):
    with pytest.raises(ProtocolError):
        disk_with(**attrs)


@pytest.mark.parametrize(
    "body",
    [
        REAL_LIST[: len(REAL_LIST) // 2],  # cut off mid-attribute
        REAL_LIST.replace("</disks> </root>\n", ""),  # cut off before the end tags
        "",
        "<root/>",  # no disks element at all
        "<HTML><HEAD><TITLE>404 Not Found</TITLE></HEAD><BODY><H1>404 Not Found</H1></BODY></HTML>",
    ],
    ids=["half", "no-end-tags", "empty", "no-disks", "html"],
)
def test_a_truncated_or_foreign_answer_is_a_protocol_error(body):
    with pytest.raises(ProtocolError):
        Disk.list_from_xml(xmlwire.parse(body.encode()))


def test_an_empty_disks_element_is_no_disks():
    assert Disk.list_from_xml(xml('<root><disks numberofdisks="0"/></root>')) == []


# -- getcapabilities.cgi, gethealth.cgi -----------------------------------------------------------------------------


def test_capabilities_of_the_documents_sample():
    caps = DiskCapabilities.from_xml(xml(DOC_CAPABILITIES))
    assert caps == DiskCapabilities(
        "SD_DISK",
        required_fs_supported=True,
        encryption_supported=True,
        filesystems=(FileSystemSupport("vfat", False), FileSystemSupport("ext4", True)),
    )
    assert caps.filesystem_names == ("vfat", "ext4")


def test_capabilities_without_encryptionsupported_mean_no_encryption():
    caps = DiskCapabilities.from_xml(xml(DOC_CAPABILITIES.replace(' encryptionsupported="true"', "")))
    assert not caps.encryption_supported


def test_capabilities_of_an_unknown_disk_raise_the_cameras_description():
    body = legacy("capabilities1.xsd", '<disk diskid="X" result="ERROR" description="Unknown disk ID \'X\'."/>')
    with pytest.raises(ApiError, match="Unknown disk ID 'X'"):
        DiskCapabilities.from_xml(xml(body))


def test_health_of_the_documents_sample():
    health = HealthStatus.dict_from_xml(xml(DOC_HEALTH))
    assert list(health) == ["SD_DISK", "NetworkShare", "HDD_DISK"]
    assert health["SD_DISK"] == HealthStatus("SD_DISK", 25)
    assert health["SD_DISK"].wear_percent == 25
    assert health["SD_DISK"].describe_wear() == "25 %"
    assert health["NetworkShare"].unsupported
    assert health["NetworkShare"].wear_percent is None
    hdd = health["HDD_DISK"]
    assert (hdd.wear, hdd.temperature, hdd.overall_health) == (13, 315, 1)
    assert hdd.temperature_celsius == pytest.approx(41.85)
    assert hdd.overall_ok is True
    assert health["SD_DISK"].overall_ok is None


@pytest.mark.parametrize(
    ("wear", "unsupported", "read_error", "not_present", "words"),
    [
        ("-1", True, False, False, "not reported"),
        ("-2", False, True, False, "could not be read"),
        ("-3", False, False, True, "no disk"),
        ("-7", True, False, False, "not reported"),  # negative: not an Axis card (D-10)
        ("0", False, False, False, "0 %"),
    ],
)
def test_negative_wear_values_have_their_meanings(wear, unsupported, read_error, not_present, words):
    (status,) = HealthStatus.dict_from_xml(xml(f'<R><HealthStatus diskid="SD_DISK" wear="{wear}"/></R>')).values()
    assert (status.unsupported, status.read_error, status.not_present) == (unsupported, read_error, not_present)
    assert status.describe_wear() == words


def test_a_health_error_is_raised_with_its_code():
    body = (
        "<HealthStatusResponse><GeneralError><ErrorCode>10</ErrorCode>"
        "<ErrorDescription>An error occurred while processing the request.</ErrorDescription>"
        "</GeneralError></HealthStatusResponse>"
    )
    with pytest.raises(RequestFailed) as caught:
        HealthStatus.dict_from_xml(xml(body))
    assert caught.value.code == 10


@pytest.mark.parametrize(
    "body",
    ["<HealthStatusResponse/>", '<R><HealthStatus wear="3"/></R>', '<R><HealthStatus diskid="A" wear="x"/></R>'],
)
def test_a_health_answer_without_statuses_or_with_bad_values_is_a_protocol_error(body):
    with pytest.raises(ProtocolError):
        HealthStatus.dict_from_xml(xml(body))


# -- job starts and job.cgi -----------------------------------------------------------------------------------------


def test_a_started_job_gives_its_id():
    body = legacy("startjob1.xsd", '<job action="format" diskid="SD_DISK" result="OK" jobid="11" />')
    assert started_job_id(xml(body)) == 11


def test_a_refused_start_raises_the_description_without_a_code():
    body = legacy(
        "startjob1.xsd", '<job action="format" diskid="SD_DISK" result="ERROR" description="The disk is locked." />'
    )
    with pytest.raises(ApiError) as caught:
        started_job_id(xml(body))
    assert caught.value.description == "The disk is locked."
    assert caught.value.code is None


def test_the_documents_unquoted_action_is_malformed_xml():
    body = legacy("startjob1.xsd", '<job action=unmount diskid="SD_DISK" result="OK" jobid="2" />')
    with pytest.raises(ProtocolError):
        xmlwire.parse(body.encode())


def test_a_running_job():
    body = legacy(
        "checkjob1.xsd",
        '<job jobid="4" diskid="SD_DISK" action="format" result="OK" progress="15" '
        'description="[result description]" />',
    )
    status = JobStatus.from_xml(xml(body))
    assert status == JobStatus(4, "SD_DISK", "format", "OK", 15, "[result description]")
    assert not status.finished
    assert not status.failed


def test_a_failed_job_is_a_status_not_an_exception():
    body = legacy(
        "checkjob1.xsd",
        '<job jobid="4" diskid="SD_DISK" action="checkdisk" progress="100" result="ERROR" description="Bad blocks" />',
    )
    status = JobStatus.from_xml(xml(body))
    assert status.failed
    assert status.finished
    assert status.description == "Bad blocks"


def test_an_unknown_job_is_a_failed_status_even_without_progress():
    body = legacy("checkjob1.xsd", '<job jobid="9" diskid="SD_DISK" action="N/A" result="ERROR" description="gone" />')
    status = JobStatus.from_xml(xml(body))
    assert status.unknown_job
    assert status.failed
    assert status.progress == 100


@pytest.mark.parametrize(
    "job",
    [
        '<job jobid="4" diskid="SD_DISK" action="format" result="OK" />',  # running, without progress
        '<job jobid="x" diskid="SD_DISK" action="format" result="OK" progress="10" />',
        '<job jobid="4" diskid="SD_DISK" action="format" progress="10" />',  # no result
        "",
    ],
    ids=["no-progress", "bad-jobid", "no-result", "no-job"],
)
def test_a_job_answer_that_cannot_be_read_is_a_protocol_error(job):
    with pytest.raises(ProtocolError):
        JobStatus.from_xml(xml(legacy("checkjob1.xsd", job)))


# -- against the camera ---------------------------------------------------------------------------------------------

SD = "SD_DISK"


async def scenario(device, verb: str, **params: str) -> dict:
    async with transport_for(device, "admin") as transport:
        response = await transport.request("POST", f"/local/edgestore/scenario/disks/{SD}/{verb}", params=params)
    return response.json()


def follower(disks: DiskManagement, jobid: int, disk_id: str = SD):
    return lambda: disks.job(jobid, disk_id)


async def run_job(disks: DiskManagement, jobid: int, disk_id: str = SD) -> JobStatus:
    return await wait_for_job(follower(disks, jobid, disk_id), interval=FAST, timeout=15)


@pytest.mark.functional
async def test_an_operator_lists_every_disk_whatever_its_state(shared_device):
    async with transport_for(shared_device, "operator") as transport:
        disks = await DiskManagement(transport).list()
    sd, share = disks
    assert (sd.disk_id, sd.status, sd.filesystem, sd.group) == (SD, DiskStatus.OK, "ext4", "S0")
    assert sd.usable
    assert sd.total_kb > 0
    assert 0 < sd.free_kb <= sd.total_kb
    assert (share.disk_id, share.status, share.total_kb) == ("NetworkShare", DiskStatus.DISCONNECTED, 0)


@pytest.mark.functional
async def test_listing_named_disks_sends_their_ids(shared_device):
    async with transport_for(shared_device, "operator") as transport:
        disks = DiskManagement(transport)
        assert [d.disk_id for d in await disks.list(SD)] == [SD]
        assert [d.disk_id for d in await disks.list("NetworkShare", SD)] == ["NetworkShare", SD]
        assert (await disks.disk(SD)).disk_id == SD
        with pytest.raises(ProtocolError):
            await disks.disk("USB_DISK")


@pytest.mark.functional
async def test_a_viewer_may_not_list_disks(shared_device):
    async with transport_for(shared_device, "viewer") as transport:
        with pytest.raises(Unauthorized):
            await DiskManagement(transport).list()


@pytest.mark.functional
async def test_capabilities_of_the_card_and_the_share(shared_device):
    async with transport_for(shared_device, "operator") as transport:
        disks = DiskManagement(transport)
        sd = await disks.capabilities(SD)
        share = await disks.capabilities("NetworkShare")
        with pytest.raises(ApiError, match="USB_DISK"):
            await disks.capabilities("USB_DISK")
    assert sd.encryption_supported
    assert sd.required_fs_supported
    assert set(sd.filesystem_names) == {"ext4", "vfat"}
    assert [fs.name for fs in sd.filesystems if fs.required_fs_supported] == ["ext4"]
    assert share == DiskCapabilities("NetworkShare", False, False, (FileSystemSupport("cifs", False),))


@pytest.mark.functional
async def test_health_reports_wear_and_follows_the_cards_ageing(device):
    async with transport_for(device, "operator") as transport:
        disks = DiskManagement(transport)
        before = await disks.health()
        await scenario(device, "wear", percent="40")
        after = await disks.health()
    assert before[SD].wear == 0
    assert before["NetworkShare"].unsupported
    assert after[SD].wear_percent == 40


@pytest.mark.functional
async def test_format_is_followed_until_progress_100(device_factory):
    device = device_factory("--sd-size", "1G")
    await scenario(device, "sample-recording", seconds="30", blockseconds="5")
    async with transport_for(device, "admin") as transport:
        disks = DiskManagement(transport)
        used_before = (await disks.disk(SD)).used_kb
        jobid = await disks.format(SD, "ext4")
        statuses = [s async for s in follow_job(follower(disks, jobid), interval=FAST, timeout=15)]
        after = await disks.disk(SD)
    progress = [s.progress for s in statuses]
    assert progress == sorted(progress)
    assert len(set(progress)) == len(progress)  # only changes are yielded
    last = statuses[-1]
    assert (last.jobid, last.action, last.result, last.progress) == (jobid, "format", "OK", 100)
    assert not last.failed
    assert "ext4" in last.description
    assert after.usable  # a mounted card is mounted again after its format
    assert after.used_kb < used_before


@pytest.mark.functional
async def test_unmount_check_repair_mount_cycle(device_factory):
    device = device_factory("--sd-size", "1G")
    await scenario(device, "sample-recording", seconds="20", blockseconds="5")
    async with transport_for(device, "admin") as transport:
        disks = DiskManagement(transport)
        unmounted = await run_job(disks, await disks.unmount(SD))
        assert (unmounted.action, unmounted.progress) == ("unmount", 100)
        assert (await disks.disk(SD)).status is DiskStatus.CONNECTED
        checked = await run_job(disks, await disks.check(SD))
        assert checked.action == "checkdisk"
        assert checked.description.startswith("No errors found")
        repaired = await run_job(disks, await disks.repair(SD))
        assert repaired.action == "repair"
        assert "rebuilt" in repaired.description
        await run_job(disks, await disks.mount(SD))
        assert (await disks.disk(SD)).status is DiskStatus.OK


@pytest.mark.functional
async def test_checking_a_mounted_disk_is_refused_at_the_start(device):
    async with transport_for(device, "admin") as transport:
        with pytest.raises(ApiError, match="mounted") as caught:
            await DiskManagement(transport).check(SD)
    assert caught.value.code is None
    assert not isinstance(caught.value, JobFailedError)


@pytest.mark.functional
async def test_a_check_that_finds_errors_ends_as_a_failed_job(device_factory):
    device = device_factory("--sd-size", "1G")
    await scenario(device, "sample-recording", seconds="20", blockseconds="5")
    async with transport_for(device, "admin") as transport:
        disks = DiskManagement(transport)
        await run_job(disks, await disks.unmount(SD))
        for index in (device.data_dir / "sdcard").glob("index.db*"):
            index.unlink()
        jobid = await disks.check(SD)
        statuses = [s async for s in follow_job(follower(disks, jobid), interval=FAST, timeout=15)]
        assert statuses[-1].failed
        assert statuses[-1].finished
        assert "index is missing" in statuses[-1].description
        with pytest.raises(JobFailedError, match="index is missing") as caught:
            await run_job(disks, jobid)  # the camera keeps the ended job for every poller
    assert caught.value.status == statuses[-1]
    assert caught.value.code is None


@pytest.mark.functional
async def test_an_unknown_job_is_a_failed_status(shared_device):
    async with transport_for(shared_device, "operator") as transport:
        status = await DiskManagement(transport).job(999, SD)
    assert status.unknown_job
    assert status.failed
    assert status.finished


@pytest.mark.functional
async def test_a_locked_disk_cannot_be_formatted_until_unlocked(device_factory):
    device = device_factory("--sd-size", "1G")
    async with transport_for(device, "admin") as transport:
        disks = DiskManagement(transport)
        await disks.lock(SD)
        assert (await disks.disk(SD)).locked
        with pytest.raises(ApiError, match="locked"):
            await disks.format(SD)
        with pytest.raises(ApiError, match="Unknown disk"):
            await disks.lock("USB_DISK")
        await disks.unlock(SD)
        assert not (await disks.disk(SD)).locked
        assert (await run_job(disks, await disks.format(SD))).progress == 100


@pytest.mark.functional
async def test_an_operator_may_check_but_not_format(device):
    async with transport_for(device, "operator") as transport:
        disks = DiskManagement(transport)
        with pytest.raises(Unauthorized):
            await disks.format(SD, "ext4")
        with pytest.raises(ApiError, match="mounted"):  # allowed to ask, refused for the disk's state
            await disks.check(SD)
