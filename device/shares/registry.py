"""The camera's network shares (Network share API add/modify/remove/list), kept in the data dir.

Each share is mirrored, for administrators, as the ``NetworkShare.N#`` parameters real firmware shows (WIRE.md
§10): Address, Name, Password (always ``******``), Port, Share, ShareId, Username. Port is also the parameter
form of mount.cifs's ``port=`` option and may be set through param.cgi (not while the share is bound, as with
modify.cgi); the others are read-only. The password itself lives only in ``shares.json`` (mode 0600) and is
never returned by any API. Share IDs are numeric, as
real firmware assigns them, unless the client gives one (``[A-Za-z0-9-]+``).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from device.errors import CodedError
from device.params.definitions import ParamDef
from device.params.store import ParamStore
from device.persist import read_json, write_json_atomic
from device.users import Role

MAX_SHARES = 8
SHARE_ID = re.compile(r"[A-Za-z0-9-]+")
PORT_PARAM = re.compile(r"NetworkShare\.N(\d+)\.Port")
HIDDEN = "******"


class ShareError(CodedError):
    """A refusal of the Network share API: its code and a description."""


@dataclass(frozen=True)
class ShareConfig:
    share_id: str
    nice_name: str
    address: str
    share: str
    user: str = ""
    password: str = ""
    port: int = 0
    """0: the SMB default (445)."""
    bound: bool = False
    automount: bool = True
    """bind.cgi's automaticmount: mount on bind and at every start."""


class ShareRegistry:
    def __init__(self, path: Path, params: ParamStore) -> None:
        self._path = path
        self._params = params
        saved = read_json(path, [])
        self._shares: list[ShareConfig] = []
        for item in saved if isinstance(saved, list) else []:
            try:
                self._shares.append(ShareConfig(**item))
            except TypeError:
                continue  # a hand-edited entry the camera cannot read must not stop it from starting
        self._mirror()
        params.subscribe(self._on_param)

    def shares(self) -> list[ShareConfig]:
        return list(self._shares)

    def get(self, share_id: str) -> ShareConfig:
        for share in self._shares:
            if share.share_id == share_id:
                return share
        raise ShareError(20, f"Invalid request. No network share with ShareId '{share_id}'.")

    def add(self, config: ShareConfig, given_id: bool) -> ShareConfig:
        if given_id and not SHARE_ID.fullmatch(config.share_id):
            raise ShareError(200, f"Invalid ShareId '{config.share_id}': use letters, digits and '-' only.")
        if any(s.share_id == config.share_id for s in self._shares):
            raise ShareError(210, f"The ShareId '{config.share_id}' is not unique.")
        if any(s.nice_name == config.nice_name for s in self._shares):
            raise ShareError(220, f"The NiceName '{config.nice_name}' is not unique.")
        if len(self._shares) >= MAX_SHARES:
            raise ShareError(230, f"Maximum number of network shares ({MAX_SHARES}) is already reached.")
        self._shares.append(config)
        self._save()
        return config

    def new_id(self) -> str:
        """A numeric Share ID like the ones real firmware assigns (76365, 35419), unused here."""
        while True:
            candidate = str(secrets.randbelow(90000) + 10000)
            if all(s.share_id != candidate for s in self._shares):
                return candidate

    def modify(self, share_id: str, changes: dict[str, str | int]) -> ShareConfig:
        current = self.get(share_id)
        changed = {k: v for k, v in changes.items() if getattr(current, k) != v}
        if current.bound and set(changed) - {"nice_name"}:
            raise ShareError(600, "The network share is bound and cannot be modified. Use unbind.cgi first.")
        name = changed.get("nice_name")
        if name is not None and any(s.nice_name == name and s.share_id != share_id for s in self._shares):
            raise ShareError(620, f"The NiceName '{name}' is not unique.")
        updated = replace(current, **changed)  # type: ignore[arg-type]
        self._shares = [updated if s.share_id == share_id else s for s in self._shares]
        self._save()
        return updated

    def set_bound(self, share_id: str, bound: bool, automount: bool) -> ShareConfig:
        updated = replace(self.get(share_id), bound=bound, automount=automount)
        self._shares = [updated if s.share_id == share_id else s for s in self._shares]
        self._save()
        return updated

    def remove(self, share_ids: list[str]) -> None:
        """All or nothing: an unknown or bound share in the list leaves every share in place."""
        for share_id in share_ids:
            if self.get(share_id).bound:
                raise ShareError(500, f"The network share {share_id} is bound and cannot be removed. Unbind it first.")
        self._shares = [s for s in self._shares if s.share_id not in share_ids]
        self._save()

    def _save(self) -> None:
        write_json_atomic(self._path, [asdict(s) for s in self._shares], private=True)
        self._mirror()

    def _on_param(self, name: str, value: str) -> None:
        """param.cgi set ``NetworkShare.N#.Port`` (already validated): the share's port follows."""
        match = PORT_PARAM.fullmatch(name)
        if match is None or int(match.group(1)) >= len(self._shares):
            return
        share = self._shares[int(match.group(1))]
        if share.port != int(value):
            self.modify(share.share_id, {"port": int(value)})

    def _port_check(self, share_id: str) -> Callable[[str], str]:
        def check(value: str) -> str:
            if not value.strip().isdigit() or not 0 <= int(value) <= 65535:
                raise ValueError("a port is 0 (the SMB default, 445) to 65535")
            if self.get(share_id).bound and self.get(share_id).port != int(value):
                raise ValueError("the network share is bound; unbind it before changing its port")
            return str(int(value))

        return check

    def _mirror(self) -> None:
        self._params.undefine_group("NetworkShare")
        for index, share in enumerate(self._shares):
            values = {
                "Address": share.address,
                "Name": share.nice_name,
                "Password": HIDDEN if share.password else "",
                "Port": str(share.port),
                "Share": share.share,
                "ShareId": share.share_id,
                "Username": share.user,
            }
            for key, value in values.items():
                name = f"NetworkShare.N{index}.{key}"
                if key == "Port":
                    definition = ParamDef(name, value, Role.ADMIN, Role.ADMIN, self._port_check(share.share_id), False)
                else:
                    definition = ParamDef(name, value, Role.ADMIN, None, persist=False)
                self._params.define(definition)
