"""Export recording API (/axis-cgi/record/export/*.cgi): clips as files, on this computer or the camera's USB disk.

A download is streamed to ``.<name>.part`` beside its target and renamed when complete, so a cancelled or failed
export never leaves a file that looks whole. The camera answers errors as XML with HTTP 200 (AMBIGUITIES.md
E-11), so the body's Content-Type is checked before anything is saved. Progress is measured against
properties.cgi's estimate, the only size known before the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote

import httpx
from lxml import etree

from app.vapix import xmlwire
from app.vapix.errors import ApiError, ConnectionFailed, ProtocolError
from app.vapix.jobs import ApiJobStatus, wait_for_job
from app.vapix.recordings import format_query_time, parse_time
from app.vapix.schemaversions import SchemaVersions
from app.vapix.transport import VapixTransport

BASE = "/axis-cgi/record/export"
SCHEMA_VERSION = "1"
MATROSKA = "matroska"
ZIP_AES256 = "zip-aes256"
USB_DISK = "USB_DISK"
MAX_PASSWORD_BYTES = 512

ERROR_TEXTS: dict[int, str] = {
    10: "The camera could not make the export.",
    20: "The camera refused the export request as invalid.",
    40: "The camera does not support this version of the Export recording API.",
    110: "The recording is not on that disk any more.",
    120: "The start time is not a valid time.",
    130: "The stop time is not a valid time.",
    140: "The start is after the stop.",
    150: "The start is after the end of the recording.",
    160: "The stop is before the beginning of the recording.",
    170: "The camera cannot export to that format.",
    180: "That format cannot hold this recording's video.",
    190: "The camera no longer knows this export job.",
    200: "The camera has no USB disk attached.",
    210: "The camera's USB disk cannot be written (write-protected or full).",
    220: "The camera is already exporting to its USB disk; wait for that export to finish.",
    230: "The file path is not valid on the USB disk.",
    240: f"The password is too long (at most {MAX_PASSWORD_BYTES} bytes).",
    250: "The camera does not know that encryption format.",
    260: "An encrypted export needs a password.",
    270: "A password needs an encryption format.",
    280: "That export format cannot be encrypted.",
}


def error_text(error: ApiError) -> str:
    """The error as a sentence for a person, falling back on the camera's own description."""
    return ERROR_TEXTS.get(error.code, error.description) if error.code is not None else error.description


@dataclass(frozen=True)
class ExportCapabilities:
    formats: dict[str, tuple[str, ...]]
    """Export format → the encryption formats offered with it."""

    @classmethod
    def from_xml(cls, root: etree._Element) -> ExportCapabilities:
        xmlwire.raise_for_error(root)
        formats: dict[str, tuple[str, ...]] = {}
        for element in xmlwire.find_all(root, "ExportCapabilities"):
            name = xmlwire.attr(element, "ExportFormat")
            if name:
                encryptions = [
                    xmlwire.attr(e, "EncryptionFormat") for e in xmlwire.find_all(element, "ExportEncryption")
                ]
                formats[name] = tuple(e for e in encryptions if e)
        if not formats:
            raise ProtocolError("capabilities.cgi named no export format")
        return cls(formats)

    def encrypts(self, export_format: str = MATROSKA) -> bool:
        return ZIP_AES256 in self.formats.get(export_format, ())


@dataclass(frozen=True)
class ExportRange:
    """What to export: a recording, optionally a part of it, in a format, optionally in an AES-256 ZIP."""

    recording_id: str
    disk_id: str
    start: datetime | None = None
    stop: datetime | None = None
    export_format: str = MATROSKA
    password: str | None = field(default=None, repr=False)
    filename: str | None = None

    @property
    def encryption(self) -> str | None:
        return ZIP_AES256 if self.password else None

    def params(self, with_password: bool = True) -> dict[str, str]:
        params = {"schemaversion": SCHEMA_VERSION, "recordingid": self.recording_id, "diskid": self.disk_id}
        params["exportformat"] = self.export_format
        if self.start is not None:
            params["starttime"] = format_query_time(self.start)
        if self.stop is not None:
            params["stoptime"] = format_query_time(self.stop)
        if self.encryption:
            params["encryptionformat"] = self.encryption
            if with_password and self.password:
                params["password"] = self.password
        if self.filename and with_password:
            params["filename"] = self.filename
        return params


