"""The SDP (RFC 4566) that DESCRIBE answers: one track, video in H.264 (RFC 6184 §8.2.1) or JPEG (RFC 2435), or
the event stream's ONVIF metadata (its media lines are device/rtsp/metadata.py's).

A recording has a range (``a=range:npt=0.000-D``, or ``npt=0.000-`` while it is still being recorded); a live
stream (video or events) has none, as it has no start to seek to.
"""

from __future__ import annotations

import base64

from device.rtsp import jpeg
from device.rtsp.rtp import PAYLOAD_TYPE as H264_PAYLOAD_TYPE

NAME = "Session streamed with Edgestore"


def h264_media(sps: bytes | None, pps: bytes | None) -> list[str]:
    """The media description of an H.264 track, without its control URL. Without parameter sets (a recording
    whose first key frame is not written yet) the fmtp says none: they come in band before every key frame."""
    fmtp = "packetization-mode=1"
    if sps is not None and pps is not None:
        profile = sps[1:4].hex().upper() if len(sps) >= 4 else "42C01E"
        sprop = ",".join(base64.b64encode(nal).decode() for nal in (sps, pps))
        fmtp += f"; profile-level-id={profile}; sprop-parameter-sets={sprop}"
    pt = H264_PAYLOAD_TYPE
    return [f"m=video 0 RTP/AVP {pt}", f"a=rtpmap:{pt} H264/90000", f"a=fmtp:{pt} {fmtp}"]


def jpeg_media(width: int, height: int) -> list[str]:
    """The media description of a JPEG track. The payload headers give the size in units of 8 pixels, so the true
    size goes here, in the two attributes receivers read (``x-dimensions`` as Axis and QuickTime write it,
    ``framesize`` as RFC 6064 and GStreamer do)."""
    pt = jpeg.PAYLOAD_TYPE
    return [
        f"m=video 0 RTP/AVP {pt}",
        f"a=rtpmap:{pt} JPEG/90000",
        f"a=x-dimensions:{width},{height}",
        f"a=framesize:{pt} {width}-{height}",
    ]


def describe(
    session_url: str,
    track_url: str,
    media: list[str],
    duration: float | None,
    session_id: int,
    address: str = "0.0.0.0",
    live: bool = False,
    name: str = NAME,
) -> str:
    """`session_url` and `track_url` are absolute control URLs, as Axis cameras write them (WIRE.md §7), so the
    query (recording ID, stream parameters) survives: a relative ``trackID=1`` would be appended after it.
    `media` starts with its ``m=`` line. `duration` None is an open range (a recording still going on); `live`
    leaves the range out."""
    family = "IP6" if ":" in address else "IP4"
    lines = [
        "v=0",
        f"o=- {session_id} 1 IN {family} {address}",
        f"s={name}",
        f"c=IN {family} {'::' if family == 'IP6' else '0.0.0.0'}",
        "t=0 0",
        f"a=control:{session_url}",
    ]
    if not live:
        lines.append(f"a=range:npt=0.000-{'' if duration is None else f'{duration:.3f}'}")
    lines += [media[0], f"a=control:{track_url}", *media[1:]]
    return "\r\n".join(lines) + "\r\n"


def h264_sdp(
    session_url: str,
    track_url: str,
    sps: bytes,
    pps: bytes,
    duration: float | None,
    session_id: int,
    address: str = "0.0.0.0",
    name: str = NAME,
) -> str:
    """A recording's H.264 SDP (see :func:`describe`)."""
    return describe(session_url, track_url, h264_media(sps, pps), duration, session_id, address, name=name)
