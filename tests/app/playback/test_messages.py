"""RTSP framing on the client side: the bytes the camera's server writes come back as messages."""

from __future__ import annotations

import asyncio

import pytest

from app.playback.messages import (
    Interleaved,
    RtspProtocolError,
    RtspResponse,
    ServerRequest,
    encode_interleaved,
    encode_request,
    read_message,
)
from device.rtsp import rtp as device_rtp
from device.rtsp.messages import RtspResponse as DeviceResponse
from device.rtsp.messages import parse_head as device_parse_head


def stream_of(data: bytes) -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    return reader


async def read_all(data: bytes) -> list[object]:
    reader = stream_of(data)
    found = []
    while (message := await read_message(reader)) is not None:
        found.append(message)
    return found


def test_a_request_is_what_the_cameras_parser_reads():
    data = encode_request(
        "PLAY", "rtsp://h/a?recordingid=R", 7, [("Session", "AB"), ("Range", "clock=20240101T000000Z-")]
    )
    assert data.endswith(b"\r\n\r\n")
    parsed = device_parse_head(data.decode().removesuffix("\r\n\r\n"))
    assert (parsed.method, parsed.url, parsed.cseq) == ("PLAY", "rtsp://h/a?recordingid=R", "7")
    assert parsed.headers["Range"] == "clock=20240101T000000Z-"


async def test_responses_with_bodies_and_interleaved_packets_come_apart_in_order():
    sdp = b"v=0\r\ns=x\r\n"
    rtcp = device_rtp.sender_report(1, 1_700_000_000.0, 5, 1, 2)
    data = (
        DeviceResponse(200, [("Content-Type", "application/sdp")], sdp).encode("3")
        + device_rtp.interleaved(1, rtcp)
        + device_rtp.interleaved(0, b"\x80\x60" + bytes(10))
        + DeviceResponse(401, [("WWW-Authenticate", 'Digest realm="a"'), ("WWW-Authenticate", "Basic x")]).encode("4")
    )
    described, report, media, refused = await read_all(data)
    assert isinstance(described, RtspResponse)
    assert (described.status, described.cseq, described.body) == (200, 3, sdp)
    assert described.header("content-type") == "application/sdp"
    assert report == Interleaved(1, rtcp)
    assert media == Interleaved(0, b"\x80\x60" + bytes(10))
    assert isinstance(refused, RtspResponse)
    assert (refused.status, refused.reason, refused.ok) == (401, "Unauthorized", False)
    assert refused.all("WWW-Authenticate") == ['Digest realm="a"', "Basic x"]


async def test_folded_headers_join_and_server_requests_are_recognised():
    data = (
        b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: OPTIONS,\r\n PLAY\r\n\r\nANNOUNCE rtsp://h/ RTSP/1.0\r\nCSeq: 9\r\n\r\n"
    )
    reply, request = await read_all(data)
    assert isinstance(reply, RtspResponse)
    assert reply.header("Public") == "OPTIONS, PLAY"
    assert request == ServerRequest("ANNOUNCE", (("CSeq", "9"),))


@pytest.mark.parametrize(
    "data",
    [
        b"HTTP/1.1 200 OK\r\n\r\n",
        b"RTSP/1.0 abc OK\r\n\r\n",
        b"RTSP/1.0 200 OK\r\nno colon here\r\n\r\n",
        b"RTSP/1.0 200 OK\r\nContent-Length: 10\r\n\r\nshort",
        b"RTSP/1.0 200 OK\r\nContent-Length: 99999999\r\n\r\n",
        b"RTSP/1.0 200 OK\r\nContent-Length: x\r\n\r\n",
        b"RTSP/1.0 200 OK\r\nCSeq: 1",
        b"$\x00\x00\x10abc",
    ],
)
async def test_broken_framing_is_a_protocol_error(data: bytes):
    with pytest.raises(RtspProtocolError):
        await read_all(data)


async def test_a_close_between_messages_is_the_end():
    assert await read_all(b"") == []


def test_interleaved_framing_matches_the_cameras_and_refuses_what_does_not_fit():
    assert encode_interleaved(3, b"abc") == device_rtp.interleaved(3, b"abc")
    with pytest.raises(ValueError):
        encode_interleaved(256, b"")
    with pytest.raises(ValueError):
        encode_interleaved(0, bytes(0x10000))
