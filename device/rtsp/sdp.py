"""The SDP (RFC 4566) that DESCRIBE answers for a recording: one H.264 video track (RFC 6184 §8.2.1)."""

from __future__ import annotations

import base64


def h264_sdp(
    session_url: str,
    track_url: str,
    sps: bytes,
    pps: bytes,
    duration: float | None,
    session_id: int,
    address: str = "0.0.0.0",
    name: str = "Session streamed with Edgestore",
) -> str:
    """`session_url` and `track_url` are absolute control URLs, as Axis cameras write them (WIRE.md §7), so the
    recording ID in their query survives: a relative ``trackID=1`` would be appended after the query.
    `duration` None is an open range (a recording still going on)."""
    sprop = ",".join(base64.b64encode(nal).decode() for nal in (sps, pps))
    profile = sps[1:4].hex().upper() if len(sps) >= 4 else "42C01E"
    stop = "" if duration is None else f"{duration:.3f}"
    family = "IP6" if ":" in address else "IP4"
    lines = [
        "v=0",
        f"o=- {session_id} 1 IN {family} {address}",
        f"s={name}",
        f"c=IN {family} {'::' if family == 'IP6' else '0.0.0.0'}",
        "t=0 0",
        f"a=control:{session_url}",
        f"a=range:npt=0.000-{stop}",
        "m=video 0 RTP/AVP 96",
        f"a=control:{track_url}",
        "a=rtpmap:96 H264/90000",
        f"a=fmtp:96 packetization-mode=1; profile-level-id={profile}; sprop-parameter-sets={sprop}",
    ]
    return "\r\n".join(lines) + "\r\n"
