"""RTSP/1.0 requests and responses (RFC 2326 §6, §7): the text framing, nothing about media."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from multidict import CIMultiDict

MAX_BODY_BYTES = 64 * 1024

REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    415: "Unsupported Media Type",
    451: "Parameter Not Understood",
    454: "Session Not Found",
    455: "Method Not Valid in This State",
    456: "Header Field Not Valid for Resource",
    457: "Invalid Range",
    459: "Aggregate Operation Not Allowed",
    461: "Unsupported Transport",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
    505: "RTSP Version Not Supported",
    551: "Option not supported",
}


class RtspProtocolError(Exception):
    """The peer broke RTSP framing; the connection is closed."""


@dataclass
class RtspRequest:
    method: str
    url: str
    version: str
    headers: CIMultiDict[str]
    body: bytes = b""

    @property
    def cseq(self) -> str | None:
        return self.headers.get("CSeq")

    @property
    def path_qs(self) -> str:
        parts = urlsplit(self.url)
        return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


@dataclass
class RtspResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def encode(self, cseq: str | None) -> bytes:
        lines = [f"RTSP/1.0 {self.status} {REASONS.get(self.status, 'Unknown')}"]
        if cseq is not None:
            lines.append(f"CSeq: {cseq}")
        lines += [f"{k}: {v}" for k, v in self.headers]
        if self.body:
            lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body


async def read_request(
    reader: asyncio.StreamReader, on_interleaved: Callable[[int, bytes], None] | None = None
) -> RtspRequest | None:
    """The next request on the connection, or None when the client closed it. Interleaved binary data from the
    client (RFC 2326 §10.12: ``$``, channel, length; RTCP receiver reports) goes to `on_interleaved`, if given,
    as (channel, packet); it is not a request."""
    while True:
        try:
            first = await reader.readexactly(1)
        except asyncio.IncompleteReadError:
            return None
        if first != b"$":
            break
        try:
            frame = await reader.readexactly(3)
            packet = await reader.readexactly(int.from_bytes(frame[1:3], "big"))
        except asyncio.IncompleteReadError:
            return None
        if on_interleaved is not None:
            on_interleaved(frame[0], packet)
    try:
        head = first + await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if (first + exc.partial).strip():
            raise RtspProtocolError("connection closed inside a request") from None
        return None
    except asyncio.LimitOverrunError:
        raise RtspProtocolError("request header too large") from None
    request = parse_head(head.decode("utf-8", "replace"))
    try:
        length = int(request.headers.get("Content-Length", "0") or 0)
    except ValueError:
        raise RtspProtocolError("bad Content-Length") from None
    if not 0 <= length <= MAX_BODY_BYTES:
        raise RtspProtocolError("bad Content-Length")
    request.body = await reader.readexactly(length) if length else b""
    return request


def parse_head(text: str) -> RtspRequest:
    lines = text.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("RTSP/"):
        raise RtspProtocolError(f"bad request line {lines[0]!r}")
    headers: CIMultiDict[str] = CIMultiDict()
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise RtspProtocolError(f"bad header line {line!r}")
        headers.add(name.strip(), value.strip())
    return RtspRequest(parts[0].upper(), parts[1], parts[2], headers)
