"""usergroup.cgi: who the camera thinks we are, and so what we may do on it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from app.vapix.errors import ProtocolError
from app.vapix.transport import VapixTransport

PATH = "/axis-cgi/usergroup.cgi"


class Role(IntEnum):
    UNKNOWN = 0
    VIEWER = 1
    OPERATOR = 2
    ADMIN = 3


@dataclass(frozen=True)
class UserGroups:
    user: str
    groups: tuple[str, ...]

    @property
    def role(self) -> Role:
        ranked = [Role[g.upper()] for g in self.groups if g.upper() in Role.__members__]
        return max(ranked, default=Role.UNKNOWN)

    @classmethod
    def parse(cls, text: str) -> UserGroups:
        lines = [line.strip() for line in text.strip().splitlines()]
        if len(lines) < 2 or not lines[0]:
            raise ProtocolError("usergroup.cgi should answer the user name and its groups on two lines")
        return cls(lines[0], tuple(lines[1].split()))


async def user_groups(transport: VapixTransport) -> UserGroups:
    return UserGroups.parse(await transport.get_text(PATH))
