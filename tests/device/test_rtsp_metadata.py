"""The RTSP metadata event stream (EVENTS.md §3.2, §3.3): ``media.amp?video=0&audio=0&event=on`` with topic and
content filters. aiortsp (an independent client) and a raw player read it over TCP and UDP from a real camera;
the documents are joined at the RTP marker as [KANE] joins them and taken apart with lxml. The card is pulled and
put back, virtual inputs are switched, through the camera's HTTP API; a camera in this process has a large event
published on its bus, and a client that stops reading, to see what the stream does with both."""

from __future__ import annotations

import asyncio
import itertools
import re
import socket
import struct
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

import httpx
import pytest
from aiortsp.rtsp.connection import RTSPConnection
from aiortsp.rtsp.session import RTSPMediaSession
from aiortsp.transport import RTPTransportClient, TCPTransport, UDPTransport
from lxml import etree

from device.events.bus import Event
from device.rtsp import eventfeed, metadata, rtp
from device.runtime import Device
from tests.device.disk_client import get, param_update, scenario
from tests.device.test_rtsp_core import RtspClient, digest_params
from tests.device.test_rtsp_live import start_in_process
from tests.device.test_rtsp_sessions import Packet, Player
from tests.support.device_process import SERIAL, VIEWER

pytestmark = pytest.mark.functional
T = TypeVar("T")

STREAM = "/axis-media/media.amp"
EVENTS = "video=0&audio=0&event=on"
TT = "http://www.onvif.org/ver10/schema"
WSNT = "http://docs.oasis-open.org/wsn/b-2"
WSA5 = "http://www.w3.org/2005/08/addressing"
NS = {"tt": TT, "wsnt": WSNT, "wsa5": WSA5}
SIMPLE = "http://docs.oasis-open.org/wsn/t-1/TopicExpression/Simple"
EMPTY = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<tt:MetadataStream xmlns:tt="http://www.onvif.org/ver10/schema">\n</tt:MetadataStream>'
)
"""The first document of a stream, verbatim from a real camera ([KANE] FIRST_MESSAGE)."""
NOTIFICATION_START = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<tt:MetadataStream xmlns:tt="http://www.onvif.org/ver10/schema">\n'
    b'<tt:Event><wsnt:NotificationMessage xmlns:tns1="http://www.onvif.org/ver10/topics" '
    b'xmlns:tnsaxis="http://www.axis.com/2009/event/topics" xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2" '
    b'xmlns:wsa5="http://www.w3.org/2005/08/addressing"><wsnt:Topic '
    b'Dialect="http://docs.oasis-open.org/wsn/t-1/TopicExpression/Simple">'
)
"""How every event document of the real capture of EVENTS.md §3.3 begins, byte for byte."""
UTC_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
PRODUCER = re.compile(r"^uri://([0-9a-f-]{36})/ProducerReference$")
VIRTUAL_INPUT = "tns1:Device/tnsaxis:IO/VirtualInput"
DISRUPTION = "tnsaxis:Storage/Disruption"
RECORDING = "tnsaxis:Storage/Recording"
SYSTEM_READY = "tns1:Device/tnsaxis:Status/SystemReady"
NTP_EPOCH_OFFSET = 2_208_988_800


# --- documents, as a receiver sees them ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Document:
    raw: bytes
    timestamp: int
    """The RTP timestamp of its packets."""
    packets: int
    topic: str | None = None
    """None: the empty document."""
    operation: str | None = None
    utc: str | None = None
    producer: str | None = None
    source: dict[str, str] = field(default_factory=dict)
    key: dict[str, str] = field(default_factory=dict)
    data: dict[str, str] = field(default_factory=dict)

    @property
    def state(self) -> tuple[str | None, dict[str, str], dict[str, str]]:
        return self.topic, self.source, self.data


def _items(message: etree._Element, tag: str) -> dict[str, str]:
    (group,) = message.findall(f"tt:{tag}", NS)
    return {item.get("Name"): item.get("Value") for item in group.findall("tt:SimpleItem", NS)}


