"""The camera's disks and everything done to them: mount, format, check, repair, lock, encryption, health,
alert levels and storage limits, with the storage-disruption and storage-alert states on the event bus.

Operations raise DiskError with a sentence for the API's `description`; long ones take a progress callback
and run their file work in a thread, so the HTTP API and the recorder keep going.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Protocol

from device.events.bus import STORAGE_ALERT, STORAGE_DISRUPTION, EventBus
from device.events.topics import STORAGE_FAILURE
from device.persist import read_json, write_json_atomic
from device.state import DeviceState
from device.storage import crypto, sharestore
from device.storage.cleanup import BlockInfo, Rules, choose_blocks
from device.storage.disk import SD_CARD, SHARE, CameraDiskState, CardMeta, Disk, DiskStatus
from device.storage.files import StorePath, rmtree, tree_size
from device.storage.index import IndexUnusable
from device.storage.sample import write_sample_recording
from device.storage.sharestore import ShareConnection
from device.storage.store import CheckReport, RecordingStore, RepairReport
from device.tasks import cancel_and_wait

log = logging.getLogger(__name__)
Progress = Callable[[float], None]
GIB = 1024**3
RECONNECT_FIRST = 1.0
RECONNECT_MAX = 30.0
"""Backoff between attempts to reach a lost share: 1, 2, 4, ... seconds, then every 30 s, as long as it is bound."""
SHARE_CHECK_SECONDS = 5.0
INDEX_PUBLISH_SECONDS = 30.0


class DiskListener(Protocol):
    """Told before a disk stops being writable and after it becomes writable (the recorder)."""

    async def disk_going(self, disk_id: str) -> None: ...

    async def disk_ready(self, disk_id: str) -> None: ...


class DiskError(Exception):
    """An operation refused or failed; the message is what the API reports."""


def _no_progress(_fraction: float) -> None:
    """Progress nobody watches: mounts at start-up and inserts run outside a job."""


class DiskManager:
    def __init__(self, state: DeviceState, bus: EventBus, sd_capacity: int = 32 * GIB) -> None:
        self.state = state
        self.bus = bus
        self._path = state.data_dir / "storage.json"
        saved = read_json(self._path, {})
        self.disks: dict[str, Disk] = {}
        for spec, root, capacity, present in (
            (SD_CARD, state.data_dir / "sdcard", sd_capacity, True),
            # The share's disk has no storage until a share is bound (network share API).
            (SHARE, state.data_dir / "networkshare", 0, False),
        ):
            camera = CameraDiskState(**saved.get(spec.disk_id, {"present": present}))
            if spec is SHARE:
                camera.present = False
            self.disks[spec.disk_id] = Disk(spec, root, capacity, camera)
        self._busy: set[str] = set()
        self._cleaner: asyncio.Task[None] | None = None
        self._store_lock = threading.RLock()
        self._cleaning: asyncio.Future[int] | None = None
        self.listeners: list[DiskListener] = []
        self.retention: Callable[[str], timedelta | None] = lambda _recording_id: None
        """How long a recording is kept whatever the disk's rules say (its recording group's retention time)."""
        self._pending: set[asyncio.Task[None]] = set()
        self._reconnecting: dict[str, asyncio.Task[None]] = {}
        self._watcher: asyncio.Task[None] | None = None
        self._published: dict[str, tuple[tuple[int, ...], float]] = {}
        state.params.subscribe(self._on_param)

    # --- lifecycle -------------------------------------------------------------------------------------------

    async def start(self) -> None:
        for disk in self.disks.values():
            disk.enabled_at_boot = self._param(disk, "Enabled") == "yes"
            if disk.camera.present and disk.card() is None and disk.spec is SD_CARD:
                disk.write_card(CardMeta(self._param(disk, "FileSystem")))  # a new card comes formatted
            if disk.camera.present and self._param(disk, "MountOnBoot") == "yes":
                try:
                    await self.mount(disk.id)
                except DiskError as exc:
                    log.warning("%s not mounted at start: %s", disk.id, exc)
                except Exception:  # no card problem may keep the camera from starting
                    log.exception("%s could not be mounted at start", disk.id)
            self._publish(disk)
        loop = asyncio.get_running_loop()
        self._cleaner = loop.create_task(self.run_cleaner(), name="cleaner")
        self._watcher = loop.create_task(self.run_share_watch(), name="share-watch")

    async def stop(self) -> None:
        for task in [self._cleaner, self._watcher, *self._reconnecting.values()]:
            await cancel_and_wait(task)
        self._reconnecting.clear()
        await self._cleanup_finished()
        for disk in self.disks.values():
            await self._publish_index(disk)
            self._close(disk)
        self.save()

    def save(self) -> None:
        for disk in self.disks.values():
            disk.camera.bytes_written += disk.space.take_written()
        write_json_atomic(self._path, {d.id: d.camera.to_json() for d in self.disks.values()})

    # --- lookups ---------------------------------------------------------------------------------------------

    def disk(self, disk_id: str) -> Disk:
        disk = self.disks.get(disk_id)
        if disk is None:
            raise DiskError(f"Unknown disk ID '{disk_id}'.")
        return disk

    def locked(self, disk: Disk) -> bool:
        return self._param(disk, "Locked") == "yes"

    def writable(self, disk: Disk) -> bool:
        return disk.mounted and not disk.readonly_mount and not self.locked(disk) and not self.full(disk)

    def full(self, disk: Disk) -> bool:
        """No room for recording: the card is (nearly) full, or the recordings reached the storage limit."""
        if not disk.mounted:
            return False
        over_limit = disk.camera.limit_kb > 0 and self.used_by_recordings(disk) >= disk.camera.limit_kb * 1024
        return over_limit or disk.space.free < self.free_floor(disk)

    @staticmethod
    def free_floor(disk: Disk) -> int:
        return min(max(disk.capacity // 100, 4 * 1024 * 1024), disk.capacity // 4)

    def used_by_recordings(self, disk: Disk) -> int:
        """What the recordings' blocks take, from the index (the index and card metadata are not recordings)."""
        with self._store_lock:
            return 0 if disk.store is None else disk.store.index.total_block_bytes()

    # --- mount -----------------------------------------------------------------------------------------------

    async def mount(self, disk_id: str, progress: Progress = _no_progress) -> str:
        disk = self.disk(disk_id)
        if disk.mounted:
            return "The disk is already mounted."
        self._check_usable(disk)
        if not disk.enabled_at_boot:
            raise DiskError("The disk is disabled (Storage.Enabled=no); enable it and restart the camera.")
        if disk.spec is not SHARE:
            return await self._mount(disk, progress)
        await self._connect_share(disk)
        try:
            return await self._mount(disk, progress)
        except OSError as exc:  # the NAS went away between connecting and opening the store
            self._close(disk)
            disk.reachable = False
            self._publish(disk)
            raise DiskError(f"The network share cannot be reached: {exc.strerror or exc}") from None

    async def _mount(self, disk: Disk, progress: Progress) -> str:
        card = disk.card()
        required = self._param(disk, "RequiredFileSystem")
        # A required file system formats a card that has another one, unless the card is locked.
        if (card is None or (required != "none" and card.file_system != required)) and not self.locked(disk):
            await self._format(disk, required if required != "none" else disk.spec.file_systems[0], progress)
            card = disk.card()
        problem = disk.encryption_status()
        if problem is not None:
            self._publish(disk)
            raise DiskError(f"The disk cannot be mounted: {problem.value}.")
        assert card is not None
        auto_repair = self._param(disk, "AutoRepair") == "yes" and not self.locked(disk)
        try:
            store = self._open_store(disk)
        except IndexUnusable as exc:
            if not auto_repair or disk.camera.readonly_switch:
                raise DiskError(f"The disk's index is damaged ({exc}); run repair.cgi.") from None
            log.info("%s: %s; rebuilding it on mount", disk.id, exc)
            store = self._new_store(disk)
            await asyncio.to_thread(store.rebuild, progress)
        # A share's index may be a copy published before an outage: always compare it with the files.
        if (auto_repair and card.file_system == "ext4") or card.file_system == "cifs":
            try:
                report = await asyncio.to_thread(store.verify, lambda f: progress(f / 2))
                if not report.ok:
                    log.info("%s: %s; repairing on mount", disk.id, report.describe())
                    await asyncio.to_thread(store.rebuild, lambda f: progress(0.5 + f / 2))
            except BaseException:  # a NAS lost mid-check: the index connection must not outlive the mount
                store.close()
                raise
        if card.file_system == "ext4" and os.name == "posix":
            # MountPointPermissions sets the mount point's mode, on ext4 volumes only (the spec's table); the
            # camera itself always keeps full access, or a mode like 0000 would stop it recording.
            disk.root.chmod(int(self._param(disk, "MountPointPermissions"), 8) | 0o700)
        disk.store = store
        disk.readonly_mount = disk.camera.readonly_switch
        self._publish(disk)
        await self._ready(disk)
        return "The disk is mounted."

    async def unmount(self, disk_id: str) -> str:
        disk = self.disk(disk_id)
        self._stop_reconnecting(disk)  # unmounted on purpose: no more attempts to reach a lost share
        if not disk.mounted:
            return "The disk is already unmounted."
        await self._going(disk)
        await self._cleanup_finished()
        await self._publish_index(disk)
        self._close(disk)
        self.save()
        self._publish(disk)
        return "The disk is unmounted."

    # --- format, check, repair -------------------------------------------------------------------------------

    async def format(self, disk_id: str, file_system: str | None, progress: Progress = _no_progress) -> str:
        disk = self.disk(disk_id)
        self._check_usable(disk)
        if self.locked(disk):
            raise DiskError("The disk is locked and cannot be formatted. Unlock it with lock.cgi.")
        if disk.camera.readonly_switch:
            raise DiskError("The card is write-protected; slide its lock switch off first.")
        chosen = self._format_target(disk, file_system)
        was_mounted = disk.mounted
        if was_mounted:
            await self._going(disk)
            await self._cleanup_finished()
        self._close(disk)
        self._publish(disk)
        if disk.spec is SHARE:
            await self._connect_share(disk)  # formatting a share empties the camera's folder on it
        await self._format(disk, chosen, lambda f: progress(f * 0.9))
        if was_mounted:
            await self.mount(disk.id)
        return f"The disk is formatted with {chosen}."

    async def check(self, disk_id: str, progress: Progress = _no_progress) -> str:
        _disk, store = self._offline_store(disk_id, "checked")
        try:
            report: CheckReport = await asyncio.to_thread(store.verify, progress)
        finally:
            store.close()
        if not report.ok:
            raise DiskError(report.describe())
        return report.describe()

    async def repair(self, disk_id: str, progress: Progress = _no_progress) -> str:
        disk, store = self._offline_store(disk_id, "repaired")
        if self.locked(disk):
            store.close()
            raise DiskError("The disk is locked and cannot be repaired. Unlock it with lock.cgi.")
        try:
            report: RepairReport = await asyncio.to_thread(store.rebuild, progress)
        finally:
            store.close()
        return report.describe()

    def preflight(self, action: str, disk_id: str, file_system: str | None = None) -> None:
        """Refuse a job before it starts, so the start response (not a failed job) says what is wrong."""
        disk = self.disk(disk_id)
        if disk_id in self._busy:
            raise DiskError("Another job is running on this disk; wait until it has finished.")
        if action == "unmount":
            return
        self._check_usable(disk)
        if action == "mount" and not disk.enabled_at_boot:
            raise DiskError("The disk is disabled (Storage.Enabled=no); enable it and restart the camera.")
        if action in ("format", "repair") and disk.camera.readonly_switch:
            raise DiskError("The card is write-protected; slide its lock switch off first.")
        if action in ("format", "repair") and self.locked(disk):
            verb = "formatted" if action == "format" else "repaired"
            raise DiskError(f"The disk is locked and cannot be {verb}. Unlock it with lock.cgi.")
        if action == "format":
            self._format_target(disk, file_system)
        if action in ("checkdisk", "repair"):
            self._check_offline(disk, "checked" if action == "checkdisk" else "repaired")

    def begin_job(self, disk_id: str) -> None:
        """One job at a time per disk: two formats, or a check during a repair, would fight over the files."""
        if disk_id in self._busy:
            raise DiskError("Another job is running on this disk; wait until it has finished.")
        self._busy.add(disk_id)

    def end_job(self, disk_id: str) -> None:
        self._busy.discard(disk_id)

    # --- lock ------------------------------------------------------------------------------------------------

    def lock(self, disk_id: str, locked: bool) -> None:
        disk = self.disk(disk_id)
        self.state.params.put(f"Storage.{disk.spec.group}.Locked", "yes" if locked else "no")

    # --- encryption ------------------------------------------------------------------------------------------

    def enable_encryption(self, disk_id: str, passphrase: str) -> None:
        disk = self._encryptable(disk_id)
        check_passphrase(passphrase, "Invalid passphrase.")
        if disk.camera.encryption_enabled:
            raise EncryptionError(140, "Encryption is already enabled.")
        if disk.mounted:
            raise EncryptionError(
                160, "The disk is mounted. Encryption can only be enabled/disabled when the disk is unmounted."
            )
        card = disk.card()
        wrapped = card.key() if card else None
        salt = wrapped.salt if wrapped else crypto.new_salt()  # a card encrypted before keeps its salt
        disk.camera.encryption_enabled = True
        disk.camera.key_salt = salt.hex()
        disk.camera.passphrase_key = crypto.derive_key(passphrase, salt).hex()
        self.save()
        self._publish(disk)

    def disable_encryption(self, disk_id: str) -> None:
        disk = self._encryptable(disk_id)
        if disk.mounted:
            raise EncryptionError(
                160, "The disk is mounted. Encryption can only be enabled/disabled when the disk is unmounted."
            )
        disk.camera.encryption_enabled = False
        disk.camera.key_salt = disk.camera.passphrase_key = None
        self.save()
        self._publish(disk)

    def change_passphrase(self, disk_id: str, old: str, new: str) -> None:
        disk = self._encryptable(disk_id)
        check_passphrase(new, "Invalid new passphrase.", code=120)
        if not disk.mounted:
            raise EncryptionError(
                150, "The disk is unmounted. Passphrase can only be changed when the disk is mounted."
            )
        card = disk.card()
        wrapped = card.key() if card else None
        if card is None or wrapped is None or not disk.camera.encryption_enabled:
            raise EncryptionError(10, "The disk is not encrypted; enable encryption and format it first.")
        data_key = wrapped.unwrap(crypto.derive_key(old, wrapped.salt))
        if data_key is None:
            raise EncryptionError(130, "The oldpassphrase does not match the existing passphrase.")
        salt = crypto.new_salt()
        new_key = crypto.derive_key(new, salt)
        card.wrapped_key = crypto.WrappedKey.create(new_key, salt, data_key).to_json()
        disk.write_card(card)
        disk.camera.key_salt, disk.camera.passphrase_key = salt.hex(), new_key.hex()
        self.save()

    def _encryptable(self, disk_id: str) -> Disk:
        disk = self.disks.get(disk_id)
        if disk is None:
            raise EncryptionError(50, f"Invalid disk ID '{disk_id}'.")
        if not disk.spec.encryption:
            raise EncryptionError(100, "The disk does not support disk encryption.")
        return disk

    # --- health and alerts -----------------------------------------------------------------------------------

    def health(self, disk: Disk) -> tuple[int, int, int]:
        """(wear %, temperature K, overall health): -1 unsupported, -3 not present."""
        disk.camera.bytes_written += disk.space.take_written()
        missing = -3 if not disk.camera.present else -1
        return disk.wear, missing, missing

    def set_wear(self, disk_id: str, percent: int) -> None:
        """Scenario: age the card to `percent` of its rated endurance."""
        disk = self.disk(disk_id)
        disk.space.take_written()
        disk.camera.bytes_written = disk.capacity * disk.spec.endurance_cycles * percent // 100
        self.save()
        self._publish(disk)

    def set_alert_levels(self, disk_id: str, wear: int | None, temperature: int | None) -> None:
        disk = self.disk(disk_id)
        if wear is not None:
            disk.camera.alert_wear = wear
        if temperature is not None:
            disk.camera.alert_temperature = temperature
        self.save()
        self._publish(disk)

    def alert(self, disk: Disk) -> bool:
        wear, temperature, _ = self.health(disk)
        levels = ((wear, disk.camera.alert_wear), (temperature, disk.camera.alert_temperature))
        return any(value >= 0 and level is not None and value >= level for value, level in levels)

    # --- limits ----------------------------------------------------------------------------------------------

    def set_limit(self, disk_id: str, limit_kb: int) -> None:
        disk = self.disk(disk_id)
        disk.camera.limit_kb = limit_kb
        self.save()

    # --- cleanup ---------------------------------------------------------------------------------------------

    def cleanup(self, disk_id: str) -> int:
        """Apply the disk's retention rules now; returns the number of blocks deleted.

        Runs in a worker thread; the store lock keeps an unmount from closing the index under it."""
        with self._store_lock:
            return self._cleanup(self.disk(disk_id))

    async def clean(self, disk_id: str) -> int:
        self._cleaning = asyncio.ensure_future(asyncio.to_thread(self.cleanup, disk_id))
        # Shielded: cancelling the cleaner must not abandon a thread still inside the index.
        deleted = await asyncio.shield(self._cleaning)
        if deleted:
            self._publish(self.disk(disk_id))  # on the loop: bus subscribers never run in a worker thread
        return deleted

    def _cleanup(self, disk: Disk) -> int:
        store = disk.store
        if store is None or disk.readonly_mount or self.locked(disk):
            return 0
        locked = {meta.id for meta, _folder, is_locked in store.index.recordings() if is_locked}
        blocks = [
            BlockInfo(
                b.meta.token,
                b.meta.recording_id,
                b.meta.start,
                b.meta.stop,
                b.size,
                b.meta.recording_id in locked or b.meta.status != "Complete",
                self.retention(b.meta.recording_id),
            )
            for b in store.index.blocks()
        ]
        rules = Rules(
            self._param(disk, "CleanupPolicyActive"),
            int(self._param(disk, "CleanupMaxAge")),
            disk.camera.limit_kb * 1024,
            disk.capacity,
            self.free_floor(disk),
        )
        chosen = choose_blocks(blocks, self.state.clock.now(), rules, self.used_by_recordings(disk))
        recordings = {b.recording_id for b in blocks if b.token in chosen}
        for token in chosen:
            store.delete_block(token)
        for recording_id in recordings:
            store.delete_recording_if_empty(recording_id)
        if chosen:
            log.info("%s: cleanup deleted %d block(s)", disk.id, len(chosen))
        return len(chosen)

    async def _going(self, disk: Disk) -> None:
        for listener in self.listeners:
            await listener.disk_going(disk.id)

    async def _ready(self, disk: Disk) -> None:
        if self.writable(disk):
            for listener in self.listeners:
                await listener.disk_ready(disk.id)

    async def settle(self) -> None:
        """Wait for listeners told about a parameter change (a lock through param.cgi) to finish."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    async def _cleanup_finished(self) -> None:
        """Wait, without blocking the loop, for a cleanup running in a worker thread."""
        if self._cleaning is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await self._cleaning

    def refresh_state(self, disk_id: str) -> None:
        """Re-publish a disk's disruption and alert state after work done in a thread (writes fill the disk)."""
        self._publish(self.disk(disk_id))

    async def run_cleaner(self, interval: float = 60.0) -> None:
        """The periodic cleanup every mounted disk gets, as firmware runs it."""
        while True:
            for disk in self.disks.values():
                if disk.mounted:
                    await self.clean(disk.id)
            await asyncio.sleep(interval)

    def write_sample(self, disk_id: str, seconds: int, block_seconds: int, age_days: float = 0) -> str:
        """Scenario: a short real recording on the disk, as if recorded `age_days` ago."""
        disk = self.disk(disk_id)
        if disk.store is None or not self.writable(disk):
            raise DiskError("The disk is not mounted for writing.")
        start = self.state.clock.now() - timedelta(days=age_days, seconds=seconds)
        with self._store_lock:
            if disk.store is None:
                raise DiskError("The disk is not mounted for writing.")
            return write_sample_recording(disk.store, start, seconds, block_seconds)

    # --- network shares -------------------------------------------------------------------------------------

    async def attach_share(self, connector: Callable[[], ShareConnection], name: str, automatic: bool) -> None:
        """A share was bound to the NetworkShare disk: it is present from now on, and mounted at once (and at
        every start) when `automatic`; a share that cannot be reached yet is tried again with backoff."""
        disk = self.disks[SHARE.disk_id]
        disk.connector = connector
        disk.camera.present = True
        disk.reachable = True
        self.state.params.put(f"Storage.{SHARE.group}.FriendlyName", name)
        self._publish(disk)
        if not automatic:
            return
        try:
            await self.mount(disk.id)
        except DiskError as exc:
            log.warning("%s not mounted on bind: %s", disk.id, exc)
            self._start_reconnecting(disk)

    async def detach_share(self) -> None:
        """The share was unbound (it is unmounted: the API refuses otherwise)."""
        disk = self.disks[SHARE.disk_id]
        self._stop_reconnecting(disk)
        if disk.mounted:
            await self.unmount(disk.id)
        disk.connector = None
        disk.camera.present = False
        disk.reachable = True
        disk.capacity = 0
        disk.space.recount(0, 0)
        self.state.params.put(f"Storage.{SHARE.group}.FriendlyName", "")
        self._publish(disk)

    def rename_share(self, name: str) -> None:
        self.state.params.put(f"Storage.{SHARE.group}.FriendlyName", name)

    async def connection_lost(self, disk_id: str, reason: str) -> None:
        """A mounted share stopped answering (the recorder's write failed, or the watch could not reach it):
        recordings end at what reached the NAS, the disk reports disconnected with a storage disruption, and
        the camera keeps trying to reach it again (`recover_interrupted` closes the cut block on return)."""
        disk = self.disk(disk_id)
        if disk.spec is not SHARE or not disk.reachable or not disk.mounted:
            return
        log.warning("%s lost: %s", disk_id, reason)
        disk.reachable = False
        await self._going(disk)
        await self._cleanup_finished()
        self._close(disk)
        self._publish(disk)
        self._start_reconnecting(disk)

    async def run_share_watch(self, interval: float = SHARE_CHECK_SECONDS) -> None:
        """Keep a mounted share's size current, publish its index when it changed, and notice a NAS that went
        away while nothing was being written."""
        while True:
            await asyncio.sleep(interval)
            disk = self.disks[SHARE.disk_id]
            if not disk.mounted or disk.connection is None:
                continue
            try:
                await asyncio.to_thread(self._recount, disk)
                version, published = self._published.get(disk.id, ((), 0.0))
                now = self.state.clock.monotonic()
                if disk.index_path is not None and now - published >= INDEX_PUBLISH_SECONDS:
                    current = sharestore.index_version(disk.index_path)
                    if current != version:
                        await self._publish_index(disk)
                self._publish(disk)
            except OSError as exc:
                await self.connection_lost(disk.id, str(exc))
            except Exception:  # the watch must outlive any surprise, or a lost NAS goes unnoticed
                log.exception("%s: the share watch failed", disk.id)

    async def _connect_share(self, disk: Disk) -> None:
        if disk.connection is not None:
            return
        if disk.connector is None:
            raise DiskError("No network share is bound to this disk. Bind one with networkshare/bind.cgi.")
        try:
            disk.connection = await asyncio.to_thread(disk.connector)
        except OSError as exc:
            disk.reachable = False
            self._publish(disk)
            reason = exc.strerror or str(exc)
            if not reason.lower().startswith("the network share"):
                reason = f"the network share cannot be reached: {reason}"
            raise DiskError(reason[0].upper() + reason[1:]) from None
        disk.root = disk.connection.root
        disk.capacity = disk.connection.total
        disk.reachable = True

    async def _publish_index(self, disk: Disk) -> None:
        """Put the working copy of a share's index on the share (no-op for local disks or a lost share)."""
        connection, store = disk.connection, disk.store
        if connection is None or store is None or not disk.reachable:
            return
        version = sharestore.index_version(connection.index_path)
        try:
            await asyncio.to_thread(sharestore.publish_index, connection.index_path, connection.root)
        except OSError as exc:
            log.warning("%s: the index could not be published to the share: %s", disk.id, exc)
            return
        self._published[disk.id] = (version, self.state.clock.monotonic())

    def _start_reconnecting(self, disk: Disk) -> None:
        if disk.id in self._reconnecting and not self._reconnecting[disk.id].done():
            return
        task = asyncio.get_running_loop().create_task(self._reconnect(disk), name=f"reconnect-{disk.id}")
        self._reconnecting[disk.id] = task

    def _stop_reconnecting(self, disk: Disk) -> None:
        task = self._reconnecting.pop(disk.id, None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    async def _reconnect(self, disk: Disk) -> None:
        delay = RECONNECT_FIRST
        while disk.camera.present and not disk.mounted:
            await asyncio.sleep(delay)
            try:
                await self.mount(disk.id)
            except DiskError as exc:
                log.info("%s still unreachable (next try in %.0f s): %s", disk.id, min(delay * 2, RECONNECT_MAX), exc)
                delay = min(delay * 2, RECONNECT_MAX)
            except Exception:  # keep trying: giving up would leave the camera without its NAS for good
                log.exception("%s: reconnecting failed unexpectedly", disk.id)
                delay = min(delay * 2, RECONNECT_MAX)
            else:
                log.info("%s is back and mounted", disk.id)
        self._reconnecting.pop(disk.id, None)

    # --- scenarios (what an installer meets in the field) ----------------------------------------------------

    async def pull_card(self, disk_id: str) -> None:
        disk = self.disk(disk_id)
        await self._going(disk)
        await self._cleanup_finished()
        self._close(disk)
        disk.camera.present = False
        self.save()
        self._publish(disk)

    async def insert_card(self, disk_id: str) -> None:
        disk = self.disk(disk_id)
        disk.camera.present = True
        self.save()
        self._publish(disk)
        if self._param(disk, "MountOnBoot") == "yes":
            try:
                await self.mount(disk.id)
            except DiskError as exc:
                log.warning("inserted %s not mounted: %s", disk.id, exc)

    async def set_readonly(self, disk_id: str, readonly: bool) -> None:
        disk = self.disk(disk_id)
        if readonly:
            await self._going(disk)
        disk.camera.readonly_switch = readonly
        disk.readonly_mount = readonly and disk.mounted
        self.save()
        self._publish(disk)
        if not readonly:
            await self._ready(disk)

    async def set_failed(self, disk_id: str, failed: bool) -> None:
        disk = self.disk(disk_id)
        if failed:
            await self._going(disk)
            await self._cleanup_finished()
            self._close(disk)
        disk.camera.failed = failed
        self.save()
        self._publish(disk)

    # --- internals -------------------------------------------------------------------------------------------

    def _param(self, disk: Disk, name: str) -> str:
        return self.state.params.get(f"Storage.{disk.spec.group}.{name}")

    def _check_usable(self, disk: Disk) -> None:
        if not disk.camera.present:
            raise DiskError("No disk is present.")
        if disk.camera.failed:
            raise DiskError("The disk has failed: it does not respond to reads or writes.")

    def _format_target(self, disk: Disk, file_system: str | None) -> str:
        card = disk.card()
        chosen = file_system or (card.file_system if card else disk.spec.file_systems[0])
        if chosen not in disk.spec.file_systems:
            raise DiskError(
                f"The disk cannot be formatted with '{chosen}'; it supports {', '.join(disk.spec.file_systems)}."
            )
        return chosen

    def _offline_store(self, disk_id: str, verb: str) -> tuple[Disk, RecordingStore]:
        disk = self.disk(disk_id)
        self._check_usable(disk)
        self._check_offline(disk, verb)
        return disk, self._new_store(disk)

    def _check_offline(self, disk: Disk, verb: str) -> None:
        if disk.mounted:
            raise DiskError(f"The disk is mounted. Unmount it before it can be {verb}.")
        card = disk.card()
        if card is None or card.file_system != "ext4":
            raise DiskError(f"Only disks formatted with ext4 can be {verb}.")
        if disk.encryption_status() is not None:
            raise DiskError(f"Disk encryption is enabled without a valid passphrase ({disk.status.value}).")

    def _new_store(self, disk: Disk) -> RecordingStore:
        identity = self.state.identity
        key = disk.data_key()
        return RecordingStore(disk.root, disk.space, identity.zone, identity.serial, key, disk.index_path)

    def _recount(self, disk: Disk) -> None:
        """What the disk holds: the files under the card's folder, or, on a share, what the NAS says is used."""
        connection = disk.connection  # the watch runs this in a thread while the loop may unmount
        if connection is not None:
            total, free = connection.volume.usage()
            disk.capacity = total
            disk.space.recount(total - free, total)
        else:
            disk.space.recount(tree_size(disk.root))

    def _open_store(self, disk: Disk) -> RecordingStore:
        self._recount(disk)
        store = self._new_store(disk)
        store.index  # noqa: B018 - open (or create) the index now, not on the first write
        return store

    async def _format(self, disk: Disk, file_system: str, progress: Progress) -> None:
        disk.root.mkdir(parents=True, exist_ok=True)
        root = disk.root
        entries: list[StorePath] = await asyncio.to_thread(lambda: list(root.iterdir()))
        store = self._new_store(disk)
        await asyncio.to_thread(_erase, store, entries, progress)
        if disk.index_path is not None:
            sharestore.forget_working_copy(disk.index_path)
        wrapped = None
        if disk.camera.encryption_enabled and disk.camera.passphrase_key and disk.camera.key_salt:
            key, salt = bytes.fromhex(disk.camera.passphrase_key), bytes.fromhex(disk.camera.key_salt)
            wrapped = crypto.WrappedKey.create(key, salt).to_json()
        disk.write_card(CardMeta(file_system, wrapped))
        self.state.params.put(f"Storage.{disk.spec.group}.FileSystem", file_system)
        await asyncio.to_thread(self._recount, disk)

    def _close(self, disk: Disk) -> None:
        with self._store_lock:  # waits for a cleanup or sample write in a worker thread to finish
            if disk.store is not None:
                disk.store.close()
                disk.store = None
        disk.readonly_mount = False
        disk.connection = None

    def _on_param(self, name: str, value: str) -> None:
        for disk in self.disks.values():
            if name == f"Storage.{disk.spec.group}.Locked":
                self._publish(disk)
                self._notify(disk, going=value == "yes")

    def _notify(self, disk: Disk, going: bool) -> None:
        """Locked changed (lock.cgi or param.cgi): recordings stop on lock, profiles resume on unlock."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop (a synchronous test): nothing records anyway
        task = loop.create_task(self._going(disk) if going else self._ready(disk))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    def _publish(self, disk: Disk) -> None:
        """Storage disruption is true unless the disk is mounted read-write, unlocked and not full."""
        source = {"disk_id": disk.id}
        disrupted = not self.writable(disk)
        self.bus.set_state(STORAGE_DISRUPTION, source, {"disruption": "1" if disrupted else "0"})
        failed = disk.status is DiskStatus.FAILED
        self.bus.set_state(STORAGE_FAILURE, source, {"disruption": "1" if failed else "0"})
        wear, temperature, overall = self.health(disk)
        alert = {  # the state item first: readers that take "the" value of a stateful event get it
            "alert": "1" if self.alert(disk) else "0",
            "wear": str(wear),
            "temperature": str(temperature),
            "overall_health": str(overall),
        }
        self.bus.set_state(STORAGE_ALERT, source, alert, changed_on="alert")  # notified when `alert` flips


class EncryptionError(DiskError):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def check_passphrase(passphrase: str, message: str, code: int = 110) -> None:
    if not passphrase or len(passphrase.encode("utf-8")) > crypto.MAX_PASSPHRASE_BYTES:
        raise EncryptionError(code, f"{message} It must be 1 to {crypto.MAX_PASSPHRASE_BYTES} bytes.")


def _erase(store: RecordingStore, entries: list[StorePath], progress: Progress) -> None:
    """Format's real work: remove everything, counting entries as progress."""
    total = max(1, len(entries))
    for n, entry in enumerate(entries, 1):
        if entry.is_dir() and not entry.is_symlink():
            rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        progress(n / total)
    store.close()
