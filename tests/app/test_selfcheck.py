"""`edgestore --self-check` proves an installation can run its camera and talk to it."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.functional


def test_version_names_the_app():
    out = subprocess.run([sys.executable, "-m", "app", "--version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    assert re.fullmatch(r"edgestore \d+\.\d+\.\d+\n", out.stdout)


def test_self_check_starts_the_camera_reads_it_and_exits_zero():
    out = subprocess.run([sys.executable, "-m", "app", "--self-check"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert re.search(r"serial [0-9A-F]{12}", out.stdout)
    assert "SD card=True" in out.stdout
    assert out.stdout.rstrip().endswith("self-check OK")
