"""Authenticating one request under the camera's AuthenticationPolicy (basic, digest or basic_digest)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from device.auth.digest import ALGORITHMS, NonceAuthority, challenges, parse_digest_header, verify_digest
from device.users import User, UserStore


@dataclass(frozen=True)
class AuthOutcome:
    user: User | None
    stale: bool = False


class Authenticator:
    def __init__(self, users: UserStore, nonces: NonceAuthority) -> None:
        self.users = users
        self.nonces = nonces

    def authenticate(self, policy: str, method: str, path: str, header: str | None) -> AuthOutcome:
        if not header:
            return AuthOutcome(None)
        if "digest" in policy:
            params = parse_digest_header(header)
            if params is not None:
                outcome = verify_digest(params, method, path, self.users, self.nonces)
                return AuthOutcome(outcome.user, outcome.stale)
        if "basic" in policy and header[:6].lower() == "basic ":
            return AuthOutcome(self._basic(header[6:]))
        return AuthOutcome(None)

    def challenge_headers(self, policy: str, stale: bool, algorithms: tuple[str, ...] = ALGORITHMS) -> list[str]:
        headers = []
        if "digest" in policy:
            headers.extend(challenges(self.users.realm, self.nonces.issue(), stale, algorithms))
        if "basic" in policy:
            headers.append(f'Basic realm="{self.users.realm}"')
        return headers

    def _basic(self, token: str) -> User | None:
        try:
            name, _, password = base64.b64decode(token.strip(), validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        user = self.users.get(name)
        return user if user is not None and user.check_password(password) else None
