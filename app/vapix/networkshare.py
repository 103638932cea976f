"""Network share API (/axis-cgi/disks/networkshare/*.cgi): the NAS shares a camera knows, and testing one.

A failed test job answers ``JobSuccess > GeneralError`` (N-12), which :class:`ShareTestStatus` turns into a
failed status carrying a sentence a person understands, so a progress dialog can say "the NAS refused the user
name or password" rather than "error 710". list.cgi is asked without ``shareid`` when all are wanted, as the
camera and real clients both accept; ``DiskId`` and ``DiskID`` are both read (N-5).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from lxml import etree

from app.vapix import xmlwire
from app.vapix.errors import ProtocolError
from app.vapix.jobs import ApiJobStatus, wait_for_job
from app.vapix.schemaversions import SchemaVersions
from app.vapix.transport import VapixTransport

BASE = "/axis-cgi/disks/networkshare"
SCHEMA_VERSION = "1"

ERROR_TEXTS: dict[int, str] = {
    10: "The camera could not process the request.",
    20: "The camera refused the request as invalid.",
    40: "The camera does not support this version of the Network share API.",
    200: "A share ID may hold only letters, digits and '-'.",
    210: "Another share on the camera already has this share ID.",
    220: "Another share on the camera already has this name.",
    230: "The camera holds as many shares as it can; remove one first.",
    300: "The camera has no free disk to bind the share to; unbind the other share first.",
    310: "The share is already bound to a disk.",
    400: "The share is still mounted; unmount it before unbinding.",
    500: "The share is bound; unbind it before removing it.",
    600: "The share is bound; only its name can change until it is unbound.",
    610: "Another share on the camera already has this share ID.",
    620: "Another share on the camera already has this name.",
    700: "The NAS's name does not resolve: check the address.",
    710: "The NAS refused the user name or password, or has no share by that name.",
    720: "The camera failed while trying the share.",
    730: "The camera is already testing shares; wait for those tests to finish.",
    740: "The camera could log in but not write to the share: check the user's rights on it.",
    750: "What the camera wrote to the share did not read back the same.",
    760: "The camera could not reach the NAS: check the address, the port and any firewall.",
}


def error_text(code: int | None, fallback: str) -> str:
    return ERROR_TEXTS.get(code, fallback) if code is not None else fallback


@dataclass(frozen=True)
class NetworkShare:
    share_id: str
    nice_name: str
    address: str
    share: str
    user: str
    disk_id: str | None
    """The disk it is bound to; None while unbound."""

    @classmethod
    def from_element(cls, element: etree._Element) -> NetworkShare:
        share_id = xmlwire.attr(element, "ShareId", "ShareID")
        if not share_id:
            raise ProtocolError("a NetworkShare has no ShareId")
        return cls(
            share_id,
            xmlwire.attr(element, "NiceName") or "",
            xmlwire.attr(element, "Address") or "",
            xmlwire.attr(element, "Share") or "",
            xmlwire.attr(element, "User") or "",
            xmlwire.attr(element, "DiskId", "DiskID") or None,
        )

    @classmethod
    def list_from_xml(cls, root: etree._Element) -> list[NetworkShare]:
        xmlwire.raise_for_error(root)
        if xmlwire.find(root, "NetworkShares") is None:
            raise ProtocolError("list.cgi answered without NetworkShares")
        return [cls.from_element(e) for e in xmlwire.find_all(root, "NetworkShare")]


@dataclass(frozen=True)
class ShareTestStatus(ApiJobStatus):
    """job.cgi's answer in the shape app.vapix.jobs follows."""

    @classmethod
    def from_xml(cls, root: etree._Element) -> ShareTestStatus:
        body = xmlwire.find(root, "JobSuccess")
        if body is None:
            xmlwire.raise_for_error(root)
            raise ProtocolError("job.cgi answered without JobSuccess")
        error = xmlwire.error_in(body)
        if error is not None:
            return cls(100, True, True, error_text(error.code, error.description), error.code)
        if xmlwire.find(body, "GeneralSuccess") is not None:
            return cls(100, True)
        text = xmlwire.text_of(body, "Progress")
        try:
            return cls(int(text or "0"), False)
        except ValueError:
            raise ProtocolError(f"job.cgi Progress {text!r} is not a number") from None


