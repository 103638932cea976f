"""RTP packets and the RTCP a receiver acts on (RFC 3550): pure parsing, no I/O.

Sender reports give the NTP wall clock that corresponds to an RTP timestamp, which is how a player dates frames;
a BYE says the sender is done (the camera sends one when the asked range has been played).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

NTP_EPOCH = datetime(1900, 1, 1, tzinfo=UTC)
SR, BYE = 200, 203


class RtpError(ValueError):
    """Not an RTP or RTCP packet of version 2, or cut short."""


@dataclass(frozen=True)
class RtpPacket:
    payload_type: int
    marker: bool
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes


def parse_rtp(packet: bytes) -> RtpPacket:
    """Skips CSRCs and a header extension and drops padding, as RFC 3550 §5.1 lays them out."""
    if len(packet) < 12:
        raise RtpError("an RTP packet has a 12-byte header")
    first, second, sequence, timestamp, ssrc = struct.unpack("!BBHII", packet[:12])
    if first >> 6 != 2:
        raise RtpError("not RTP version 2")
    offset = 12 + 4 * (first & 0x0F)
    if first & 0x10:
        if len(packet) < offset + 4:
            raise RtpError("the header extension is cut short")
        offset += 4 + 4 * int.from_bytes(packet[offset + 2 : offset + 4], "big")
    end = len(packet)
    if first & 0x20:
        end -= packet[-1] if packet else 0
    if offset > end:
        raise RtpError("the RTP packet is cut short")
    return RtpPacket(second & 0x7F, bool(second & 0x80), sequence, timestamp, ssrc, packet[offset:end])


@dataclass(frozen=True)
class SenderReport:
    ssrc: int
    wall_clock: datetime
    """The NTP timestamp: the moment that `rtp_timestamp` stands for."""
    rtp_timestamp: int
    packets: int
    octets: int


@dataclass(frozen=True)
class Bye:
    ssrcs: tuple[int, ...]


def ntp_to_datetime(ntp: int) -> datetime:
    """A 64-bit NTP timestamp (seconds since 1900 and a 32-bit fraction) as aware UTC, to the microsecond."""
    return NTP_EPOCH + timedelta(seconds=ntp >> 32, microseconds=round((ntp & 0xFFFFFFFF) * 1_000_000 / (1 << 32)))


def datetime_to_ntp(moment: datetime) -> int:
    elapsed = moment.astimezone(UTC) - NTP_EPOCH
    seconds = elapsed.days * 86400 + elapsed.seconds
    return ((seconds & 0xFFFFFFFF) << 32) | (elapsed.microseconds * (1 << 32) // 1_000_000)


def parse_rtcp(data: bytes) -> list[SenderReport | Bye]:
    """The sender reports and BYEs of a compound RTCP packet; other packet types (RR, SDES, APP) are skipped."""
    found: list[SenderReport | Bye] = []
    offset = 0
    while offset + 4 <= len(data):
        first, kind, words = struct.unpack("!BBH", data[offset : offset + 4])
        if first >> 6 != 2:
            raise RtpError("not RTCP version 2")
        end = offset + 4 * (words + 1)
        if end > len(data):
            raise RtpError("an RTCP packet is cut short")
        body = data[offset + 4 : end]
        if kind == SR and len(body) >= 24:
            ssrc, ntp_high, ntp_low, rtp_timestamp, packets, octets = struct.unpack("!IIIIII", body[:24])
            found.append(SenderReport(ssrc, ntp_to_datetime(ntp_high << 32 | ntp_low), rtp_timestamp, packets, octets))
        elif kind == BYE:
            count = first & 0x1F
            found.append(Bye(tuple(struct.unpack(f"!{count}I", body[: 4 * count])) if len(body) >= 4 * count else ()))
        offset = end
    return found
