"""One running source per distinct set of stream options, shared by every recording that asks for it.

Two profiles recording 640x360@15 H.264 share one encoder ("encode once, fan out"); a third asking for MJPEG
gets its own. A file or RTSP source (`--source`) is one fixed stream shared by all, whatever they ask for. A
source starts with its first user and stops with its last, so an idle camera encodes nothing.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from device.clock import Clock
from device.media.packets import PacketSource
from device.media.synthetic import FrameQueue, SourceOptions, SyntheticSource

Source = SyntheticSource | PacketSource
SYNTHETIC = "synthetic"


def check_source_spec(spec: str) -> str:
    if spec == SYNTHETIC or spec.startswith(("file:", "rtsp://")):
        return spec
    raise ValueError(f"--source must be synthetic, file:PATH or rtsp://..., not {spec!r}")


@dataclass
class _Shared:
    source: Source
    queues: list[FrameQueue] = field(default_factory=list)


class SourceHub:
    def __init__(self, clock: Clock, label: str = "", spec: str = SYNTHETIC) -> None:
        self._clock = clock
        self._label = label
        self.spec = check_source_spec(spec)
        self._sources: dict[SourceOptions | str, _Shared] = {}
        # Opening a source awaits; a second recording asking meanwhile must share it, not open another.
        self._lock = asyncio.Lock()

    async def subscribe(self, options: SourceOptions) -> tuple[FrameQueue, Source]:
        async with self._lock:
            return await self._subscribe(options)

    async def _subscribe(self, options: SourceOptions) -> tuple[FrameQueue, Source]:
        key = self._key(options)
        shared = self._sources.get(key)
        if shared is None:
            source: Source
            if self.spec == SYNTHETIC:
                source = SyntheticSource.from_options(options, self._clock, label=self._label)
            else:  # opening a file or a camera's stream can take seconds: not on the event loop
                source = await asyncio.to_thread(PacketSource, self.spec, self._clock)
            shared = _Shared(source)
            self._sources[key] = shared
            await source.start()
        queue = shared.source.subscribe()
        shared.queues.append(queue)
        return queue, shared.source

    async def unsubscribe(self, options: SourceOptions, queue: FrameQueue) -> None:
        async with self._lock:
            await self._unsubscribe(options, queue)

    async def _unsubscribe(self, options: SourceOptions, queue: FrameQueue) -> None:
        key = self._key(options)
        shared = self._sources.get(key)
        if shared is None or queue not in shared.queues:
            return
        shared.queues.remove(queue)
        shared.source.unsubscribe(queue)
        if not shared.queues:
            del self._sources[key]
            await shared.source.stop()

    def _key(self, options: SourceOptions) -> SourceOptions | str:
        return options if self.spec == SYNTHETIC else self.spec

    async def stop(self) -> None:
        for shared in list(self._sources.values()):
            await shared.source.stop()
        self._sources.clear()
