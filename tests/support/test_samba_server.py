r"""Proof that the private smbd works, and a record of how `smbclient` (smbprotocol) fails against a real Samba.

The device maps these failures to VAPIX errors, so the exception classes asserted here are the contract:

* wrong credentials        -> `SMBOSError` with STATUS_LOGON_FAILURE (the raw `LogonFailure` from `register_session`)
* missing share            -> `SMBOSError` with STATUS_NOT_FOUND (Samba advertises DFS, so smbclient asks IPC$ for
                              a referral after STATUS_BAD_NETWORK_NAME) or STATUS_BAD_NETWORK_NAME (without DFS)
* read-only share          -> `SMBOSError` with STATUS_ACCESS_DENIED
* nothing listening        -> builtin `ValueError` whose `__cause__` is `ConnectionRefusedError`
* unknown host name        -> builtin `ValueError` whose `__cause__` is `socket.gaierror`
* server gone mid-session  -> `SMBConnectionClosed`
* server hung              -> `SMBException` ("Connection timeout ...") on a new connection
"""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import smbclient
from smbprotocol import Dialects
from smbprotocol.connection import Connection
from smbprotocol.exceptions import (
    AccessDenied,
    BadNetworkName,
    LogonFailure,
    NotFound,
    SMBConnectionClosed,
    SMBException,
    SMBOSError,
)
from smbprotocol.header import NtStatus

from tests.support.samba import (
    READONLY,
    RECORDINGS,
    SEALED,
    SEEDED_FILE,
    SEEDED_TEXT,
    SambaServer,
    free_port,
    samba,  # noqa: F401 - pytest fixture
    samba_clean,  # noqa: F401 - pytest fixture
    unique_name,
)

pytestmark = pytest.mark.functional


@pytest.fixture
def cache() -> Iterator[dict[str, Any]]:
    """A private smbclient connection pool, so no test inherits another's sessions (or its dead connections)."""
    pool: dict[str, Any] = {}
    yield pool
    smbclient.reset_connection_cache(fail_on_error=False, connection_cache=pool)


@pytest.fixture(scope="module")
def legacy_nas(tmp_path_factory: pytest.TempPathFactory, samba: SambaServer) -> Iterator[SambaServer]:  # noqa: F811
    """A second smbd like an old NAS: SMB 2.1 at most and no DFS. `samba` first: it skips if Samba is missing."""
    server = SambaServer(
        tmp_path_factory.mktemp("legacy-nas"),
        extra_global={"server max protocol": "SMB2_10", "host msdfs": "no"},
    )
    server.prepare().start()
    yield server
    server.stop()


def write(server: SambaServer, unc: str, data: bytes, pool: dict[str, Any], **extra: Any) -> None:
    with smbclient.open_file(unc, mode="wb", connection_cache=pool, **server.client_kwargs(), **extra) as handle:
        handle.write(data)


def pinned_pool(server: SambaServer, dialect: int, pool: dict[str, Any], require_signing: bool = True) -> Connection:
    """Force one SMB dialect: `register_session` has no dialect argument (jborean93/smbprotocol#316), but it reuses
    a connected `Connection` found in the pool under "host:port", so we negotiate it ourselves and put it there."""
    connection = Connection(uuid.uuid4(), server.host, server.port, require_signing=require_signing)
    connection.connect(dialect=dialect, timeout=5)
    pool[f"{server.host.lower()}:{server.port}"] = connection
    return connection


def session_of(server: SambaServer, pool: dict[str, Any]) -> Any:
    connection = pool[f"{server.host.lower()}:{server.port}"]
    return next(iter(connection.session_table.values()))


# --- the happy path -----------------------------------------------------------------------------------------------


def test_write_read_list_and_see_the_file_on_disk(samba_clean: SambaServer, cache: dict[str, Any]) -> None:  # noqa: F811
    server = samba_clean
    folder = unique_name("rec")
    smbclient.makedirs(server.unc(RECORDINGS, folder, "20240101"), connection_cache=cache, **server.client_kwargs())
    path = server.unc(RECORDINGS, folder, "20240101", "clip.mkv")
    data = bytes(range(256)) * 4096  # 1 MiB: more than one SMB write on some dialects

    write(server, path, data, cache)

    with smbclient.open_file(path, mode="rb", connection_cache=cache, **server.client_kwargs()) as handle:
        assert handle.read() == data
    names = smbclient.listdir(
        server.unc(RECORDINGS, folder, "20240101"), connection_cache=cache, **server.client_kwargs()
    )
    assert names == ["clip.mkv"]
    local = server.local(RECORDINGS, folder, "20240101", "clip.mkv")
    assert local.read_bytes() == data
    assert local.stat().st_uid == server.shares[RECORDINGS].path.stat().st_uid  # written as the forced share user


