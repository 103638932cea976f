"""The AXIS video storage layout (WIRE.md §9), so tools that read real Axis cards read ours.

    <root>/<YYYYMMDD>/<HH>/<recordingId>/recording.xml
    <root>/<YYYYMMDD>/<HH>/<recordingId>/<YYYYMMDD_HH>/<blockToken>.mkv  and  .xml (the sidecar)

Folders use camera-local time; times inside the XML are UTC with microseconds. Everything needed to rebuild
the index is in these files, so a lost index.db is never a lost recording.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import PurePath
from typing import TypeVar
from zoneinfo import ZoneInfo

from lxml import etree

INDEX_NAME = "index.db"
CARD_META = "card.json"
LOST_FOUND = "lost+found"
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
P = TypeVar("P", bound=PurePath)


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(TIME_FORMAT)


def parse_time(text: str) -> datetime:
    return datetime.strptime(text.strip(), TIME_FORMAT).replace(tzinfo=UTC)


def parse_client_time(text: str) -> datetime:
    """A time argument as the spec and real clients send it: ISO 8601 with or without Z, fraction or offset
    (AMBIGUITIES.md T-3); a time without an offset is UTC. Raises ValueError."""
    moment = datetime.fromisoformat(text.strip())
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def make_token(start: datetime, zone: ZoneInfo, serial: str) -> str:
    """`YYYYMMDD_HHMMSS_XXXX_<SERIAL>` in camera-local time, as firmware names recordings and blocks."""
    return f"{start.astimezone(zone):%Y%m%d_%H%M%S}_{secrets.token_hex(2).upper()}_{serial}"


def recording_dir(root: P, recording_id: str, start: datetime, zone: ZoneInfo) -> P:
    local = start.astimezone(zone)
    return root / f"{local:%Y%m%d}" / f"{local:%H}" / recording_id


def block_paths(recording_path: P, token: str, start: datetime, zone: ZoneInfo) -> tuple[P, P]:
    folder = recording_path / f"{start.astimezone(zone):%Y%m%d_%H}"
    return folder / f"{token}.mkv", folder / f"{token}.xml"


@dataclass
class VideoAttributes:
    width: int = 0
    height: int = 0
    framerate: str = "0:1"  # num:den
    encoding: str = "video/x-h264"

    @property
    def fps(self) -> float:
        num, _, den = self.framerate.partition(":")
        return float(num) / float(den or 1) if float(den or 1) else 0.0


@dataclass
class RecordingMeta:
    id: str
    source: str
    start: datetime
    stop: datetime | None = None
    trigger_type: str = "continuous"  # list.cgi recordingtype
    trigger_name: str = "continuous"  # list.cgi eventid
    trigger_trigger: str = "continuous"  # list.cgi eventtrigger
    video: VideoAttributes = field(default_factory=VideoAttributes)


@dataclass
class BlockMeta:
    token: str
    recording_id: str
    start: datetime
    stop: datetime | None
    status: str  # "Recording" or "Complete"


def _sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, tag)
    if text is not None:
        element.text = text
    return element


def recording_xml(meta: RecordingMeta, application: str = "AxisCamera") -> bytes:
    root = etree.Element("Recording", RecordingToken=meta.id)
    _sub(root, "SourceToken", meta.source)
    _sub(root, "StartTime", format_time(meta.start))
    if meta.stop is not None:  # an ongoing recording has no StopTime
        _sub(root, "StopTime", format_time(meta.stop))
    _sub(root, "Content", "")
    track = _sub(root, "Track")
    track.set("TrackToken", "Video")
    video = _sub(track, "VideoAttributes")
    v = meta.video
    for tag, text in (
        ("Width", str(v.width)),
        ("Height", str(v.height)),
        ("Framerate", f"{v.fps:.5f}"),
        ("Framerate_fraction", v.framerate),
        ("Encoding", v.encoding),
        ("Bitrate", "0"),
    ):
        _sub(video, tag, text)
    _sub(root, "Application", application)
    custom = _sub(root, "CustomAttributes")
    _sub(custom, "TriggerTrigger", meta.trigger_trigger)
    _sub(custom, "TriggerName", meta.trigger_name)
    _sub(custom, "TriggerType", meta.trigger_type)
    return bytes(etree.tostring(root))


def parse_recording_xml(data: bytes) -> RecordingMeta:
    root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))

    def text(path: str, default: str = "") -> str:
        found = root.findtext(path)
        return found.strip() if found is not None else default

    stop = text("StopTime")
    video = VideoAttributes(
        int(text("Track/VideoAttributes/Width", "0") or 0),
        int(text("Track/VideoAttributes/Height", "0") or 0),
        text("Track/VideoAttributes/Framerate_fraction", "0:1"),
        text("Track/VideoAttributes/Encoding", "video/x-h264"),
    )
    return RecordingMeta(
        root.get("RecordingToken", ""),
        text("SourceToken", "1"),
        parse_time(text("StartTime")),
        parse_time(stop) if stop else None,
        text("CustomAttributes/TriggerType", "continuous"),
        text("CustomAttributes/TriggerName", "continuous"),
        text("CustomAttributes/TriggerTrigger", "continuous"),
        video,
    )


def block_xml(meta: BlockMeta) -> bytes:
    root = etree.Element("RecordingBlock", RecordingBlockToken=meta.token)
    _sub(root, "RecordingToken", meta.recording_id)
    _sub(root, "StartTime", format_time(meta.start))
    if meta.stop is not None:
        _sub(root, "StopTime", format_time(meta.stop))
    _sub(root, "Status", meta.status)
    return bytes(etree.tostring(root))


def parse_block_xml(data: bytes) -> BlockMeta:
    root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    stop = (root.findtext("StopTime") or "").strip()
    return BlockMeta(
        root.get("RecordingBlockToken", ""),
        (root.findtext("RecordingToken") or "").strip(),
        parse_time(root.findtext("StartTime") or ""),
        parse_time(stop) if stop else None,
        (root.findtext("Status") or "").strip(),
    )
