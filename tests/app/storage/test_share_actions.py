"""An installer's share actions against the virtual camera and a real Samba server: the test always runs first,
a failed one is a sentence, and bind, change and remove take the steps the camera needs in the right order."""

from __future__ import annotations

import pytest

from app.storage.disk_actions import ActionFailed
from app.storage.share_actions import ShareActions, ShareSettings, mount_options_with, option_value
from app.vapix.disks import DiskManagement, DiskStatus
from tests.conftest import transport_for
from tests.device.disk_client import param
from tests.support.samba import READONLY, RECORDINGS, samba, samba_clean  # noqa: F401

pytestmark = pytest.mark.functional


def settings_for(server, **changes) -> ShareSettings:
    base = ShareSettings("Office NAS", server.host, RECORDINGS, server.user, server.password, "", server.port)
    return ShareSettings(**{**base.__dict__, **changes})


def test_the_smb_version_and_port_replace_only_their_own_mount_options():
    assert mount_options_with("port=1445,seal", "3.0", 0) == "vers=3.0,seal"
    assert mount_options_with("vers=2.1, seal", "", 2445) == "port=2445,seal"
    assert option_value("vers=3.1.1,port=2445", "port") == "2445"
    assert option_value("seal", "vers") == ""


async def test_a_wrong_password_is_refused_in_words_and_nothing_is_added(device, samba_clean):  # noqa: F811
    steps: list[int] = []
    async with transport_for(device) as transport:
        actions = ShareActions(transport, lambda _s, p: steps.append(p))
        with pytest.raises(ActionFailed) as refused:
            await actions.add(settings_for(samba_clean, password="wrong"), bind=True)
        listed = await actions.list()
    assert "refused the user name or password" in str(refused.value)
    assert listed == []
    assert steps


async def test_a_share_is_added_bound_changed_and_removed_without_the_installer_ordering_steps(
    device,
    samba_clean,  # noqa: F811
):
    steps: list[tuple[str, int]] = []
    async with transport_for(device) as transport:
        actions = ShareActions(transport, lambda s, p: steps.append((s, p)))
        await actions.add(settings_for(samba_clean, smb_version="3.0"), bind=True)
        (share,) = await actions.list()
        disks = DiskManagement(transport)
        bound = await disks.disk("NetworkShare")
        assert (share.disk_id, bound.status) == ("NetworkShare", DiskStatus.OK)
        assert await actions.connection_options() == ("3.0", samba_clean.port)

        with pytest.raises(ActionFailed) as readonly:
            await actions.modify(share.share_id, settings_for(samba_clean, share=READONLY))
        assert "not write" in str(readonly.value)
        (unchanged,) = await actions.list()
        assert (unchanged.share, unchanged.disk_id) == (RECORDINGS, "NetworkShare")

        steps.clear()
        renamed = settings_for(samba_clean, nice_name="Archive", smb_version="3.0", password="")
        await actions.modify(share.share_id, renamed)
        assert [s for s, _ in steps] == ["Saved"]  # a new name alone (no new password): no test, no unbinding
        assert (await disks.disk("NetworkShare")).name == "Archive"

        steps.clear()
        renamed = settings_for(samba_clean, nice_name="Archive", smb_version="2.1", password="")
        await actions.modify(share.share_id, renamed)
        assert "Unbinding the share" in [s for s, _ in steps]
        assert (await actions.list())[0].disk_id == "NetworkShare"
        assert (await disks.disk("NetworkShare")).status is DiskStatus.OK
        assert param(device, "Storage.S1.ExtraMountOptions") == f"vers=2.1,port={samba_clean.port}"

        message = await actions.remove(share.share_id)
        assert "removed" in message
        assert await actions.list() == []
        assert (await disks.disk("NetworkShare")).status is DiskStatus.DISCONNECTED