def test_the_port_must_be_passed_on_every_call(samba: SambaServer, cache: dict[str, Any]) -> None:  # noqa: F811
    """A session registered for port N is not found by a call without `port=`: that call dials 445."""
    smbclient.register_session(samba.host, connection_cache=cache, **samba.client_kwargs())
    with pytest.raises(ValueError, match=":445") as caught:
        smbclient.listdir(samba.unc(RECORDINGS), connection_cache=cache, connection_timeout=2)
    assert isinstance(caught.value.__cause__, ConnectionRefusedError)


def test_the_readonly_share_serves_its_files(samba: SambaServer, cache: dict[str, Any]) -> None:  # noqa: F811
    with smbclient.open_file(
        samba.unc(READONLY, SEEDED_FILE), mode="rb", connection_cache=cache, **samba.client_kwargs()
    ) as handle:
        assert handle.read() == SEEDED_TEXT


# --- failures the device maps to VAPIX errors ---------------------------------------------------------------------


def test_wrong_password_is_a_logon_failure(samba: SambaServer, cache: dict[str, Any]) -> None:  # noqa: F811
    kwargs = {**samba.client_kwargs(), "password": "wrong"}
    with pytest.raises(SMBOSError) as caught:
        smbclient.listdir(samba.unc(RECORDINGS), connection_cache=cache, **kwargs)
    assert caught.value.ntstatus == NtStatus.STATUS_LOGON_FAILURE
    assert isinstance(caught.value.__cause__, LogonFailure)

    # register_session does not wrap it: the raw SMBResponseException subclass.
    with pytest.raises(LogonFailure):
        smbclient.register_session(samba.host, connection_cache=cache, **kwargs)


def test_unknown_user_is_the_same_logon_failure(samba: SambaServer, cache: dict[str, Any]) -> None:  # noqa: F811
    kwargs = {**samba.client_kwargs(), "username": "nobody-here"}
    with pytest.raises(SMBOSError) as caught:
        smbclient.listdir(samba.unc(RECORDINGS), connection_cache=cache, **kwargs)
    assert caught.value.ntstatus == NtStatus.STATUS_LOGON_FAILURE


def test_missing_share_on_a_dfs_capable_server_is_not_found(samba: SambaServer, cache: dict[str, Any]) -> None:  # noqa: F811
    """Samba answers STATUS_BAD_NETWORK_NAME, but it advertises DFS, so smbclient asks for a referral, and the
    referral's STATUS_NOT_FOUND is what surfaces (errno ENOENT, like a missing file)."""
    with pytest.raises(SMBOSError) as caught:
        smbclient.listdir(samba.unc("no-such-share"), connection_cache=cache, **samba.client_kwargs())
    assert caught.value.ntstatus == NtStatus.STATUS_NOT_FOUND
    assert isinstance(caught.value.__cause__, NotFound)


def test_missing_share_without_dfs_is_bad_network_name(legacy_nas: SambaServer, cache: dict[str, Any]) -> None:
    with pytest.raises(SMBOSError) as caught:
        smbclient.listdir(legacy_nas.unc("no-such-share"), connection_cache=cache, **legacy_nas.client_kwargs())
    assert caught.value.ntstatus == NtStatus.STATUS_BAD_NETWORK_NAME
    assert isinstance(caught.value.__cause__, BadNetworkName)


def test_missing_file_is_object_name_not_found(samba: SambaServer, cache: dict[str, Any]) -> None:  # noqa: F811
    with pytest.raises(SMBOSError) as caught:
        smbclient.stat(samba.unc(RECORDINGS, unique_name("missing")), connection_cache=cache, **samba.client_kwargs())
    assert caught.value.ntstatus == NtStatus.STATUS_OBJECT_NAME_NOT_FOUND


def test_writing_to_the_readonly_share_is_access_denied(samba: SambaServer, cache: dict[str, Any]) -> None:  # noqa: F811
    name = unique_name("denied")
    with pytest.raises(SMBOSError) as caught:
        write(samba, samba.unc(READONLY, name), b"x", cache)
    assert caught.value.ntstatus == NtStatus.STATUS_ACCESS_DENIED
    with pytest.raises(SMBOSError) as caught:
        smbclient.mkdir(samba.unc(READONLY, name), connection_cache=cache, **samba.client_kwargs())
    assert caught.value.ntstatus == NtStatus.STATUS_ACCESS_DENIED
    assert not samba.local(READONLY, name).exists()