def parse_document(raw: bytes, timestamp: int, packets: int) -> Document:
    root = etree.fromstring(raw)
    assert root.tag == f"{{{TT}}}MetadataStream"
    events = root.findall("tt:Event", NS)
    if not events:
        return Document(raw, timestamp, packets)
    (event,) = events
    (notification,) = event
    assert notification.tag == f"{{{WSNT}}}NotificationMessage"
    topic = notification.find("wsnt:Topic", NS)
    assert topic.get("Dialect") == SIMPLE
    (message,) = notification.findall("wsnt:Message/tt:Message", NS)
    return Document(
        raw,
        timestamp,
        packets,
        topic.text,
        message.get("PropertyOperation"),
        message.get("UtcTime"),
        notification.findtext("wsnt:ProducerReference/wsa5:Address", namespaces=NS),
        _items(message, "Source"),
        _items(message, "Key"),
        _items(message, "Data"),
    )


class Documents:
    """RTP payloads joined until the marker bit, as [KANE]'s client joins them; every packet must be type 98 and
    every packet of one document must carry the same timestamp."""

    def __init__(self) -> None:
        self.all: list[Document] = []
        self.unread = 0
        self._pending: list[tuple[int, bytes]] = []
        self._arrived = asyncio.Event()
        self.sizes: list[int] = []

    def packet(self, payload_type: int, marker: bool, timestamp: int, payload: bytes, size: int) -> None:
        assert payload_type == metadata.PAYLOAD_TYPE
        self.sizes.append(size)
        self._pending.append((timestamp, payload))
        if marker:
            assert len({ts for ts, _ in self._pending}) == 1, "one document, one RTP timestamp"
            raw = b"".join(piece for _, piece in self._pending)
            self.all.append(parse_document(raw, timestamp, len(self._pending)))
            self._pending = []
            self._arrived.set()

    def rtp(self, packet: bytes) -> None:
        _seq, timestamp, _ssrc, marker, payload = rtp.parse_rtp(packet)
        self.packet(packet[1] & 0x7F, marker, timestamp, payload, len(packet))

    async def next(self, timeout: float = 10.0, pump: Callable[[], Awaitable[None]] | None = None) -> Document:
        """The next document not yet read; `pump` reads more from the connection, for a raw player."""
        async with asyncio.timeout(timeout):
            while self.unread >= len(self.all):
                if pump is not None:
                    await pump()
                else:
                    self._arrived.clear()
                    await self._arrived.wait()
        self.unread += 1
        return self.all[self.unread - 1]

    async def take(self, count: int) -> list[Document]:
        return [await self.next() for _ in range(count)]


class Collector(RTPTransportClient):
    """What aiortsp hands its subscribers, into documents."""

    def __init__(self) -> None:
        self.documents = Documents()
        self.reports: list[object] = []

    def handle_rtp(self, rtp) -> None:
        self.documents.packet(rtp.pt, bool(rtp.m), rtp.ts, bytes(rtp.data), len(bytes(rtp)))

    def handle_rtcp(self, rtcp) -> None:
        self.reports.append(rtcp)


def events_url(camera, query: str = "", host: str | None = None, port: int | None = None) -> str:
    host = host or camera.host
    port = port or camera.rtsp_port
    return f"rtsp://{host}:{port}{STREAM}?{EVENTS}{'&' + query if query else ''}"


def encoded(text: str) -> str:
    """Percent-encoded as [DOC-ES] asks (spaces and quotes), slashes and colons left readable."""
    return quote(text, safe=":/.()[]@")


async def initial_burst(
    documents: Documents, until: set[str], pump: Callable[[], Awaitable[None]] | None = None
) -> list[Document]:
    """The empty document, then the Initialized ones until every topic in `until` has come; each must be
    Initialized."""
    first = await documents.next(pump=pump)
    assert first.raw == EMPTY
    burst: list[Document] = []
    while not until <= {d.topic for d in burst}:
        burst.append(await documents.next(pump=pump))
        assert burst[-1].operation == "Initialized", burst[-1]
    return burst


