"""H.264 out of RTP: what the camera's packetizer sends comes back whole, and what was damaged never reaches a
decoder."""

from __future__ import annotations

from app.playback.h264 import FU_A, STAP_A, AccessUnit, H264Depacketizer
from app.playback.rtp import RtpPacket
from device.rtsp import rtp as device_rtp

SPS = b"\x67\x64\x00\x16\xac"
PPS = b"\x68\xef\x1f\x2c"
IDR = b"\x65" + bytes(i % 251 for i in range(4000))  # larger than the MTU: FU-A
DELTA = b"\x41" + bytes(range(200))


class Sender:
    """The camera's packetizer (device/rtsp/rtp.py), with sequence numbers running on."""

    def __init__(self, sequence: int = 65530) -> None:
        self.sequence = sequence

    def packets(self, nals: list[bytes], timestamp: int, marker: bool = True) -> list[RtpPacket]:
        found = []
        for payload, last in device_rtp.access_unit_payloads(nals):
            found.append(RtpPacket(96, last and marker, self.sequence, timestamp, 1, payload))
            self.sequence = (self.sequence + 1) & 0xFFFF
        return found


def push_all(depacketizer: H264Depacketizer, packets: list[RtpPacket]) -> list[AccessUnit]:
    return [unit for packet in packets for unit in depacketizer.push(packet)]


def test_single_nal_and_fu_a_packets_reassemble_into_annex_b_access_units():
    sender, depacketizer = Sender(), H264Depacketizer()
    packets = sender.packets([SPS, PPS, IDR], 1000) + sender.packets([DELTA], 7000)
    assert any(p.payload[0] & 0x1F == FU_A for p in packets)
    key, delta = push_all(depacketizer, packets)
    assert key == AccessUnit(1000, (SPS, PPS, IDR))
    assert key.keyframe
    assert key.annex_b == b"\x00\x00\x00\x01" + SPS + b"\x00\x00\x00\x01" + PPS + b"\x00\x00\x00\x01" + IDR
    assert delta == AccessUnit(7000, (DELTA,))
    assert not delta.keyframe
    assert depacketizer.dropped == 0


def test_stap_a_aggregates_split_into_their_nal_units():
    stap = bytes((STAP_A,)) + b"".join(len(n).to_bytes(2, "big") + n for n in (SPS, PPS))
    depacketizer = H264Depacketizer()
    units = push_all(depacketizer, [RtpPacket(96, False, 1, 10, 1, stap), RtpPacket(96, True, 2, 10, 1, IDR)])
    assert units == [AccessUnit(10, (SPS, PPS, IDR))]


def test_a_unit_ends_where_the_timestamp_changes_when_the_marker_is_missing():
    sender, depacketizer = Sender(), H264Depacketizer()
    first = push_all(depacketizer, sender.packets([SPS, PPS, IDR], 0, marker=False))
    assert first == []
    assert [u.timestamp for u in push_all(depacketizer, sender.packets([DELTA], 6000, marker=False))] == [0]
    assert [u.timestamp for u in depacketizer.flush()] == [6000]


def test_delta_frames_before_the_first_key_frame_are_dropped():
    sender, depacketizer = Sender(), H264Depacketizer()
    units = push_all(depacketizer, sender.packets([DELTA], 0) + sender.packets([SPS, PPS, IDR], 6000))
    assert [u.timestamp for u in units] == [6000]
    assert depacketizer.dropped == 1


def test_a_lost_packet_drops_its_unit_and_every_delta_frame_up_to_the_next_key_frame():
    sender, depacketizer = Sender(), H264Depacketizer()
    key = sender.packets([SPS, PPS, IDR], 0)
    damaged = sender.packets([SPS, PPS, IDR], 6000)
    del damaged[2]  # a middle FU-A fragment
    after = sender.packets([DELTA], 12000) + sender.packets([DELTA], 18000)
    recovered = sender.packets([SPS, PPS, IDR], 24000)
    units = push_all(depacketizer, key + damaged + after + recovered)
    assert [u.timestamp for u in units] == [0, 24000]
    assert depacketizer.dropped == 3


def test_a_fragment_whose_start_was_lost_damages_the_unit():
    sender, depacketizer = Sender(), H264Depacketizer()
    push_all(depacketizer, sender.packets([SPS, PPS, IDR], 0))
    fragments = sender.packets([IDR], 6000)
    assert push_all(depacketizer, fragments[1:]) == []  # the gap in sequence numbers, and no start bit
    assert depacketizer.dropped == 1


def test_a_key_frame_without_parameter_sets_gets_those_of_the_sdp_or_the_last_ones_seen():
    sender, depacketizer = Sender(), H264Depacketizer([SPS, PPS])
    aud = b"\x09\xf0"
    [unit] = push_all(depacketizer, sender.packets([aud, IDR], 0))
    assert unit.nals == (aud, SPS, PPS, IDR)
    newer_sps = SPS + b"\x01"
    push_all(depacketizer, sender.packets([newer_sps, PPS, IDR], 6000))
    [later] = push_all(depacketizer, sender.packets([IDR], 12000))
    assert later.nals == (newer_sps, PPS, IDR)


def test_reset_forgets_a_partial_unit_and_waits_for_a_key_frame():
    sender, depacketizer = Sender(), H264Depacketizer()
    push_all(depacketizer, sender.packets([SPS, PPS, IDR], 0)[:2])
    depacketizer.reset()
    assert push_all(depacketizer, sender.packets([DELTA], 6000)) == []
    assert [u.timestamp for u in push_all(depacketizer, sender.packets([SPS, PPS, IDR], 12000))] == [12000]


def test_interleaved_mode_packets_are_not_understood_and_drop_their_unit():
    depacketizer = H264Depacketizer()
    assert depacketizer.push(RtpPacket(96, True, 1, 0, 1, b"\x19\x00\x01")) == []  # STAP-B
    assert depacketizer.dropped == 1
