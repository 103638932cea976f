"""The parts of a DESCRIBE answer (SDP, RFC 4566) a player needs: control URLs (RFC 2326 C.1.1), and for each
medium its payload type, encoding, clock rate and format parameters; for H.264 the SPS and PPS carried in
``sprop-parameter-sets`` (RFC 6184 §8.1), which a decoder needs before the first key frame if the camera does not
repeat them in band.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class MediaDescription:
    media: str
    """``video``, ``audio``, ``application``, ..."""
    payload_type: int
    encoding: str = ""
    """The rtpmap encoding name, upper case (``H264``)."""
    clock_rate: int = 0
    control: str | None = None
    fmtp: dict[str, str] = field(default_factory=dict)

    @property
    def parameter_sets(self) -> list[bytes]:
        """The NAL units of ``sprop-parameter-sets`` (SPS, PPS, ...), without start codes; those that are not
        base64 are skipped rather than handed to a decoder."""
        found: list[bytes] = []
        for part in self.fmtp.get("sprop-parameter-sets", "").split(","):
            try:
                nal = base64.b64decode(part.strip(), validate=True)
            except (binascii.Error, ValueError):
                continue
            if nal:
                found.append(nal)
        return found


@dataclass(frozen=True)
class SessionDescription:
    control: str | None
    range: str | None
    """The session's ``a=range`` value, e.g. ``npt=0.000-12.345``."""
    media: tuple[MediaDescription, ...]

    def first(self, media: str) -> MediaDescription | None:
        return next((m for m in self.media if m.media == media), None)


def parse_sdp(text: str) -> SessionDescription:
    """Lenient: unknown lines are skipped, and a medium without rtpmap keeps what its ``m=`` line says."""
    control: str | None = None
    play_range: str | None = None
    media: list[MediaDescription] = []
    for raw in text.splitlines():
        kind, sep, value = raw.strip().partition("=")
        if not sep or len(kind) != 1:
            continue
        if kind == "m":
            parts = value.split()
            payload = parts[3] if len(parts) > 3 else ""
            media.append(MediaDescription(parts[0] if parts else "", int(payload) if payload.isdigit() else -1))
            continue
        if kind != "a":
            continue
        name, _, attribute = value.partition(":")
        attribute = attribute.strip()
        if not media:
            if name == "control":
                control = attribute
            elif name == "range":
                play_range = attribute
        elif name == "control":
            media[-1] = replace(media[-1], control=attribute)
        elif name == "rtpmap":
            encoding, _, rest = attribute.partition(" ")[2].strip().partition("/")
            rate = rest.split("/")[0]
            media[-1] = replace(media[-1], encoding=encoding.upper(), clock_rate=int(rate) if rate.isdigit() else 0)
        elif name == "fmtp":
            fmtp = dict(media[-1].fmtp)
            for item in attribute.partition(" ")[2].split(";"):
                key, eq, val = item.strip().partition("=")
                if eq:
                    fmtp[key.strip().lower()] = val.strip()
            media[-1] = replace(media[-1], fmtp=fmtp)
    return SessionDescription(control, play_range, tuple(media))


def resolve_control(base: str, control: str | None) -> str:
    """The URL a control attribute names (RFC 2326 C.1.1): itself when absolute, `base` for none or ``*``, and
    otherwise `base` and the control joined with one slash, as FFmpeg and live555 do (cameras write Content-Base
    with and without the trailing slash, and a URL join would drop the last path segment of the latter)."""
    if control is None or control in ("", "*"):
        return base
    if "://" in control:
        return control
    return base.rstrip("/") + "/" + control.lstrip("/")
