"""Disk management API (/axis-cgi/disks/*.cgi): list the disks, their capabilities and health, start format,
check, repair, mount and unmount jobs and read their progress, lock and unlock.

These are the legacy CGIs: a `<root>` answer, errors as `result="ERROR"` with a description and no code
(AMBIGUITIES.md G-6). A refused job start raises ApiError; a job that *ran* and failed is a JobStatus with
`failed` set, because callers (progress bars, fleet bulk actions) decide what a failure means to them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from lxml import etree

from app.vapix import xmlwire
from app.vapix.errors import ProtocolError
from app.vapix.transport import VapixTransport

BASE = "/axis-cgi/disks"

# gethealth.cgi's negative values (AMBIGUITIES.md D-10).
UNSUPPORTED, READ_ERROR, NOT_PRESENT = -1, -2, -3


class DiskStatus(StrEnum):
    """list.cgi `status` (WIRE.md §2.1, D-2). Only OK means the disk is usable."""

    DISCONNECTED = "disconnected"
    CONNECTED = "connected"  # present, not mounted
    OK = "OK"
    FAILED = "failed"
    NO_PASSPHRASE = "no passphrase"  # the card is encrypted, encryption is disabled: format before use
    WRONG_PASSPHRASE = "wrong passphrase"
    NOT_ENCRYPTED = "not encrypted"  # encryption is enabled, the card is not encrypted yet: format it
    UNKNOWN = "unknown"  # a value this client has not seen; Disk.status_text keeps the camera's word

    @classmethod
    def parse(cls, text: str | None) -> DiskStatus:
        value = (text or "").strip()
        for status in cls:
            if status is not cls.UNKNOWN and status.value.lower() == value.lower():
                return status
        return cls.UNKNOWN


# --- values ------------------------------------------------------------------------------------------------------

_TRUE = {"yes", "true", "1"}
_FALSE = {"no", "false", "0", ""}


def _where(element: etree._Element) -> str:
    ident = xmlwire.attr(element, "diskid", "DiskId", "DiskID")
    return f"<{xmlwire.local(element)}{f' diskid={ident!r}' if ident else ''}>"


def _bool(element: etree._Element, *names: str) -> bool:
    """yes/no and true/false both appear in one element (D-3); absent is false."""
    value = xmlwire.attr(element, *names)
    if value is None:
        return False
    folded = value.strip().lower()
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    raise ProtocolError(f"{_where(element)} has {names[0]}={value!r}, which is neither yes/no nor true/false")


def _int(element: etree._Element, name: str, default: int | None = None) -> int:
    value = element.get(name)
    if value is None:
        if default is None:
            raise ProtocolError(f"{_where(element)} has no {name}")
        return default
    try:
        return int(value.strip())
    except ValueError:
        raise ProtocolError(f"{_where(element)} has {name}={value!r}, which is not a whole number") from None


def _optional_int(element: etree._Element, name: str) -> int | None:
    return _int(element, name) if element.get(name) is not None else None


def _text(element: etree._Element, name: str) -> str:
    return (element.get(name) or "").strip()


def _disk_id(element: etree._Element) -> str:
    disk_id = xmlwire.attr(element, "diskid", "DiskId", "DiskID")
    if not disk_id:
        raise ProtocolError(f"a <{xmlwire.local(element)}> element has no diskid")
    return disk_id


# --- models ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Disk:
    """One `<disk>` of list.cgi. Sizes are kB. `cleanuplevel` is obsolete since 5.50 and not kept (D-3)."""

    disk_id: str
    name: str
    total_kb: int
    free_kb: int
    cleanup_max_age: int  # days, 0 = no age limit
    cleanup_policy: str  # fifo | none
    locked: bool
    full: bool
    readonly: bool
    status: DiskStatus
    status_text: str  # the camera's own word, for statuses this client does not know
    filesystem: str
    group: str  # Storage.S# of the disk's parameters
    required_filesystem: str  # none | ext4
    encryption_enabled: bool
    encrypted: bool

    @property
    def usable(self) -> bool:
        return self.status is DiskStatus.OK

    @property
    def used_kb(self) -> int:
        return max(0, self.total_kb - self.free_kb)

    @classmethod
    def from_element(cls, element: etree._Element) -> Disk:
        status_text = _text(element, "status")
        return cls(
            disk_id=_disk_id(element),
            name=element.get("name") or "",
            total_kb=_int(element, "totalsize", 0),
            free_kb=_int(element, "freesize", 0),
            cleanup_max_age=_int(element, "cleanupmaxage", 0),
            cleanup_policy=_text(element, "cleanuppolicy"),
            locked=_bool(element, "locked"),
            full=_bool(element, "full"),
            readonly=_bool(element, "readonly"),
            status=DiskStatus.parse(status_text),
            status_text=status_text,
            filesystem=_text(element, "filesystem"),
            group=_text(element, "group"),
            required_filesystem=_text(element, "requiredfilesystem") or "none",
            # Real firmware writes encryptionenabled, the document diskencryptionenabled (D-1).
            encryption_enabled=_bool(element, "encryptionenabled", "diskencryptionenabled"),
            encrypted=_bool(element, "diskencrypted"),
        )

    @classmethod
    def list_from_xml(cls, root: etree._Element) -> list[Disk]:
        xmlwire.raise_for_error(root)
        elements = xmlwire.find_all(root, "disk")
        if not elements and xmlwire.find(root, "disks") is None:
            raise ProtocolError("list.cgi answered without a disks element")
        return [cls.from_element(e) for e in elements]


@dataclass(frozen=True)
class FileSystemSupport:
    name: str
    required_fs_supported: bool  # may be set as the required file system


@dataclass(frozen=True)
class DiskCapabilities:
    disk_id: str
    required_fs_supported: bool
    encryption_supported: bool  # absent on some firmware: false (D-12)
    filesystems: tuple[FileSystemSupport, ...]

    @property
    def filesystem_names(self) -> tuple[str, ...]:
        return tuple(fs.name for fs in self.filesystems)

    @classmethod
    def from_xml(cls, root: etree._Element) -> DiskCapabilities:
        xmlwire.raise_for_error(root)
        disk = xmlwire.find(root, "disk")
        if disk is None:
            raise ProtocolError("getcapabilities.cgi answered without a disk element")
        systems = []
        for element in xmlwire.find_all(disk, "filesystem"):
            name = _text(element, "name")
            if not name:
                raise ProtocolError(f"a file system of {_where(disk)} has no name")
            systems.append(FileSystemSupport(name, _bool(element, "requiredfssupported")))
        return cls(
            _disk_id(disk),
            _bool(disk, "requiredfssupported"),
            _bool(disk, "encryptionsupported"),
            tuple(systems),
        )


@dataclass(frozen=True)
class HealthStatus:
    """gethealth.cgi for one disk. Wear is percent of rated endurance (it may exceed 100), temperature kelvin;
    temperature and overall health exist on some disk types only (firmware 9.50+). Negative values: -1 not
    supported (also non-Axis cards and shares), -2 error, -3 not present (D-10)."""

    disk_id: str
    wear: int | None
    temperature: int | None = None
    overall_health: int | None = None

    @property
    def wear_percent(self) -> int | None:
        return self.wear if self.wear is not None and self.wear >= 0 else None

    @property
    def unsupported(self) -> bool:
        return self.wear is None or self.wear == UNSUPPORTED or self.wear < NOT_PRESENT

    @property
    def read_error(self) -> bool:
        return self.wear == READ_ERROR

    @property
    def not_present(self) -> bool:
        return self.wear == NOT_PRESENT

    @property
    def overall_ok(self) -> bool | None:
        """overallhealth 1 = PASSED, 0 = FAIL; None when not reported or negative."""
        return None if self.overall_health is None or self.overall_health < 0 else self.overall_health == 1

    @property
    def temperature_celsius(self) -> float | None:
        if self.temperature is None or self.temperature < 0:
            return None
        return round(self.temperature - 273.15, 2)

    def describe_wear(self) -> str:
        if self.wear_percent is not None:
            return f"{self.wear_percent} %"
        if self.read_error:
            return "could not be read"
        if self.not_present:
            return "no disk"
        return "not reported"

    @classmethod
    def from_element(cls, element: etree._Element) -> HealthStatus:
        return cls(
            _disk_id(element),
            _optional_int(element, "wear"),
            _optional_int(element, "temperature"),
            _optional_int(element, "overallhealth"),
        )

    @classmethod
    def dict_from_xml(cls, root: etree._Element) -> dict[str, HealthStatus]:
        xmlwire.raise_for_error(root)
        elements = xmlwire.find_all(root, "HealthStatus")
        if not elements and xmlwire.find(root, "HealthStatusSuccess") is None:
            raise ProtocolError("gethealth.cgi answered without health statuses")
        statuses = (cls.from_element(e) for e in elements)
        return {status.disk_id: status for status in statuses}


@dataclass(frozen=True)
class JobStatus:
    """job.cgi: `result` is OK while running and when done; a job has ended once progress is 100 or the result
    is ERROR (D-5). `action="N/A"` means the camera does not know the job (unknown or expired)."""

    jobid: int
    disk_id: str
    action: str
    result: str
    progress: int
    description: str = ""

    @property
    def failed(self) -> bool:
        return self.result.upper() == "ERROR"

    @property
    def finished(self) -> bool:
        return self.progress >= 100 or self.failed

    @property
    def unknown_job(self) -> bool:
        return self.action.upper() == "N/A"

    @classmethod
    def from_xml(cls, root: etree._Element) -> JobStatus:
        """The job's status, failed or not; only an error that is not about the job (ErrorCode style) raises."""
        job = xmlwire.find(root, "job")
        if job is None:
            xmlwire.raise_for_error(root)
            raise ProtocolError("job.cgi answered without a job element")
        result = _text(job, "result")
        if not result:
            raise ProtocolError(f"{_where(job)} has no result")
        failed = result.upper() == "ERROR"
        return cls(
            jobid=_int(job, "jobid"),
            disk_id=xmlwire.attr(job, "diskid") or "",
            action=_text(job, "action"),
            result=result,
            progress=_int(job, "progress", 100 if failed else None),
            description=job.get("description") or "",
        )


