"""RTSP/1.0 framing on the client side (RFC 2326 §6, §7, §10.12): requests out; responses and interleaved
binary packets in, as they share one TCP connection.

Nothing here knows about sessions or media; it only turns bytes into messages and back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass

MAX_HEAD_BYTES = 64 * 1024
MAX_BODY_BYTES = 1024 * 1024
"""An SDP is a few hundred bytes; anything near this is not a camera talking RTSP."""


class RtspProtocolError(Exception):
    """The server broke RTSP framing; the connection cannot be trusted any more."""


@dataclass(frozen=True)
class RtspResponse:
    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """The first value of header `name` (case-insensitive), or None."""
        wanted = name.lower()
        return next((v for k, v in self.headers if k.lower() == wanted), None)

    def all(self, name: str) -> list[str]:
        """Every value of header `name`: a camera sends one WWW-Authenticate per scheme and algorithm."""
        wanted = name.lower()
        return [v for k, v in self.headers if k.lower() == wanted]

    @property
    def cseq(self) -> int | None:
        try:
            return int(self.header("CSeq") or "")
        except ValueError:
            return None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass(frozen=True)
class ServerRequest:
    """A request the server sent us (RFC 2326 allows ANNOUNCE, OPTIONS, SET_PARAMETER from the server)."""

    method: str
    headers: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Interleaved:
    """One RTP or RTCP packet framed on the RTSP connection: ``$``, channel, 16-bit length, packet."""

    channel: int
    packet: bytes


Message = RtspResponse | ServerRequest | Interleaved


def encode_request(method: str, url: str, cseq: int, headers: Iterable[tuple[str, str]] = ()) -> bytes:
    lines = [f"{method} {url} RTSP/1.0", f"CSeq: {cseq}", *(f"{k}: {v}" for k, v in headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def encode_interleaved(channel: int, packet: bytes) -> bytes:
    if not 0 <= channel < 256 or len(packet) > 0xFFFF:
        raise ValueError("an interleaved packet has a channel below 256 and at most 65535 bytes")
    return b"$" + bytes((channel,)) + len(packet).to_bytes(2, "big") + packet


def _headers(lines: list[str]) -> tuple[tuple[str, str], ...]:
    found: list[tuple[str, str]] = []
    for line in lines:
        if not line:
            continue
        if line[0] in " \t" and found:  # a folded continuation line (RFC 2326 §4.2 via RFC 2616 §2.2)
            name, value = found[-1]
            found[-1] = (name, f"{value} {line.strip()}")
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise RtspProtocolError(f"bad header line {line[:80]!r}")
        found.append((name.strip(), value.strip()))
    return tuple(found)


def parse_head(text: str) -> RtspResponse | ServerRequest:
    lines = text.split("\r\n")
    first = lines[0].split(" ", 2)
    headers = _headers(lines[1:])
    if first[0].startswith("RTSP/"):
        if len(first) < 2 or not first[1].isdigit():
            raise RtspProtocolError(f"bad status line {lines[0][:80]!r}")
        return RtspResponse(int(first[1]), first[2] if len(first) > 2 else "", headers)
    if len(first) == 3 and first[2].startswith("RTSP/"):
        return ServerRequest(first[0].upper(), headers)
    raise RtspProtocolError(f"not RTSP: {lines[0][:80]!r}")


async def read_message(reader: asyncio.StreamReader) -> Message | None:
    """The next message on the connection, or None once the server has closed it between messages."""
    try:
        first = await reader.readexactly(1)
    except asyncio.IncompleteReadError:
        return None
    try:
        if first == b"$":
            frame = await reader.readexactly(3)
            return Interleaved(frame[0], await reader.readexactly(int.from_bytes(frame[1:3], "big")))
        head = first + await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        raise RtspProtocolError("the connection closed inside a message") from None
    except asyncio.LimitOverrunError:
        raise RtspProtocolError("a response header is too large") from None
    if len(head) > MAX_HEAD_BYTES:
        raise RtspProtocolError("a response header is too large")
    message = parse_head(head.decode("utf-8", "replace"))
    try:
        length = int(_first(message.headers, "content-length") or "0")
    except ValueError:
        raise RtspProtocolError("bad Content-Length") from None
    if not 0 <= length <= MAX_BODY_BYTES:
        raise RtspProtocolError(f"Content-Length {length} is out of bounds")
    try:
        body = await reader.readexactly(length) if length else b""
    except asyncio.IncompleteReadError:
        raise RtspProtocolError("the connection closed inside a body") from None
    if isinstance(message, RtspResponse):
        return RtspResponse(message.status, message.reason, message.headers, body)
    return message


def _first(headers: tuple[tuple[str, str], ...], name: str) -> str | None:
    return next((v for k, v in headers if k.lower() == name), None)
