"""The camera's USB disk (``USB_DISK``), the target of exporttoexternal.cgi: a folder on the host.

Scenarios attach and detach it and make it read-only, as a person would pull the stick or flip its lock; the
state survives restarts. Its capacity is the smaller of ``--usb-size`` and the host's free space, so a test can
fill it without filling the host. Paths inside it are checked as a FAT-formatted stick would take them.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import asdict, dataclass, replace
from pathlib import Path, PurePosixPath

from device.persist import read_json, write_json_atomic

USB_DISK = "USB_DISK"
_FAT_FORBIDDEN = set('<>:"|?*')
_DRIVE = re.compile(r"[A-Za-z]:")


class InvalidPath(ValueError):
    """A filepath the USB disk cannot take; the message says why."""


@dataclass
class UsbState:
    attached: bool = True
    readonly: bool = False
    write_rate: int = 0
    """Bytes per second the stick takes, 0 for as fast as the host: a slow stick, to rehearse long exports."""


class UsbDisk:
    def __init__(self, root: Path, state_file: Path, capacity: int) -> None:
        self.root = root
        self.capacity = capacity
        self._state_file = state_file
        saved = read_json(state_file, {})
        self.state = UsbState(
            bool(saved.get("attached", True)), bool(saved.get("readonly", False)), int(saved.get("write_rate", 0))
        )
        self.root.mkdir(parents=True, exist_ok=True)

    @property
    def attached(self) -> bool:
        return self.state.attached

    @property
    def readonly(self) -> bool:
        return self.state.readonly

    @property
    def write_rate(self) -> int:
        return self.state.write_rate

    def attach(self) -> None:
        self._save(replace(self.state, attached=True))

    def detach(self) -> None:
        self._save(replace(self.state, attached=False))

    def set_readonly(self, readonly: bool) -> None:
        self._save(replace(self.state, readonly=readonly))

    def set_write_rate(self, rate: int) -> None:
        self._save(replace(self.state, write_rate=max(0, rate)))

    def _save(self, state: UsbState) -> None:
        self.state = state
        write_json_atomic(self._state_file, asdict(state))

    def used(self) -> int:
        return sum(p.stat().st_size for p in self.root.rglob("*") if p.is_file())

    def free(self) -> int:
        host_free = shutil.disk_usage(self.root).free
        return max(0, min(self.capacity - self.used(), host_free))

    def target(self, filepath: str | None, default_name: str) -> tuple[str, Path]:
        """(the path as the API reports it, the file on the host) for `filepath`: relative to the disk's root,
        folders made as needed by the caller; empty means `default_name` at the root, and a path ending in "/"
        means `default_name` in that folder. Raises InvalidPath.

        The spec's rule is literal, "No .. are allowed in the path": any ``..`` is refused, ``a..b.mkv`` too
        (AMBIGUITIES.md E-8), which no reading of a path can turn into a way out. Backslashes separate folders, as
        a Windows user writes them. The disk is the whole of the path's world: a leading "/" (or "\\") means its
        root, so ``/clips/a.mkv`` is ``clips/a.mkv`` on the disk; a drive letter (``C:``) names nothing on it and
        is refused, as the colon is on a FAT stick anyway."""
        text = (filepath or "").strip()
        if ".." in text:
            raise InvalidPath("No '..' is allowed in the file path.")
        if _DRIVE.match(text):
            raise InvalidPath(f"'{text[:2]}' is a drive letter: give the path from the USB disk's root instead.")
        text = text.replace("\\", "/")
        if text.endswith("/") or not text:
            text += default_name
        parts = [p for p in PurePosixPath(text.lstrip("/")).parts if p not in ("", ".")]
        if not parts:
            raise InvalidPath("The file path names no file.")
        for part in parts:
            if any(ord(c) < 32 for c in part) or _FAT_FORBIDDEN & set(part):
                raise InvalidPath(f"'{part}' has characters a USB disk cannot store (<>:\"|?* or control characters).")
            if len(part.encode()) > 255:
                raise InvalidPath(f"'{part[:20]}…' is longer than 255 bytes.")
        host = self.root.joinpath(*parts)
        if not os.path.realpath(host).startswith(os.path.realpath(self.root) + os.sep):
            raise InvalidPath("The file path leads outside the USB disk.")
        return "/".join(parts), host
