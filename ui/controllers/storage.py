"""StorageController: the selected camera's disks and shares, kept current, and the actions on them.

Panels call its slots and listen to its signals; the coroutines, the transport and the order of API calls live in
`app.storage`. One action runs at a time per camera, as the camera itself allows one job per disk; a second
request while busy is refused with a message rather than queued behind the user's back.

Storage events (a card pulled, a share lost, wear over the alert level, a recording started) reach the panels
within a second where the camera streams them (the Fleet follows its events): an event wakes the read at once,
and reads are then only a slow safety net (`live_poll_seconds`) for what no event announces. A camera without
the stream, or whose stream is down right now, is read every `poll_seconds`, as before. `feed_changed` tells the
panels which of the two applies, so the user knows how fresh the picture is.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import TypeVar

from PySide6.QtCore import QObject, Signal

from app.cameras.capabilities import ApiSupport
from app.cameras.fleet import CameraState, Fleet
from app.cameras.live_storage import (
    SAFETY_POLL_SECONDS,
    LiveChange,
    LiveStorage,
    StorageFeed,
    live_problems,
    poll_seconds,
)
from app.storage.disk_actions import ActionFailed, DiskActions
from app.storage.nas_split import SplitError, split_limits
from app.storage.overview import SHARE_DISK, StorageOverview
from app.storage.share_actions import ShareActions, ShareSettings
from app.vapix.errors import VapixError
from app.vapix.storage_limit import StorageLimits
from app.vapix.transport import VapixTransport
from ui.controllers.tasks import TaskGroup

POLL_SECONDS = 5.0
LIVE_POLL_SECONDS = SAFETY_POLL_SECONDS
R = TypeVar("R")


class StorageController(QObject):
    """Signals:
    overview_changed(object): a StorageOverview, or None when the camera's storage cannot be read; also when
        only `live_problems` changed.
    busy_changed(bool): an action started or ended.
    progress(str, int): the running action's step and percent.
    finished(bool, str): the action ended; ok and a sentence for the user.
    loss_estimated(str, object): a disk ID and the LossEstimate for formatting it.
    share_tested(bool, str): a connection test from the share dialog ended.
    connection_options(str, int): the SMB version and port the camera mounts its share with.
    feed_changed(object): a StorageFeed (live events or polled, and whether the camera records), or None when
        no camera is selected.
    """

    overview_changed = Signal(object)
    busy_changed = Signal(bool)
    progress = Signal(str, int)
    finished = Signal(bool, str)
    loss_estimated = Signal(str, object)
    share_tested = Signal(bool, str)
    connection_options = Signal(str, int)
    feed_changed = Signal(object)

    def __init__(
        self,
        fleet: Fleet,
        poll_seconds: float = POLL_SECONDS,
        parent: QObject | None = None,
        live_poll_seconds: float = LIVE_POLL_SECONDS,
    ) -> None:
        super().__init__(parent)
        self.fleet = fleet
        self.camera_id: str | None = None
        self.overview: StorageOverview | None = None
        self.live_problems: dict[str, str] = {}  # disk ID -> what events say the overview cannot (a card pulled)
        self.feed: StorageFeed | None = None
        self.poll_seconds = poll_seconds
        self.live_poll_seconds = live_poll_seconds
        self._tasks = TaskGroup(lambda exc: self.finished.emit(False, f"Unexpected error: {exc}"))
        self._poll: asyncio.Task[None] | None = None
        self._busy = False
        self._wake = asyncio.Event()
        self._event_during_read = False
        self._unsubscribe = fleet.subscribe_live(self._on_live)

    @property
    def busy(self) -> bool:
        return self._busy

    @property
    def support(self) -> ApiSupport | None:
        return self.fleet.api_support(self.camera_id) if self.camera_id else None

    # --- which camera ------------------------------------------------------------------------------------------

    def select(self, camera_id: str | None) -> None:
        if camera_id == self.camera_id:
            return
        self.camera_id = camera_id
        self.overview = None
        self.live_problems = {}
        self.overview_changed.emit(None)
        self._update_feed()
        if self._poll is not None:
            self._poll.cancel()
            self._poll = None
        if camera_id is not None:
            self._poll = self._tasks.spawn(self._watch(camera_id))

    def refresh(self) -> None:
        self._wake.set()

    def interval(self) -> float:
        """Seconds between reads of the selected camera's storage now: long while its events arrive live."""
        live = self.fleet.live_storage(self.camera_id) if self.camera_id else None
        return poll_seconds(live, self.poll_seconds, self.live_poll_seconds)

    def _on_live(self, camera_id: str, _state: LiveStorage, change: LiveChange) -> None:
        """A storage event of the selected camera: read now. A stream that drops or reconnects wakes the read
        too, so its interval changes at once and what happened meanwhile is read. What the first connection
        only makes known needs no read: the camera was read when selected."""
        if camera_id == self.camera_id:
            if not change.first:
                self._event_during_read = True
                self._wake.set()
            self._update_feed()

    def _update_feed(self) -> None:
        feed = None
        if self.camera_id is not None:
            live = self.fleet.live_storage(self.camera_id)
            read = bool(self.overview.recording_disks) if self.overview is not None else None
            feed = StorageFeed.of(live, read, self.poll_seconds)
        if feed != self.feed:
            self.feed = feed
            self.feed_changed.emit(feed)

    async def _watch(self, camera_id: str) -> None:
        while self.camera_id == camera_id:
            self._wake.clear()  # before the read: an event during it wakes the next one, it is not lost
            self._event_during_read = False
            entry = self.fleet.entries.get(camera_id)
            online = entry is not None and entry.state is CameraState.ONLINE
            overview = await self.fleet.read_storage(camera_id) if online else None
            if self.camera_id != camera_id:
                return
            if self._wake.is_set() and self._event_during_read:
                continue  # the read may predate the event: shown beside it, it would say a pulled card is locked
            problems = live_problems(overview, self.fleet.live_storage(camera_id)) if overview else {}
            if overview != self.overview or problems != self.live_problems:  # offline: unknown, not as it was
                self.overview, self.live_problems = overview, problems
                self.overview_changed.emit(overview)
            self._update_feed()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval()):  # not wait_for: on 3.11 it can lose a cancel
                    await self._wake.wait()

    # --- disk actions --------------------------------------------------------------------------------------------

    def format(self, disk_id: str, filesystem: str | None) -> None:
        self._disk_action(lambda a: a.format(disk_id, filesystem))

    def mount(self, disk_id: str) -> None:
        self._disk_action(lambda a: a.mount(disk_id))

    def unmount(self, disk_id: str) -> None:
        self._disk_action(lambda a: a.unmount(disk_id))

    def set_locked(self, disk_id: str, locked: bool) -> None:
        self._disk_action(lambda a: a.set_locked(disk_id, locked))

    def check(self, disk_id: str) -> None:
        self._disk_action(lambda a: a.check(disk_id))

    def repair(self, disk_id: str) -> None:
        self._disk_action(lambda a: a.repair(disk_id))

    def set_required_fs(self, disk_id: str, filesystem: str) -> None:
        self._disk_action(lambda a: a.set_required_fs(disk_id, filesystem))

    def enable_encryption(self, disk_id: str, passphrase: str, filesystem: str | None) -> None:
        self._disk_action(lambda a: a.enable_encryption(disk_id, passphrase, filesystem))

    def disable_encryption(self, disk_id: str, filesystem: str | None) -> None:
        self._disk_action(lambda a: a.disable_encryption(disk_id, filesystem))

    def change_passphrase(self, disk_id: str, old: str, new: str) -> None:
        self._disk_action(lambda a: a.change_passphrase(disk_id, old, new))

    def set_cleanup(self, disk_id: str, policy: str, max_age_days: int) -> None:
        self._disk_action(lambda a: a.set_cleanup(disk_id, policy, max_age_days))

    def set_alert_levels(self, disk_id: str, wear_percent: int, temperature_celsius: int) -> None:
        self._disk_action(lambda a: a.set_alert_levels(disk_id, wear_percent, temperature_celsius))

    def set_limit(self, disk_id: str, size_kb: int) -> None:
        self._disk_action(lambda a: a.set_limit(disk_id, size_kb))

    def estimate_loss(self, disk_id: str) -> None:
        """What formatting would delete, for the confirmation (answered by loss_estimated)."""

        async def estimate(transport: VapixTransport) -> None:
            self.loss_estimated.emit(disk_id, await DiskActions(transport).loss_estimate(disk_id))

        self._tasks.spawn(self._with_transport(estimate, quiet=True))

    # --- share actions -------------------------------------------------------------------------------------------

    def add_share(self, settings: ShareSettings, bind: bool) -> None:
        self._share_action(lambda a: a.add(settings, bind))

    def modify_share(self, share_id: str, settings: ShareSettings) -> None:
        self._share_action(lambda a: a.modify(share_id, settings))

    def bind_share(self, share_id: str) -> None:
        self._share_action(lambda a: a.bind(share_id))

    def unbind_share(self, share_id: str) -> None:
        self._share_action(lambda a: a.unbind(share_id))

    def remove_share(self, share_id: str) -> None:
        self._share_action(lambda a: a.remove(share_id))

    def test_share(self, settings: ShareSettings, share_id: str | None = None) -> None:
        """The dialog's Test button: the result comes as share_tested as well as finished."""

        async def test(actions: ShareActions) -> str:
            try:
                message = await actions.test(settings, share_id)
            except ActionFailed as exc:
                self.share_tested.emit(False, str(exc))
                raise
            self.share_tested.emit(True, message)
            return message

        self._share_action(test)

    def read_connection_options(self) -> None:
        async def read(transport: VapixTransport) -> None:
            version, port = await ShareActions(transport).connection_options()
            self.connection_options.emit(version, port)

        self._tasks.spawn(self._with_transport(read, quiet=True))

    def split_nas(self, percents: dict[str, float], total_kb: int) -> None:
        """Set each camera's NetworkShare storage limit to its percentage of the NAS (see app.storage.nas_split)."""
        self._start(self._split(percents, total_kb))

    async def _split(self, percents: dict[str, float], total_kb: int) -> str:
        try:
            limits = split_limits(total_kb, percents)
        except SplitError as exc:
            raise ActionFailed(str(exc)) from None
        failed: list[str] = []
        for number, (camera_id, size_kb) in enumerate(limits.items()):
            entry = self.fleet.entries.get(camera_id)
            name = entry.config.name if entry else camera_id
            self.progress.emit(f"Setting the limit on {name}", 100 * number // len(limits))
            transport = self.fleet.transport(camera_id)
            if transport is None:
                failed.append(f"{name}: no password")
                continue
            try:
                async with transport:
                    await StorageLimits(transport).set_limit(SHARE_DISK, size_kb)
            except VapixError as exc:
                failed.append(f"{name}: {exc}")
        self.progress.emit("Done", 100)
        if failed:
            raise ActionFailed("Some limits were not set: " + "; ".join(failed))
        return f"The NAS is split between {len(limits)} cameras."

    # --- plumbing ------------------------------------------------------------------------------------------------

    def _disk_action(self, action: Callable[[DiskActions], Awaitable[str]]) -> None:
        self._start(self._with_transport(lambda t: action(DiskActions(t, self.progress.emit))))

    def _share_action(self, action: Callable[[ShareActions], Awaitable[str]]) -> None:
        self._start(self._with_transport(lambda t: action(ShareActions(t, self.progress.emit))))

    def _start(self, work: Awaitable[str | None]) -> None:
        if self._busy:
            self.finished.emit(False, "Another action is still running on this camera; wait until it has ended.")
            if asyncio.iscoroutine(work):
                work.close()
            return
        if self._tasks.spawn(self._run(work)) is None and asyncio.iscoroutine(work):
            work.close()  # shut down: nothing will run it

    async def _run(self, work: Awaitable[str | None]) -> None:
        self._busy = True
        self.busy_changed.emit(True)
        try:
            message = await work
        except ActionFailed as exc:
            self.finished.emit(False, str(exc))
        except VapixError as exc:
            self.finished.emit(False, f"The camera could not be reached: {exc}")
        else:
            self.finished.emit(True, message or "Done.")
        finally:
            self._busy = False
            self.busy_changed.emit(False)
            self.refresh()

    async def _with_transport(
        self,
        work: Callable[[VapixTransport], Awaitable[R]],
        quiet: bool = False,
    ) -> R | None:
        transport = self.fleet.transport(self.camera_id) if self.camera_id else None
        if transport is None:
            if quiet:
                return None
            raise ActionFailed("The camera is not connected: select it and enter its password.")
        async with transport:
            try:
                return await work(transport)
            except VapixError:
                if quiet:
                    return None
                raise

    async def shutdown(self) -> None:
        self._unsubscribe()
        self.camera_id = None
        await self._tasks.cancel_all()
