"""The camera's state in one place: who it is, its users, its parameters and its clock.

Components receive this object instead of reaching for globals, so a test can build a camera around a
temporary folder and a manual clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from device.auth.policy import Authenticator
from device.clock import Clock
from device.identity import DeviceIdentity
from device.params.store import ParamStore
from device.users import UserStore


@dataclass
class DeviceState:
    data_dir: Path
    identity: DeviceIdentity
    users: UserStore
    params: ParamStore
    clock: Clock
    auth: Authenticator

    @property
    def http_auth_policy(self) -> str:
        return self.params.get("Network.HTTP.AuthenticationPolicy")
