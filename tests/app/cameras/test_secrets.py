"""Camera passwords live in the OS keyring, and the user is told when there is none."""

from __future__ import annotations

from keyring.backends import fail

from app.cameras.secrets import SERVICE, SecretStore
from tests.support.memory_keyring import MemoryKeyring


def test_passwords_go_to_the_keyring_under_the_camera_id():
    backend = MemoryKeyring()
    store = SecretStore(backend)
    store.set("cam1", "s3cret")
    assert backend.passwords == {(SERVICE, "cam1"): "s3cret"}
    assert SecretStore(backend).get("cam1") == "s3cret"  # a later session finds it
    store.delete("cam1")
    assert backend.passwords == {}
    store.delete("cam1")  # deleting twice is harmless


def test_without_a_keyring_passwords_last_only_for_the_session_and_the_reason_is_given():
    store = SecretStore(fail.Keyring())
    assert not store.available
    assert "keyring" in store.reason.lower()
    store.set("cam1", "s3cret")
    assert store.get("cam1") == "s3cret"
    assert SecretStore(fail.Keyring()).get("cam1") is None
