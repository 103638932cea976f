"""The camera's running components that HTTP handlers use, held in one object next to DeviceState."""

from __future__ import annotations

from dataclasses import dataclass

from device.events.bus import EventBus
from device.events.system import EventSystem
from device.export.external import ExternalExports
from device.jobs import JobRegistry
from device.recorder.service import RecordingService
from device.shares.service import ShareService
from device.storage.manager import DiskManager


@dataclass
class Services:
    bus: EventBus
    jobs: JobRegistry
    disks: DiskManager
    recorder: RecordingService
    exports: ExternalExports
    shares: ShareService
    events: EventSystem
