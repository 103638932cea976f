"""The Disks panel's actions as an installer thinks of them, each done in the order the camera needs.

The API leaves the order to the caller: check and repair want an unmounted disk, encryption is switched on an
unmounted disk that is then mounted and formatted, a passphrase changes only while mounted. Here each action is
one coroutine that takes those steps, reports progress over the whole sequence, and ends with a sentence.
Errors come out as ActionFailed with a sentence a person can act on, never an error code.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from app.vapix import disk_properties, storage_limit
from app.vapix.disk_properties import DiskProperties
from app.vapix.disks import Disk, DiskManagement, DiskStatus, JobStatus
from app.vapix.errors import ApiError, VapixError
from app.vapix.jobs import JobFailedError, wait_for_job
from app.vapix.recordings import RecordingQuery, Recordings
from app.vapix.storage_limit import StorageLimits
from app.vapix.transport import VapixTransport

# (what is happening, percent of the whole action)
Progress = Callable[[str, int], None]

KELVIN = 273.15
T = TypeVar("T")


class ActionFailed(Exception):
    """An action stopped; the message says what happened and what to do."""


@dataclass(frozen=True)
class LossEstimate:
    """What formatting a disk throws away, for the confirmation."""

    recordings: int
    seconds: float
    locked: int

    def describe(self) -> str:
        if not self.recordings:
            return "The disk holds no recordings."
        hours = self.seconds / 3600
        span = f"{hours:.1f} hours" if hours >= 0.1 else f"{self.seconds / 60:.0f} minutes"
        locked = f", {self.locked} of them locked" if self.locked else ""
        return f"{self.recordings} recording(s), {span} of video{locked}, will be deleted."


def _no_progress(_step: str, _percent: int) -> None:
    """For callers that do not show progress (scripts, the loss estimate)."""


class DiskActions:
    def __init__(self, transport: VapixTransport, progress: Progress = _no_progress) -> None:
        self.disks = DiskManagement(transport)
        self.properties = DiskProperties(transport)
        self.limits = StorageLimits(transport)
        self.recordings = Recordings(transport)
        self._progress = progress

    # --- jobs ------------------------------------------------------------------------------------------------

    async def format(self, disk_id: str, filesystem: str | None) -> str:
        status = await self.run_job("Formatting", disk_id, self.disks.format(disk_id, filesystem), 0, 100)
        return status.description or f"The disk is formatted{f' with {filesystem}' if filesystem else ''}."

    async def mount(self, disk_id: str) -> str:
        await self.run_job("Mounting", disk_id, self.disks.mount(disk_id), 0, 100)
        return "The disk is mounted and ready for recordings."

    async def unmount(self, disk_id: str) -> str:
        """Safe eject: recordings to the disk stop and everything is written before the job ends."""
        await self.run_job("Unmounting", disk_id, self.disks.unmount(disk_id), 0, 100)
        return "The disk is unmounted; it is safe to remove."

    async def check(self, disk_id: str) -> str:
        return await self._offline("Checking", disk_id, self.disks.check)

    async def repair(self, disk_id: str) -> str:
        return await self._offline("Repairing", disk_id, self.disks.repair)

    async def _offline(self, verb: str, disk_id: str, start: Callable[[str], Awaitable[int]]) -> str:
        """Check and repair need the disk unmounted; it is mounted again afterwards if it was mounted."""
        was_mounted = (await self._disk(disk_id)).status is DiskStatus.OK
        if was_mounted:
            await self.run_job("Unmounting", disk_id, self.disks.unmount(disk_id), 0, 10)
        try:
            status = await self.run_job(verb, disk_id, start(disk_id), 10, 90)
        finally:
            if was_mounted:
                await self.run_job("Mounting again", disk_id, self.disks.mount(disk_id), 90, 100)
        return status.description or f"{verb} finished without a report."

    # --- lock, required file system, encryption ------------------------------------------------------------------

    async def set_locked(self, disk_id: str, locked: bool) -> str:
        await self._call(self.disks.lock(disk_id) if locked else self.disks.unlock(disk_id))
        if locked:
            return "The disk is locked: it cannot be formatted or written to; its recordings are kept."
        return "The disk is unlocked."

    async def set_required_fs(self, disk_id: str, filesystem: str) -> str:
        await self._call(self.properties.set_required_fs(disk_id, filesystem), disk_properties.error_text)
        if filesystem == "none":
            return "The disk no longer requires a file system."
        return f"The disk requires {filesystem}: a card with another file system is formatted when it is mounted."

    async def enable_encryption(self, disk_id: str, passphrase: str, filesystem: str | None) -> str:
        """Unmount, enable, mount, format: the order the API requires (P-8), done for the installer."""
        await self._unmount_if_mounted(disk_id, 0, 15)
        self._report("Enabling encryption", 20)
        await self._call(self.properties.enable_encryption(disk_id, passphrase), disk_properties.error_text)
        await self._mount_and_format(disk_id, filesystem)
        return "Encryption is on: the disk is formatted and its recordings are encrypted."

    async def disable_encryption(self, disk_id: str, filesystem: str | None) -> str:
        await self._unmount_if_mounted(disk_id, 0, 15)
        self._report("Disabling encryption", 20)
        await self._call(self.properties.disable_encryption(disk_id), disk_properties.error_text)
        await self._mount_and_format(disk_id, filesystem)
        return "Encryption is off: the disk is formatted without encryption."

    async def change_passphrase(self, disk_id: str, old: str, new: str) -> str:
        """Only while mounted; ongoing recordings go on."""
        if (await self._disk(disk_id)).status is not DiskStatus.OK:
            await self.run_job("Mounting", disk_id, self.disks.mount(disk_id), 0, 50)
        self._report("Changing the passphrase", 75)
        await self._call(self.properties.change_passphrase(disk_id, old, new), disk_properties.error_text)
        return "The passphrase is changed."

    async def _unmount_if_mounted(self, disk_id: str, start: int, end: int) -> None:
        if (await self._disk(disk_id)).status is DiskStatus.OK:
            await self.run_job("Unmounting", disk_id, self.disks.unmount(disk_id), start, end)

    async def _mount_and_format(self, disk_id: str, filesystem: str | None) -> None:
        """Mount, then format unless the camera already did (it does when a required file system is set)."""
        await self.run_job("Mounting", disk_id, self.disks.mount(disk_id), 25, 40, tolerate_failure=True)
        disk = await self._disk(disk_id)
        if disk.status is not DiskStatus.OK or disk.encryption_enabled != disk.encrypted:
            await self.run_job("Formatting", disk_id, self.disks.format(disk_id, filesystem), 40, 90)
            disk = await self._disk(disk_id)
        if disk.status is not DiskStatus.OK:
            await self.run_job("Mounting", disk_id, self.disks.mount(disk_id), 90, 100)

    # --- retention, alerts, limit ----------------------------------------------------------------------------

    async def set_cleanup(self, disk_id: str, policy: str, max_age_days: int) -> str:
        await self._call(self.properties.set_cleanup_policy(disk_id, policy), disk_properties.error_text)
        await self._call(self.properties.set_cleanup_max_age(disk_id, max_age_days), disk_properties.error_text)
        what = "the oldest recordings are deleted when the disk is full" if policy == "fifo" else "nothing is deleted"
        age = f"; recordings older than {max_age_days} days are deleted" if max_age_days else ""
        return f"Cleanup saved: {what}{age}."

    async def set_alert_levels(self, disk_id: str, wear_percent: int, temperature_celsius: int) -> str:
        kelvin = round(temperature_celsius + KELVIN)
        await self._call(
            self.properties.set_alert_levels(disk_id, wear=wear_percent, temperature=kelvin),
            disk_properties.error_text,
        )
        return f"Alerts at {wear_percent} % wear or {temperature_celsius} °C."

    async def set_limit(self, disk_id: str, size_kb: int) -> str:
        await self._call(self.limits.set_limit(disk_id, size_kb), storage_limit.error_text)
        if not size_kb:
            return "Recordings may use the whole disk."
        return f"Recordings may use up to {size_kb / 1024 / 1024:.1f} GiB of the disk."

    # --- what a format loses -----------------------------------------------------------------------------------

    async def loss_estimate(self, disk_id: str) -> LossEstimate:
        now = datetime.now(UTC)
        count = locked = 0
        seconds = 0.0
        async for recording in self.recordings.iterate(RecordingQuery(disk_id=disk_id), page_size=500):
            if recording.disk_id and recording.disk_id != disk_id:
                continue
            count += 1
            locked += recording.locked
            seconds += max(0.0, ((recording.stop or now) - recording.start).total_seconds())
        return LossEstimate(count, seconds, locked)

    # --- plumbing ----------------------------------------------------------------------------------------------

    def _report(self, step: str, percent: int) -> None:
        self._progress(step, max(0, min(100, percent)))

    async def _disk(self, disk_id: str) -> Disk:
        return await self._call(self.disks.disk(disk_id))

    async def run_job(
        self,
        verb: str,
        disk_id: str,
        start: Awaitable[int],
        begin: int,
        end: int,
        tolerate_failure: bool = False,
    ) -> JobStatus:
        """Start a job and follow it, mapping its 0 to 100 onto begin to end of the whole action."""
        self._report(verb, begin)
        jobid = await self._call(start)

        def moved(status: JobStatus) -> None:
            self._report(verb, begin + (end - begin) * min(status.progress, 100) // 100)

        try:
            return await wait_for_job(lambda: self.disks.job(jobid, disk_id), 0.3, on_status=moved)
        except JobFailedError as exc:
            if tolerate_failure:
                return JobStatus(jobid, disk_id, verb, "ERROR", 100, str(exc))
            raise ActionFailed(f"{verb} failed: {exc.description or 'the camera gave no reason'}") from None

    async def _call(self, call: Awaitable[T], explain: Callable[[ApiError], str] | None = None) -> T:
        try:
            return await call
        except ApiError as exc:
            raise ActionFailed(explain(exc) if explain else exc.description or str(exc)) from None
        except VapixError as exc:
            raise ActionFailed(str(exc)) from None
