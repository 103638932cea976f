"""The virtual camera as a real process on 127.0.0.1 with port 0, as users and the app start it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ADMIN = ("root", "admin-pass")
OPERATOR = ("op", "operator-pass")
VIEWER = ("view", "viewer-pass")
CREDENTIALS = {"admin": ADMIN, "operator": OPERATOR, "viewer": VIEWER}
DEFAULT_USERS = [f"{n}:{p}:{role}" for role, (n, p) in CREDENTIALS.items()]
SERIAL = "ACCC8E000001"


@dataclass
class RunningDevice:
    data_dir: Path
    args: list[str]
    process: subprocess.Popen[str] | None = None
    http_url: str = ""
    rtsp_url: str = ""
    output: list[str] = field(default_factory=list)

    @property
    def host(self) -> str:
        return self.http_url.split("://")[1].rsplit(":", 1)[0]

    @property
    def http_port(self) -> int:
        return int(self.http_url.rsplit(":", 1)[1])

    @property
    def rtsp_port(self) -> int:
        return int(self.rtsp_url.rsplit(":", 1)[1])

    def start(self, timeout: float = 20.0) -> RunningDevice:
        command = [
            sys.executable,
            "-m",
            "device",
            "--data-dir",
            str(self.data_dir),
            "--http-port",
            "0",
            "--rtsp-port",
            "0",
            *self.args,
        ]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        # stderr goes to a file in the data dir: readable after a failure, and an unread pipe would block a
        # camera that logs a lot.
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with (self.data_dir / "stderr.log").open("a") as log:
            self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True, env=env)
        self.output = []
        deadline = time.monotonic() + timeout
        assert self.process.stdout is not None
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError(f"device exited: {(self.data_dir / 'stderr.log').read_text()[-2000:]}")
            self.output.append(line.rstrip("\n"))
            if line.startswith("HTTP listening on "):
                self.http_url = line.split(" on ", 1)[1].strip()
            if line.startswith("RTSP listening on "):
                self.rtsp_url = line.split(" on ", 1)[1].strip()
            if self.http_url and self.rtsp_url:
                return self
        raise TimeoutError("device did not report its listeners")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
        code = self.process.wait(timeout)
        for pipe in (self.process.stdout, self.process.stderr):
            if pipe:
                pipe.close()
        return code

    def restart(self) -> RunningDevice:
        self.stop()
        self.http_url = self.rtsp_url = ""
        return self.start()
