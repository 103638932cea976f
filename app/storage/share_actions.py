"""The Shares panel's actions, each in the order the camera needs, with the connection test always first.

The Network share API refuses out-of-order steps with codes (400: unbind while mounted, 500: remove while
bound, 600: change a bound share). An installer wants "remove this share" to just work, so each action here
takes the steps itself: unmount the NetworkShare disk, unbind, then remove. A share is added or changed only
after test.cgi has written to it, so a typo never becomes a share the camera fails to record to.

The SMB version is not part of the share API: cameras read it from `Storage.S#.ExtraMountOptions` of the
NetworkShare disk (as mount.cifs's `vers=`), and test.cgi honours it too, so it is set before the test.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TypeVar

from app.storage.disk_actions import ActionFailed, DiskActions, Progress, _no_progress
from app.storage.overview import SHARE_DISK
from app.vapix import networkshare
from app.vapix.disks import DiskStatus
from app.vapix.errors import ApiError, ParamError, VapixError
from app.vapix.jobs import JobFailedError
from app.vapix.networkshare import NetworkShare, NetworkShares, ShareTestStatus
from app.vapix.params import ParamApi
from app.vapix.transport import VapixTransport

T = TypeVar("T")

# SMB dialects a person chooses from; "" lets camera and NAS agree on the newest both speak.
SMB_VERSIONS: tuple[tuple[str, str], ...] = (
    ("", "Automatic (newest both support)"),
    ("3.1.1", "SMB 3.1.1"),
    ("3.0", "SMB 3.0"),
    ("2.1", "SMB 2.1"),
    ("2.0", "SMB 2.0"),
)


@dataclass(frozen=True)
class ShareSettings:
    nice_name: str
    address: str
    share: str
    user: str = ""
    password: str = ""
    smb_version: str = ""  # "" = automatic
    port: int = 0  # 0 = SMB's own 445


def mount_options_with(options: str, version: str, port: int) -> str:
    """ExtraMountOptions with `vers=` and `port=` set (or removed for the defaults); others (seal) are kept."""
    kept = [o for o in (p.strip() for p in options.split(",")) if o and _option_name(o) not in ("vers", "port")]
    if port:
        kept.insert(0, f"port={port}")
    if version:
        kept.insert(0, f"vers={version}")
    return ",".join(kept)


def _option_name(option: str) -> str:
    return option.partition("=")[0].strip().lower()


def option_value(options: str, name: str) -> str:
    for option in options.split(","):
        if _option_name(option) == name:
            return option.partition("=")[2].strip()
    return ""


class ShareActions:
    def __init__(self, transport: VapixTransport, progress: Progress = _no_progress) -> None:
        self.shares = NetworkShares(transport)
        self.params = ParamApi(transport)
        self.disk_actions = DiskActions(transport, progress)
        self._progress = progress

    async def list(self) -> list[NetworkShare]:
        return await self._call(self.shares.shares())

    async def connection_options(self) -> tuple[str, int]:
        """The SMB version ("" = automatic) and port (0 = 445) the camera mounts its share with."""
        options = await self._mount_options()
        port = option_value(options, "port")
        return option_value(options, "vers"), int(port) if port.isdigit() else 0

    async def test(self, settings: ShareSettings, share_id: str | None = None, begin: int = 0, end: int = 100) -> str:
        """Run test.cgi with these settings; ActionFailed with a sentence such as "the NAS refused the user name or
        password" when the camera cannot write to the share."""
        before = await self._mount_options()
        await self.set_connection_options(settings.smb_version, settings.port)
        try:
            await self._test(settings, share_id, begin, end)
        except ActionFailed:
            await self._set_mount_options(before)  # a failed test leaves the camera's mount as it was
            raise
        return "The camera reached the share and could write to it."

    async def _test(self, settings: ShareSettings, share_id: str | None, begin: int, end: int) -> None:
        self._progress("Testing the connection", begin)
        job = await self._call(
            self.shares.start_test(
                share_id=share_id,
                address=settings.address,
                share=settings.share,
                user=settings.user,
                password=settings.password if settings.password or share_id is None else None,
            )
        )

        def moved(status: ShareTestStatus) -> None:
            self._progress("Testing the connection", begin + (end - begin) * min(status.progress, 100) // 100)

        try:
            await self.shares.wait_for_test(job, on_status=moved, interval=0.3, timeout=120)
        except JobFailedError as exc:
            raise ActionFailed(f"The connection test failed: {exc.description}") from None
        except (TimeoutError, VapixError) as exc:
            raise ActionFailed(f"The connection test did not finish: {exc}") from None

    async def add(self, settings: ShareSettings, bind: bool) -> str:
        """Test, add and (if asked) bind, so the camera records to it at once."""
        await self.test(settings, None, 0, 60)
        self._progress("Adding the share", 65)
        share_id = await self._call(
            self.shares.add(settings.nice_name, settings.address, settings.share, settings.user, settings.password)
        )
        if not bind:
            return f"{settings.nice_name} is added. Bind it to record to it."
        await self.bind(share_id, 70)
        return f"{settings.nice_name} is added and bound: the camera records to it."

    async def modify(self, share_id: str, settings: ShareSettings) -> str:
        """A bound share can only be renamed (600): for anything else it is unmounted and unbound, changed after
        a test, then bound and mounted again."""
        current = await self._share(share_id)
        connection_changed = (
            (settings.address, settings.share, settings.user) != (current.address, current.share, current.user)
            or bool(settings.password)
            or (settings.smb_version, settings.port) != await self.connection_options()
        )
        if not connection_changed:
            await self._call(self.shares.modify(share_id, nicename=settings.nice_name))
            self._progress("Saved", 100)
            return f"The share is now called {settings.nice_name}."
        await self.test(settings, share_id, 0, 40)
        was_bound = current.disk_id is not None
        if was_bound:
            await self._detach(share_id, 40, 60)
        changes = {"nicename": settings.nice_name, "address": settings.address, "share": settings.share}
        changes["user"] = settings.user
        if settings.password:
            changes["pass"] = settings.password
        self._progress("Saving the share", 65)
        await self._call(self.shares.modify(share_id, **changes))
        if was_bound:
            await self.bind(share_id, 70)
            return f"{settings.nice_name} is changed and bound again."
        return f"{settings.nice_name} is changed."

    async def bind(self, share_id: str, begin: int = 0) -> str:
        """Bind with automatic mount: the camera mounts it now and at every start."""
        self._progress("Binding the share", begin)
        disk_id = await self._call(self.shares.bind(share_id, automatic_mount=True))
        self._progress("Binding the share", 100)
        return f"The share is bound to {disk_id} and mounted."

    async def unbind(self, share_id: str) -> str:
        await self._detach(share_id, 0, 100)
        return "The share is unmounted and unbound: the camera no longer records to it."

    async def remove(self, share_id: str) -> str:
        share = await self._share(share_id)
        if share.disk_id is not None:
            await self._detach(share_id, 0, 80)
        self._progress("Removing the share", 90)
        await self._call(self.shares.remove([share_id]))
        self._progress("Removed", 100)
        return f"{share.nice_name or share_id} is removed from the camera. Recordings on the NAS are kept."

    async def set_connection_options(self, version: str, port: int) -> None:
        options = await self._mount_options()
        wanted = mount_options_with(options, version, port)
        if wanted != options:
            await self._set_mount_options(wanted)

    async def _set_mount_options(self, options: str) -> None:
        group = await self._share_group()
        try:
            await self.params.update({f"Storage.{group}.ExtraMountOptions": options})
        except (ParamError, VapixError) as exc:
            raise ActionFailed(f"The camera did not take the SMB version and port: {exc}") from None

    async def _detach(self, share_id: str, begin: int, end: int) -> None:
        """Unmount (a safe eject: what is being written reaches the NAS), then unbind."""
        disk = await self.disk_actions.disks.disk(SHARE_DISK)
        middle = (begin + end) // 2
        if disk.status is DiskStatus.OK:
            unmount = self.disk_actions.disks.unmount(SHARE_DISK)
            await self.disk_actions.run_job("Unmounting the share", SHARE_DISK, unmount, begin, middle)
        self._progress("Unbinding the share", middle)
        await self._call(self.shares.unbind(share_id))
        self._progress("Unbound", end)

    async def _mount_options(self) -> str:
        group = await self._share_group()
        values = await self._call(self.params.list(f"Storage.{group}.ExtraMountOptions"))
        return next(iter(values.values()), "")

    async def _share_group(self) -> str:
        disk = await self._call(self.disk_actions.disks.disk(SHARE_DISK))
        if not disk.group:
            raise ActionFailed("The camera does not say which parameters belong to its network share disk.")
        return disk.group

    async def _share(self, share_id: str) -> NetworkShare:
        found = [s for s in await self.list() if s.share_id == share_id]
        if not found:
            raise ActionFailed(f"The camera has no share {share_id!r} any more; refresh the list.")
        return found[0]

    async def _call(self, call: Awaitable[T]) -> T:
        try:
            return await call
        except ApiError as exc:
            raise ActionFailed(networkshare.error_text(exc.code, exc.description)) from None
        except VapixError as exc:
            raise ActionFailed(str(exc)) from None
