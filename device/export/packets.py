"""The packets of an export plan's range, in order, with the wall-clock time each was captured.

Shared by the exporter (which muxes them) and play.cgi (which sends MJPEG frames as they are). Each block is
read from its first key frame in range (blockio.BlockReader); a block that does not open, or is cut short by a
power loss or because it is still being written, yields the packets it holds. A block that can no longer be
read at all (deleted under the export) ends the iteration with BlockReadError.

A packet's time is the block's start plus whole milliseconds, rounded down (the muxer's time base), while the
key-frame index, and so the plan's start, keeps the capture time to the microsecond: the start is compared in the
block's milliseconds, or the key frame the plan starts at would be dropped whenever it was not captured on a
whole millisecond after its block's start.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import av
import av.error

from device.export.blockio import BlockReader
from device.export.plan import ExportPlan, Piece


@dataclass
class RangePacket:
    packet: av.Packet[Any]
    moment: datetime
    """When the frame was captured."""
    piece: Piece
    stream: av.VideoStream
    """The stream the packet came from (for codec parameters); valid while the iteration is on this piece."""


_MS = timedelta(milliseconds=1)


def range_packets(plan: ExportPlan) -> Generator[RangePacket, None, None]:
    """Every packet from the plan's start key frame to its stop. Blocking: iterate in a worker thread; close the
    generator when stopping early, so the block open at the time is closed at once. Raises BlockReadError when a
    block of the range cannot be read (gone from the card): the packets would skip a part of the range, and an
    export that went on would look whole."""
    for piece in plan.pieces:
        first = piece.start + (plan.start - piece.start) // _MS * _MS
        reader = BlockReader(plan.store, piece.path, piece.header_size, piece.begin, piece.end, piece.growing)
        try:
            container = av.open(reader, "r", format="matroska")
        except av.error.FFmpegError:
            if reader.failure is not None:
                raise reader.failure from None
            continue
        with container:
            stream = container.streams.video[0]
            try:
                for packet in container.demux(stream):
                    if packet.size == 0 or packet.pts is None or packet.time_base is None:
                        continue
                    moment = piece.start + timedelta(seconds=float(packet.pts * packet.time_base))
                    if moment > plan.stop:
                        return
                    if moment >= first:
                        yield RangePacket(packet, moment, piece, stream)
            except av.error.FFmpegError:
                if reader.failure is not None:
                    raise reader.failure from None
                # a block cut short: keep what it held
