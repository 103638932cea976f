"""Talking SMB 2/3 to a NAS through smbprotocol's smbclient, and test.cgi's connection test.

Every call carries the port and the credentials: smbprotocol keys its connection pool by ``host:port`` and,
after a server restart, logs in again with whatever the call carries (smbprotocol #318). Each test uses a
connection cache of its own, so a test never reuses, or breaks, the connection a bound share records over.
Options follow mount.cifs's ``ExtraMountOptions``: ``vers=2.0|2.1|3.0|3.0.2|3.1.1`` pins the dialect (through a
pre-negotiated Connection in the cache: register_session has no dialect argument, smbprotocol #316),
``port=N`` and ``seal`` (SMB 3 encryption). Signing stays required: SMB 3.1.1 refuses unsigned sessions.

The test's steps map onto the spec's codes: resolve the name (700), reach the port (760), log in and open the
share (710), write a file (740), read it back and compare (750); anything else is 720.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import smbclient
from smbprotocol.connection import Connection, Dialects
from smbprotocol.exceptions import SMBAuthenticationError, SMBException, SMBOSError

from device.errors import CodedError

DEFAULT_PORT = 445
CONNECT_TIMEOUT = 5
RECEIVE_TIMEOUT = 5
# smbprotocol waits up to 600 s for a silent server before it sends a keep-alive, and gives up after two of them;
# a camera must notice a hung NAS within seconds, or its recording stalls for 20 minutes. Read by every new
# Connection (smbprotocol.connection), so set before any share is reached.
os.environ.setdefault("SMB_EXPERIMENTAL_TRANSPORT_RECEIVE_TIMEOUT", str(RECEIVE_TIMEOUT))
DIALECTS = {
    "2.0": Dialects.SMB_2_0_2,
    "2.1": Dialects.SMB_2_1_0,
    "3.0": Dialects.SMB_3_0_0,
    "3.0.2": Dialects.SMB_3_0_2,
    "3.02": Dialects.SMB_3_0_2,
    "3.1.1": Dialects.SMB_3_1_1,
    "3.11": Dialects.SMB_3_1_1,
}
_LOGON = {0xC000006D, 0xC0000064, 0xC000006A, 0xC0000072, 0xC0000234}  # logon failure, no such user, ... locked
_NO_SHARE = {0xC00000CC, 0xC0000225}  # bad network name; not found (servers with DFS)
MOUNT_FAILED = "Error while mounting network share"
REFUSED_LOGIN = f"{MOUNT_FAILED}: the NAS refused the user name or password."
_DENIED = {0xC0000022, 0xC00000A2}  # access denied; media write protected


class ShareTestError(CodedError):
    """A connection test that failed, with the step's code (700-760)."""


@dataclass(frozen=True)
class MountOptions:
    dialect: int | None = None
    port: int | None = None
    encrypt: bool = False

    @classmethod
    def parse(cls, text: str) -> MountOptions:
        """mount.cifs's comma-separated options; unknown ones are ignored as mount.cifs passes them on."""
        dialect: int | None = None
        port: int | None = None
        encrypt = False
        for option in filter(None, (o.strip() for o in text.split(","))):
            name, _, value = option.partition("=")
            if name == "vers":
                if value not in DIALECTS:
                    raise ValueError(f"vers={value} is not an SMB 2/3 dialect ({', '.join(DIALECTS)})")
                dialect = DIALECTS[value]
            elif name == "port" and value.isdigit() and 0 < int(value) < 65536:
                port = int(value)
            elif name == "seal":
                encrypt = True
        return cls(dialect, port, encrypt)


@dataclass(frozen=True)
class ShareTarget:
    address: str
    share: str
    user: str = ""
    password: str = ""
    port: int = 0
    options: MountOptions = MountOptions()

    @property
    def effective_port(self) -> int:
        return self.port or self.options.port or DEFAULT_PORT

    def unc(self, *parts: str) -> str:
        return "\\".join([f"\\\\{self.address}", self.share.strip("\\/"), *parts])

    def call_kwargs(self, cache: dict[str, Any]) -> dict[str, Any]:
        return {
            "username": self.user or None,
            "password": self.password or None,
            "port": self.effective_port,
            "connection_cache": cache,
            "connection_timeout": CONNECT_TIMEOUT,
            "encrypt": self.options.encrypt,
        }


