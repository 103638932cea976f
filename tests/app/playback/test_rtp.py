"""RTP and RTCP parsing, against the packets the camera's server makes."""

from __future__ import annotations

import struct
from datetime import UTC, datetime

import pytest

from app.playback.rtp import Bye, RtpError, SenderReport, datetime_to_ntp, ntp_to_datetime, parse_rtcp, parse_rtp
from device.rtsp import rtp as device_rtp


def test_the_cameras_rtp_packet_parses_back():
    packet = parse_rtp(device_rtp.rtp_packet(b"payload", 65535, 4_000_000_000, 0xABCDEF01, True))
    assert packet.payload_type == 96
    assert packet.marker
    assert (packet.sequence, packet.timestamp, packet.ssrc) == (65535, 4_000_000_000, 0xABCDEF01)
    assert packet.payload == b"payload"


def test_csrcs_a_header_extension_and_padding_are_skipped():
    header = struct.pack("!BBHII", 0x80 | 0x20 | 0x10 | 2, 96, 1, 2, 3)
    csrcs = struct.pack("!II", 10, 11)
    extension = struct.pack("!HH", 0xABAC, 1) + b"\x00" * 4
    packet = parse_rtp(header + csrcs + extension + b"data" + b"\x00\x00\x03")
    assert packet.payload == b"data"
    assert not packet.marker


@pytest.mark.parametrize(
    "data",
    [b"\x80\x60", struct.pack("!BBHII", 0x40, 96, 1, 2, 3), struct.pack("!BBHII", 0x8F, 96, 1, 2, 3)],
)
def test_what_is_not_rtp_is_refused(data):
    with pytest.raises(RtpError):
        parse_rtp(data)


def test_the_cameras_sender_report_and_bye_parse_from_one_compound_packet():
    compound = device_rtp.sender_report(7, 1_700_000_000.25, 123456, 10, 5000) + device_rtp.bye(7)
    report, bye = parse_rtcp(compound)
    assert report == SenderReport(7, datetime(2023, 11, 14, 22, 13, 20, 250000, tzinfo=UTC), 123456, 10, 5000)
    assert bye == Bye((7,))


def test_other_rtcp_is_skipped_and_a_cut_packet_refused():
    receiver_report = struct.pack("!BBHI", 0x80, 201, 1, 9)
    assert parse_rtcp(receiver_report + device_rtp.bye(3)) == [Bye((3,))]
    with pytest.raises(RtpError):
        parse_rtcp(device_rtp.sender_report(7, 0.0, 1, 1, 1)[:20])
    with pytest.raises(RtpError):
        parse_rtcp(b"\x00\xc8\x00\x00")


def test_ntp_time_round_trips_to_the_microsecond():
    moment = datetime(2031, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    assert ntp_to_datetime(datetime_to_ntp(moment)) == moment
    assert datetime_to_ntp(moment) >> 32 == device_rtp.ntp_timestamp(moment.timestamp()) >> 32
