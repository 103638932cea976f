"""An operator exports a range of a recording: the dialog asks the camera first and shows where the clip really
starts and how big it is, the job goes to the queue, its bar reaches 100 %, and the file plays; a recording the
camera no longer has is said in words, and mismatched ZIP passwords keep Add off."""

from __future__ import annotations

import asyncio
import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from app.exports.history import ExportHistory
from app.exports.jobs import JobState
from app.timeline.spans import Span
from tests.device.disk_client import SD, sample
from tests.device.test_recording_api import listing
from ui.controllers.exports import ExportController
from ui.export.dialog import ASKING, local_time
from ui.export.queue_panel import PROGRESS_COLUMN, PROGRESS_ROLE, ExportQueuePanel

pytestmark = [pytest.mark.gui, pytest.mark.functional]

ZONE = ZoneInfo("Europe/Stockholm")
GOP = 2.0


@pytest.fixture(scope="module")
def camera(tmp_path_factory):
    """A camera with one 10 s recording whose key frames are 2 s apart."""
    from tests.conftest import _start

    device = _start(tmp_path_factory.mktemp("export-ui"), [])
    recording_id = sample(device, seconds=10, blockseconds=2)
    entry = listing(device)[recording_id]
    span = Span(
        recording_id,
        datetime.fromisoformat(entry["starttime"]).timestamp(),
        datetime.fromisoformat(entry["stoptime"]).timestamp(),
    )
    yield device, span
    device.stop()


@pytest.fixture
async def exports(desktop, camera, tmp_path):
    """The export controller on the desktop's cameras, with the queue panel shown, as the Recordings tab has it."""
    device, _span = camera
    camera_id = await desktop.add_camera(device, "Entrance")
    controller = ExportController(desktop.window.controller.fleet, ExportHistory(tmp_path / "exports.json"))
    panel = ExportQueuePanel(controller)
    desktop.qtbot.addWidget(panel)
    panel.show()
    yield controller, panel, camera_id
    await controller.shutdown()


async def ffprobe(path: Path) -> dict:
    command = ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)]
    done = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


async def test_a_range_is_previewed_queued_and_saved_as_a_playable_file(desktop, camera, exports, tmp_path):
    _device, span = camera
    controller, panel, camera_id = exports
    exported: list[tuple[str, float, float]] = []
    controller.exported.connect(lambda key, t0, t1: exported.append((key, t0, t1)))
    assert panel.empty.isVisible()
    assert not panel.table.isVisible()
    t0, t1 = span.start + 3.3, span.stop - 1.5  # between key frames: the camera starts 1.3 s earlier

    dialog = controller.open_dialog(camera_id, SD, "Entrance · SD card", [span], t0, t1, ZONE, desktop.window)
    assert dialog.isVisible()
    assert not dialog.isModal()
    assert dialog.start_label.text() == ASKING
    assert local_time(t0, ZONE) in dialog.range_label.text()
    assert not dialog.add_button.isEnabled()
    await desktop.wait(lambda: dialog.preview is not None)

    snapped = dialog.preview.start
    assert abs(snapped.timestamp() - (span.start + 2)) < 0.2
    assert dialog.start_label.text().startswith(local_time(snapped, ZONE))
    assert "1.3 s earlier than selected" in dialog.start_label.text()
    assert dialog.size_label.text().startswith("about ")
    assert dialog.size_label.text().endswith(" kB")
    folder = tmp_path / "clips"
    folder.mkdir()
    dialog.folder.setText(str(folder))
    dialog.file_name.setText("door")
    assert dialog.add_button.isEnabled(), dialog.hint.text()
    desktop.click(dialog.add_button)

    await desktop.wait(lambda: panel.model.rowCount() == 1)
    assert panel.table.isVisible()
    assert not panel.empty.isVisible()
    job = panel.model.job(0)
    await desktop.wait(lambda: job.state.finished, timeout=30)
    assert job.state is JobState.DONE, job.message
    assert panel.model.data(panel.model.index(0, PROGRESS_COLUMN), PROGRESS_ROLE) == 100
    assert panel.model.data(panel.model.index(0, PROGRESS_COLUMN)) == "100 %"
    (saved,) = folder.iterdir()
    assert saved.name == "door.mkv"
    probed = await ffprobe(saved)
    assert probed["streams"][0]["codec_name"] == "h264"
    assert abs(float(probed["format"]["duration"]) - (t1 - snapped.timestamp())) <= GOP
    key = f"{camera_id}/{SD}"
    assert exported == [(key, snapped.timestamp(), pytest.approx(t1, abs=0.01))]
    assert controller.history.ranges(key) == [(exported[0][1], exported[0][2])]

    panel.clear_button.click()
    assert panel.empty.isVisible()
    assert controller.queue.jobs == []


async def test_a_recording_the_camera_no_longer_has_is_said_in_words(desktop, camera, exports):
    _device, span = camera
    controller, _panel, camera_id = exports
    gone = Span("20200101_000000_ABCD_ACCC8E000001", span.start, span.stop)
    dialog = controller.open_dialog(
        camera_id, SD, "Entrance · SD card", [gone], gone.start, gone.stop, UTC, desktop.window
    )
    await desktop.wait(lambda: dialog.refusal)
    assert dialog.outcome.text() == "The recording is not on that disk any more."
    assert dialog.outcome.isVisible()
    assert not dialog.add_button.isEnabled()
    assert dialog.add_button.toolTip() == dialog.outcome.text()
    dialog.reject()


async def test_mismatched_zip_passwords_keep_add_off(desktop, camera, exports, tmp_path):
    _device, span = camera
    controller, _panel, camera_id = exports
    dialog = controller.open_dialog(
        camera_id, SD, "Entrance · SD card", [span], span.start, span.stop, UTC, desktop.window
    )
    await desktop.wait(lambda: dialog.preview is not None)
    dialog.folder.setText(str(tmp_path))
    assert dialog.zip.isEnabled()  # the virtual camera offers zip-aes256
    assert not dialog.password.isEnabled()
    dialog.zip.setChecked(True)
    assert dialog.password.isEnabled()
    assert not dialog.add_button.isEnabled()
    assert dialog.hint.text() == "An encrypted export needs a password."
    dialog.password.setText("correct horse")
    dialog.confirm.setText("correct hose")
    assert not dialog.add_button.isEnabled()
    assert dialog.hint.text() == "The passwords do not match."
    dialog.confirm.setText("correct horse")
    assert dialog.add_button.isEnabled()
    dialog.usb.setChecked(True)
    dialog.usb_path.setText("../outside.zip")
    assert not dialog.add_button.isEnabled()
    dialog.reject()
