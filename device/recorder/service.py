"""The recording service: which recordings run, fed from which source, onto which disk.

It starts a recording for each continuous profile when its disk is ready, stops recordings on a disk before
the disk goes away (unmount, lock, format, pull), closes what a crash left open when a disk mounts, and keeps
the "recording ongoing" state on the event bus. Muxing and writing run in worker threads; frames arrive from
shared sources (one encoder per distinct stream options).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import parse_qsl, unquote

import av

from device.events.bus import RECORDING, EventBus
from device.media.synthetic import EncodedFrame, FrameQueue, SourceOptions
from device.recorder import keyframes
from device.recorder.profiles import Profile, ProfileStore
from device.recorder.recovery import recover_interrupted
from device.recorder.session import RecordingSession, RecordingStopped
from device.recorder.sources import SourceHub
from device.state import DeviceState
from device.storage.layout import RecordingMeta, VideoAttributes, make_token
from device.storage.manager import DiskManager
from device.storage.store import RecordingStore
from device.tasks import cancel_and_wait

log = logging.getLogger(__name__)

# A small built-in set of stream profiles, as a fresh Axis camera has them.
STREAM_PROFILES: dict[str, SourceOptions] = {
    "quality": SourceOptions(1920, 1080, 15, "h264", 20),
    "balanced": SourceOptions(1280, 720, 15, "h264", 30),
    "bandwidth": SourceOptions(640, 360, 15, "h264", 40),
    "mobile": SourceOptions(320, 180, 10, "h264", 50),
}


SPACE_CHECK_SECONDS = 1.0


class RecordingRefused(Exception):
    """A recording cannot start or stop as asked; the message is the API's errormsg."""


def parse_stream_options(text: str) -> SourceOptions:
    """`options` as clients send it (`resolution=640x360&fps=15`, `streamprofile=Bandwidth`; once or twice
    percent-encoded, R-11). Arguments the camera does not use (`camera=1`) are ignored."""
    args = {k.lower(): v for k, v in parse_qsl(unquote(text), keep_blank_values=True)}
    base = SourceOptions()
    if "streamprofile" in args:
        base = STREAM_PROFILES.get(args["streamprofile"].strip().lower(), base)
        if args["streamprofile"].strip().lower() not in STREAM_PROFILES:
            raise ValueError(
                f"unknown streamprofile '{args['streamprofile']}' "
                f"(known: {', '.join(p.title() for p in STREAM_PROFILES)})"
            )
    return SourceOptions.parse(args, base)


@dataclass
class Active:
    recording_id: str
    disk_id: str
    options: SourceOptions
    profile: int | None
    session: RecordingSession
    queue: FrameQueue
    task: asyncio.Task[None] | None = None
    backlog: list[EncodedFrame] = field(default_factory=list)
    """Frames from before the start (a pre-event buffer), written first; live frames up to its last pts are
    the same frames again and are skipped."""


