"""The installer and the operator see a camera's storage events as they happen: a card pulled shows in the Disks
tab's banner and the camera list within a second or two, a recording that starts lights the recording line and
appears on the timeline, though the panels would not poll for ten minutes. A camera that does not stream its
events is polled every 5 s, and the panels say which of the two they do."""

from __future__ import annotations

import asyncio
import time

import pytest
from PySide6.QtCore import QEvent, QObject

from app.cameras.live_storage import StorageFeed
from app.storage.overview import SHARE_DISK, DiskView, StorageOverview
from app.vapix.disks import Disk, DiskStatus
from app.vapix.networkshare import NetworkShare
from app.vapix.recordings import RecordingControl
from tests.conftest import transport_for
from tests.device.disk_client import SD, scenario
from tests.ui.desktop import Desktop
from tests.ui.test_camera_list import storage_text
from ui.disks.model import COLUMNS
from ui.main_window import TIMELINE_TAB
from ui.timeline.view import AXIS_HEIGHT, KIND_COLOURS, TRACK_HEIGHT
from ui.widgets.storage_feed import NOT_RECORDING, RECORDING

pytestmark = [pytest.mark.gui, pytest.mark.functional]

NEVER = 600.0  # no poll or refresh comes within a story: only the camera's events can explain what it shows
SOON = 3.0  # how long the user may wait for an event to show


def no_polling(desktop: Desktop) -> None:
    storage = desktop.storage
    storage.poll_seconds = storage.live_poll_seconds = NEVER
    timeline = desktop.window.controller.timeline
    timeline.refresh_seconds = timeline.live_refresh_seconds = NEVER


def status_of_card(desktop: Desktop) -> str:
    panel = desktop.window.disks_panel
    row = next(i for i, v in enumerate(panel.model.views) if v.disk_id == SD)
    return panel.model.index(row, COLUMNS.index("Status")).data()


async def timed(desktop: Desktop, predicate: object, timeout: float = SOON) -> float:
    """Wait for what the user waits for; how long it took."""
    began = time.monotonic()
    await desktop.wait(predicate, timeout)  # type: ignore[arg-type]
    return time.monotonic() - began


async def test_a_pulled_card_and_a_recording_show_at_once_in_the_disks_tab_and_the_camera_list(desktop, device):
    no_polling(desktop)
    camera = await desktop.add_camera(device, "Entrance")
    await desktop.open_camera(camera)
    panel = desktop.window.disks_panel
    feed = panel.feed_bar
    await desktop.wait(lambda: feed.source.text() == "Live events", 10)
    assert "as it happens" in feed.source.toolTip()
    assert desktop.storage.interval() == NEVER
    await desktop.wait(lambda: feed.recording.text() == NOT_RECORDING)
    assert not panel.banner.isVisible()
    await desktop.wait(lambda: storage_text(desktop, camera) == "1/1 OK · not recording")

    await asyncio.to_thread(scenario, device, "pull")
    assert await timed(desktop, lambda: panel.banner.isVisible()) < SOON
    assert panel.banner.text() == "SD card was removed or cannot be reached: the camera has stopped recording to it."
    assert status_of_card(desktop) == "no disk"
    await desktop.wait(lambda: storage_text(desktop, camera) == "No storage", SOON)

    await asyncio.to_thread(scenario, device, "insert")
    assert await timed(desktop, lambda: not panel.banner.isVisible()) < SOON
    assert status_of_card(desktop) == "OK"
    await desktop.wait(lambda: storage_text(desktop, camera) == "1/1 OK · not recording", SOON)

    await asyncio.to_thread(scenario, device, "fail")
    await timed(desktop, lambda: "SD card has failed" in panel.banner.text())
    await desktop.wait(lambda: "1 failed" in storage_text(desktop, camera), SOON)
    await asyncio.to_thread(scenario, device, "fail", state="no")
    await desktop.wait(lambda: "has failed" not in panel.banner.text(), SOON)
    assert "not mounted" in panel.banner.text()  # the camera let go of the card; the read says so

    panel.select_disk(SD)
    await desktop.wait(lambda: panel.actions_by_name["mount"].isEnabled())
    watch = desktop.watch_action()
    panel.actions_by_name["mount"].trigger()
    ok, message, _ = await desktop.finish_action(watch)
    assert ok, message
    await desktop.wait(lambda: not panel.banner.isVisible(), SOON)

    async with transport_for(device) as transport:
        control = RecordingControl(transport)
        recording_id = await control.record(SD)
        assert await timed(desktop, lambda: feed.recording.text() == RECORDING) < SOON
        assert feed.recording.property("kind") == "on"
        await desktop.wait(lambda: storage_text(desktop, camera) == "1/1 OK · recording", SOON)
        await control.stop(recording_id)
    assert await timed(desktop, lambda: feed.recording.text() == NOT_RECORDING) < SOON
    await desktop.wait(lambda: storage_text(desktop, camera) == "1/1 OK · not recording", SOON)
    assert feed.source.text() == "Live events"


