"""The pre-event buffer: the last few seconds of one live stream, kept in memory, so that a triggered recording
can begin `pre_duration` before its trigger (EVENTS.md §1.1, "Record video" with pre-event time).

It subscribes to the shared source like any recording (same options, same encoder) and keeps whole GOPs: the
buffer always starts at a key frame, so a recording cut from it plays from its first frame. A recording that
takes over from the buffer subscribes first and then asks for the buffered frames, so nothing falls between the
two; the overlap is recognised by the frames' pts.
"""

from __future__ import annotations

import asyncio
from collections import deque
from datetime import datetime, timedelta

from device.media.synthetic import EncodedFrame, FrameQueue, SourceOptions
from device.recorder.sources import SourceHub
from device.tasks import cancel_and_wait

MAX_SNAP_BACK = timedelta(seconds=10)
"""How far before the asked moment a recording may start to reach a key frame; beyond it (after the clock was
set forward, say) the recording starts at the first key frame after the moment instead."""


class PreBuffer:
    def __init__(self, hub: SourceHub, options: SourceOptions, seconds: float) -> None:
        self._hub, self.options, self.seconds = hub, options, max(0.0, seconds)
        self._frames: deque[EncodedFrame] = deque()
        self._queue: FrameQueue | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._queue, _ = await self._hub.subscribe(self.options)
        self._task = asyncio.get_running_loop().create_task(self._run(), name="prebuffer")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)
        queue, self._queue = self._queue, None
        if queue is not None:
            await self._hub.unsubscribe(self.options, queue)
        self._frames.clear()

    def frames_from(self, moment: datetime) -> list[EncodedFrame]:
        """The buffered frames from the last key frame at or before `moment` to the newest."""
        self._drain()
        frames = list(self._frames)
        keys = [n for n, f in enumerate(frames) if f.keyframe]
        before = [n for n in keys if frames[n].capture_time <= moment]
        if before and moment - frames[before[-1]].capture_time <= MAX_SNAP_BACK:
            return frames[before[-1] :]
        after = [n for n in keys if frames[n].capture_time > moment]
        return frames[after[0] :] if after else []

    async def _run(self) -> None:
        assert self._queue is not None
        while True:
            self._keep(await self._queue.get())
            self._drain()

    def _drain(self) -> None:
        while self._queue is not None and not self._queue.empty():
            self._keep(self._queue.get_nowait())

    def _keep(self, frame: EncodedFrame) -> None:
        self._frames.append(frame)
        horizon = frame.capture_time - timedelta(seconds=self.seconds) - MAX_SNAP_BACK / 10
        # Drop whole GOPs that ended before the horizon: the first kept frame must stay a key frame.
        while True:
            second = next((n for n, f in enumerate(self._frames) if n > 0 and f.keyframe), None)
            if second is None or self._frames[second].capture_time > horizon:
                return
            for _ in range(second):
                self._frames.popleft()
