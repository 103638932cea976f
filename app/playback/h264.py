"""H.264 out of RTP (RFC 6184, packetization modes 0 and 1): single NAL unit packets, STAP-A aggregates and FU-A
fragments back into whole access units in Annex B, the form decoders and MPEG-TS take.

An access unit ends at the marker bit or, when a camera leaves the marker out, where the RTP timestamp changes.
A lost packet (a gap in sequence numbers) damages the access unit it belonged to, and every delta frame after
it refers to what was lost; so the damaged unit and everything up to the next key frame are dropped, as they
are before the first key frame: a decoder shown them would paint grey smears, never the picture.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.playback.rtp import RtpPacket

START_CODE = b"\x00\x00\x00\x01"
IDR, SEI, SPS, PPS, AUD = 5, 6, 7, 8, 9
STAP_A, FU_A = 24, 28


def nal_type(nal: bytes) -> int:
    return nal[0] & 0x1F if nal else 0


@dataclass(frozen=True)
class AccessUnit:
    timestamp: int
    """The RTP timestamp shared by all its packets (32 bits, as sent)."""
    nals: tuple[bytes, ...]

    @property
    def keyframe(self) -> bool:
        return any(nal_type(n) == IDR for n in self.nals)

    @property
    def annex_b(self) -> bytes:
        return b"".join(START_CODE + nal for nal in self.nals)


@dataclass
class _Pending:
    timestamp: int
    nals: list[bytes] = field(default_factory=list)
    damaged: bool = False


class H264Depacketizer:
    def __init__(self, parameter_sets: list[bytes] | None = None) -> None:
        """`parameter_sets`: SPS and PPS from the SDP, put before a key frame that comes without its own."""
        self._sps = [n for n in parameter_sets or [] if nal_type(n) == SPS]
        self._pps = [n for n in parameter_sets or [] if nal_type(n) == PPS]
        self._pending: _Pending | None = None
        self._fragment: bytearray | None = None
        self._next_sequence: int | None = None
        self._need_key = True
        self.dropped = 0
        """Access units not handed on: damaged by loss, or delta frames with no key frame before them."""

    def reset(self) -> None:
        """Forget the stream so far (a new PLAY): a partial unit or fragment is dropped, and play must begin
        again with a key frame."""
        self._pending = None
        self._fragment = None
        self._next_sequence = None
        self._need_key = True

    def push(self, packet: RtpPacket) -> list[AccessUnit]:
        """The access units `packet` completes (usually none or one)."""
        done: list[AccessUnit] = []
        lost = self._next_sequence is not None and packet.sequence != self._next_sequence
        self._next_sequence = (packet.sequence + 1) & 0xFFFF
        if self._pending is not None and self._pending.timestamp != packet.timestamp:
            done += self._finish()
        if self._pending is None:
            self._pending = _Pending(packet.timestamp)
        if lost:
            self._pending.damaged = True
            self._fragment = None
        self._add(packet.payload)
        if packet.marker:
            done += self._finish()
        return done

    def flush(self) -> list[AccessUnit]:
        """The unit still open at the end of the stream, if it is whole."""
        return self._finish() if self._pending is not None else []

    def _add(self, payload: bytes) -> None:
        assert self._pending is not None
        kind = nal_type(payload)
        if 1 <= kind <= 23:
            self._pending.nals.append(payload)
        elif kind == STAP_A:
            offset = 1
            while offset + 2 <= len(payload):
                size = int.from_bytes(payload[offset : offset + 2], "big")
                nal = payload[offset + 2 : offset + 2 + size]
                if len(nal) != size or not nal:
                    self._pending.damaged = True
                    return
                self._pending.nals.append(nal)
                offset += 2 + size
        elif kind == FU_A and len(payload) >= 2:
            header = payload[1]
            if header & 0x80:  # start
                self._fragment = bytearray(((payload[0] & 0xE0) | (header & 0x1F),))
            elif self._fragment is None:  # a middle or end whose start was lost
                self._pending.damaged = True
                return
            self._fragment += payload[2:]
            if header & 0x40:  # end
                self._pending.nals.append(bytes(self._fragment))
                self._fragment = None
        else:  # STAP-B, MTAP, FU-B (interleaved mode) or reserved: not sent in modes 0 and 1
            self._pending.damaged = True

    def _finish(self) -> list[AccessUnit]:
        pending, self._pending = self._pending, None
        assert pending is not None
        if self._fragment is not None:  # the unit ended inside a fragment: its end was lost
            pending.damaged = True
            self._fragment = None
        if pending.damaged:
            self._need_key = True
            self.dropped += 1
            return []
        if not pending.nals:
            return []
        unit = AccessUnit(pending.timestamp, tuple(pending.nals))
        if unit.keyframe:
            self._need_key = False
            return [self._with_parameter_sets(unit)]
        if self._need_key:
            self.dropped += 1
            return []
        return [unit]

    def _with_parameter_sets(self, unit: AccessUnit) -> AccessUnit:
        """Remember in-band SPS and PPS, and put the last known ones before a key frame that has none."""
        sps = [n for n in unit.nals if nal_type(n) == SPS]
        pps = [n for n in unit.nals if nal_type(n) == PPS]
        self._sps, self._pps = sps or self._sps, pps or self._pps
        if sps and pps:
            return unit
        missing = ([] if sps else self._sps) + ([] if pps else self._pps)
        if not missing:
            return unit
        first_slice = next(i for i, n in enumerate(unit.nals) if 1 <= nal_type(n) <= 5)
        nals = (*unit.nals[:first_slice], *missing, *unit.nals[first_slice:])
        return AccessUnit(unit.timestamp, nals)
