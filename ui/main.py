"""`edgestore`: the desktop application. Also `--version` and `--self-check`, which need no display."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication

from app import __version__
from app.paths import AppPaths


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="edgestore", description="Manage the edge storage of Axis cameras.")
    p.add_argument("--version", action="version", version=f"edgestore {__version__}")
    p.add_argument(
        "--self-check",
        action="store_true",
        help="start the virtual camera, connect to it, print what it is and exit (0 = all well)",
    )
    p.add_argument("--config-dir", type=Path, help="where settings are kept (default: the platform's)")
    p.add_argument("--data-dir", type=Path, help="where data, and the virtual camera, are kept")
    p.add_argument("--log-level", default="WARNING")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=args.log_level.upper())
    if args.self_check:
        from app.selfcheck import self_check

        return asyncio.run(self_check())
    return run_gui(AppPaths.default(args.config_dir, args.data_dir))


def run_gui(paths: AppPaths) -> int:
    import qasync

    from app.cameras.fleet import Fleet
    from app.cameras.secrets import SecretStore
    from ui.controllers.cameras import CamerasController
    from ui.main_window import MainWindow
    from ui.theme import apply_theme, saved_theme

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Edgestore")
    apply_theme(app, saved_theme(paths.config_dir))
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    closed = asyncio.Event()
    app.aboutToQuit.connect(closed.set)
    _quit_on_signals(app)
    controller = CamerasController(Fleet(paths, SecretStore()))
    window = MainWindow(controller)
    window.show()
    controller.start()
    with loop:
        loop.run_until_complete(closed.wait())
        loop.run_until_complete(controller.shutdown())
    return 0


def _quit_on_signals(app: QApplication) -> None:
    """Close properly (stopping the virtual camera) on Ctrl+C or a service manager's SIGTERM.

    Python runs signal handlers only between bytecodes, which Qt's C++ loop never executes while idle, so a
    short timer gives the interpreter a turn.
    """
    import signal

    from PySide6.QtCore import QTimer

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: app.quit())
    timer = QTimer(app)
    timer.timeout.connect(lambda: None)
    timer.start(250)


if __name__ == "__main__":
    raise SystemExit(main())
