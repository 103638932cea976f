"""The Network share API's state on the camera: the registry of shares, binding one to the NetworkShare disk,
and the connection-test jobs."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from pathlib import Path

from device.jobs import Job, JobFailed, JobRegistry, Progress
from device.params.store import ParamStore
from device.shares.mount import ShareConnector
from device.shares.registry import ShareConfig, ShareError, ShareRegistry
from device.shares.smb import MountOptions, ShareTarget, ShareTestError, run_test
from device.storage.disk import SHARE
from device.storage.manager import DiskManager

log = logging.getLogger(__name__)

MAX_RUNNING_TESTS = 2
SHARE_GROUP = "Storage.S1"


class ShareService:
    def __init__(
        self, registry: ShareRegistry, params: ParamStore, disks: DiskManager, serial: str, cache: Path
    ) -> None:
        """`cache`: where the working copies of the shares' indexes live (see `device.storage.sharestore`)."""
        self.registry = registry
        self.params = params
        self.disks = disks
        self.serial = serial
        self.cache = cache
        self.tests = JobRegistry(keep_finished=16)
        self._connector: ShareConnector | None = None

    async def start(self) -> None:
        """A share bound before the restart is bound again, and mounted when its automatic mount is on."""
        for share in self.registry.shares():
            if share.bound:
                await self._attach(share)

    # --- bind ------------------------------------------------------------------------------------------------

    async def bind(self, share_id: str, automatic: bool) -> str:
        """bind.cgi: returns the Disk ID. One NetworkShare disk, so one bound share (300 for a second one)."""
        share = self.registry.get(share_id)
        if share.bound:
            raise ShareError(310, f"The network share {share_id} is already bound to a disk.")
        if any(s.bound for s in self.registry.shares()):
            raise ShareError(300, "No available disk: another network share is already bound. Unbind it first.")
        share = self.registry.set_bound(share_id, True, automatic)
        await self._attach(share)
        return SHARE.disk_id

    async def unbind(self, share_id: str) -> None:
        share = self.registry.get(share_id)
        if not share.bound:
            return  # already free: what the caller wanted
        if self.disks.disk(SHARE.disk_id).mounted:
            raise ShareError(
                400, "The network share is mounted and cannot be unbound. Unmount it with disks/mount.cgi first."
            )
        await self.disks.detach_share()
        if self._connector is not None:
            self._connector.close()
            self._connector = None
        self.registry.set_bound(share_id, False, share.automount)

    def renamed(self, share: ShareConfig) -> None:
        """NiceName changed (allowed while bound): the disk's name follows it."""
        if share.bound:
            self.disks.rename_share(share.nice_name)

    async def _attach(self, share: ShareConfig) -> None:
        self._connector = ShareConnector(share, self.stored_mount_options, self.serial, self.cache)
        await self.disks.attach_share(self._connector, share.nice_name, share.automount)

    def stored_mount_options(self) -> MountOptions:
        """The options for mounting: an ExtraMountOptions the camera cannot read is reported, not guessed at."""
        try:
            return MountOptions.parse(self.params.get(f"{SHARE_GROUP}.ExtraMountOptions"))
        except ValueError as exc:
            raise OSError(f"Storage.S1.ExtraMountOptions: {exc}") from None

    def mount_options(self) -> MountOptions:
        """``Storage.S1.ExtraMountOptions`` as mount.cifs reads it; refused (20) when it names no SMB 2/3 dialect."""
        try:
            return MountOptions.parse(self.params.get(f"{SHARE_GROUP}.ExtraMountOptions"))
        except ValueError as exc:
            raise ShareError(20, f"Invalid request. Storage.S1.ExtraMountOptions: {exc}.") from None

    def start_test(self, args: dict[str, str]) -> Job:
        """test.cgi: the given arguments, over the stored share's when `shareid` names one (the spec's rule)."""
        if len(self.tests.running()) >= MAX_RUNNING_TESTS:
            raise ShareError(730, "Too many tests or jobs started, wait for some to finish.")
        base = ShareTarget("", "")
        if args.get("shareid"):
            stored = self.registry.get(args["shareid"])
            base = ShareTarget(stored.address, stored.share, stored.user, stored.password, stored.port)
        target = replace(
            base,
            address=args.get("address", base.address).strip(),
            share=args.get("share", base.share).strip(),
            user=args.get("user", base.user),
            password=args.get("pass", base.password),
            options=self.mount_options(),
        )
        if not target.address or not target.share:
            raise ShareError(20, "Invalid request. Give shareid, or address and share.")

        async def work(progress: Progress) -> str:
            try:
                await asyncio.to_thread(run_test, target, progress)
            except ShareTestError as exc:
                raise JobFailed(exc.description, exc.code) from None
            return f"The share {target.unc()} can be used for recording."

        return self.tests.start("test", target.unc(), work)

    async def stop(self) -> None:
        await self.tests.stop()
        if self._connector is not None:
            self._connector.close()
