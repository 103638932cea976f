"""Where a session's RTP and RTCP go: interleaved on the RTSP connection, or UDP datagrams (RFC 2326 §12.39).

SETUP's ``Transport`` header may offer several alternatives, most preferred first; the first one served wins:

* ``RTP/AVP/TCP;unicast;interleaved=N-M``: framed on the RTSP connection itself (RFC 2326 §10.12);
* ``RTP/AVP;unicast;client_port=A-B`` (or ``RTP/AVP/UDP``): RTP to the client's port A and RTCP to B, sent from a
  freshly bound even/odd server port pair, to the address the RTSP connection comes from. A ``destination`` other
  than that address is not followed: the camera would otherwise send video wherever a request points it.

Multicast is not offered. Both sinks bound what they hold: a frame is written whole, then the stream waits until
the buffer is back under its high-water mark (``drain`` on TCP; the datagram transport's ``pause_writing`` on UDP),
so a slow receiver holds at most about one frame in memory instead of a growing queue.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, cast

from device.rtsp import rtp

log = logging.getLogger(__name__)

PAIR_ATTEMPTS = 32
"""Ports to try for an even RTP port with the odd one above it free; the OS hands out ephemeral ports at random."""


@dataclass(frozen=True)
class TransportRequest:
    """A served alternative of a SETUP ``Transport`` header."""

    interleaved: bool
    channel: int = 0
    """Interleaved: the RTP channel (RTCP on the next one)."""
    client_ports: tuple[int, int] = (0, 0)
    """UDP: the client's RTP and RTCP ports."""
    destination: str | None = None


def _ports(value: str) -> tuple[int, int]:
    low_text, _, high_text = value.partition("-")
    low = int(low_text)
    high = int(high_text) if high_text.strip() else low + 1
    if not (0 < low <= 65535 and 0 < high <= 65535):
        raise ValueError(value)
    return low, high


def choose_transport(header: str) -> TransportRequest | None:
    """The first alternative of `header` that is served, or None (461). Raises ValueError on numbers that do not
    parse (400): a client that cannot write its ports should not get video sent to a guess."""
    for alternative in header.split(","):
        options = [option.strip() for option in alternative.split(";") if option.strip()]
        if not options:
            continue
        spec = options[0].upper()
        params: dict[str, str] = {}
        for option in options[1:]:
            name, _, value = option.partition("=")
            params[name.strip().lower()] = value.strip().strip('"')
        if "multicast" in params:
            continue
        if spec == "RTP/AVP/TCP":
            channel = int(params["interleaved"].split("-", 1)[0]) if params.get("interleaved") else 0
            if not 0 <= channel <= 254:
                raise ValueError(f"interleaved channel {channel}")
            return TransportRequest(True, channel=channel)
        if spec in ("RTP/AVP", "RTP/AVP/UDP") and params.get("client_port"):
            return TransportRequest(
                False, client_ports=_ports(params["client_port"]), destination=params.get("destination")
            )
    return None


class Sink(Protocol):
    """What a stream writes to. `send_rtp` and `send_rtcp` never block; `flush` waits while too much is buffered."""

    @property
    def datagrams(self) -> bool:
        """True over UDP: no back-pressure from the receiver, so packets sent faster than real time are lost."""
        ...

    def transport_header(self, ssrc: int) -> str: ...

    def send_rtp(self, packets: list[bytes]) -> None: ...

    def send_rtcp(self, packet: bytes) -> None: ...

    async def flush(self) -> None: ...

    def close(self) -> None: ...


@dataclass
class Interleaved:
    """RTP on `channel` and RTCP on `channel + 1` of the RTSP connection; the connection outlives this sink."""

    writer: asyncio.StreamWriter
    channel: int

    @property
    def datagrams(self) -> bool:
        return False

    def transport_header(self, ssrc: int) -> str:
        return f"RTP/AVP/TCP;unicast;interleaved={self.channel}-{self.channel + 1};ssrc={ssrc:08X}"

    def send_rtp(self, packets: list[bytes]) -> None:
        self.writer.write(b"".join(rtp.interleaved(self.channel, packet) for packet in packets))

    def send_rtcp(self, packet: bytes) -> None:
        self.writer.write(rtp.interleaved(self.channel + 1, packet))

    async def flush(self) -> None:
        await self.writer.drain()

    def close(self) -> None:
        pass  # the connection belongs to the RTSP server, which closes it


