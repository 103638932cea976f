"""RTP and RTCP for H.264 over RTSP (interleaved TCP or UDP datagrams): pure functions, no I/O. JPEG's payload
format (RFC 2435) is in device/rtsp/jpeg.py.

* RFC 6184 packetization, packetization-mode=1: a NAL unit that fits the MTU travels in a single NAL unit packet,
  a larger one in FU-A fragments. The marker bit is set on the last packet of an access unit.
* RFC 3550 headers: version 2, payload type 96, sequence numbers modulo 2^16, 90 kHz timestamps modulo 2^32.
* RTCP sender report and BYE (RFC 3550 §6.4.1, §6.6); a last SR and the BYE go as one compound packet at the end.
* RFC 2326 §10.12 interleaved framing: ``$``, channel, 16-bit length, then the packet.
"""

from __future__ import annotations

import itertools
import struct
from collections.abc import Iterator

MTU = 1400
"""The largest RTP payload sent; NAL units larger than this are fragmented (FU-A)."""
PAYLOAD_TYPE = 96
CLOCK_RATE = 90_000
FU_A = 28
_NTP_EPOCH_OFFSET = 2_208_988_800  # seconds from 1900-01-01 to 1970-01-01


def split_annex_b(access_unit: bytes) -> list[bytes]:
    """The NAL units of an Annex B access unit (start codes of 3 or 4 bytes), without their start codes. Searched
    with ``bytes.find``: a live 1080p stream passes a few MB a second through here."""
    starts: list[int] = []
    found = access_unit.find(b"\x00\x00\x01")
    while found >= 0:
        starts.append(found)
        found = access_unit.find(b"\x00\x00\x01", found + 3)
    nals = [
        access_unit[start + 3 : following].rstrip(b"\x00")  # a 4-byte start code's zero, trailing zeros
        for start, following in itertools.pairwise(starts)
    ]
    if starts:
        nals.append(access_unit[starts[-1] + 3 :])
    return [nal for nal in nals if nal]


def annex_b(nals: list[bytes]) -> bytes:
    return b"".join(b"\x00\x00\x00\x01" + nal for nal in nals)


def nal_payloads(nal: bytes, mtu: int = MTU) -> list[bytes]:
    """One NAL unit as RTP payloads: itself when it fits, otherwise FU-A fragments of at most `mtu` bytes."""
    if len(nal) <= mtu:
        return [nal]
    header = nal[0]
    indicator = (header & 0xE0) | FU_A
    nal_type = header & 0x1F
    body = nal[1:]
    step = mtu - 2
    chunks = [body[i : i + step] for i in range(0, len(body), step)]
    payloads = []
    for index, chunk in enumerate(chunks):
        fu_header = nal_type
        if index == 0:
            fu_header |= 0x80  # S
        if index == len(chunks) - 1:
            fu_header |= 0x40  # E
        payloads.append(bytes((indicator, fu_header)) + chunk)
    return payloads


def access_unit_payloads(nals: list[bytes], mtu: int = MTU) -> list[tuple[bytes, bool]]:
    """(payload, marker) for every packet of one access unit; only the last packet carries the marker."""
    payloads = [p for nal in nals for p in nal_payloads(nal, mtu)]
    return [(p, i == len(payloads) - 1) for i, p in enumerate(payloads)]


def reassemble(payloads: list[bytes]) -> list[bytes]:
    """The NAL units back from single NAL unit and FU-A payloads (what a receiver does); for tests and checks."""
    nals: list[bytes] = []
    fragment = bytearray()
    for payload in payloads:
        nal_type = payload[0] & 0x1F
        if nal_type != FU_A:
            nals.append(payload)
            continue
        fu_header = payload[1]
        if fu_header & 0x80:
            fragment = bytearray(((payload[0] & 0xE0) | (fu_header & 0x1F),))
        fragment += payload[2:]
        if fu_header & 0x40:
            nals.append(bytes(fragment))
            fragment = bytearray()
    return nals


def rtp_packet(
    payload: bytes, sequence: int, timestamp: int, ssrc: int, marker: bool, payload_type: int = PAYLOAD_TYPE
) -> bytes:
    header = struct.pack(
        "!BBHII",
        0x80,  # version 2, no padding, no extension, no CSRC
        (0x80 if marker else 0) | payload_type,
        sequence & 0xFFFF,
        timestamp & 0xFFFFFFFF,
        ssrc & 0xFFFFFFFF,
    )
    return header + payload


def parse_rtp(packet: bytes) -> tuple[int, int, int, bool, bytes]:
    """(sequence, timestamp, ssrc, marker, payload) of an RTP packet without CSRCs or extensions."""
    first, second, sequence, timestamp, ssrc = struct.unpack("!BBHII", packet[:12])
    if first >> 6 != 2:
        raise ValueError("not RTP version 2")
    return sequence, timestamp, ssrc, bool(second & 0x80), packet[12 + 4 * (first & 0x0F) :]


def ntp_timestamp(unix_seconds: float) -> int:
    """64-bit NTP time: seconds since 1900 in the high word, the fraction in the low word."""
    seconds = int(unix_seconds) + _NTP_EPOCH_OFFSET
    fraction = int((unix_seconds % 1) * (1 << 32)) & 0xFFFFFFFF
    return ((seconds & 0xFFFFFFFF) << 32) | fraction


def sender_report(ssrc: int, unix_seconds: float, rtp_time: int, packets: int, octets: int) -> bytes:
    """RTCP SR without report blocks (RFC 3550 §6.4.1): length 6 words after the first."""
    ntp = ntp_timestamp(unix_seconds)
    return struct.pack(
        "!BBHIIIIII",
        0x80,
        200,
        6,
        ssrc & 0xFFFFFFFF,
        ntp >> 32,
        ntp & 0xFFFFFFFF,
        rtp_time & 0xFFFFFFFF,
        packets & 0xFFFFFFFF,
        octets & 0xFFFFFFFF,
    )


def bye(ssrc: int) -> bytes:
    """RTCP BYE for one source (RFC 3550 §6.6)."""
    return struct.pack("!BBHI", 0x81, 203, 1, ssrc & 0xFFFFFFFF)


def rtcp_packets(data: bytes) -> Iterator[tuple[int, bytes]]:
    """(packet type, packet) for each packet of a compound RTCP packet."""
    offset = 0
    while offset + 4 <= len(data):
        packet_type = data[offset + 1]
        length = (struct.unpack("!H", data[offset + 2 : offset + 4])[0] + 1) * 4
        yield packet_type, data[offset : offset + length]
        offset += length


def interleaved(channel: int, packet: bytes) -> bytes:
    """RFC 2326 §10.12 framing of one RTP or RTCP packet on the RTSP connection."""
    if len(packet) > 0xFFFF:
        raise ValueError("an interleaved packet holds at most 65535 bytes")
    return struct.pack("!cBH", b"$", channel, len(packet)) + packet
