"""Entry point of the frozen (PyInstaller) Edgestore: one executable that is both the app and its camera.

A frozen app has no Python interpreter to run ``python -m device`` with, so the embedded virtual camera is
started as ``<this executable> --edgestore-device <camera args>`` (see ``app.embedded.device_command``).
This script sends that form to ``device.cli.main`` and everything else to ``ui.main.main``.

The imports are inside the branches so the camera child never loads Qt or the app's client code.
"""

from __future__ import annotations

import sys

# Must equal app.embedded.FROZEN_DEVICE_FLAG. Not imported from there, because that would load the app's
# HTTP client into every camera process; build.sh's --self-check fails at once if the two ever differ.
FROZEN_DEVICE_FLAG = "--edgestore-device"


def main(argv: list[str]) -> int:
    if argv[:1] == [FROZEN_DEVICE_FLAG]:
        from device.cli import main as device_main

        return device_main(argv[1:])
    from ui.main import main as app_main

    return app_main(argv)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
