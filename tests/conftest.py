from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.vapix.transport import Endpoint, VapixTransport
from tests.support.device_process import CREDENTIALS, DEFAULT_USERS, SERIAL, RunningDevice

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _start(data_dir: Path, extra: list[str]) -> RunningDevice:
    args = [arg for user in DEFAULT_USERS for arg in ("--user", user)] + ["--serial", SERIAL, *extra]
    return RunningDevice(data_dir, args).start()


@pytest.fixture
def device_factory(tmp_path: Path) -> Iterator[object]:
    """Start cameras with extra arguments; all are stopped at the end of the test."""
    started: list[RunningDevice] = []

    def start(*extra: str, data_dir: Path | None = None) -> RunningDevice:
        device = _start(data_dir or tmp_path / f"camera{len(started)}", list(extra))
        started.append(device)
        return device

    yield start
    for device in started:
        if device.process and device.process.poll() is None:
            device.stop()


@pytest.fixture
def device(device_factory) -> RunningDevice:
    """A fresh camera for one test, with an admin, an operator and a viewer."""
    return device_factory()


@pytest.fixture(scope="module")
def shared_device(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDevice]:
    """One camera for a module's read-only tests."""
    device = _start(tmp_path_factory.mktemp("shared-camera"), [])
    yield device
    device.stop()


def endpoint_of(device: RunningDevice) -> Endpoint:
    return Endpoint(device.host, device.http_port)


def transport_for(device: RunningDevice, role: str = "admin", **kwargs) -> VapixTransport:
    user, password = CREDENTIALS[role]
    return VapixTransport(endpoint_of(device), user, password, **kwargs)
