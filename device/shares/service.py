"""The Network share API's state on the camera: the registry of shares and the connection-test jobs."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from device.jobs import Job, JobFailed, JobRegistry, Progress
from device.params.store import ParamStore
from device.shares.registry import ShareError, ShareRegistry
from device.shares.smb import MountOptions, ShareTarget, ShareTestError, run_test

MAX_RUNNING_TESTS = 2
SHARE_GROUP = "Storage.S1"


class ShareService:
    def __init__(self, registry: ShareRegistry, params: ParamStore) -> None:
        self.registry = registry
        self.params = params
        self.tests = JobRegistry(keep_finished=16)

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