class NetworkShares:
    def __init__(self, transport: VapixTransport) -> None:
        self._transport = transport

    async def _xml(self, cgi: str, **params: str) -> etree._Element:
        return await self._transport.get_xml(f"{BASE}/{cgi}.cgi", {"schemaversion": SCHEMA_VERSION, **params})

    async def schema_versions(self) -> SchemaVersions:
        return SchemaVersions.from_xml(await self._transport.get_xml(f"{BASE}/schemaversions.cgi"))

    async def shares(self, share_ids: Sequence[str] = ()) -> list[NetworkShare]:
        params = {"shareid": ",".join(share_ids)} if share_ids else {}
        return NetworkShare.list_from_xml(await self._xml("list", **params))

    async def add(
        self, nice_name: str, address: str, share: str, user: str = "", password: str = "", share_id: str | None = None
    ) -> str:
        """The new share's ID (the camera's choice unless `share_id` is given)."""
        params = {"nicename": nice_name, "address": address, "share": share, "user": user, "pass": password}
        if share_id is not None:
            params["shareid"] = share_id
        element = xmlwire.find(await self._xml("add", **params), "AddSuccess")
        found = xmlwire.attr(element, "ShareId", "ShareID") if element is not None else None
        if not found:
            raise ProtocolError("add.cgi answered without a ShareId")
        return found

    async def modify(self, share_id: str, **changes: str) -> None:
        """Changes among nicename, address, share, user, pass; only nicename while the share is bound (600)."""
        self._success(await self._xml("modify", shareid=share_id, **changes), "modify.cgi")

    async def remove(self, share_ids: Sequence[str]) -> None:
        self._success(await self._xml("remove", shareid=",".join(share_ids)), "remove.cgi")

    async def bind(self, share_id: str, automatic_mount: bool = True) -> str:
        """Bind the share to the camera's NetworkShare disk; the Disk ID to record to. With `automatic_mount` the
        camera mounts it now and at every start (and keeps trying while the NAS is away)."""
        root = await self._xml("bind", shareid=share_id, automaticmount="yes" if automatic_mount else "no")
        element = xmlwire.find(root, "BindSuccess")
        disk_id = xmlwire.attr(element, "DiskID", "DiskId") if element is not None else None
        if not disk_id:
            raise ProtocolError("bind.cgi answered without a DiskID")
        return disk_id

    async def unbind(self, share_id: str) -> None:
        """Free the share (refused with 400 while its disk is mounted: unmount it first)."""
        self._success(await self._xml("unbind", shareid=share_id), "unbind.cgi")

    async def start_test(
        self,
        share_id: str | None = None,
        address: str | None = None,
        share: str | None = None,
        user: str | None = None,
        password: str | None = None,
    ) -> int:
        """Start test.cgi with a stored share, given values, or both (given ones override); the job ID."""
        given = {"shareid": share_id, "address": address, "share": share, "user": user, "pass": password}
        element = xmlwire.find(
            await self._xml("test", **{k: v for k, v in given.items() if v is not None}), "TestSuccess"
        )
        job = xmlwire.attr(element, "JobId", "JobID") if element is not None else None
        if job is None or not job.strip().isdigit():
            raise ProtocolError("test.cgi answered without a job ID")
        return int(job)

    async def test_status(self, job_id: int) -> ShareTestStatus:
        response = await self._transport.request(
            "GET", f"{BASE}/job.cgi", params={"schemaversion": SCHEMA_VERSION, "jobid": str(job_id)}
        )
        return ShareTestStatus.from_xml(xmlwire.parse(response.content))

    async def wait_for_test(
        self,
        job_id: int,
        on_status: Callable[[ShareTestStatus], object] | None = None,
        interval: float = 0.5,
        timeout: float | None = None,
    ) -> ShareTestStatus:
        """The finished status; JobFailedError (its message the sentence for the code) when the test failed."""
        fetch: Callable[[], Awaitable[ShareTestStatus]] = lambda: self.test_status(job_id)  # noqa: E731
        return await wait_for_job(fetch, interval, timeout, on_status)

    @staticmethod
    def _success(root: etree._Element, cgi: str) -> None:
        if xmlwire.find(root, "GeneralSuccess") is None:
            raise ProtocolError(f"{cgi} answered neither GeneralSuccess nor an error")
