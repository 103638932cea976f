"""The camera list on a fresh install, adding and removing cameras, and what is saved where."""

from __future__ import annotations

import json

import pytest
from keyring.backends import fail

from app.cameras.config import EMBEDDED_ID, CameraConfig
from app.cameras.fleet import CameraState, Fleet
from app.cameras.secrets import SERVICE, SecretStore
from app.paths import AppPaths
from tests.support.memory_keyring import MemoryKeyring

pytestmark = pytest.mark.functional


@pytest.fixture
def paths(tmp_path) -> AppPaths:
    return AppPaths(tmp_path / "config", tmp_path / "data")


async def test_a_fresh_install_starts_the_virtual_camera_and_connects_to_it(paths):
    fleet = Fleet(paths, SecretStore(MemoryKeyring()))
    try:
        await fleet.start()
        entry = fleet.entries[EMBEDDED_ID]
        assert entry.state is CameraState.ONLINE, entry.message
        assert entry.summary is not None
        assert entry.summary.capabilities.sd_card
        saved = json.loads((paths.embedded_camera_dir / "identity.json").read_text())
        assert entry.summary.info.serial == saved["serial"]  # it is the camera in the app's data dir
    finally:
        await fleet.close()
    assert not fleet._embedded.running


async def test_an_added_camera_is_saved_without_its_password_which_goes_to_the_keyring(paths, shared_device):
    keyring = MemoryKeyring()
    fleet = Fleet(paths, SecretStore(keyring))
    config = CameraConfig("Entrance", shared_device.host, shared_device.http_port, "op")
    await fleet.add(config, "operator-pass")
    assert fleet.entries[config.id].state is CameraState.ONLINE
    saved = (paths.config_dir / "settings.json").read_text()
    assert "operator-pass" not in saved
    assert json.loads(saved)["cameras"][0]["host"] == shared_device.host
    assert keyring.passwords[(SERVICE, config.id)] == "operator-pass"

    again = Fleet(paths, SecretStore(keyring))  # the next session
    assert not again.embedded_enabled  # cameras exist: no virtual camera unless asked for
    await again.refresh(config.id)
    assert again.entries[config.id].state is CameraState.ONLINE

    await again.remove(config.id)
    assert keyring.passwords == {}
    assert json.loads((paths.config_dir / "settings.json").read_text())["cameras"] == []


async def test_without_a_keyring_the_next_session_asks_for_the_password(paths, shared_device):
    fleet = Fleet(paths, SecretStore(fail.Keyring()))
    config = CameraConfig("Entrance", shared_device.host, shared_device.http_port, "op")
    await fleet.add(config, "operator-pass")
    assert fleet.entries[config.id].state is CameraState.ONLINE
    later = Fleet(paths, SecretStore(fail.Keyring()))
    await later.refresh(config.id)
    assert later.entries[config.id].state is CameraState.NEEDS_PASSWORD
    assert "operator-pass" not in (paths.config_dir / "settings.json").read_text()


async def test_removing_the_virtual_camera_stops_it_and_keeps_it_off(paths):
    fleet = Fleet(paths, SecretStore(MemoryKeyring()))
    await fleet.start()
    await fleet.remove(EMBEDDED_ID)
    assert not fleet._embedded.running
    assert EMBEDDED_ID not in fleet.entries
    assert not Fleet(paths, SecretStore(MemoryKeyring())).embedded_enabled
