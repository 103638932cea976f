"""The RTSP metadata event stream's content (EVENTS.md §3.2, §3.3): what the URL asks for, the SDP media, the
XML documents, and how a document travels in RTP packets. Pure functions, no I/O; the subscription to the event
bus is device/rtsp/eventfeed.py and the session machinery is the server's.

* The URL: ``media.amp?video=0&audio=0&event=on[&eventtopic=...][&eventcontent=...]``. ``eventtopic`` is a
  ConcreteSet expression list, alternatives separated by ``,`` or ``|``, in any spelling
  :func:`device.events.topics.parse_expression` reads (``onvif:``/``axis:`` or ``tns1:``/``tnsaxis:``, ``//.``);
  ``eventcontent`` an ItemFilter (:mod:`device.events.itemfilter`), percent-encoded. An event is sent when it
  passes both (a missing one passes everything), as the WebSocket stream's filters decide it.
* The documents: first an empty ``tt:MetadataStream``; then one ``tt:MetadataStream`` holding one
  ``tt:Event/wsnt:NotificationMessage`` per event, shaped byte for byte like the real capture of §3.3 (the same
  namespace declarations in the same places, no whitespace between elements, ``<tt:Key></tt:Key>``).
  ``PropertyOperation`` is ``Initialized`` for a current state sent on PLAY, ``Changed`` for a later change of a
  stateful event, and absent for a stateless one. ``UtcTime`` is when the event happened, for a current state
  when it became that state (what the WebSocket stream's timestamp says too), in microseconds with ``Z``.
* The ProducerReference is ``uri://<uuid>/ProducerReference`` with a UUID derived from the serial: stable for
  the camera across restarts, different between cameras, as on real firmware.
* RTP: payload type 98, ``vnd.onvif.metadata/90000``. A document is cut into payloads of at most
  `MAX_PAYLOAD` bytes so no packet exceeds 1400; the marker bit is set on the last packet of each document,
  which is how receivers know where a document ends.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC
from urllib.parse import parse_qs, urlsplit

from lxml import etree

from device.events.bus import Event
from device.events.itemfilter import ItemFilterError, parse_filter
from device.events.streaming import EventFilter
from device.events.topics import AXIS_TOPICS, ONVIF_TOPICS, SIMPLE, TopicExpressionError, parse_expression

PAYLOAD_TYPE = 98
ENCODING = "vnd.onvif.metadata/90000"
MAX_PACKET = 1400
"""The largest RTP packet sent, header included: under a typical MTU once IP and UDP (or TCP) headers are added."""
MAX_PAYLOAD = MAX_PACKET - 12
"""The RTP header is 12 bytes (no CSRCs, no extension)."""

TT = "http://www.onvif.org/ver10/schema"
WSNT = "http://docs.oasis-open.org/wsn/b-2"
WSA5 = "http://www.w3.org/2005/08/addressing"
_NOTIFICATION_NSMAP = {"tns1": ONVIF_TOPICS, "tnsaxis": AXIS_TOPICS, "wsnt": WSNT, "wsa5": WSA5}
_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
"""As the camera writes it: lxml's own declaration would use single quotes."""
_PRODUCER_NAMESPACE = uuid.UUID("5f0c6d2e-8a41-4f7b-9a57-2f1d3c8e6b10")
"""Edgestore's own namespace for the camera's ProducerReference UUIDs (uuid5 of the serial under it)."""

INITIALIZED = "Initialized"
CHANGED = "Changed"