def test_nothing_listening_is_a_value_error_from_connection_refused(
    samba: SambaServer,  # noqa: F811
    cache: dict[str, Any],
) -> None:
    kwargs = {**samba.client_kwargs(), "port": free_port()}
    with pytest.raises(ValueError, match="Failed to connect") as caught:
        smbclient.listdir(samba.unc(RECORDINGS), connection_cache=cache, connection_timeout=2, **kwargs)
    assert isinstance(caught.value.__cause__, ConnectionRefusedError)


def test_unknown_host_is_a_value_error_from_name_resolution(samba: SambaServer, cache: dict[str, Any]) -> None:  # noqa: F811
    with pytest.raises(ValueError, match="Failed to connect") as caught:
        smbclient.listdir(
            r"\\no-such-host.invalid\recordings", connection_cache=cache, connection_timeout=2, **samba.client_kwargs()
        )
    assert isinstance(caught.value.__cause__, socket.gaierror)


# --- dialects, signing, encryption --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "dialect",
    [Dialects.SMB_2_0_2, Dialects.SMB_2_1_0, Dialects.SMB_3_0_0, Dialects.SMB_3_0_2, Dialects.SMB_3_1_1],
    ids=["2.0.2", "2.1", "3.0", "3.0.2", "3.1.1"],
)
def test_each_dialect_can_be_forced_and_records(samba: SambaServer, cache: dict[str, Any], dialect: int) -> None:  # noqa: F811
    connection = pinned_pool(samba, dialect, cache)
    name = unique_name("dialect")

    write(samba, samba.unc(RECORDINGS, name), b"pinned", cache)

    assert connection.dialect == dialect
    assert samba.local(RECORDINGS, name).read_bytes() == b"pinned"
    assert len(cache) == 1  # the pinned connection was used, not a second one


def test_unpinned_negotiation_picks_smb_3_1_1(samba: SambaServer, cache: dict[str, Any]) -> None:  # noqa: F811
    session = smbclient.register_session(samba.host, connection_cache=cache, **samba.client_kwargs())
    assert session.connection.dialect == Dialects.SMB_3_1_1


def test_an_old_nas_negotiates_smb_2_1(legacy_nas: SambaServer, cache: dict[str, Any]) -> None:
    session = smbclient.register_session(legacy_nas.host, connection_cache=cache, **legacy_nas.client_kwargs())
    assert session.connection.dialect == Dialects.SMB_2_1_0


def test_encryption_on_request(samba: SambaServer, cache: dict[str, Any]) -> None:  # noqa: F811
    session = smbclient.register_session(samba.host, encrypt=True, connection_cache=cache, **samba.client_kwargs())
    name = unique_name("enc")

    write(samba, samba.unc(RECORDINGS, name), b"sealed", cache)

    assert session.encrypt_data
    assert samba.local(RECORDINGS, name).read_bytes() == b"sealed"


@pytest.mark.parametrize(
    ("dialect", "works"),
    [(Dialects.SMB_2_1_0, True), (Dialects.SMB_3_0_2, True), (Dialects.SMB_3_1_1, False)],
    ids=["2.1", "3.0.2", "3.1.1"],
)
def test_signing_off_works_below_smb_3_1_1_only(
    samba: SambaServer,  # noqa: F811
    cache: dict[str, Any],
    dialect: int,
    works: bool,
) -> None:
    """MS-SMB2 3.3.5.7: on 3.1.1 a tree connect must be signed or encrypted; with `require_signing=False`
    smbprotocol signs nothing, and Samba rejects the tree connect ("without encryption or signing")."""
    pinned_pool(samba, dialect, cache, require_signing=False)
    session = smbclient.register_session(
        samba.host, require_signing=False, connection_cache=cache, **samba.client_kwargs()
    )
    assert not session.signing_required
    if works:
        assert smbclient.listdir(samba.unc(READONLY), connection_cache=cache, **samba.client_kwargs()) == [SEEDED_FILE]
    else:
        with pytest.raises(SMBOSError) as caught:
            smbclient.listdir(samba.unc(READONLY), connection_cache=cache, **samba.client_kwargs())
        assert caught.value.ntstatus == NtStatus.STATUS_ACCESS_DENIED


