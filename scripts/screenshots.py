"""Screenshots of the real app for the README: Edgestore on its virtual camera under Xvfb.

    DISPLAY=:99 .venv/bin/python scripts/screenshots.py docs/screenshots

The app is built exactly as `edgestore` builds it (Fleet, CamerasController, MainWindow, the embedded camera);
the script only plays the installer: it records a short clip on the SD card, binds a share on a private Samba
server (as the tests start it; needs root and smbd), opens each tab and takes the X screen with ImageMagick's
`import`. Passwords go to an in-memory keyring, as in the tests, so the no-keyring banner does not hide the
panels.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
import qasync
from PySide6.QtWidgets import QApplication

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.cameras.config import EMBEDDED_ID
from app.cameras.fleet import CameraState, Fleet
from app.cameras.secrets import SecretStore
from app.paths import AppPaths
from app.storage.share_actions import ShareActions, ShareSettings
from tests.support.memory_keyring import MemoryKeyring
from tests.support.samba import RECORDINGS, SambaServer
from tests.support.waiting import until
from ui.controllers.cameras import CamerasController
from ui.main_window import DISKS_TAB, SHARES_TAB, MainWindow
from ui.theme import Theme, apply_theme


def grab(path: Path) -> None:
    subprocess.run(["import", "-window", "root", str(path)], check=True)
    print(f"wrote {path}")


async def play(window: MainWindow, app: QApplication, out: Path, work: Path) -> None:
    controller = window.controller
    fleet = controller.fleet
    controller.start()
    await until(lambda: (e := fleet.entries.get(EMBEDDED_ID)) is not None and e.state is CameraState.ONLINE, 60)
    entry = fleet.entries[EMBEDDED_ID]
    password = fleet.saved_password(EMBEDDED_ID) or ""
    base = f"http://{entry.config.host}:{entry.config.port}"
    async with httpx.AsyncClient(auth=httpx.DigestAuth(entry.config.username, password), timeout=120) as client:
        answer = await client.post(
            f"{base}/local/edgestore/scenario/disks/SD_DISK/sample-recording", params={"seconds": "30"}
        )
        answer.raise_for_status()
    samba = SambaServer(work / "samba").prepare().start()
    try:
        transport = fleet.transport(EMBEDDED_ID)
        assert transport is not None
        async with transport:
            settings = ShareSettings(
                "Office NAS", samba.host, RECORDINGS, samba.user, samba.password, smb_version="3.0", port=samba.port
            )
            await ShareActions(transport).add(settings, bind=True)
        window.table.selectRow(0)
        window.storage.refresh()

        def ready() -> bool:
            overview = window.storage.overview
            return overview is not None and any(share.disk_id for share in overview.shares)

        await until(ready, 30)
        await asyncio.sleep(1.0)
        grab(out / "cameras.png")
        window.tabs.setCurrentIndex(DISKS_TAB)
        window.disks_panel.select_disk("SD_DISK")
        await asyncio.sleep(1.0)
        grab(out / "disks.png")
        window.tabs.setCurrentIndex(SHARES_TAB)
        await asyncio.sleep(1.0)
        grab(out / "shares.png")
        window.tabs.setCurrentIndex(DISKS_TAB)
        apply_theme(app, Theme.DARK)
        window.set_theme(Theme.DARK)
        await asyncio.sleep(1.0)
        grab(out / "disks-dark.png")
        window.set_theme(Theme.SYSTEM)
    finally:
        await controller.shutdown()
        samba.stop()


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots").resolve()
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv[:1])
    app.setApplicationName("Edgestore")
    apply_theme(app, Theme.SYSTEM)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with tempfile.TemporaryDirectory(prefix="edgestore-shots-") as tmp:
        work = Path(tmp)
        fleet = Fleet(AppPaths(work / "config", work / "data"), SecretStore(MemoryKeyring()))
        window = MainWindow(CamerasController(fleet))
        window.move(0, 0)
        window.resize(1280, 800)
        window.show()
        with loop:
            loop.run_until_complete(play(window, app, out, work))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
