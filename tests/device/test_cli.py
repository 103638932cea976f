"""Someone starts the virtual camera from a terminal (or the app starts it) and stops it again."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from device.cli import USERS_ENV
from tests.support.device_process import ADMIN, DEFAULT_USERS, RunningDevice

pytestmark = pytest.mark.functional

PASSWORD_LINE = re.compile(r"^Created admin user root with password (\S+) ")


def user_args(users: list[str] = DEFAULT_USERS) -> list[str]:
    return [arg for user in users for arg in ("--user", user)]


@pytest.fixture
def cameras():
    """Cameras a test starts itself (without the conftest's users or serial); all stopped at the end."""
    started: list[RunningDevice] = []

    def start(data_dir: Path, *args: str) -> RunningDevice:
        camera = RunningDevice(data_dir, list(args))
        started.append(camera)
        return camera.start()

    yield start
    for camera in started:
        if camera.process and camera.process.poll() is None:
            camera.stop()


def usergroup(camera: RunningDevice, user: str, password: str, **kwargs) -> httpx.Response:
    return httpx.get(f"{camera.http_url}/axis-cgi/usergroup.cgi", auth=httpx.DigestAuth(user, password), **kwargs)


def realm_of(camera: RunningDevice) -> str:
    challenge = httpx.get(f"{camera.http_url}/axis-cgi/usergroup.cgi").headers["www-authenticate"]
    found = re.search(r'realm="([^"]+)"', challenge)
    assert found, challenge
    return found.group(1)


def run_to_exit(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "device", "--data-dir", str(data_dir), "--http-port", "0", "--rtsp-port", "0"]
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=30)


# --- First start -----------------------------------------------------------------------------------------------


def test_a_first_start_without_users_creates_root_and_shows_its_password_once(cameras, tmp_path):
    camera = cameras(tmp_path / "cam")
    shown = [m.group(1) for m in map(PASSWORD_LINE.match, camera.output) if m]
    assert len(shown) == 1, camera.output
    password = shown[0]

    response = usergroup(camera, "root", password)
    assert response.status_code == 200
    assert response.text == "root\nadmin operator viewer\n"
    assert password not in (tmp_path / "cam" / "users.json").read_text(encoding="utf-8")  # only hashes are kept

    camera.restart()
    assert not any(PASSWORD_LINE.match(line) for line in camera.output), camera.output
    assert usergroup(camera, "root", password).status_code == 200


def test_a_start_with_users_shows_no_password(cameras, tmp_path):
    camera = cameras(tmp_path / "cam", *user_args())
    assert not any(PASSWORD_LINE.match(line) for line in camera.output)
    assert usergroup(camera, *ADMIN).status_code == 200


def test_users_can_come_from_the_environment_instead_of_the_command_line(cameras, tmp_path, monkeypatch):
    monkeypatch.setenv(USERS_ENV, "envadmin:env-secret:admin\nenvview:view-secret:viewer\n")
    camera = cameras(tmp_path / "cam")
    assert not any(PASSWORD_LINE.match(line) for line in camera.output)
    assert usergroup(camera, "envadmin", "env-secret").text == "envadmin\nadmin operator viewer\n"
    assert usergroup(camera, "envview", "view-secret").text == "envview\nviewer\n"
    assert "env-secret" not in " ".join(camera.process.args)


def test_port_zero_picks_free_ports_and_reports_them(cameras, tmp_path):
    camera = cameras(tmp_path / "cam", *user_args())
    http = [m for m in (re.fullmatch(r"HTTP listening on http://127\.0\.0\.1:(\d+)", x) for x in camera.output) if m]
    rtsp = [m for m in (re.fullmatch(r"RTSP listening on rtsp://127\.0\.0\.1:(\d+)", x) for x in camera.output) if m]
    assert len(http) == len(rtsp) == 1, camera.output
    http_port, rtsp_port = int(http[0].group(1)), int(rtsp[0].group(1))
    assert http_port > 0
    assert rtsp_port > 0
    assert http_port != rtsp_port
    assert usergroup(camera, *ADMIN).status_code == 200


# --- Stopping --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_the_camera_cleanly_and_quickly(cameras, tmp_path, sig):
    camera = cameras(tmp_path / "cam", *user_args())
    started = time.monotonic()
    assert camera.stop(sig, timeout=5) == 0
    assert time.monotonic() - started < 5
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{camera.http_url}/axis-cgi/usergroup.cgi", timeout=2)