class RawEvents:
    """A raw player of the event stream over interleaved TCP: requests and documents on one connection."""

    def __init__(self, player: Player) -> None:
        self.player = player
        self.documents = Documents()
        self.reports: list[Packet] = []
        self._seen = 0

    @classmethod
    async def open(cls, host: str, port: int, query: str = "", sock: socket.socket | None = None) -> RawEvents:
        if sock is not None:
            reader, writer = await asyncio.open_connection(sock=sock)
        else:
            reader, writer = await asyncio.open_connection(host, port)
        client = RtspClient(reader, writer)
        url = f"rtsp://{host}:{port}{STREAM}?{EVENTS}{'&' + query if query else ''}"
        challenge = digest_params((await client.request("DESCRIBE", url)).header("WWW-Authenticate") or "")
        return cls(Player(client, url, challenge))

    def _absorb(self) -> None:
        for packet in self.player.packets[self._seen :]:
            if packet.channel == 0:
                self.documents.rtp(packet.data)
            else:
                self.reports.append(packet)
        self._seen = len(self.player.packets)

    async def _pump(self) -> None:
        await self.player.next()
        self._absorb()

    async def request(self, method: str, headers: dict[str, str] | None = None, target: str | None = None):
        reply = await self.player.request(method, headers, target)
        self._absorb()
        return reply

    async def play(self) -> str:
        session, _ = await self.player.setup()
        reply = await self.request("PLAY", {"Session": session})
        assert reply.status == 200, reply
        return session

    async def next(self, timeout: float = 10.0) -> Document:
        return await self.documents.next(timeout, self._pump)

    async def nothing_for(self, seconds: float) -> None:
        """No document arrives within `seconds` (sender reports may)."""
        with pytest.raises(TimeoutError):
            await within(seconds, self._until_more(len(self.documents.all)))

    async def _until_more(self, have: int) -> None:
        while len(self.documents.all) == have:
            await self._pump()

    async def close(self) -> None:
        await self.player.close()


async def within(seconds: float, awaitable: Awaitable[T]) -> T:
    async with asyncio.timeout(seconds):
        return await awaitable


async def read_to_the_end(player: Player) -> None:
    while True:  # what was buffered, then the end of the connection raises
        await player.next()


async def http(camera, path: str, role: str = "operator", **params: str) -> httpx.Response:
    response = await asyncio.to_thread(get, camera, path, role, **params)
    assert response.status_code == 200, response.text
    return response


async def activate(camera, port: int) -> None:
    await http(camera, "/axis-cgi/virtualinput/activate.cgi", schemaversion="1", port=str(port))


# --- DESCRIBE, auth, what is refused -----------------------------------------------------------------------------


async def test_describe_answers_the_metadata_sdp_without_a_range(shared_device):
    camera = shared_device
    stream = await RawEvents.open(camera.host, camera.rtsp_port, "eventtopic=onvif:Device/axis:IO/VirtualInput")
    try:
        reply = await stream.request("DESCRIBE", {"Accept": "application/sdp"})
    finally:
        await stream.close()
    assert reply.status == 200
    assert reply.header("Content-Type") == "application/sdp"
    assert reply.header("Content-Base") == f"rtsp://{camera.host}:{camera.rtsp_port}{STREAM}/"
    lines = reply.body.decode().split("\r\n")
    media = lines.index("m=application 0 RTP/AVP 98")
    assert f"a=control:{stream.player.url}" in lines[:media]  # the session's control URL keeps the query
    assert lines[media + 1 :][:5] == [
        f"a=control:{stream.player.track}",
        "a=rtpmap:98 vnd.onvif.metadata/90000",
        "a=ts-refclk:local",
        "a=mediaclk:sender",
        "",
    ]
    assert not [line for line in lines if line.startswith("a=range")]  # live: nothing to seek
    assert not [line for line in lines if line.startswith("m=video")]


