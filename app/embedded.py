"""The embedded virtual camera: a child process of the app, with its own data dir, stopped with the app.

It is the same program as `edgestore-device`, talked to over HTTP and RTSP like any camera. Its admin
password is made fresh at every start and handed over in the environment, never on the command line (which
other users can read) and never saved by the app.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from app.cameras.config import EMBEDDED_ID, CameraConfig

USERS_ENV = "EDGESTORE_DEVICE_USERS"
FROZEN_DEVICE_FLAG = "--edgestore-device"  # the frozen app runs the camera when started with this first
USERNAME = "edgestore"


class EmbeddedCameraError(Exception):
    """The virtual camera could not be started; the message says where its log is."""


@dataclass(frozen=True)
class EmbeddedEndpoints:
    http_url: str
    rtsp_url: str
    password: str

    def camera_config(self) -> CameraConfig:
        host_port = self.http_url.split("://", 1)[1]
        host, _, port = host_port.rpartition(":")
        return CameraConfig("Virtual camera", host.strip("[]"), int(port), USERNAME, id=EMBEDDED_ID)


def device_command(args: list[str]) -> list[str]:
    if getattr(sys, "frozen", False):
        return [sys.executable, FROZEN_DEVICE_FLAG, *args]
    return [sys.executable, "-m", "device", *args]


class EmbeddedCamera:
    def __init__(self, data_dir: Path, start_timeout: float = 30.0) -> None:
        self.data_dir = data_dir
        self._timeout = start_timeout
        self._process: subprocess.Popen[str] | None = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    async def start(self) -> EmbeddedEndpoints:
        if self.running:
            raise EmbeddedCameraError("the virtual camera is already running")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        password = secrets.token_urlsafe(18)
        env = {**os.environ, USERS_ENV: f"{USERNAME}:{password}:admin", "PYTHONUNBUFFERED": "1"}
        log = (self.data_dir / "device.log").open("ab")
        args = [
            "--data-dir",
            str(self.data_dir),
            "--http-port",
            "0",
            "--rtsp-port",
            "0",
            "--log-level",
            "INFO",
            "--exit-with-parent",
        ]
        # stdin stays open as a lifeline: if this app dies, the camera reads EOF and stops.
        # Popen returns at once; the blocking reads of its output run in a thread below.
        self._process = subprocess.Popen(  # noqa: ASYNC220
            device_command(args),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            env=env,
            text=True,
            encoding="utf-8",
        )
        log.close()
        try:
            http, rtsp = await asyncio.wait_for(asyncio.to_thread(self._read_listeners), self._timeout)
        except (TimeoutError, EmbeddedCameraError) as exc:
            await self.stop()
            raise EmbeddedCameraError(f"the virtual camera did not start; see {self.data_dir / 'device.log'}") from exc
        return EmbeddedEndpoints(http, rtsp, password)

    def _read_listeners(self) -> tuple[str, str]:
        assert self._process is not None
        assert self._process.stdout is not None
        urls: dict[str, str] = {}
        for line in self._process.stdout:
            for kind in ("HTTP", "RTSP"):
                prefix = f"{kind} listening on "
                if line.startswith(prefix):
                    urls[kind] = line[len(prefix) :].strip()
            if len(urls) == 2:
                return urls["HTTP"], urls["RTSP"]
        raise EmbeddedCameraError("the virtual camera exited while starting")

    async def stop(self, timeout: float = 10.0) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        if process.stdin:
            process.stdin.close()  # the camera's lifeline: it stops cleanly at EOF
        process.terminate()  # and SIGTERM, for a camera that does not watch its stdin
        try:
            await asyncio.to_thread(process.wait, timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            await asyncio.to_thread(process.wait)
        for pipe in (process.stdin, process.stdout):
            if pipe:
                pipe.close()