@dataclass(frozen=True)
class ExportProperties:
    recording_id: str
    export_format: str
    encryption_format: str | None
    estimated_kb: int | None
    """None when the camera cannot estimate (-1)."""
    start: datetime
    """The key frame the export starts at: pass it back as the export's start."""
    stop: datetime

    @property
    def estimated_bytes(self) -> int | None:
        return None if self.estimated_kb is None else self.estimated_kb * 1024

    @classmethod
    def from_xml(cls, root: etree._Element) -> ExportProperties:
        xmlwire.raise_for_error(root)
        element = xmlwire.find(root, "ExportProperties")
        if element is None:
            raise ProtocolError("properties.cgi answered without ExportProperties")
        start, stop = xmlwire.attr(element, "Starttime"), xmlwire.attr(element, "Stoptime")
        if not start or not stop:
            raise ProtocolError("ExportProperties lacks Starttime or Stoptime")
        size = xmlwire.attr(element, "EstimatedFileSize")
        try:
            estimated = int(size) if size is not None else -1
        except ValueError:
            raise ProtocolError(f"EstimatedFileSize={size!r} is not a number") from None
        return cls(
            xmlwire.attr(element, "RecordingId") or "",
            xmlwire.attr(element, "ExportFormat") or MATROSKA,
            xmlwire.attr(element, "EncryptionFormat"),
            None if estimated < 0 else estimated,
            parse_time(start),
            parse_time(stop),
        )


@dataclass(frozen=True)
class ExportJobStatus(ApiJobStatus):
    """getjobstatus.cgi's answer, in the shape app.vapix.jobs follows."""

    @classmethod
    def from_xml(cls, root: etree._Element) -> ExportJobStatus:
        status = xmlwire.find(root, "JobStatus")
        if status is None:  # a failed job answers a GeneralError inside GetJobStatusSuccess (E-9)
            error = xmlwire.error_in(root)
            if error is None:
                raise ProtocolError("getjobstatus.cgi answered neither a status nor an error")
            if xmlwire.find(root, "GetJobStatusSuccess") is None:
                raise error  # the request itself failed (190: no such job)
            return cls(100, True, True, error_text(error), error.code)
        try:
            progress = int(xmlwire.attr(status, "Progress") or "-1")
        except ValueError:
            progress = -1
        done = (xmlwire.attr(status, "Status") or "").strip().lower() == "done"
        return cls(100 if done else progress, done)


@dataclass(frozen=True)
class Download:
    path: Path
    size: int
    camera_name: str
    """The name the camera gave the file (Content-Disposition)."""


def filename_from(header: str | None) -> str | None:
    """The file name of a Content-Disposition header, ``filename*`` (RFC 6266) first."""
    if not header:
        return None
    extended = re.search(r"filename\*\s*=\s*([^']*)'[^']*'([^;]+)", header, re.IGNORECASE)
    if extended:
        return unquote(extended.group(2).strip(), encoding=extended.group(1) or "utf-8")
    plain = re.search(r'filename\s*=\s*"([^"]*)"|filename\s*=\s*([^;]+)', header, re.IGNORECASE)
    if plain:
        return (plain.group(1) if plain.group(1) is not None else plain.group(2)).strip()
    return None


def _safe_name(name: str | None, fallback: str) -> str:
    """A camera's file name as a local file name: no folders, nothing a file system refuses."""
    cleaned = re.sub(r'[\\/:*?"<>|\x00-\x1f]', "_", (name or "").strip()).strip(" .")
    return cleaned or fallback