class PaintCounter(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.paints = 0

    def eventFilter(self, _watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.Paint:
            self.paints += 1
        return False


async def test_a_recording_appears_on_the_timeline_at_once_and_grows_though_nothing_refreshes(desktop, device):
    no_polling(desktop)
    camera = await desktop.add_camera(device, "Entrance")
    desktop.window.tabs.setCurrentIndex(TIMELINE_TAB)
    timeline = desktop.window.controller.timeline
    view = desktop.window.timeline_panel.view
    key = f"{camera}/{SD}"
    await desktop.wait(lambda: view.track(key) is not None)
    await desktop.wait(lambda: desktop.window.controller.fleet.is_live(camera), 10)
    assert timeline.interval(camera) == NEVER
    track = view.track(key)
    assert len(track.spans) == 0

    async with transport_for(device) as transport:
        control = RecordingControl(transport)
        recording_id = await control.record(SD)
        assert await timed(desktop, lambda: any(s.recording_id == recording_id for s in track.spans.ongoing)) < SOON
        (span,) = track.spans.ongoing
        view.show_range(span.start - 5, span.start + 25)
        counter = PaintCounter()
        view.installEventFilter(counter)
        await asyncio.sleep(2.5)  # no refresh, no event: only the panel's repaint makes the span grow on screen
        view.removeEventFilter(counter)
        assert counter.paints >= 2
        picture = view.grab().toImage()
        row_y = AXIS_HEIGHT + TRACK_HEIGHT * view.tracks.index(track) + TRACK_HEIGHT // 2
        colour = KIND_COLOURS[span.kind]
        assert picture.pixelColor(int(view._x(span.start + 2.0)), row_y) == colour  # grown to now at paint time
        assert picture.pixelColor(int(view._x(time.time() + 10)), row_y) != colour  # not into the future
        await control.stop(recording_id)
    assert await timed(desktop, lambda: not track.spans.ongoing) < SOON
    (stopped,) = [s for s in track.spans.spans if s.recording_id == recording_id]
    assert stopped.stop is not None
    assert stopped.stop - stopped.start >= 2.0  # the 2.5 s waited, less a frame or so at either end

    await asyncio.to_thread(scenario, device, "pull")
    assert await timed(desktop, lambda: view.track(key) is None) < SOON  # the card's track goes with the card
    await asyncio.to_thread(scenario, device, "insert")
    await timed(desktop, lambda: (t := view.track(key)) is not None and len(t.spans) == 1)


async def test_a_camera_without_the_event_stream_is_polled_every_5_s_and_says_so(desktop, device):
    desktop.window.controller.fleet.live_events = False  # as a camera whose apidiscovery lacks the stream
    desktop.storage.poll_seconds = 5.0
    camera = await desktop.add_camera(device, "Entrance")
    await desktop.open_camera(camera)
    feed = desktop.window.disks_panel.feed_bar
    await desktop.wait(lambda: feed.source.text() == "Checked every 5 s")
    assert "every 5 s" in feed.source.toolTip()
    assert feed.recording.text() == NOT_RECORDING  # from the read: no recording is ongoing
    assert desktop.storage.interval() == 5.0
    assert desktop.window.controller.timeline.interval(camera) == desktop.window.controller.timeline.refresh_seconds
    assert desktop.window.shares_panel.feed_bar.source.text() == "Checked every 5 s"
    assert desktop.window.controller.fleet.live_storage(camera) is None


@pytest.mark.parametrize("live", [True, False])
async def test_the_shares_tab_names_a_lost_nas_and_says_how_it_learns_of_it(desktop, live):
    """Unit level (no NAS): the Shares tab shows what the controller hands it."""
    panel = desktop.window.shares_panel
    share = NetworkShare("1", "Office NAS", "10.0.0.5", "recordings", "", SHARE_DISK)
    lost = Disk(
        SHARE_DISK, "", 0, 0, 0, "fifo", False, False, False, DiskStatus.DISCONNECTED, "", "", "S1", "", False, False
    )
    desktop.storage.feed_changed.emit(StorageFeed(live, recording=True, poll_seconds=5.0))
    assert panel.feed_bar.source.text() == ("Live events" if live else "Checked every 5 s")
    assert panel.feed_bar.recording.isHidden()  # the Disks tab says whether the camera records
    panel.on_overview(StorageOverview([DiskView(lost)], [share]))
    assert not panel.banner.isHidden()
    assert panel.banner.text() == "Office NAS cannot be reached; recording to it has stopped."
    panel.on_overview(StorageOverview([DiskView(lost)], []))
    assert panel.banner.isHidden()  # unbound: nothing records there, nothing is lost