def test_stopping_while_a_player_is_connected_exits_0_without_logging_errors(cameras, tmp_path):
    camera = cameras(tmp_path / "cam", *user_args())
    assert camera.process is not None
    with socket.create_connection((camera.host, camera.rtsp_port), timeout=5) as player:
        player.sendall(b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n")
        assert player.recv(1000).startswith(b"RTSP/1.0 200 OK")
        camera.process.send_signal(signal.SIGTERM)
        assert camera.process.wait(5) == 0
    camera.stop()
    logged = (camera.data_dir / "stderr.log").read_text()
    assert "Traceback" not in logged, logged
    assert " ERROR " not in logged, logged


def test_exit_with_parent_stops_the_camera_when_its_stdin_closes(tmp_path):
    command = [sys.executable, "-m", "device", "--data-dir", str(tmp_path / "cam")]
    command += ["--http-port", "0", "--rtsp-port", "0", *user_args(), "--exit-with-parent"]
    process = subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        assert process.stdin is not None
        lines = [process.stdout.readline(), process.stdout.readline()]
        assert lines[1].startswith("RTSP listening on "), lines
        started = time.monotonic()
        process.stdin.close()
        assert process.wait(timeout=10) == 0
        assert time.monotonic() - started < 5
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for pipe in (process.stdout, process.stderr):
            if pipe:
                pipe.close()


# --- Bad arguments ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--serial", "XYZ"], "serial"),
        (["--serial", "ACCC8E00000"], "serial"),  # 11 digits
        (["--timezone", "Mars/Base"], "time zone"),
        (["--user", "bad"], "NAME:PASSWORD:ROLE"),
        (["--user", "alice:secret:god"], "role"),
        (["--tls-cert", "cert.pem"], "--tls-key"),
    ],
    ids=["serial-letters", "serial-short", "timezone", "user-shape", "user-role", "tls-half"],
)
def test_a_bad_argument_exits_with_code_2_and_a_readable_message(tmp_path, args, says):
    done = run_to_exit(*args, data_dir=tmp_path / "cam")
    assert done.returncode == 2
    assert done.stderr.startswith("edgestore-device: "), done.stderr
    assert says in done.stderr
    assert "Traceback" not in done.stderr
    assert "listening" not in done.stdout


def test_version_prints_and_exits(tmp_path):
    done = run_to_exit("--version", data_dir=tmp_path / "cam")
    assert done.returncode == 0
    assert done.stdout.startswith("edgestore-device ")


# --- Identity --------------------------------------------------------------------------------------------------


def test_the_serial_given_once_is_kept_and_names_the_realm(cameras, tmp_path):
    data_dir = tmp_path / "cam"
    first = cameras(data_dir, *user_args(), "--serial", "accc8e:0a:0b:0c")
    assert realm_of(first) == "AXIS_ACCC8E0A0B0C"
    first.stop()

    again = cameras(data_dir)  # no --serial, no --user: both come from the data dir
    assert realm_of(again) == "AXIS_ACCC8E0A0B0C"
    assert usergroup(again, *ADMIN).status_code == 200
    serial = httpx.get(
        f"{again.http_url}/axis-cgi/param.cgi",
        params={"action": "list", "group": "Properties.System.SerialNumber"},
        auth=httpx.DigestAuth(*ADMIN),
    )
    assert serial.text == "root.Properties.System.SerialNumber=ACCC8E0A0B0C\n"


def test_a_camera_without_a_serial_makes_an_axis_one_and_keeps_it(cameras, tmp_path):
    camera = cameras(tmp_path / "cam", *user_args())
    realm = realm_of(camera)
    assert re.fullmatch(r"AXIS_ACCC8E[0-9A-F]{6}", realm)
    camera.restart()
    assert realm_of(camera) == realm


# --- HTTPS -----------------------------------------------------------------------------------------------------


def test_tls_serves_https_with_a_self_signed_certificate(cameras, tmp_path):
    camera = cameras(tmp_path / "cam", *user_args(), "--tls")
    assert camera.http_url.startswith("https://127.0.0.1:")
    response = usergroup(camera, *ADMIN, verify=False)
    assert response.status_code == 200
    assert response.text == "root\nadmin operator viewer\n"
    assert (tmp_path / "cam" / "tls" / "cert.pem").exists()
    with pytest.raises(httpx.ConnectError):
        usergroup(camera, *ADMIN)  # verified: the certificate is self-signed