def test_the_sealed_share_encrypts_without_being_asked(samba: SambaServer, cache: dict[str, Any]) -> None:  # noqa: F811
    name = unique_name("sealed")
    write(samba, samba.unc(SEALED, name), b"secret", cache)

    session = session_of(samba, cache)
    tree = next(t for t in session.tree_connect_table.values() if t.share_name.endswith("\\" + SEALED))
    assert tree.encrypt_data  # the server demanded it for this share; the session itself is not encrypted
    assert not session.encrypt_data
    assert samba.local(SEALED, name).read_bytes() == b"secret"


@pytest.mark.parametrize("dialect", [Dialects.SMB_2_0_2, Dialects.SMB_2_1_0], ids=["2.0.2", "2.1"])
def test_the_sealed_share_refuses_smb2(samba: SambaServer, cache: dict[str, Any], dialect: int) -> None:  # noqa: F811
    pinned_pool(samba, dialect, cache)
    with pytest.raises(SMBOSError) as caught:
        write(samba, samba.unc(SEALED, unique_name("plain")), b"x", cache)
    assert caught.value.ntstatus == NtStatus.STATUS_ACCESS_DENIED
    assert isinstance(caught.value.__cause__, AccessDenied)


def test_encryption_against_an_smb2_only_nas_fails_in_the_client(
    legacy_nas: SambaServer, cache: dict[str, Any]
) -> None:
    with pytest.raises(SMBException, match="encryption is required"):
        smbclient.register_session(legacy_nas.host, encrypt=True, connection_cache=cache, **legacy_nas.client_kwargs())


# --- outages ------------------------------------------------------------------------------------------------------


def test_stop_breaks_the_connection_and_start_restores_it(samba_clean: SambaServer, cache: dict[str, Any]) -> None:  # noqa: F811
    server = samba_clean
    kwargs = {"connection_cache": cache, "connection_timeout": 2, **server.client_kwargs()}
    port = server.port
    recording = smbclient.open_file(server.unc(RECORDINGS, "recording.mkv"), mode="wb", **kwargs)
    recording.write(b"before")
    recording.flush()

    server.stop()

    assert not server.running
    recording.write(b"after")  # buffered
    with pytest.raises(SMBConnectionClosed):  # the open file's connection is dead
        recording.flush()
    with pytest.raises(SMBConnectionClosed):
        recording.close()
    with pytest.raises(ValueError) as caught:  # a new connection is refused
        smbclient.listdir(server.unc(RECORDINGS), **kwargs)
    assert isinstance(caught.value.__cause__, ConnectionRefusedError)

    server.start()

    assert server.running
    assert server.port == port
    # No reset_connection_cache needed: the pool replaces a disconnected Connection, and since the credentials
    # travel with every call, the new session logs in again.
    assert smbclient.listdir(server.unc(RECORDINGS), **kwargs) == ["recording.mkv"]
    assert server.local(RECORDINGS, "recording.mkv").read_bytes() == b"before"


def test_after_a_restart_calls_without_credentials_cannot_log_in(samba: SambaServer, cache: dict[str, Any]) -> None:  # noqa: F811
    """`register_session` credentials die with the connection: a later call with only `port=` reconnects as nobody."""
    smbclient.register_session(samba.host, connection_cache=cache, **samba.client_kwargs())
    assert smbclient.listdir(samba.unc(RECORDINGS), port=samba.port, connection_cache=cache) is not None
    samba.restart()
    with pytest.raises(SMBException, match="authenticate"):
        smbclient.listdir(samba.unc(RECORDINGS), port=samba.port, connection_cache=cache)


def test_a_hung_server_times_out_new_connections(samba: SambaServer, cache: dict[str, Any]) -> None:  # noqa: F811
    """TCP still connects to a frozen smbd; only `connection_timeout` (negotiation) ends the wait."""
    samba.freeze()
    try:
        started = time.monotonic()
        with pytest.raises(SMBException, match="timeout"):
            smbclient.listdir(
                samba.unc(RECORDINGS), connection_cache=cache, connection_timeout=2, **samba.client_kwargs()
            )
        assert time.monotonic() - started < 4
    finally:
        samba.thaw()
    assert samba.running


def test_the_server_lives_in_its_temp_dir(samba: SambaServer) -> None:  # noqa: F811
    conf = samba.conf_path.read_text()
    assert f"smb ports = {samba.port}" in conf
    assert "disable netbios = yes" in conf
    assert (samba.private_dir / "passdb.tdb").exists()
    assert (samba.log_dir / "smbd.log").stat().st_size > 0
    assert all(Path(share.path).is_relative_to(samba.root) for share in samba.shares.values())
