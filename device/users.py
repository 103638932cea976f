"""The camera's user accounts and roles.

Passwords are not stored: only the Digest HA1 hashes (MD5 and SHA-256) for the realm they were made for, which
is all Digest needs, and enough to check a Basic password too. A hash made for another realm (the serial was
changed) cannot be used, and the store says so instead of failing silently.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import asdict, dataclass
from enum import IntEnum
from pathlib import Path

from device.persist import read_json, write_json_atomic

log = logging.getLogger(__name__)


class Role(IntEnum):
    """Roles nest: each includes the rights of those below it (shared/spec/NOTES.md)."""

    VIEWER = 1
    OPERATOR = 2
    ADMIN = 3

    @classmethod
    def parse(cls, text: str) -> Role:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown role {text!r}: use viewer, operator or admin") from None

    @property
    def groups(self) -> list[str]:
        """The group names usergroup.cgi reports, highest first, as a real camera lists them."""
        return [r.name.lower() for r in sorted(Role, reverse=True) if r <= self]


def ha1(algorithm: str, username: str, realm: str, password: str) -> str:
    digest = hashlib.sha256 if algorithm == "SHA-256" else hashlib.md5
    return digest(f"{username}:{realm}:{password}".encode()).hexdigest()


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    realm: str
    ha1_md5: str
    ha1_sha256: str

    def ha1_for(self, algorithm: str) -> str:
        return self.ha1_sha256 if algorithm == "SHA-256" else self.ha1_md5

    def check_password(self, password: str) -> bool:
        return hmac.compare_digest(self.ha1_md5, ha1("MD5", self.name, self.realm, password))


@dataclass(frozen=True)
class UserSpec:
    """A user as given on the command line: NAME:PASSWORD:ROLE."""

    name: str
    password: str
    role: Role

    @classmethod
    def parse(cls, text: str) -> UserSpec:
        name, sep, rest = text.partition(":")
        password, sep2, role = rest.rpartition(":")
        if not (sep and sep2 and name and password):
            raise ValueError("a user is NAME:PASSWORD:ROLE, for example operator1:secret:operator")
        return cls(name, password, Role.parse(role))


class UserStore:
    def __init__(self, path: Path, realm: str) -> None:
        self._path = path
        self._realm = realm
        self._users: dict[str, User] = {}
        for raw in read_json(path, []):
            user = User(**{**raw, "role": Role[raw["role"]]})
            if user.realm != realm:
                log.warning(
                    "user %r was saved for realm %s, not %s; add it again with --user", user.name, user.realm, realm
                )
                continue
            self._users[user.name] = user

    @property
    def realm(self) -> str:
        return self._realm

    def get(self, name: str) -> User | None:
        return self._users.get(name)

    def __len__(self) -> int:
        return len(self._users)

    def set(self, spec: UserSpec) -> User:
        user = User(
            spec.name,
            spec.role,
            self._realm,
            ha1("MD5", spec.name, self._realm, spec.password),
            ha1("SHA-256", spec.name, self._realm, spec.password),
        )
        self._users[user.name] = user
        self._save()
        return user

    def ensure_initial_admin(self) -> str | None:
        """Create `root` with a random password when no user exists; return that password to show once."""
        if self._users:
            return None
        password = secrets.token_urlsafe(12)
        self.set(UserSpec("root", password, Role.ADMIN))
        return password

    def _save(self) -> None:
        rows = [{**asdict(u), "role": u.role.name} for u in self._users.values()]
        write_json_atomic(self._path, rows, private=True)