def started_job_id(root: etree._Element) -> int:
    """The job ID in a format/checkdisk/repair/mount answer; a refused start raises ApiError."""
    xmlwire.raise_for_error(root)
    job = xmlwire.find(root, "job")
    if job is None:
        raise ProtocolError("the camera answered a job start without a job element")
    return _int(job, "jobid")


# --- the API -----------------------------------------------------------------------------------------------------


class DiskManagement:
    def __init__(self, transport: VapixTransport) -> None:
        self._transport = transport

    async def _get(self, cgi: str, params: dict[str, str] | None = None) -> etree._Element:
        return await self._transport.get_xml(f"{BASE}/{cgi}", params)

    async def list(self, *disk_ids: str) -> list[Disk]:
        """Every disk whatever its state (D-4), or only the ones named."""
        wanted = ",".join(disk_ids) if disk_ids else "all"
        return Disk.list_from_xml(await self._get("list.cgi", {"diskid": wanted}))

    async def disk(self, disk_id: str) -> Disk:
        for disk in await self.list(disk_id):
            if disk.disk_id == disk_id:
                return disk
        raise ProtocolError(f"list.cgi did not list the disk {disk_id!r}")

    async def capabilities(self, disk_id: str) -> DiskCapabilities:
        return DiskCapabilities.from_xml(await self._get("getcapabilities.cgi", {"diskid": disk_id}))

    async def health(self) -> dict[str, HealthStatus]:
        """By disk ID."""
        return HealthStatus.dict_from_xml(await self._get("gethealth.cgi"))

    # Job starts: each returns the job ID to follow with job(); a refused start raises ApiError.

    async def format(self, disk_id: str, filesystem: str | None = None) -> int:
        """Without a file system the camera keeps the one on the disk (D-8 recommends passing it)."""
        params = {"diskid": disk_id}
        if filesystem:
            params["filesystem"] = filesystem
        return started_job_id(await self._get("format.cgi", params))

    async def check(self, disk_id: str) -> int:
        return started_job_id(await self._get("checkdisk.cgi", {"diskid": disk_id}))

    async def repair(self, disk_id: str) -> int:
        return started_job_id(await self._get("repair.cgi", {"diskid": disk_id}))

    async def mount(self, disk_id: str) -> int:
        return started_job_id(await self._get("mount.cgi", {"action": "mount", "diskid": disk_id}))

    async def unmount(self, disk_id: str) -> int:
        return started_job_id(await self._get("mount.cgi", {"action": "unmount", "diskid": disk_id}))

    async def job(self, jobid: int, disk_id: str) -> JobStatus:
        """A job that ended in ERROR (or that the camera does not know) is returned with `failed`, not raised."""
        response = await self._transport.request(
            "GET", f"{BASE}/job.cgi", params={"jobid": str(jobid), "diskid": disk_id}
        )
        return JobStatus.from_xml(xmlwire.parse(response.content))

    async def lock(self, disk_id: str) -> None:
        """A locked disk cannot be formatted, repaired or written to; recordings on it are kept."""
        await self._lock("lock", disk_id)

    async def unlock(self, disk_id: str) -> None:
        await self._lock("unlock", disk_id)

    async def _lock(self, action: str, disk_id: str) -> None:
        root = await self._get("lock.cgi", {"action": action, "diskid": disk_id})
        element = xmlwire.find(root, action)
        if element is None or (element.get("result") or "").upper() != "OK":
            raise ProtocolError(f"lock.cgi answered {action} without result OK")