async def test_without_credentials_describe_and_setup_are_challenged(shared_device):
    camera = shared_device
    client = await RtspClient.connect(camera)
    try:
        describe = await client.request("DESCRIBE", events_url(camera))
        setup = await client.request(
            "SETUP", events_url(camera).replace(STREAM, STREAM + "/trackID=1"), {"Transport": "RTP/AVP/TCP;unicast"}
        )
    finally:
        await client.close()
    assert describe.status == setup.status == 401
    assert (describe.header("WWW-Authenticate") or "").startswith("Digest ")
    assert f'realm="AXIS_{SERIAL}"' in (describe.header("WWW-Authenticate") or "")


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("eventtopic=onvif:Device//axis:IO", "failed to parse topic expression"),
        ("eventtopic=nosuchprefix:Device/axis:IO/VirtualInput", "failed to parse topic expression"),
        ("eventcontent=" + encoded('boolean(//SimpleItem[@Name="port" and @Value="1"]'), "eventcontent"),
        ("eventcontent=" + encoded('boolean(//SimpleItem[@Name="port" xor @Value="1"])'), "eventcontent"),
    ],
)
async def test_a_filter_that_does_not_parse_is_400_with_the_reason_at_describe_and_setup(
    shared_device, query: str, reason: str
):
    camera = shared_device
    stream = await RawEvents.open(camera.host, camera.rtsp_port, query)
    try:
        describe = await stream.request("DESCRIBE")
        setup = await stream.request("SETUP", {"Transport": "RTP/AVP/TCP;unicast;interleaved=0-1"}, stream.player.track)
    finally:
        await stream.close()
    for reply in (describe, setup):
        assert reply.status == 400
        assert reason in reply.body.decode()
        assert reply.header("Session") is None


async def test_events_with_video_or_with_a_recording_are_refused_with_a_reason_and_event_off_is_video(shared_device):
    """One stream per session here: the event stream is served alone (video=0), never next to video."""
    camera = shared_device
    stream = await RawEvents.open(camera.host, camera.rtsp_port)
    base = f"rtsp://{camera.host}:{camera.rtsp_port}{STREAM}"
    try:
        with_video = await stream.request("DESCRIBE", target=f"{base}?event=on&resolution=320x180")
        with_recording = await stream.request("DESCRIBE", target=f"{base}?{EVENTS}&recordingid=20240101_000000_0000")
        off = await stream.request("DESCRIBE", target=f"{base}?resolution=320x180&event=off&eventtopic=x//y")
    finally:
        await stream.close()
    assert with_video.status == 501
    assert "video=0&audio=0&event=on" in with_video.body.decode()
    assert with_recording.status == 501
    assert "recording" in with_recording.body.decode()
    assert off.status == 200  # today's live view, the event parameters ignored
    assert "m=video 0 RTP/AVP 96" in off.body.decode().split("\r\n")


# --- what is streamed ----------------------------------------------------------------------------------------------


async def test_aiortsp_reads_the_empty_document_then_every_current_state_as_initialized(device):
    """With no filter: one Initialized document for every stateful event, in the shape of the real capture."""
    camera = device
    collector = Collector()
    async with asyncio.timeout(30), RTSPConnection(camera.host, camera.rtsp_port, *VIEWER) as connection:
        transport = TCPTransport(connection)
        transport.subscribe(collector)
        async with (
            transport,
            RTSPMediaSession(connection, events_url(camera), transport, media_type="application") as media,
        ):
            reply = await media.play()
            burst = await initial_burst(collector.documents, {VIRTUAL_INPUT, DISRUPTION, RECORDING, SYSTEM_READY})
            while len([d for d in burst if d.topic == VIRTUAL_INPUT]) < 32:
                burst.append(await collector.documents.next())
            keep_alive = await media.keep_alive()
    assert reply.status == 200
    assert reply.headers["range"] == "npt=now-"
    assert keep_alive.status == 200
    assert collector.documents.all[0].packets == 1
    states = {(d.topic, tuple(d.source.items())): d.data for d in burst}
    assert states[(DISRUPTION, (("disk_id", "SD_DISK"),))] == {"disruption": "0"}
    assert states[(DISRUPTION, (("disk_id", "NetworkShare"),))] == {"disruption": "1"}  # an unbound share
    assert states[(RECORDING, ())] == {"recording": "0"}
    assert states[(SYSTEM_READY, ())] == {"ready": "1"}
    assert {states[(VIRTUAL_INPUT, (("port", str(p)),))]["active"] for p in range(1, 33)} == {"0"}
    assert len(states) == len(burst)  # each state once
    for document in burst:
        assert document.operation == "Initialized"
        assert document.raw.startswith(NOTIFICATION_START + document.topic.encode() + b"</wsnt:Topic>")
        assert b"<tt:Key></tt:Key>" in document.raw
        assert b"\n" not in document.raw.split(b"<tt:Event>", 1)[1]  # no whitespace between elements
        assert document.key == {}
        assert UTC_TIME.match(document.utc or ""), document.utc
        assert document.packets == 1
    producers = {d.producer for d in burst}
    assert len(producers) == 1
    found = PRODUCER.match(producers.pop() or "")
    assert found
    assert uuid.UUID(found.group(1)).version == 5  # derived from the serial, not random
    assert max(collector.documents.sizes) <= 1400
    assert collector.reports  # a sender report came with the stream


