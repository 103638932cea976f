"""The virtual camera assembled: state, HTTP server and RTSP server, started and stopped as one.

This is the one place components are wired together; each has the same start()/stop() lifecycle.
"""

from __future__ import annotations

import logging
import ssl
from dataclasses import dataclass, field
from pathlib import Path

from device.auth.digest import NonceAuthority
from device.auth.policy import Authenticator
from device.clock import Clock, SettableClock
from device.events.bus import EventBus
from device.events.system import EventSystem
from device.export.external import ExternalExports
from device.export.usb import UsbDisk
from device.http import (
    deviceinfo,
    discovery,
    disk_properties,
    disks,
    export,
    networkshare,
    params,
    play,
    record,
    recording_group,
    recordings,
    scenario_events,
    storage_limit,
    usergroup,
    vapix_services,
    virtualinput,
    wsstream,
)
from device.http.module import HttpModule
from device.http.server import HttpServer
from device.identity import load_identity
from device.jobs import JobRegistry
from device.params.definitions import build_definitions
from device.params.store import ParamStore
from device.recorder.profiles import ProfileStore
from device.recorder.service import RecordingService
from device.recorder.sources import SourceHub
from device.rtsp.server import RtspServer
from device.services import Services
from device.shares.registry import ShareRegistry
from device.shares.service import ShareService
from device.state import DeviceState
from device.storage.manager import GIB, DiskManager
from device.users import UserSpec, UserStore

log = logging.getLogger(__name__)

HTTP_MODULES: tuple[HttpModule, ...] = (
    params.MODULE,
    discovery.MODULE,
    deviceinfo.MODULE,
    usergroup.MODULE,
    disks.MODULE,
    disk_properties.MODULE,
    storage_limit.MODULE,
    recordings.MODULE,
    record.MODULE,
    recording_group.MODULE,
    export.MODULE,
    play.MODULE,
    networkshare.MODULE,
    vapix_services.MODULE,
    virtualinput.MODULE,
    scenario_events.MODULE,
    wsstream.MODULE,
)


@dataclass
class DeviceConfig:
    data_dir: Path
    host: str = "127.0.0.1"
    http_port: int = 8080
    rtsp_port: int = 8554
    users: list[UserSpec] = field(default_factory=list)
    serial: str | None = None
    timezone: str | None = None
    ssl_context: ssl.SSLContext | None = None
    nonce_lifetime: float = 300.0
    sd_capacity: int = 32 * GIB
    source: str = "synthetic"
    continuous_profiles: int = 2
    usb_capacity: int = 8 * GIB
    usb_dir: Path | None = None


class Device:
    def __init__(self, config: DeviceConfig, clock: Clock | None = None) -> None:
        self.config = config
        self.clock = clock or SettableClock()  # settable: a scenario can put the camera at any moment
        data = config.data_dir
        data.mkdir(parents=True, exist_ok=True)
        identity = load_identity(data, config.serial, config.timezone)
        users = UserStore(data / "users.json", identity.realm)
        for spec in config.users:
            users.set(spec)
        self.initial_password = users.ensure_initial_admin()
        store = ParamStore(
            data / "params.json", build_definitions(identity, config.rtsp_port, config.continuous_profiles)
        )
        auth = Authenticator(users, NonceAuthority(self.clock, config.nonce_lifetime))
        self.state = DeviceState(data, identity, users, store, self.clock, auth)
        bus = EventBus(self.clock.now)
        disks = DiskManager(self.state, bus, config.sd_capacity)
        maximum = int(store.get("Properties.LocalStorage.NbrOfContinuousRecordingProfiles"))
        recorder = RecordingService(
            self.state,
            disks,
            bus,
            SourceHub(self.clock, identity.serial, config.source),
            ProfileStore(data / "profiles.json", maximum),
        )
        usb = UsbDisk(config.usb_dir or data / "usb", data / "usb.json", config.usb_capacity)
        shares = ShareService(
            ShareRegistry(data / "shares.json", store), store, disks, identity.serial, data / "shares"
        )
        events = EventSystem(bus, self.clock, identity.zone, data, recorder)
        self.services = Services(bus, JobRegistry(), disks, recorder, ExternalExports(usb), shares, events)
        self.http = HttpServer(
            self.state, self.services, HTTP_MODULES, config.host, config.http_port, config.ssl_context
        )
        self.rtsp = RtspServer(self.state, config.host, config.rtsp_port, self.services)

    async def start(self) -> None:
        await self.services.disks.start()  # mounting a disk starts its continuous profiles
        await self.services.shares.start()  # a bound share mounts like a disk
        await self.services.recorder.start()
        await self.services.events.start()  # rules start from the disks' and recordings' current states
        await self.rtsp.start()
        self.state.params.put("Network.RTSP.Port", str(self.rtsp.port))
        try:
            await self.http.start()
        except BaseException:
            await self.rtsp.stop()
            raise

    async def stop(self) -> None:
        await self.services.events.close_streams()  # the HTTP server would wait for open event streams
        await self.http.stop()
        await self.rtsp.stop()
        await self.services.exports.stop()
        await self.services.events.stop()  # triggered recordings close before the recorder stops
        await self.services.recorder.stop()  # recordings close cleanly before the disks go
        await self.services.jobs.stop()
        await self.services.disks.stop()  # a share's index is published on the way out
        await self.services.shares.stop()  # and only then its connections are closed