class MetadataRequestError(ValueError):
    """A metadata request the camera refuses; `status` is the RTSP status, the message the reason given."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


@dataclass(frozen=True)
class MetadataView:
    """What a metadata session plays: the bus's events that pass `filter`. Two views are the same stream when
    they were asked for with the same filter texts (a session's SETUP and its DESCRIBE, or a second SETUP)."""

    topic_text: str
    content_text: str
    filter: EventFilter = field(compare=False)

    def matches(self, event: Event) -> bool:
        return self.filter.matches(event)


def metadata_view(url: str) -> MetadataView | None:
    """The event stream a ``media.amp`` URL asks for, or None when it asks for none (``event`` absent or not
    ``on``: video as before). Raises MetadataRequestError: 400 for a filter that does not parse, 501 for an
    event stream together with video or with a recording (one stream per session here; see server.py)."""
    query = {k: v[-1] for k, v in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}
    if query.get("event", "off").strip().lower() != "on":
        return None
    if "recordingid" in query:
        raise MetadataRequestError(501, "recordings have no event track: event=on is live only, without recordingid")
    if query.get("video", "1").strip() != "0":
        raise MetadataRequestError(
            501, "the event stream is served on its own: ask for video=0&audio=0&event=on, and for video separately"
        )
    topic_text = query.get("eventtopic", "").strip()
    content_text = query.get("eventcontent", "").strip()
    try:
        topic = parse_expression(topic_text.replace(",", "|")) if topic_text else None
    except TopicExpressionError as exc:
        raise MetadataRequestError(400, f"Invalid eventtopic: {exc}") from None
    try:
        content = parse_filter(content_text) if content_text else None
    except ItemFilterError as exc:
        raise MetadataRequestError(400, f"Invalid eventcontent {content_text!r}: {exc}") from None
    return MetadataView(topic_text, content_text, EventFilter(topic, content))


def sdp_media() -> list[str]:
    """The media description of the event track, without its control URL (as [KANE]'s fixture of a device)."""
    return [
        f"m=application 0 RTP/AVP {PAYLOAD_TYPE}",
        f"a=rtpmap:{PAYLOAD_TYPE} {ENCODING}",
        "a=ts-refclk:local",
        "a=mediaclk:sender",
    ]


def producer_reference(serial: str) -> str:
    return f"uri://{uuid.uuid5(_PRODUCER_NAMESPACE, serial.upper())}/ProducerReference"


def _stream() -> etree._Element:
    root = etree.Element(f"{{{TT}}}MetadataStream", nsmap={"tt": TT})
    root.text = "\n"
    return root


def _serialize(root: etree._Element) -> bytes:
    body: bytes = etree.tostring(root, encoding="UTF-8")
    return _DECLARATION + body


def empty_document() -> bytes:
    """The first document of every stream (REAL, EVENTS.md §3.2)."""
    return _serialize(_stream())


def operation(event: Event) -> str | None:
    if not event.stateful:
        return None
    return INITIALIZED if event.initial else CHANGED


def utc_time(event: Event) -> str:
    return event.time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _items(parent: etree._Element, tag: str, items: dict[str, str]) -> None:
    group = etree.SubElement(parent, f"{{{TT}}}{tag}")
    group.text = ""  # <tt:Key></tt:Key> when empty, as real streams write it
    for name, value in items.items():
        etree.SubElement(group, f"{{{TT}}}SimpleItem", Name=name, Value=value)


def document(event: Event, producer: str) -> bytes:
    """One event as the camera streams it (EVENTS.md §3.3)."""
    root = _stream()
    notification = etree.SubElement(
        etree.SubElement(root, f"{{{TT}}}Event"), f"{{{WSNT}}}NotificationMessage", nsmap=_NOTIFICATION_NSMAP
    )
    topic = etree.SubElement(notification, f"{{{WSNT}}}Topic", Dialect=SIMPLE)
    topic.text = event.topic
    reference = etree.SubElement(notification, f"{{{WSNT}}}ProducerReference")
    etree.SubElement(reference, f"{{{WSA5}}}Address").text = producer
    message = etree.SubElement(etree.SubElement(notification, f"{{{WSNT}}}Message"), f"{{{TT}}}Message")
    message.set("UtcTime", utc_time(event))
    if (property_operation := operation(event)) is not None:
        message.set("PropertyOperation", property_operation)
    _items(message, "Source", event.source)
    _items(message, "Key", {})
    _items(message, "Data", event.data)
    return _serialize(root)


def payloads(data: bytes, limit: int = MAX_PAYLOAD) -> list[tuple[bytes, bool]]:
    """(payload, marker) for every RTP packet of one document: pieces of at most `limit` bytes, the marker on
    the last one only."""
    pieces = [data[i : i + limit] for i in range(0, len(data), limit)] or [b""]
    return [(piece, i == len(pieces) - 1) for i, piece in enumerate(pieces)]


def reassemble(packets: list[tuple[bytes, bool]]) -> list[bytes]:
    """The documents back from (payload, marker) pairs in sequence order, as a receiver joins them; a trailing
    piece without its marker is left out. For tests and checks."""
    documents: list[bytes] = []
    pending = bytearray()
    for payload, marker in packets:
        pending += payload
        if marker:
            documents.append(bytes(pending))
            pending.clear()
    return documents