async def test_changes_of_a_virtual_input_and_of_the_card_arrive_as_changed_documents(device):
    """Over TCP, aiortsp; the RTP time of each document and the sender reports tell its UtcTime."""
    camera = device
    topics = encoded("onvif:Device/axis:IO/VirtualInput, axis:Storage/Disruption//.")
    collector = Collector()
    async with asyncio.timeout(60), RTSPConnection(camera.host, camera.rtsp_port, *VIEWER) as connection:
        transport = TCPTransport(connection)
        transport.subscribe(collector)
        async with (
            transport,
            RTSPMediaSession(
                connection, events_url(camera, f"eventtopic={topics}"), transport, media_type="application"
            ) as media,
        ):
            assert (await media.play()).status == 200
            documents = collector.documents
            burst = await initial_burst(documents, {VIRTUAL_INPUT, DISRUPTION})
            burst += await documents.take(32 + 2 - len(burst))
            assert {d.topic for d in burst} == {VIRTUAL_INPUT, DISRUPTION}

            await activate(camera, 5)
            activated = await documents.next()
            assert (await asyncio.to_thread(scenario, camera, "pull")).status_code == 200
            pulled = await documents.next()
            assert (await asyncio.to_thread(scenario, camera, "insert")).status_code == 200
            inserted = await documents.next()
    assert activated.state == (VIRTUAL_INPUT, {"port": "5"}, {"active": "1"})
    assert pulled.state == (DISRUPTION, {"disk_id": "SD_DISK"}, {"disruption": "1"})
    assert inserted.state == (DISRUPTION, {"disk_id": "SD_DISK"}, {"disruption": "0"})
    changes = [activated, pulled, inserted]
    assert [d.operation for d in changes] == ["Changed"] * 3
    times = [datetime.strptime(d.utc or "", "%Y-%m-%dT%H:%M:%S.%f%z") for d in changes]
    assert times == sorted(times)
    assert abs(times[0] - datetime.now(UTC)).total_seconds() < 30
    rtp_times = [d.timestamp for d in documents.all]
    assert all(((b - a) & 0xFFFFFFFF) < 2**31 for a, b in itertools.pairwise(rtp_times))  # never backward
    ticks = (rtp_times[-1] - pulled.timestamp) & 0xFFFFFFFF  # 90 kHz, as the events' own times
    assert abs(ticks / rtp.CLOCK_RATE - (times[2] - times[1]).total_seconds()) < 0.002


