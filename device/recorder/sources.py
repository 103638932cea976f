"""One running source per distinct set of stream options, shared by every recording that asks for it.

Two profiles recording 640x360@15 H.264 share one encoder ("encode once, fan out"); a third asking for MJPEG
gets its own. A source starts with its first user and stops with its last, so an idle camera encodes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from device.clock import Clock
from device.media.synthetic import FrameQueue, SourceOptions, SyntheticSource


@dataclass
class _Shared:
    source: SyntheticSource
    queues: list[FrameQueue] = field(default_factory=list)


class SourceHub:
    def __init__(self, clock: Clock, label: str = "") -> None:
        self._clock = clock
        self._label = label
        self._sources: dict[SourceOptions, _Shared] = {}

    async def subscribe(self, options: SourceOptions) -> FrameQueue:
        shared = self._sources.get(options)
        if shared is None:
            shared = _Shared(SyntheticSource.from_options(options, self._clock, label=self._label))
            self._sources[options] = shared
            await shared.source.start()
        queue = shared.source.subscribe()
        shared.queues.append(queue)
        return queue

    async def unsubscribe(self, options: SourceOptions, queue: FrameQueue) -> None:
        shared = self._sources.get(options)
        if shared is None or queue not in shared.queues:
            return
        shared.queues.remove(queue)
        shared.source.unsubscribe(queue)
        if not shared.queues:
            del self._sources[options]
            await shared.source.stop()

    def running(self) -> list[SourceOptions]:
        return list(self._sources)

    async def stop(self) -> None:
        for shared in list(self._sources.values()):
            await shared.source.stop()
        self._sources.clear()