class _Endpoint(asyncio.DatagramProtocol):
    """One bound UDP socket of a server port pair. Tells the sender when its buffer is over the high-water mark,
    and hands what arrives (the client's RTCP receiver reports, NAT punch packets) to `on_datagram`."""

    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.writable = asyncio.Event()
        self.writable.set()
        self.on_datagram: Callable[[bytes, str], None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # Python 3.11's selector datagram transport does not subclass DatagramTransport, though it is one.
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        if self.on_datagram is not None:
            self.on_datagram(data, str(addr[0]))

    def error_received(self, exc: Exception) -> None:
        log.debug("RTP/RTCP socket error: %s", exc)  # e.g. ICMP port unreachable: the client went away

    def pause_writing(self) -> None:
        self.writable.clear()

    def resume_writing(self) -> None:
        self.writable.set()

    def connection_lost(self, exc: Exception | None) -> None:
        self.writable.set()  # never leave a sender waiting on a closed socket

    @property
    def port(self) -> int:
        assert self.transport is not None
        port: int = self.transport.get_extra_info("sockname")[1]
        return port


def same_host(a: str, b: str) -> bool:
    try:
        first, second = ipaddress.ip_address(a.split("%", 1)[0]), ipaddress.ip_address(b.split("%", 1)[0])
    except ValueError:
        return a == b
    mapped = [x.ipv4_mapped if isinstance(x, ipaddress.IPv6Address) and x.ipv4_mapped else x for x in (first, second)]
    return mapped[0] == mapped[1]


class UdpPair:
    """RTP and RTCP as datagrams from a bound even/odd server port pair to the client's port pair."""

    def __init__(
        self, rtp_end: _Endpoint, rtcp_end: _Endpoint, client_host: str, client_ports: tuple[int, int]
    ) -> None:
        self._rtp, self._rtcp = rtp_end, rtcp_end
        self.client_host = client_host
        self.client_ports = client_ports
        self.on_client_rtcp: Callable[[], None] | None = None
        """Called when the client's RTCP arrives on the server's RTCP port: a sign that the client is there."""
        rtcp_end.on_datagram = self._received

    @classmethod
    async def open(cls, local_host: str, client_host: str, client_ports: tuple[int, int]) -> UdpPair:
        """Bind an even port and the odd one above it on `local_host` (the address the client reached the RTSP
        server on, so the family matches). Raises OSError when no pair is free."""
        loop = asyncio.get_running_loop()
        for _ in range(PAIR_ATTEMPTS):
            rtp_transport, rtp_end = await loop.create_datagram_endpoint(_Endpoint, local_addr=(local_host, 0))
            port = rtp_end.port
            if port % 2 == 0 and port < 65535:
                try:
                    _rtcp_transport, rtcp_end = await loop.create_datagram_endpoint(
                        _Endpoint, local_addr=(local_host, port + 1)
                    )
                except OSError:
                    pass
                else:
                    return cls(rtp_end, rtcp_end, client_host, client_ports)
            rtp_transport.close()
        raise OSError("no free even/odd UDP port pair")

    @property
    def server_ports(self) -> tuple[int, int]:
        return self._rtp.port, self._rtcp.port

    @property
    def datagrams(self) -> bool:
        return True

    def transport_header(self, ssrc: int) -> str:
        (client_rtp, client_rtcp), (server_rtp, server_rtcp) = self.client_ports, self.server_ports
        return (
            f"RTP/AVP;unicast;client_port={client_rtp}-{client_rtcp};server_port={server_rtp}-{server_rtcp};"
            f"ssrc={ssrc:08X}"
        )

    def _received(self, data: bytes, host: str) -> None:
        if self.on_client_rtcp is not None and same_host(host, self.client_host) and len(data) >= 8:
            self.on_client_rtcp()

    def send_rtp(self, packets: list[bytes]) -> None:
        if self._rtp.transport is not None and not self._rtp.transport.is_closing():
            for packet in packets:
                self._rtp.transport.sendto(packet, (self.client_host, self.client_ports[0]))

    def send_rtcp(self, packet: bytes) -> None:
        if self._rtcp.transport is not None and not self._rtcp.transport.is_closing():
            self._rtcp.transport.sendto(packet, (self.client_host, self.client_ports[1]))

    async def flush(self) -> None:
        await self._rtp.writable.wait()
        await self._rtcp.writable.wait()

    def close(self) -> None:
        for end in (self._rtp, self._rtcp):
            if end.transport is not None:
                end.transport.close()
