"""A rule's record-video action: recordings that start `pre_duration` before their trigger and end
`post_duration` after it (fixed), or after the rule's conditions stop holding (unlimited), EVENTS.md §1.1.

One action keeps one pre-event buffer and makes at most one recording at a time: a trigger while it records
extends that recording ("overlapping triggers of one rule extend one recording"). It watches the camera's clock
a few times a second, so a stop falls within a tick of its time whatever the clock does.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from device.recorder.prebuffer import PreBuffer
from device.recorder.service import RecordingRefused, RecordingService, parse_stream_options
from device.tasks import cancel_and_wait

log = logging.getLogger(__name__)

TICK_SECONDS = 0.1
RETRY_SECONDS = 1.0


@dataclass(frozen=True)
class RecordSettings:
    disk_id: str
    stream_options: str
    pre: timedelta
    post: timedelta
    trigger: tuple[str, str, str]  # recordingtype, eventid, eventtrigger


class TriggeredRecorder:
    """An ActionRunner (device.events.rules) for the fixed and unlimited `recording.storage` templates."""

    def __init__(
        self,
        recorder: RecordingService,
        settings: RecordSettings,
        on_recording: Callable[[str], None] | None = None,
    ) -> None:
        """`on_recording` hears the ID of each recording this action starts (a group keeps its recordings')."""
        self._recorder, self.settings, self._on_recording = recorder, settings, on_recording
        self._clock = recorder.state.clock
        self._buffer = PreBuffer(
            recorder.hub, parse_stream_options(settings.stream_options), settings.pre.total_seconds()
        )
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.recording_id: str | None = None
        self._start_at: datetime | None = None  # the wanted first moment of the next recording
        self._deadline: datetime | None = None
        self._holding = False
        self._pending = (
            False  # fired, not yet recording: even a trigger whose post time has passed records its pre time
        )

    async def start(self) -> None:
        await self._buffer.start()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="triggered-recording")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)
        await self._finish()
        await self._buffer.stop()

    def retime(self, pre: timedelta, post: timedelta) -> None:
        """New pre and post times, from the next trigger on; a running recording carries on."""
        self.settings = dataclasses.replace(self.settings, pre=pre, post=post)
        self._buffer.seconds = max(0.0, pre.total_seconds())

    def fire(self, moment: datetime) -> None:
        if self.recording_id is None:  # while recording, a trigger only extends the recording
            self._pending = True
        self._want_from(moment)
        self._extend(moment + self.settings.post)

    def hold(self, moment: datetime) -> None:
        self._want_from(moment)
        self._holding = True
        self._wake.set()

    def release(self, moment: datetime) -> None:
        self._holding = False
        self._extend(moment + self.settings.post)

    # --- internals

    def _want_from(self, moment: datetime) -> None:
        if self.recording_id is None and self._start_at is None:
            self._start_at = moment - self.settings.pre

    def _extend(self, until: datetime) -> None:
        self._deadline = until if self._deadline is None else max(self._deadline, until)
        self._wake.set()

    def _wanted(self) -> bool:
        return self._holding or (self._deadline is not None and self._clock.now() < self._deadline)

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), TICK_SECONDS)
            self._wake.clear()
            if self.recording_id is not None and self.recording_id not in self._recorder.active:
                self.recording_id = None  # ended by itself (disk gone, full): start again if still wanted
            wanted = self._wanted()
            if self.recording_id is None and (wanted or self._pending):
                await self._begin()
            elif self.recording_id is not None and not wanted:
                await self._finish()

    async def _begin(self) -> None:
        start_at = self._start_at or self._clock.now()
        try:
            self.recording_id = await self._recorder.record(
                self.settings.disk_id,
                self.settings.stream_options,
                self.settings.trigger,
                backlog=lambda: self._buffer.frames_from(start_at),
            )
            self._start_at, self._pending = None, False
            if self._on_recording is not None:
                self._on_recording(self.recording_id)
        except RecordingRefused as exc:
            log.warning("triggered recording on %s refused: %s", self.settings.disk_id, exc)
            if not self._wanted():  # its time has passed: give it up
                self._start_at, self._pending = None, False
            await asyncio.sleep(RETRY_SECONDS)

    async def _finish(self) -> None:
        recording_id, self.recording_id = self.recording_id, None
        self._deadline, self._start_at, self._pending = None, None, False
        if recording_id is not None and recording_id in self._recorder.active:
            with contextlib.suppress(RecordingRefused):
                await self._recorder.stop_recording(recording_id)