class RecordingService:
    def __init__(
        self, state: DeviceState, disks: DiskManager, bus: EventBus, hub: SourceHub, profiles: ProfileStore
    ) -> None:
        self.state, self.disks, self.bus, self.hub, self.profiles = state, disks, bus, hub, profiles
        self.active: dict[str, Active] = {}
        self._disk_ops: asyncio.Lock = asyncio.Lock()
        disks.listeners.append(self)

    # --- lifecycle -------------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Publish "not recording" so the state exists from the start; DiskManager.start() mounts the disks, and
        each mount calls disk_ready()."""
        self._publish()

    async def stop(self) -> None:
        for recording_id in list(self.active):
            await self.stop_recording(recording_id)
        await self.hub.stop()

    # --- disk events (DiskManager listener) ------------------------------------------------------------------

    async def disk_ready(self, disk_id: str) -> None:
        """A disk was mounted read-write: close what a crash left open, then start its profiles."""
        disk = self.disks.disk(disk_id)
        if disk.store is None:
            return
        if any(a.disk_id == disk_id for a in self.active.values()):
            return  # recovery would take a live block for an interrupted one
        closed = await asyncio.to_thread(recover_interrupted, disk.store)
        if closed:
            log.info("%s: closed %d recording(s) a restart interrupted", disk_id, len(closed))
        for profile in self.profiles.all():
            if profile.disk_id == disk_id and not self._profile_running(profile.number):
                with contextlib.suppress(RecordingRefused):
                    await self.start_profile(profile)

    async def disk_going(self, disk_id: str) -> None:
        """The disk is about to be unmounted, locked, formatted or pulled: close its recordings first."""
        for active in [a for a in self.active.values() if a.disk_id == disk_id]:
            await self.stop_recording(active.recording_id)

    # --- recordings ------------------------------------------------------------------------------------------

    async def record(
        self,
        disk_id: str,
        options_text: str = "",
        trigger: tuple[str, str, str] | None = None,
        profile: int | None = None,
        backlog: Callable[[], Sequence[EncodedFrame]] | None = None,
    ) -> str:
        """Start a recording; returns its ID. `trigger` is (recordingtype, eventid, eventtrigger). `backlog`,
        called right after the recording joins the source, gives buffered frames from before now to begin
        with (a triggered recording's pre-event time); the recording then starts at its first frame."""
        try:
            options = parse_stream_options(options_text)
        except ValueError as exc:
            raise RecordingRefused(f"Invalid options: {exc}") from None
        disk = self.disks.disks.get(disk_id)
        if disk is None:
            raise RecordingRefused(f"Unknown disk ID '{disk_id}'.")
        if disk.store is None or not self.disks.writable(disk):
            if disk.mounted and self.disks.full(disk):
                await self.disks.clean(disk_id)
            if disk.store is None or not self.disks.writable(disk):
                raise RecordingRefused(f"The disk {disk_id} cannot be recorded to ({self._why(disk_id)}).")
        kind, name, cause = trigger or ("continuous", "continuous", "continuous")
        try:
            queue, source = await self.hub.subscribe(options)
        except (OSError, ValueError, av.FFmpegError) as exc:
            raise RecordingRefused(f"The video source cannot be read: {exc}") from None
        earlier = list(backlog()) if backlog is not None else []
        if earlier:
            queue.waiting_for_key = False  # live frames continue the backlog, delta frames included
        now = earlier[0].capture_time if earlier else self.state.clock.now()
        identity = self.state.identity
        codec = "video/x-h264" if source.codec == "h264" else "image/jpeg"
        meta = RecordingMeta(
            make_token(now, identity.zone, identity.serial),
            "1",
            now,
            None,
            kind,
            name,
            cause,
            VideoAttributes(source.width, source.height, f"{source.fps}:1", codec),
        )
        split = int(self.state.params.get("Recording.DefaultSplitDuration"))
        try:
            session = await asyncio.to_thread(RecordingSession, disk.store, meta, split, identity.prod_full_name)
        except RecordingStopped as exc:
            await self.hub.unsubscribe(options, queue)
            raise RecordingRefused(exc.reason) from None
        active = Active(meta.id, disk_id, options, profile, session, queue, backlog=earlier)
        self.active[meta.id] = active
        active.task = asyncio.get_running_loop().create_task(self._pump(active), name=f"record-{meta.id}")
        self._publish()
        return meta.id

    async def stop_recording(self, recording_id: str) -> None:
        active = self.active.pop(recording_id, None)
        if active is None:
            raise RecordingRefused(f"No active recording with ID '{recording_id}'.")
        if active.task is not None and active.task is not asyncio.current_task():
            await cancel_and_wait(active.task)
        await self.hub.unsubscribe(active.options, active.queue)
        try:
            await asyncio.to_thread(active.session.finish)
        except RecordingStopped as exc:
            if exc.lost:  # stop.cgi, or a disk going, found the NAS gone: the recording ends where it was cut
                log.warning("recording %s ended on a lost disk: %s", recording_id, exc.reason)
        self.disks.refresh_state(active.disk_id)
        self._publish()

    async def start_profile(self, profile: Profile) -> str:
        return await self.record(
            profile.disk_id, profile.options, ("continuous", profile.event_id, "continuous"), profile.number
        )

    async def add_profile(self, disk_id: str, options: str, event_id: str) -> Profile:
        if disk_id not in self.disks.disks:
            raise RecordingRefused(f"Unknown disk ID '{disk_id}'.")
        try:
            parse_stream_options(options)
        except ValueError as exc:
            raise RecordingRefused(f"Invalid options: {exc}") from None
        profile = self.profiles.add(disk_id, unquote(options), event_id)
        with contextlib.suppress(RecordingRefused):  # the profile stands; it records once the disk can
            await self.start_profile(profile)
        return profile

    async def remove_profile(self, number: int) -> None:
        """Stop the profile's recording and forget the profile; recordings already made stay (R-12)."""
        if self.profiles.get(number) is None:
            raise RecordingRefused(f"No continuous recording profile {number}.")
        for active in [a for a in self.active.values() if a.profile == number]:
            await self.stop_recording(active.recording_id)
        self.profiles.remove(number)

    async def remove(
        self,
        disk_ids: list[str],
        recording_ids: set[str] | None,
        before: datetime | None = None,
        event_id: str | None = None,
        source: str | None = None,
    ) -> list[str]:
        """Remove whole recordings (stopping active ones first); a locked disk keeps its recordings."""
        removed: list[str] = []
        for disk_id in disk_ids:
            disk = self.disks.disk(disk_id)
            if disk.store is None:
                continue
            if self.disks.locked(disk):
                raise RecordingRefused(f"The disk {disk_id} is locked: its recordings cannot be removed.")
            store = disk.store
            for meta, _folder, locked in store.index.recordings():
                wanted = (
                    (recording_ids is None or meta.id in recording_ids)
                    and (before is None or meta.start <= before)
                    and (event_id is None or meta.trigger_name == event_id)
                    and (source is None or meta.source == source)
                )
                if not wanted or locked:
                    continue
                if meta.id in self.active:
                    await self.stop_recording(meta.id)
                await asyncio.to_thread(_delete_recording, store, meta.id)
                removed.append(meta.id)
            self.disks.refresh_state(disk_id)
        return removed

    # --- internals -------------------------------------------------------------------------------------------

    async def _pump(self, active: Active) -> None:
        checked = self.state.clock.monotonic()
        seen = active.backlog[-1].pts if active.backlog else None
        try:
            if active.backlog:
                await asyncio.to_thread(_feed, active.session, active.backlog)
                active.backlog = []
            while True:
                frames = [await active.queue.get()]
                while not active.queue.empty():  # write what piled up in one trip to the worker thread
                    frames.append(active.queue.get_nowait())
                if seen is not None:
                    frames = [f for f in frames if f.pts > seen]
                await asyncio.to_thread(_feed, active.session, frames)
                if self.state.clock.monotonic() - checked >= SPACE_CHECK_SECONDS:
                    checked = self.state.clock.monotonic()
                    await self._make_room(active.disk_id)
        except RecordingStopped as exc:
            log.warning("recording %s stopped: %s", active.recording_id, exc.reason)
            await self._ended(active, lost=exc.lost)

    async def _ended(self, active: Active, lost: bool = False) -> None:
        """A recording stopped by itself (disk full, write error): free space and carry on for a profile. A lost
        disk (a NAS gone away) is the disks' to handle: they reconnect, and disk_ready starts the profile again."""
        self.active.pop(active.recording_id, None)
        await self.hub.unsubscribe(active.options, active.queue)
        self._publish()
        if lost:
            await self.disks.connection_lost(active.disk_id, "a recording could not write to it")
            return
        self.disks.refresh_state(active.disk_id)
        profile = self.profiles.get(active.profile) if active.profile is not None else None
        if profile is not None and await self.disks.clean(active.disk_id):
            with contextlib.suppress(RecordingRefused):
                await self.start_profile(profile)

    async def _make_room(self, disk_id: str) -> None:
        """Free the oldest unprotected blocks before the disk (or its storage limit) runs out, so recording
        never stops for lack of space while anything can be deleted."""
        disk = self.disks.disk(disk_id)
        if disk.mounted and self.disks.full(disk):
            await self.disks.clean(disk_id)
            self.disks.refresh_state(disk_id)

    def _profile_running(self, number: int) -> bool:
        return any(a.profile == number for a in self.active.values())

    def _why(self, disk_id: str) -> str:
        disk = self.disks.disk(disk_id)
        if not disk.mounted:
            return f"status {disk.status.value}"
        if self.disks.locked(disk):
            return "locked"
        if disk.readonly_mount:
            return "read-only"
        return "full" if self.disks.full(disk) else "not writable"

    def _publish(self) -> None:
        """Storage/Recording has no source on real firmware: one state, true while anything records."""
        self.bus.set_state(RECORDING, {}, {"recording": "1" if self.active else "0"})


def _delete_recording(store: RecordingStore, recording_id: str) -> None:
    db = keyframes.ensure_keyframe_table(store.index_path)
    try:
        for block in store.index.blocks(recording_id):
            keyframes.delete_keyframes(db, block.meta.token)
            store.delete_block(block.meta.token)
    finally:
        db.close()
    store.delete_recording_if_empty(recording_id)


def _feed(session: RecordingSession, frames: list[EncodedFrame]) -> None:
    for frame in frames:
        if session.finished:  # stopped while these waited: they belong to no recording any more
            return
        session.feed(frame)
