"""Camera passwords in the OS keyring (Keychain, Credential Manager, Secret Service).

Where no keyring service runs (a bare Linux box), passwords are held for this session only and `available`
says why, so the window can tell the user instead of quietly writing them to a file.
"""

from __future__ import annotations

import contextlib

import keyring
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail, null
from keyring.errors import KeyringError

SERVICE = "Edgestore"


def is_usable(backend: KeyringBackend) -> bool:
    if isinstance(backend, fail.Keyring | null.Keyring):
        return False
    if isinstance(backend, chainer.ChainerBackend):
        return bool(backend.backends)
    return True


class SecretStore:
    def __init__(self, backend: KeyringBackend | None = None) -> None:
        self._backend = backend or keyring.get_keyring()
        self._session: dict[str, str] = {}
        self.available = is_usable(self._backend)
        self.reason = (
            ""
            if self.available
            else (
                "No system keyring was found, so camera passwords are kept only until Edgestore closes. "
                "Install and unlock a keyring (for example GNOME Keyring or KWallet) to have them remembered."
            )
        )

    @property
    def backend_name(self) -> str:
        return type(self._backend).__name__

    def get(self, camera_id: str) -> str | None:
        if camera_id in self._session:
            return self._session[camera_id]
        if not self.available:
            return None
        try:
            return self._backend.get_password(SERVICE, camera_id)
        except KeyringError:
            return None

    def set(self, camera_id: str, password: str) -> None:
        self._session[camera_id] = password
        if self.available:
            try:
                self._backend.set_password(SERVICE, camera_id, password)
            except KeyringError as exc:
                self.available, self.reason = False, f"The system keyring refused the password: {exc}"

    def delete(self, camera_id: str) -> None:
        self._session.pop(camera_id, None)
        if self.available:
            with contextlib.suppress(KeyringError):  # nothing was saved for it
                self._backend.delete_password(SERVICE, camera_id)
