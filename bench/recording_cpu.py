"""CPU the camera process spends per second of one recorded stream (640x360 @ 15 fps, synthetic source).
Run by hand from the repository root: `.venv/bin/python -m bench.recording_cpu [--seconds 30]`.

Measures the camera's own CPU time (user + system, from /proc/<pid>/stat, Linux only) over the same wall time
twice: idle, then while record.cgi records to the SD card; the difference is the stream's cost (render, encode,
mux, write)."""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import httpx

from tests.support.device_process import CREDENTIALS, DEFAULT_USERS, SERIAL, RunningDevice

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14 and 15 of the whole line)


def measure(pid: int, seconds: float) -> float:
    before, began = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    return (cpu_seconds(pid) - before) / (time.monotonic() - began)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--options", default="resolution=640x360&fps=15")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="edgestore-bench-") as tmp:
        users = [a for user in DEFAULT_USERS for a in ("--user", user)]
        device = RunningDevice(Path(tmp) / "camera", [*users, "--serial", SERIAL]).start()
        try:
            assert device.process is not None
            pid = device.process.pid
            time.sleep(2)  # start-up work done
            idle = measure(pid, args.seconds)
            auth = httpx.DigestAuth(*CREDENTIALS["operator"])
            url = f"{device.http_url}/axis-cgi/record/record.cgi"
            response = httpx.get(url, params={"diskid": "SD_DISK", "options": args.options}, auth=auth, timeout=20)
            response.raise_for_status()
            assert 'result="OK"' in response.text, response.text
            time.sleep(2)  # the encoder is warm, the first block open
            recording = measure(pid, args.seconds)
        finally:
            device.stop()
    print(f"idle camera:        {idle:.3f} CPU s per s")
    print(f"recording {args.options}: {recording:.3f} CPU s per s")
    print(f"one recorded stream: {recording - idle:.3f} CPU s per s ({(recording - idle) * 100:.1f}% of one core)")


if __name__ == "__main__":
    main()
