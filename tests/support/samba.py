"""A private Samba server (a real `smbd`) on 127.0.0.1 for tests of the camera's NAS recording.

The camera records to NAS shares over SMB with `smbprotocol`; mocking that library would only prove we call it the
way we think it works. This module runs Debian's own `smbd` instead: its configuration, databases, logs and shares
all live in one temporary directory, it listens only on 127.0.0.1 on a free high port (so no root-only 445, no
clash with a system Samba, no NetBIOS broadcasts), and it can be stopped and started again on the same port for
outage tests.

Things the `smbclient` (smbprotocol) API needs to reach it, learnt the hard way:

* The port is not part of the UNC path. Every `smbclient` call must get `port=server.port` (see
  `SambaServer.client_kwargs`); `register_session(..., port=N)` alone is not enough, the pool is keyed by
  "host:port" and a later call without `port=` dials 445 (jborean93/smbprotocol#318).
* Credentials belong on every call too: after the server restarts, the pool replaces the dead connection and
  logs in with whatever the call carries; `register_session`'s credentials died with the old connection.
* `smbd` switches to the share user before touching the share directory, so that user needs search (x)
  permission on every parent directory; pytest makes its temporary directories 0700 (`_allow_traversal`).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import smbclient

SMB_USER = "edgestore-smb"
# A throwaway account: the Unix user has no login shell and the password exists only in the private passdb.
SMB_PASSWORD = "Nas-Secret-1"
RECORDINGS = "recordings"
READONLY = "readonly"
SEALED = "sealed"
SEEDED_FILE = "existing.txt"
SEEDED_TEXT = b"placed here by the test fixture\n"


def _tool(name: str) -> str | None:
    """Where a Samba or shadow tool is; Debian puts smbd and useradd in /usr/sbin, which a non-login PATH may lack."""
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin:/usr/bin")


def smbd_binary() -> str | None:
    return _tool("smbd")


def free_port(host: str = "127.0.0.1") -> int:
    """A port the kernel considers free right now; smbd takes a port number, not 0, so we must choose one."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def ensure_unix_user(name: str = SMB_USER) -> pwd.struct_passwd:
    """Create the system account smbd maps the Samba user to (smbd refuses users missing from /etc/passwd).

    Idempotent: a second test session, or a parallel one, finds the user already there.
    """
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    result = subprocess.run(
        [
            _tool("useradd") or "useradd",
            "--system",
            "--no-create-home",
            "--home-dir",
            "/nonexistent",
            "--shell",
            "/usr/sbin/nologin",
            name,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    # Exit status 9: another session created it between our lookup and useradd.
    if result.returncode not in (0, 9):
        raise RuntimeError(f"useradd {name} failed ({result.returncode}): {result.stderr.strip()}")
    return pwd.getpwnam(name)


def _allow_traversal(path: Path) -> None:
    """Give "others" search permission (x, not r) on each parent of `path` that lacks it.

    smbd becomes the share user before it changes into the share directory, and pytest's temporary directories are
    0700 root. Only directory search is added: nobody can list them, and pytest resets its own directories' modes at
    the start of its next session.
    """
    for parent in path.resolve().parents:
        mode = parent.stat().st_mode
        if mode & 0o001:
            continue
        parent.chmod(mode | 0o001)


@dataclass
class Share:
    """One share in smb.conf and the local directory behind it, so tests can inspect what smbd wrote."""

    name: str
    path: Path
    read_only: bool = False
    encrypted: bool = False

    def conf(self, user: str) -> str:
        lines = [
            f"[{self.name}]",
            f"path = {self.path}",
            f"valid users = {user}",
            f"force user = {user}",
            f"read only = {'yes' if self.read_only else 'no'}",
            "browseable = yes",
            # Plain files as on a NAS: no DOS attributes in xattrs, which some tmpfs/overlay mounts refuse.
            "store dos attributes = no",
            "create mask = 0644",
            "directory mask = 0755",
        ]
        if self.encrypted:
            lines.append("server smb encrypt = required")
        return "\n".join(lines) + "\n"


@dataclass
class SambaServer:
    """A private `smbd` on 127.0.0.1:`port` with one user and the shares `recordings`, `readonly` and `sealed`.

    Everything smbd writes (tdb databases, pid file, logs) stays under `root`; `stop()` and `start()` keep the port
    and configuration so a test can take the NAS away in the middle of a recording and bring it back.
    """

    root: Path
    host: str = "127.0.0.1"
    port: int = 0
    user: str = SMB_USER
    password: str = SMB_PASSWORD
    shares: dict[str, Share] = field(default_factory=dict)
    # Extra [global] lines, e.g. {"server max protocol": "SMB2_10"} for an old NAS. Samba's defaults otherwise,
    # including `host msdfs = yes`, which changes the error for a missing share (see the proof tests).
    extra_global: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    startup_timeout: float = 15.0

    # --- layout -------------------------------------------------------------------------------------------------

    @property
    def conf_path(self) -> Path:
        return self.root / "smb.conf"

    @property
    def log_dir(self) -> Path:
        return self.root / "log"

    @property
    def private_dir(self) -> Path:
        return self.root / "private"

    @property
    def recordings(self) -> Share:
        return self.shares[RECORDINGS]

    @property
    def readonly(self) -> Share:
        return self.shares[READONLY]

    @property
    def sealed(self) -> Share:
        return self.shares[SEALED]

    def unc(self, share: str = RECORDINGS, *parts: str) -> str:
        r"""`\\host\share\a\b` as smbclient wants it; the port is passed separately (see `client_kwargs`)."""
        return "\\".join([f"\\\\{self.host}", share, *parts])

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments every `smbclient` call against this server needs (port above all)."""
        return {"username": self.user, "password": self.password, "port": self.port}

    def local(self, share: str = RECORDINGS, *parts: str) -> Path:
        """The file smbd stores `unc(share, *parts)` in."""
        return self.shares[share].path.joinpath(*parts)

    def log_tail(self, chars: int = 4000) -> str:
        """The end of smbd's logs, for failure messages."""
        text = []
        for log in sorted(self.log_dir.glob("*")):
            if log.is_file():
                text.append(f"== {log.name}\n{log.read_text(errors='replace')[-chars:]}")
        return "\n".join(text)

    # --- setup --------------------------------------------------------------------------------------------------

    def prepare(self) -> SambaServer:
        """Write smb.conf, create the share folders and the Unix and Samba user. Run once, before `start()`."""
        if not self.port:
            self.port = free_port(self.host)
        account = ensure_unix_user(self.user)
        for sub in ("state", "lock", "cache", "pid", "ncalrpc", "log", "private", "shares"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self.private_dir.chmod(0o700)
        if not self.shares:
            shares_dir = self.root / "shares"
            self.shares = {
                RECORDINGS: Share(RECORDINGS, shares_dir / RECORDINGS),
                READONLY: Share(READONLY, shares_dir / READONLY, read_only=True),
                SEALED: Share(SEALED, shares_dir / SEALED, encrypted=True),
            }
        for share in self.shares.values():
            share.path.mkdir(parents=True, exist_ok=True)
            os.chown(share.path, account.pw_uid, account.pw_gid)
            share.path.chmod(0o755)
        seeded = self.readonly.path / SEEDED_FILE if READONLY in self.shares else None
        if seeded is not None and not seeded.exists():
            seeded.write_bytes(SEEDED_TEXT)
        _allow_traversal(self.root / "shares")
        self.conf_path.write_text(self._conf())
        self._add_samba_user()
        return self

    def _conf(self) -> str:
        root = self.root
        global_section = f"""\
[global]
server role = standalone server
workgroup = EDGESTORE
netbios name = EDGESTORE-NAS
server string = Edgestore test NAS
# Private: only this address and port, no NetBIOS (no nmbd, no port 139), no system-wide state.
interfaces = {self.host}
bind interfaces only = yes
smb ports = {self.port}
disable netbios = yes
server min protocol = SMB2_02
server max protocol = SMB3_11
map to guest = never
restrict anonymous = 2
passdb backend = tdbsam:{self.private_dir}/passdb.tdb
private dir = {self.private_dir}
state directory = {root}/state
lock directory = {root}/lock
cache directory = {root}/cache
pid directory = {root}/pid
ncalrpc dir = {root}/ncalrpc
log file = {self.log_dir}/smbd.log
max log size = 0
log level = 1
# No printers, no registry shares, no home directories, no DNS or user-share lookups outside the temp dir.
load printers = no
printing = bsd
printcap name = /dev/null
disable spoolss = yes
registry shares = no
usershare max shares = 0
obey pam restrictions = no
"""
        global_section += "".join(f"{key} = {value}\n" for key, value in self.extra_global.items())
        return global_section + "\n" + "\n".join(share.conf(self.user) for share in self.shares.values())

    def _add_samba_user(self) -> None:
        """Put the user into the private tdbsam (smbpasswd -L: local mode, no running smbd needed)."""
        result = subprocess.run(
            [_tool("smbpasswd") or "smbpasswd", "-L", "-c", str(self.conf_path), "-a", "-s", self.user],
            input=f"{self.password}\n{self.password}\n",
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"smbpasswd failed ({result.returncode}): {result.stdout}{result.stderr}")

    # --- lifecycle ----------------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> SambaServer:
        """Start smbd in the foreground and return once a real SMB login and tree connect succeed."""
        if self.running:
            return self
        if not self.conf_path.exists():
            self.prepare()
        binary = smbd_binary()
        if binary is None:
            raise RuntimeError("smbd is not installed")
        with (self.log_dir / "smbd.stdout").open("ab") as out:
            # Its own session: stop() signals the whole group, which includes the smbd children and any
            # samba-dcerpcd that smbd starts on demand.
            self.process = subprocess.Popen(
                [binary, "--foreground", "--no-process-group", "-s", str(self.conf_path)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        last_error: BaseException | None = None
        while time.monotonic() < deadline:
            if not self.running:
                raise RuntimeError(
                    f"smbd exited with {self.process.returncode if self.process else '?'}:\n{self.log_tail()}"
                )
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    pass
                self.check_login()
                return
            except Exception as error:  # refused, or smbprotocol errors while smbd is still initialising
                last_error = error
            time.sleep(0.05)
        raise TimeoutError(f"smbd on {self.host}:{self.port} not ready: {last_error!r}\n{self.log_tail()}")

    def check_login(self) -> None:
        """Log in and list `recordings` over a private connection, leaving smbclient's global pool alone."""
        cache: dict[str, Any] = {}
        try:
            smbclient.listdir(
                self.unc(RECORDINGS), connection_cache=cache, connection_timeout=2, **self.client_kwargs()
            )
        finally:
            smbclient.reset_connection_cache(fail_on_error=False, connection_cache=cache)

    def stop(self, timeout: float = 5.0) -> None:
        """Terminate smbd (its whole process group), then kill whatever lingers, and wait until the port is free."""
        process = self.process
        if process is None:
            return
        if self._signal_group(signal.SIGTERM):
            self._signal_group(signal.SIGCONT)  # a frozen smbd acts on SIGTERM only once it runs again
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout)
        # Children can outlive the leader for a moment (or the leader ignored SIGTERM): sweep the group.
        self._signal_group(signal.SIGKILL)
        process.wait(timeout)
        self._wait_port_closed(timeout)

    def _signal_group(self, sig: int) -> bool:
        """Signal smbd's process group (our own session, see `start`); False when nothing is left in it."""
        assert self.process is not None
        try:
            os.killpg(self.process.pid, sig)
        except ProcessLookupError:
            return False
        return True

    def _wait_port_closed(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    pass
            except OSError:
                return
            time.sleep(0.05)
        raise TimeoutError(f"something still listens on {self.host}:{self.port} after smbd stopped")

    def freeze(self) -> None:
        """SIGSTOP smbd: the port still accepts TCP (the kernel completes handshakes) but nothing answers.

        This is the NAS that hangs rather than goes away, the case where only client-side timeouts help.
        """
        assert self.running
        self._signal_group(signal.SIGSTOP)

    def thaw(self) -> None:
        """Undo `freeze()`."""
        self._signal_group(signal.SIGCONT)

    def restart(self) -> SambaServer:
        self.stop()
        return self.start()

    # --- share contents -----------------------------------------------------------------------------------------

    def wipe(self, share: str = RECORDINGS) -> None:
        """Empty a share's folder (keeping the folder and its owner), so each test starts from a blank NAS."""
        for entry in self.shares[share].path.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()


def unique_name(prefix: str = "t") -> str:
    """A file or folder name no other test (or earlier run on the session-wide server) uses."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


# --- pytest fixtures ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def samba(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SambaServer]:
    """One private smbd for the whole test session; skipped where Samba is missing or we cannot add users."""
    if smbd_binary() is None or _tool("smbpasswd") is None:
        pytest.skip("Samba (smbd, smbpasswd) is not installed; see TESTING_PACKAGES in scripts/os-packages.sh")
    if os.geteuid() != 0:
        pytest.skip("the private smbd needs root: it adds a system user and switches to it for share access")
    server = SambaServer(tmp_path_factory.mktemp("samba")).prepare().start()
    yield server
    server.stop()


@pytest.fixture
def samba_clean(samba: SambaServer) -> Iterator[SambaServer]:
    """The session's smbd, running, with an empty `recordings` share before and after the test."""
    if not samba.running:  # an outage test that failed half-way
        samba.start()
    samba.wipe(RECORDINGS)
    yield samba
    if not samba.running:
        samba.start()
    samba.wipe(RECORDINGS)