Progress = Callable[[int, int | None], object]
"""(bytes received, bytes expected or None)."""


class Exports:
    def __init__(self, transport: VapixTransport) -> None:
        self._transport = transport

    async def schema_versions(self) -> SchemaVersions:
        return SchemaVersions.from_xml(await self._transport.get_xml(f"{BASE}/schemaversions.cgi"))

    async def capabilities(self) -> ExportCapabilities:
        params = {"schemaversion": SCHEMA_VERSION}
        return ExportCapabilities.from_xml(await self._transport.get_xml(f"{BASE}/capabilities.cgi", params))

    async def properties(self, export: ExportRange) -> ExportProperties:
        """The key-frame-snapped start, the stop and the estimated size: ask before exporting (the spec says so)."""
        params = export.params(with_password=False)
        return ExportProperties.from_xml(await self._transport.get_xml(f"{BASE}/properties.cgi", params))

    async def download(
        self, export: ExportRange, target: Path, progress: Progress | None = None, expected: int | None = None
    ) -> Download:
        """Save the export as `target`, or in `target` under the camera's name when it is a folder. Cancelling
        the task, or any failure, removes the partial file; an existing file is replaced only when complete."""
        into_folder = await asyncio.to_thread(target.is_dir)
        async with self._transport.stream(f"{BASE}/exportrecording.cgi", export.params()) as response:
            content_type = response.headers.get("content-type", "")
            if content_type.startswith("text/xml"):
                root = xmlwire.parse(await response.aread())
                xmlwire.raise_for_error(root)
                raise ProtocolError("exportrecording.cgi answered XML without an error instead of a file")
            camera_name = filename_from(response.headers.get("content-disposition")) or ""
            fallback = f"{export.recording_id}.{'zip' if export.password else 'mkv'}"
            path = target / _safe_name(camera_name, fallback) if into_folder else target
            partial = path.with_name(f".{path.name}.part")
            received = 0
            try:
                with partial.open("wb") as f:
                    async for chunk in response.aiter_bytes():
                        f.write(chunk)
                        received += len(chunk)
                        if progress is not None:
                            progress(received, expected)
                partial.replace(path)
            except BaseException as exc:
                with contextlib.suppress(OSError):
                    partial.unlink()
                if isinstance(exc, httpx.TransportError):
                    raise ConnectionFailed(f"the export ended before the file was complete: {exc}") from None
                raise
        return Download(path, received, camera_name)

    async def export_to_usb(self, export: ExportRange, filepath: str | None = None) -> tuple[int, str]:
        """Start an export to the camera's USB disk: (job ID, the file's path on the disk)."""
        params = {**export.params(), "externaldiskid": USB_DISK}
        params.pop("filename", None)
        if filepath:
            params["filepath"] = filepath
        root = await self._transport.get_xml(f"{BASE}/exporttoexternal.cgi", params)
        element = xmlwire.find(root, "ExportToExternal")
        job = xmlwire.attr(element, "JobId") if element is not None else None
        if element is None or job is None or not job.strip().isdigit():
            raise ProtocolError("exporttoexternal.cgi answered without a job ID")
        return int(job), xmlwire.attr(element, "FilePath") or ""

    async def job_status(self, job_id: int) -> ExportJobStatus:
        params = {"schemaversion": SCHEMA_VERSION, "jobid": str(job_id)}
        response = await self._transport.request("GET", f"{BASE}/getjobstatus.cgi", params=params)
        return ExportJobStatus.from_xml(xmlwire.parse(response.content))

    async def wait_for_usb_export(
        self,
        job_id: int,
        on_status: Callable[[ExportJobStatus], object] | None = None,
        interval: float = 0.5,
        timeout: float | None = None,
    ) -> ExportJobStatus:
        """The finished status; JobFailedError with the reason when the export failed."""
        fetch: Callable[[], Awaitable[ExportJobStatus]] = lambda: self.job_status(job_id)  # noqa: E731
        return await wait_for_job(fetch, interval, timeout, on_status)
