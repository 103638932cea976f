"""`edgestore --self-check`: start the virtual camera, connect, read what it is, stop.

It proves a build (frozen or not) can run its camera and talk to it, without a display.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import TextIO

from app.cameras.connect import check_connection
from app.embedded import EmbeddedCamera, EmbeddedCameraError


async def self_check(out: TextIO = sys.stdout) -> int:
    with tempfile.TemporaryDirectory(prefix="edgestore-selfcheck-") as tmp:
        camera = EmbeddedCamera(Path(tmp) / "camera")
        try:
            endpoints = await camera.start()
        except EmbeddedCameraError as exc:
            print(f"self-check FAILED: {exc}", file=out)
            return 1
        try:
            config = endpoints.camera_config()
            report = await check_connection(config.endpoint, config.username, endpoints.password)
        finally:
            await camera.stop()
    if not report.ok or report.summary is None:
        print(f"self-check FAILED: {report.message}", file=out)
        return 1
    info, caps = report.summary.info, report.summary.capabilities
    print(f"camera: {info.full_name} ({info.model}), serial {info.serial}, firmware {info.firmware}", file=out)
    print("storage: " + ", ".join(f"{label}={value}" for label, value in caps.describe()), file=out)
    print("self-check OK", file=out)
    return 0
