"""The installer's share client against the virtual camera and a real Samba server: adding shares, the test job
followed to its end, and a failed test told as a sentence a person understands."""

from __future__ import annotations

import pytest
from lxml import etree

from app.vapix.disks import DiskManagement, DiskStatus
from app.vapix.errors import ApiError
from app.vapix.jobs import JobFailedError
from app.vapix.networkshare import NetworkShare, NetworkShares, ShareTestStatus
from app.vapix.recordings import RecordingControl, RecordingQuery, Recordings
from tests.app.vapix.test_disks import run_job
from tests.conftest import transport_for
from tests.device.disk_client import param_update
from tests.support.samba import RECORDINGS, samba, samba_clean  # noqa: F401

pytestmark = pytest.mark.functional


def test_list_answers_decode_with_either_spelling_of_the_disk_id():
    root = etree.fromstring(
        b'<NetworkShareResponse SchemaVersion="1.0"><ListSuccess><NetworkShares NumberOfShares="2">'
        b'<NetworkShare NiceName="My Share" ShareId="35419" Address="mynas" Share="myshare" User="u"'
        b' DiskId="NetworkShare"/>'
        b'<NetworkShare NiceName="B" ShareID="485279c5-6676" Address="b" Share="s" User="" DiskID="NetworkShare"/>'
        b"</NetworkShares></ListSuccess></NetworkShareResponse>"
    )
    first, second = NetworkShare.list_from_xml(root)
    assert (first.share_id, first.disk_id, second.share_id, second.disk_id) == (
        "35419",
        "NetworkShare",
        "485279c5-6676",
        "NetworkShare",
    )
    failed = etree.fromstring(
        b"<NetworkShareResponse><JobSuccess><GeneralError><ErrorCode>710</ErrorCode>"
        b"<ErrorDescription>x</ErrorDescription></GeneralError></JobSuccess></NetworkShareResponse>"
    )
    status = ShareTestStatus.from_xml(failed)
    assert status.failed
    assert status.description == "The NAS refused the user name or password, or has no share by that name."


async def test_a_share_is_added_and_tested_with_progress_then_removed(device, samba_clean):  # noqa: F811
    param_update(device, **{"root.Storage.S1.ExtraMountOptions": f"port={samba_clean.port}"})
    async with transport_for(device, "admin") as transport:
        shares = NetworkShares(transport)
        share_id = await shares.add("Office NAS", samba_clean.host, RECORDINGS, samba_clean.user, samba_clean.password)
        (listed,) = await shares.shares()
        assert (listed.share_id, listed.nice_name, listed.disk_id) == (share_id, "Office NAS", None)
        seen: list[ShareTestStatus] = []
        done = await shares.wait_for_test(await shares.start_test(share_id), seen.append, interval=0.05, timeout=30)
        assert done.finished
        assert not done.failed
        assert [s.progress for s in seen] == sorted(s.progress for s in seen)

        with pytest.raises(JobFailedError) as refused:
            await shares.wait_for_test(await shares.start_test(share_id, password="nope"), interval=0.05, timeout=30)
        assert "refused the user name or password" in str(refused.value)

        with pytest.raises(ApiError) as duplicate:
            await shares.add("Office NAS", "other", "share")
        assert duplicate.value.code == 220
        await shares.modify(share_id, nicename="Office")
        assert (await shares.shares([share_id]))[0].nice_name == "Office"
        await shares.remove([share_id])
        assert await shares.shares() == []


async def test_a_bound_share_is_recorded_to_and_unbound_in_the_order_the_camera_requires(device, samba_clean):  # noqa: F811
    param_update(device, **{"root.Storage.S1.ExtraMountOptions": f"port={samba_clean.port}"})
    async with transport_for(device, "admin") as transport:
        shares, disks = NetworkShares(transport), DiskManagement(transport)
        share_id = await shares.add("Office NAS", samba_clean.host, RECORDINGS, samba_clean.user, samba_clean.password)
        disk_id = await shares.bind(share_id)
        assert disk_id == "NetworkShare"
        assert (await shares.shares())[0].disk_id == disk_id
        share_disk = await disks.disk(disk_id)
        assert (share_disk.status, share_disk.filesystem, share_disk.name) == (DiskStatus.OK, "cifs", "Office NAS")
        assert share_disk.total_kb > 0

        control = RecordingControl(transport)
        recording_id = await control.record(disk_id)
        await control.stop(recording_id)
        listed = [r async for r in Recordings(transport).iterate(RecordingQuery(disk_id=disk_id))]
        assert [r.recording_id for r in listed] == [recording_id]

        with pytest.raises(ApiError) as mounted:
            await shares.unbind(share_id)
        assert mounted.value.code == 400
        await run_job(disks, await disks.unmount(disk_id), disk_id)
        await shares.unbind(share_id)
        assert (await shares.shares())[0].disk_id is None
        assert (await disks.disk(disk_id)).status is DiskStatus.DISCONNECTED