def run_test(target: ShareTarget, progress: Callable[[float], None], probe_name: str = "") -> None:
    """The connection test, step by step; raises ShareTestError with the spec's code. Blocking: run in a thread."""
    cache: dict[str, Any] = {}
    try:
        _resolve(target)
        progress(0.15)
        _reach(target)
        progress(0.3)
        _open(target, cache)
        progress(0.5)
        name = probe_name or f".edgestore-test-{secrets.token_hex(4)}"
        data = secrets.token_bytes(64 * 1024)
        path = target.unc(name)
        _write(target, cache, path, data)
        progress(0.75)
        _read_back(target, cache, path, data)
        progress(0.95)
        with contextlib.suppress(SMBException, OSError):
            smbclient.remove(path, **target.call_kwargs(cache))
    except ShareTestError:
        raise
    except Exception as exc:  # anything the steps did not foresee
        raise ShareTestError(720, f"Internal error while mounting network share: {exc}") from None
    finally:
        smbclient.reset_connection_cache(fail_on_error=False, connection_cache=cache)


def _resolve(target: ShareTarget) -> None:
    try:
        socket.getaddrinfo(target.address, target.effective_port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise ShareTestError(700, f"No such hostname: '{target.address}' does not resolve.") from None


def _reach(target: ShareTarget) -> None:
    try:
        socket.create_connection((target.address, target.effective_port), timeout=CONNECT_TIMEOUT).close()
    except OSError as exc:
        raise ShareTestError(
            760,
            f"Problem connecting to the share: {target.address} port {target.effective_port}: {exc.strerror or exc}.",
        ) from None


def pin_dialect(target: ShareTarget, cache: dict[str, Any]) -> None:
    """Negotiate the dialect `vers=` asks for and leave the connection in `cache` for smbclient to use."""
    if target.options.dialect is None:
        return
    connection = Connection(uuid.uuid4(), target.address, target.effective_port, require_signing=True)
    connection.connect(dialect=target.options.dialect, timeout=CONNECT_TIMEOUT)
    cache[f"{target.address.lower()}:{target.effective_port}"] = connection


def _open(target: ShareTarget, cache: dict[str, Any]) -> None:
    try:
        pin_dialect(target, cache)
        smbclient.listdir(target.unc(), **target.call_kwargs(cache))
    except SMBAuthenticationError as exc:
        raise ShareTestError(710, f"Error while mounting network share: the NAS refused the login ({exc}).") from None
    except SMBOSError as exc:
        status = exc.ntstatus or 0
        if status in _LOGON:
            raise ShareTestError(
                710, "Error while mounting network share: the NAS refused the user name or password."
            ) from None
        if status in _NO_SHARE:
            raise ShareTestError(
                710, f"Error while mounting network share: the NAS has no share '{target.share}'."
            ) from None
        raise ShareTestError(710, f"Error while mounting network share: {exc}") from None
    except SMBException as exc:
        cause = exc.__cause__ or exc.__context__
        if "Logon" in type(exc).__name__ or "Logon" in type(cause).__name__:
            raise ShareTestError(
                710, "Error while mounting network share: the NAS refused the user name or password."
            ) from None
        raise ShareTestError(710, f"Error while mounting network share: {exc}") from None
    except ValueError as exc:  # smbprotocol's "Failed to connect": the port closed between the steps
        raise ShareTestError(760, f"Problem connecting to the share: {exc}") from None


def _write(target: ShareTarget, cache: dict[str, Any], path: str, data: bytes) -> None:
    try:
        with smbclient.open_file(path, mode="wb", **target.call_kwargs(cache)) as handle:
            handle.write(data)
    except SMBOSError as exc:
        reason = "the share is read-only for this user" if (exc.ntstatus or 0) in _DENIED else str(exc)
        raise ShareTestError(740, f"Problem writing to the share: {reason}.") from None


def _read_back(target: ShareTarget, cache: dict[str, Any], path: str, data: bytes) -> None:
    try:
        with smbclient.open_file(path, mode="rb", **target.call_kwargs(cache)) as handle:
            read = handle.read()
    except SMBOSError as exc:
        raise ShareTestError(750, f"Problem reading data written to the share: {exc}.") from None
    if read != data:
        raise ShareTestError(750, "Problem reading data written to the share: it came back different.")
