"""H.264 access units into MPEG-TS by stream copy (PyAV), a chunk of bytes per access unit.

MPEG-TS because it is made to be read from the front with no index and no seeking, which is all a player fed
through a pipe can do. The stream's codec parameters (size, profile, SPS/PPS) come from probing the first key
frame as a raw H.264 stream, so nothing is assumed and nothing is re-encoded. Timestamps are the RTP ones (the
90 kHz clock is MPEG-TS's own), counted from the first frame; DTS equals PTS because cameras send no B-frames.
"""

from __future__ import annotations

import io
from fractions import Fraction

import av
import av.container
import av.stream

from app.playback.clock import tick_difference

TIME_BASE = Fraction(1, 90_000)


class _Chunks:
    """What the muxer writes into: write-only, so it is not seekable, and taken out after every packet."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


class TsMuxer:
    def __init__(self, clock_rate: int = 90_000) -> None:
        self._clock_rate = clock_rate
        self._out = _Chunks()
        self._container: av.container.OutputContainer | None = None
        self._stream: av.stream.Stream | None = None
        self._pts: int | None = None
        self._last_rtp = 0
        self.width = 0
        self.height = 0

    @property
    def started(self) -> bool:
        return self._container is not None

    def mux(self, data: bytes, keyframe: bool, rtp_timestamp: int) -> bytes:
        """The MPEG-TS bytes for one Annex B access unit; nothing until the first key frame (a decoder could do
        nothing with the frames before it)."""
        if self._container is None:
            if not keyframe:
                return b""
            self._open(data)
        assert self._stream is not None
        assert self._container is not None
        if self._pts is None:
            pts = 0
        else:
            step = tick_difference(rtp_timestamp, self._last_rtp) * 90_000 // self._clock_rate
            # A timestamp that does not move on (a camera that restarted its clock) still gets a later one: the
            # muxer refuses timestamps that do not increase.
            pts = self._pts + max(step, 1)
        self._pts, self._last_rtp = pts, rtp_timestamp
        packet = av.Packet(data)
        packet.stream = self._stream
        packet.time_base = TIME_BASE
        packet.pts = packet.dts = pts
        packet.is_keyframe = keyframe
        self._container.mux(packet)
        return self._out.take()

    def close(self) -> bytes:
        """The trailing bytes; the muxer cannot be used afterwards."""
        if self._container is not None:
            self._container.close()
            self._container = None
        return self._out.take()

    def _open(self, keyframe: bytes) -> None:
        with av.open(io.BytesIO(keyframe), "r", format="h264") as probe:
            template = probe.streams.video[0]
            self.width, self.height = template.codec_context.width, template.codec_context.height
            container = av.open(self._out, "w", format="mpegts", options={"flush_packets": "1"})
            self._stream = container.add_stream_from_template(template)
        self._stream.time_base = TIME_BASE
        self._container = container
