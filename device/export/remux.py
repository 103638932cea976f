"""One playable file from the pieces of an export plan, by stream copy: packets are re-timed, never re-encoded.

The output goes to a write-only sink (an HTTP response, a ZIP entry, a file on the USB disk) as it is made, in
chunks of :data:`CHUNK` bytes: memory stays flat however long the range, and the first bytes leave as soon as the
first key frame is read. Without seeking back the muxer cannot patch a duration in afterwards, so the known
duration of the range goes in the header up front (the stream's ``DURATION`` tag, which FFmpeg's Matroska
muxer writes as the segment's Duration when the output is not live).

Timestamps are milliseconds since the start key frame, from each block's start plus the packet's time in the
block, so they run on across block boundaries and keep real gaps. ``creation_time`` is the start key frame's
capture time, so a player can show the wall-clock time of every frame.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Protocol

import av

from device.export.packets import RangePacket, range_packets
from device.export.plan import ExportPlan
from device.storage.layout import format_time

CHUNK = 256 * 1024
MS = Fraction(1, 1000)

Sink = Callable[[bytes], object]


class ExportCancelled(Exception):
    """The export was stopped from outside (client gone, USB disk detached)."""


@dataclass
class RemuxResult:
    frames: int = 0
    bytes: int = 0
    first: datetime | None = None
    last: datetime | None = None


class _ChunkWriter:
    """What the muxer writes into: write-only (so the output is non-seekable), passing on whole chunks."""

    def __init__(self, sink: Sink) -> None:
        self._sink = sink
        self._buffer = bytearray()
        self.total = 0

    def write(self, data: bytes) -> int:
        self._buffer += data
        self.total += len(data)
        if len(self._buffer) >= CHUNK:
            self.flush()
        return len(data)

    def discard(self) -> None:
        """After a failure: drop what is buffered and whatever the muxer writes while it is torn down."""
        self._buffer.clear()
        self._sink = lambda _data: None

    def flush(self) -> None:
        if self._buffer:
            self._sink(bytes(self._buffer))
            self._buffer.clear()


class SeekableOutput(Protocol):
    def write(self, data: bytes, /) -> int: ...
    def seek(self, offset: int, whence: int = 0, /) -> int: ...
    def tell(self) -> int: ...


class _FileWriter:
    """A seekable file under the muxer, with the same discard-after-failure behaviour as a stream."""

    def __init__(self, file: SeekableOutput) -> None:
        self._file: SeekableOutput | None = file
        self.total = 0

    def write(self, data: bytes) -> int:
        if self._file is not None:
            self._file.write(data)
            self.total = max(self.total, self._file.tell())
        return len(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._file.seek(offset, whence) if self._file is not None else 0

    def tell(self) -> int:
        return self._file.tell() if self._file is not None else 0

    def discard(self) -> None:
        self._file = None

    def flush(self) -> None:
        """Nothing is held here: every write goes straight to the file."""


def _duration_tag(duration: timedelta) -> str:
    seconds = max(0.0, duration.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, rest = divmod(rest, 60)
    return f"{int(hours):02d}:{int(minutes):02d}:{rest:012.9f}"


class NothingToExport(Exception):
    """No frame of the range could be read."""


def remux(
    plan: ExportPlan,
    sink: Sink | SeekableOutput,
    progress: Callable[[float], None] | None = None,
    cancelled: Callable[[], bool] = lambda: False,
) -> RemuxResult:
    """Write the export to `sink`: a callable taking chunks as they are made (a stream: no seek index), or a
    seekable file, into which the muxer also writes Cues and the final Duration (a file a player can seek in
    quickly). Blocking (file reads, FFmpeg): run in a worker thread. Raises
    ExportCancelled when `cancelled()` turns true, NothingToExport when no frame reads, and the sink's own
    exceptions; after an exception the sink has been given a prefix of the file, never a finished one."""
    writer = _ChunkWriter(sink) if callable(sink) else _FileWriter(sink)
    output = av.open(writer, "w", format=plan.format.muxer, options=dict(plan.format.muxer_options))
    output.metadata["title"] = plan.recording.id
    output.metadata["creation_time"] = format_time(plan.start)
    copier = _Copier(plan, output, progress)
    try:
        for item in range_packets(plan):
            if cancelled():
                raise ExportCancelled("the export was cancelled")
            copier.mux(item)
        if copier.out_stream is None:
            raise NothingToExport("no frame of the range could be read")
        output.close()
    except BaseException:
        writer.discard()
        with contextlib.suppress(Exception):
            output.close()
        raise
    writer.flush()
    copier.result.bytes = writer.total
    return copier.result


class _Copier:
    def __init__(
        self, plan: ExportPlan, output: av.container.OutputContainer, progress: Callable[[float], None] | None
    ) -> None:
        self.plan, self.output, self.progress = plan, output, progress
        self.out_stream: av.VideoStream | None = None
        self.result = RemuxResult()
        self._last_dts = -1
        self._span = max(plan.duration.total_seconds(), 1e-3)

    def mux(self, item: RangePacket) -> None:
        packet, moment = item.packet, item.moment
        if self.out_stream is None:
            self.out_stream = self.output.add_stream_from_template(item.stream)
            self.out_stream.time_base = MS
            self.out_stream.metadata["DURATION"] = _duration_tag(self.plan.duration)
        assert packet.pts is not None
        assert packet.time_base is not None
        shift = round((item.piece.start - self.plan.start).total_seconds() * 1000)
        pts = shift + round(packet.pts * packet.time_base / MS)
        decode = packet.dts if packet.dts is not None else packet.pts
        dts = max(shift + round(decode * packet.time_base / MS), self._last_dts + 1)
        packet.pts, packet.dts = max(pts, dts), dts
        packet.time_base = MS
        packet.stream = self.out_stream
        self.output.mux(packet)
        self._last_dts = dts
        result = self.result
        result.frames += 1
        result.first = result.first or moment
        result.last = moment
        if self.progress is not None:
            self.progress(min(1.0, (moment - self.plan.start).total_seconds() / self._span))
