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
import shutil
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
from app.schedule.week import WeekGrid
from app.storage.share_actions import ShareActions, ShareSettings
from app.vapix.recordings import RecordingControl
from app.vapix.transport import VapixTransport
from tests.support.memory_keyring import MemoryKeyring
from tests.support.samba import RECORDINGS, SambaServer
from tests.support.waiting import until
from ui.controllers.cameras import CamerasController
from ui.main_window import DISKS_TAB, SCHEDULE_TAB, SHARES_TAB, TIMELINE_TAB, MainWindow
from ui.theme import Theme, apply_theme
from ui.timeline.view import Selection


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
        await _recordings_tab(window, out, transport_again=fleet.transport(EMBEDDED_ID))
        await _schedule_tab(window, out)
    finally:
        await controller.shutdown()
        samba.stop()


async def _recordings_tab(window: MainWindow, out: Path, transport_again: VapixTransport | None) -> None:
    """Record 10 s of the synthetic source, open the Recordings tab and play from the middle of it."""
    assert transport_again is not None
    async with transport_again as transport:
        control = RecordingControl(transport)
        recording_id = await control.record("SD_DISK", "resolution=640x360&fps=15")
        await asyncio.sleep(10)
        await control.stop(recording_id)
    window.tabs.setCurrentIndex(TIMELINE_TAB)
    panel = window.timeline_panel
    await until(lambda: any(s.recording_id == recording_id for t in panel.view.tracks for s in t.spans.spans), 30)
    track = next(t for t in panel.view.tracks if any(s.recording_id == recording_id for s in t.spans.spans))
    span = next(s for s in track.spans.spans if s.recording_id == recording_id)
    assert span.stop is not None
    panel.view.show_range(span.start - 50, span.stop + 15)
    panel.on_track_clicked(track.key, span.start + 4)
    await asyncio.sleep(3.0)
    panel.player_panel.play_button.click()  # pause: the exact still, so the picture and the clock stay put
    await until(lambda: panel.player_panel.surface.showing_still, 20)
    await asyncio.sleep(0.5)
    grab(out / "recordings.png")
    await _export_range(window, track.key, span.start + 2, span.start + 7, out)


async def _export_range(window: MainWindow, key: str, start: float, stop: float, out: Path) -> None:
    """Select a range, open the export dialog (shot), queue the export into a temporary folder and show the
    finished job and the exported mark (shot)."""
    panel = window.timeline_panel
    panel.view.set_selection(Selection(key, start, stop))
    panel.export.trigger()
    dialog = panel.export_dialog
    assert dialog is not None
    await until(lambda: dialog.preview is not None, 30)
    folder = Path(tempfile.mkdtemp(prefix="edgestore-clips-"))
    dialog.folder.setText(str(folder))
    dialog.file_name.setText("entrance")
    await asyncio.sleep(0.5)
    grab(out / "export.png")
    dialog.add_button.click()
    queue = panel.queue_panel
    await until(lambda: queue.model.rowCount() == 1 and queue.model.job(0).state.finished, 60)
    panel.view.set_selection(Selection(key, stop + 0.5, stop + 2.5))
    await asyncio.sleep(0.5)
    grab(out / "recordings-export.png")
    shutil.rmtree(folder, ignore_errors=True)


async def _schedule_tab(window: MainWindow, out: Path) -> None:
    """Office hours painted on the week grid (not saved), as an installer sees it before pressing Save."""
    window.tabs.setCurrentIndex(SCHEDULE_TAB)
    await until(lambda: window.controller.schedule.overview is not None, 30)
    office = WeekGrid.of((day, hour) for day in range(5) for hour in range(8, 17))
    window.schedule_panel.grid.set_grid(office)
    await asyncio.sleep(1.0)
    grab(out / "schedule.png")


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
