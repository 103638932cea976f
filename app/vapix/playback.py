"""RTSP playback URLs for recordings (WIRE.md §7): ``rtsp://HOST:PORT/axis-media/media.amp?recordingid=ID``.

The RTSP port is not the HTTP port: it is the camera's ``Network.RTSP.Port`` parameter (554 on real cameras, any
port on the virtual one), read once through param.cgi unless the caller already knows it. Credentials are never
put into these URLs: the RTSP session answers the camera's challenge itself, so a URL can be logged or shown as
it is. :func:`redact` strips user information from URLs that come from elsewhere before they are logged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit, urlunsplit

from app.vapix.params import ParamApi
from app.vapix.transport import VapixTransport

STREAM_PATH = "/axis-media/media.amp"
PORT_PARAM = "Network.RTSP.Port"
DEFAULT_RTSP_PORT = 554
"""What RFC 2326 and every Axis camera use when the parameter cannot be read."""
RESERVED = frozenset({"recordingid", "pull"})
"""Query names the URL itself sets; a stream parameter must not override them."""


@dataclass(frozen=True)
class PlaybackUrl:
    """One recording's playback URL. `stream` holds ordinary stream parameters (``resolution``, ``fps``,
    ``videocodec``, ...), in the order given; `pull` asks the camera to send as fast as the client reads."""

    host: str
    port: int
    recording_id: str
    pull: bool = False
    stream: tuple[tuple[str, str], ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.recording_id.strip():
            raise ValueError("a playback URL needs a recording ID")
        if not 0 < self.port < 65536:
            raise ValueError(f"not a port: {self.port}")
        clash = RESERVED & {name.lower() for name, _ in self.stream}
        if clash:
            raise ValueError(f"stream parameters cannot set {', '.join(sorted(clash))}")

    @property
    def url(self) -> str:
        query = [("recordingid", self.recording_id)]
        if self.pull:
            query.append(("pull", "1"))
        query += self.stream
        host = f"[{self.host}]" if ":" in self.host else self.host
        return urlunsplit(("rtsp", f"{host}:{self.port}", STREAM_PATH, urlencode(query), ""))

    def __str__(self) -> str:
        return self.url


def playback_url(
    host: str, port: int, recording_id: str, *, pull: bool = False, stream: Mapping[str, str] | None = None
) -> PlaybackUrl:
    return PlaybackUrl(host, port, recording_id, pull, tuple((stream or {}).items()))


async def rtsp_port(transport: VapixTransport) -> int:
    """The camera's RTSP port from ``Network.RTSP.Port`` (readable by viewers); the RFC's 554 when the camera
    does not have the parameter or holds something that is not a port."""
    values = await ParamApi(transport).list(PORT_PARAM)
    try:
        port = int(values.get(PORT_PARAM, ""))
    except ValueError:
        return DEFAULT_RTSP_PORT
    return port if 0 < port < 65536 else DEFAULT_RTSP_PORT


async def camera_playback_url(
    transport: VapixTransport,
    recording_id: str,
    *,
    port: int | None = None,
    pull: bool = False,
    stream: Mapping[str, str] | None = None,
) -> PlaybackUrl:
    """The playback URL on the camera `transport` talks to: its host, and `port` or the camera's RTSP port."""
    chosen = port if port is not None else await rtsp_port(transport)
    return playback_url(transport.endpoint.host, chosen, recording_id, pull=pull, stream=stream)


def redact(url: str) -> str:
    """`url` without ``user:password@``, for logs and messages."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))