async def test_sender_reports_tie_a_documents_rtp_time_to_its_utc_time(device):
    camera = device
    stream = await RawEvents.open(camera.host, camera.rtsp_port, "eventtopic=onvif:Device/axis:IO/VirtualInput")
    try:
        await stream.play()
        await initial_burst(stream.documents, {VIRTUAL_INPUT}, pump=stream._pump)
        await activate(camera, 12)
        while (change := await stream.next()).operation != "Changed":
            pass  # the initial states that arrive first are not what this waits for
    finally:
        await stream.close()
    (report, *_) = stream.reports
    seconds, fraction, rtp_time = struct.unpack("!III", report.data[8:20])
    reported = seconds - NTP_EPOCH_OFFSET + fraction / 2**32
    said = reported + ((change.timestamp - rtp_time + 2**31) % 2**32 - 2**31) / rtp.CLOCK_RATE
    utc = datetime.strptime(change.utc or "", "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()
    assert change.source == {"port": "12"}
    assert abs(said - utc) < 0.001, (said, utc)


async def test_eventtopic_and_eventcontent_let_through_only_what_matches(device):
    camera = device
    content = encoded('boolean(//SimpleItem[@Name="port" and @Value="9"])')
    stream = await RawEvents.open(
        camera.host, camera.rtsp_port, f"eventtopic=onvif:Device/axis:IO/VirtualInput//.&eventcontent={content}"
    )
    others = await RawEvents.open(
        camera.host, camera.rtsp_port, "eventtopic=tnsaxis:Storage/Recording|tns1:Device/tnsaxis:Status/SystemReady"
    )
    try:
        await stream.play()
        assert (await stream.next()).raw == EMPTY
        initial = await stream.next()
        await others.play()
        assert (await others.next()).raw == EMPTY
        other_states = sorted([(await others.next()).state for _ in range(2)], key=str)

        await activate(camera, 8)  # passes the topic filter, not the content filter
        await activate(camera, 9)
        change = await stream.next()
        await stream.nothing_for(0.5)
        await others.nothing_for(0.1)
    finally:
        await stream.close()
        await others.close()
    assert initial.state == (VIRTUAL_INPUT, {"port": "9"}, {"active": "0"})
    assert initial.operation == "Initialized"
    assert change.state == (VIRTUAL_INPUT, {"port": "9"}, {"active": "1"})
    assert change.operation == "Changed"
    assert other_states == [(SYSTEM_READY, {}, {"ready": "1"}), (RECORDING, {}, {"recording": "0"})]


async def test_documents_arrive_over_udp(device):
    camera = device
    collector = Collector()
    async with asyncio.timeout(30), RTSPConnection(camera.host, camera.rtsp_port, *VIEWER) as connection:
        transport = UDPTransport(connection)
        transport.subscribe(collector)
        async with (
            transport,
            RTSPMediaSession(
                connection,
                events_url(camera, "eventtopic=onvif:Device/axis:IO/VirtualInput"),
                transport,
                media_type="application",
            ) as media,
        ):
            await media.play()
            burst = await initial_burst(collector.documents, {VIRTUAL_INPUT})
            burst += await collector.documents.take(32 - len(burst))
            await activate(camera, 31)
            change = await collector.documents.next()
    assert {d.source["port"] for d in burst} == {str(p) for p in range(1, 33)}
    assert change.state == (VIRTUAL_INPUT, {"port": "31"}, {"active": "1"})
    assert change.operation == "Changed"


async def test_pause_stops_the_documents_and_play_sends_the_current_states_again(device):
    """After a pause the client has missed changes: PLAY starts again from the current states (Initialized),
    without a second empty document. Keep-alives and TEARDOWN are the sessions' as for video."""
    camera = device
    stream = await RawEvents.open(camera.host, camera.rtsp_port, "eventtopic=onvif:Device/axis:IO/VirtualInput")
    try:
        session = await stream.play()
        assert (await stream.next()).raw == EMPTY
        first = [await stream.next() for _ in range(32)]
        assert (await stream.request("PAUSE", {"Session": session})).status == 200
        await activate(camera, 2)
        await stream.nothing_for(0.5)
        assert (await stream.request("GET_PARAMETER", {"Session": session})).status == 200
        assert (await stream.request("PLAY", {"Session": session})).status == 200
        again = [await stream.next() for _ in range(32)]
        assert (await stream.request("PLAY", {"Session": session, "Scale": "2"})).status == 456  # live: Scale 1
        assert (await stream.request("TEARDOWN", {"Session": session})).status == 200
        assert (await stream.request("GET_PARAMETER", {"Session": session})).status == 454
    finally:
        await stream.close()
    assert {d.operation for d in first + again} == {"Initialized"}
    assert {d.source["port"]: d.data["active"] for d in first}["2"] == "0"
    assert {d.source["port"]: d.data["active"] for d in again}["2"] == "1"


async def test_a_session_that_hears_nothing_expires(device):
    camera = device
    param_update(camera, **{"root.Network.RTSP.Timeout": "2"})
    stream = await RawEvents.open(camera.host, camera.rtsp_port, "eventtopic=tnsaxis:Storage/Recording")
    try:
        session = await stream.play()
        assert [(await stream.next()).raw == EMPTY, (await stream.next()).topic] == [True, RECORDING]
        await asyncio.sleep(2.8)
        assert (await stream.request("GET_PARAMETER", {"Session": session})).status == 454
    finally:
        await stream.close()


async def test_many_event_sessions_leave_the_http_api_answering(device):
    """40 sessions with every topic each get their burst of current states and then a change, while the HTTP API
    of the same process answers at once."""
    camera = device
    streams = [await RawEvents.open(camera.host, camera.rtsp_port) for _ in range(40)]
    try:
        for stream in streams:
            session, _ = await stream.player.setup()
            await stream.player.send("PLAY", {"Session": session})  # the replies are read with the documents
        began = time.monotonic()
        await http(camera, "/axis-cgi/param.cgi", "admin", action="list", group="root.Brand")
        answered = time.monotonic() - began
        for stream in streams:
            await initial_burst(stream.documents, {VIRTUAL_INPUT, DISRUPTION, SYSTEM_READY}, pump=stream._pump)
        began = time.monotonic()
        await activate(camera, 20)
        activated = time.monotonic() - began
        for stream in streams:
            while (document := await stream.next()).operation == "Initialized":
                pass  # skip this stream's initial states: the change is what is timed
            assert document.state == (VIRTUAL_INPUT, {"port": "20"}, {"active": "1"})
    finally:
        for stream in streams:
            await stream.close()
    assert answered < 1.0
    assert activated < 1.0


# --- the camera in this process: its bus, and a client that does not read -----------------------------------------


@pytest.fixture
async def camera_here(tmp_path: Path):
    device = await start_in_process(tmp_path)
    yield device
    await device.stop()


async def test_a_document_larger_than_a_packet_spans_several_and_the_marker_ends_it(camera_here: Device):
    """A stateless event with large items: its document goes out in several packets of at most 1400 bytes, the
    marker on the last only, and joined they are the document; no PropertyOperation, as it is not a state."""
    port = camera_here.rtsp.port
    stream = await RawEvents.open("127.0.0.1", port, "eventtopic=" + encoded("tnsaxis:Edgestore/Large"))
    try:
        await stream.play()
        assert (await stream.next()).raw == EMPTY
        data = {f"item{n}": "x" * 1000 for n in range(5)}
        camera_here.services.bus.publish("tnsaxis:Edgestore/Large", {"id": "big"}, data)
        large = await stream.next()
        camera_here.services.bus.publish("tnsaxis:Edgestore/Large", {"id": "small"}, {"n": "1"})
        small = await stream.next()
    finally:
        await stream.close()
    assert large.packets >= 4
    assert large.state == ("tnsaxis:Edgestore/Large", {"id": "big"}, data)
    assert large.operation is None
    assert small.packets == 1
    assert small.state == ("tnsaxis:Edgestore/Large", {"id": "small"}, {"n": "1"})
    assert max(stream.documents.sizes) <= 1400
    markers = [rtp.parse_rtp(p.data)[3] for p in stream.player.packets if p.channel == 0]
    assert markers[-(large.packets + 1) :] == [False] * (large.packets - 1) + [True, True]


async def test_a_client_that_stops_reading_is_disconnected_with_bounded_memory(
    camera_here: Device, monkeypatch: pytest.MonkeyPatch
):
    """The client's receive buffer is small and it stops reading after PLAY: the camera's buffers fill, then its
    queue of events (bounded), and then it drops the client and forgets its subscription."""
    monkeypatch.setattr(eventfeed, "MAX_QUEUED", 20)
    bus = camera_here.services.bus
    listening = len(bus._subscribers)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", camera_here.rtsp.port))
    stream = await RawEvents.open("127.0.0.1", camera_here.rtsp.port, "eventtopic=tnsaxis:Edgestore//.", sock=sock)
    try:
        await stream.play()
        assert len(bus._subscribers) == listening + 1
        published = 0
        async with asyncio.timeout(60):
            while len(bus._subscribers) > listening:
                bus.publish("tnsaxis:Edgestore/Flood", {"n": str(published)}, {"blob": "y" * 8000})
                published += 1
                await asyncio.sleep(0)
        assert not camera_here.rtsp._sessions  # the session is over
        with pytest.raises((ConnectionError, asyncio.IncompleteReadError)):
            await within(10, read_to_the_end(stream.player))
    finally:
        await stream.close()


# --- the packetiser and the document, without a camera ---------------------------------------------------------------


def test_the_packetiser_cuts_a_document_at_1388_bytes_and_marks_only_the_last_piece():
    event = Event("tnsaxis:Storage/Alert", {"disk_id": "SD_DISK"}, {"blob": "z" * 5000}, datetime.now(UTC))
    document = metadata.document(event, metadata.producer_reference(SERIAL))
    pieces = metadata.payloads(document)
    assert len(pieces) == -(-len(document) // 1388) >= 4
    assert [marker for _, marker in pieces] == [False] * (len(pieces) - 1) + [True]
    assert all(len(payload) <= 1388 for payload, _ in pieces)
    packets = [rtp.rtp_packet(p, n, 1234, 5, m, metadata.PAYLOAD_TYPE) for n, (p, m) in enumerate(pieces)]
    assert max(len(packet) for packet in packets) <= 1400
    assert metadata.reassemble([(p, m) for p, m in pieces] + [(b"<partial", False)]) == [document]
    assert parse_document(document, 0, len(pieces)).data == {"blob": "z" * 5000}
    assert metadata.payloads(metadata.empty_document()) == [(EMPTY, True)]


def test_the_producer_reference_is_stable_for_a_serial_and_differs_between_cameras():
    one = metadata.producer_reference(SERIAL)
    assert metadata.producer_reference(SERIAL.lower()) == one
    assert metadata.producer_reference("ACCC8E000002") != one
    assert PRODUCER.match(one)


def test_the_initialized_document_matches_the_real_capture_byte_for_byte():
    """EVENTS.md §3.3 STORAGE_ALERT_INIT, rebuilt from its values."""
    real = (
        NOTIFICATION_START + b"tnsaxis:Storage/Alert</wsnt:Topic><wsnt:ProducerReference><wsa5:Address>"
        b"uri://755cc9bb-cf3a-410b-bd1b-0ec97c6d6256/ProducerReference</wsa5:Address></wsnt:ProducerReference>"
        b'<wsnt:Message><tt:Message UtcTime="2020-06-02T20:35:42.477710Z" PropertyOperation="Initialized">'
        b'<tt:Source><tt:SimpleItem Name="disk_id" Value="NetworkShare"/></tt:Source><tt:Key></tt:Key><tt:Data>'
        b'<tt:SimpleItem Name="overall_health" Value="-3"/><tt:SimpleItem Name="alert" Value="0"/>'
        b'<tt:SimpleItem Name="wear" Value="-3"/><tt:SimpleItem Name="temperature" Value="-3"/></tt:Data>'
        b"</tt:Message></wsnt:Message></wsnt:NotificationMessage></tt:Event></tt:MetadataStream>"
    )
    event = Event(
        "tnsaxis:Storage/Alert",
        {"disk_id": "NetworkShare"},
        {"overall_health": "-3", "alert": "0", "wear": "-3", "temperature": "-3"},
        datetime(2020, 6, 2, 20, 35, 42, 477710, tzinfo=UTC),
        initial=True,
    )
    producer = "uri://755cc9bb-cf3a-410b-bd1b-0ec97c6d6256/ProducerReference"
    assert metadata.document(event, producer) == real
