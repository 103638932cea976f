"""Annex B access units into MPEG-TS by stream copy: the camera's own encoded frames come out of the transport
stream with the same bytes, the same pictures and the RTP timing."""

from __future__ import annotations

import io

import av

from app.playback.tsmux import TsMuxer
from device.media import timestrip
from tests.device.test_recorder import FPS, frames

TICKS = 90_000 // FPS


def demux(ts: bytes) -> tuple[list[av.Packet], list[int]]:
    """The packets of the transport stream, and the strip time (ms) of every picture decoded from it."""
    with av.open(io.BytesIO(ts), "r", format="mpegts") as container:
        stream = container.streams.video[0]
        context = stream.codec_context
        assert (context.name, context.width, context.height) == ("h264", 640, 360)
        packets = [p for p in container.demux(stream) if p.size]
    decoder = av.CodecContext.create("h264", "r")
    times = []
    for packet in packets:
        for picture in decoder.decode(av.Packet(bytes(packet))):
            luma = picture.planes[0]
            times.append(timestrip.read_strip(bytes(luma), picture.width, picture.height, luma.line_size))
    return packets, times


def test_frames_are_copied_not_transcoded_and_keep_their_timing_across_an_rtp_wrap():
    encoded = frames(2.2)  # two GOPs and a bit: key frames at 0 and 2 s
    muxer = TsMuxer()
    start = 2**32 - 10 * TICKS  # the RTP timestamp wraps after ten frames
    ts = b"".join(muxer.mux(f.data, f.keyframe, (start + i * TICKS) % 2**32) for i, f in enumerate(encoded))
    ts += muxer.close()
    assert (muxer.width, muxer.height) == (640, 360)
    packets, times = demux(ts)
    assert len(packets) == len(encoded)
    assert all(f.data in bytes(p) for f, p in zip(encoded, packets, strict=True))  # the muxer may add an AUD
    assert [p.is_keyframe for p in packets] == [f.keyframe for f in encoded]
    first = packets[0].pts
    assert [p.pts - first for p in packets] == [i * TICKS for i in range(len(encoded))]
    assert times == [timestrip.to_millis(f.capture_time) for f in encoded]


def test_nothing_is_muxed_before_the_first_key_frame():
    encoded = frames(2.2)[20:]  # starts mid-GOP
    muxer = TsMuxer()
    out = [muxer.mux(f.data, f.keyframe, i * TICKS) for i, f in enumerate(encoded)]
    first_key = next(i for i, f in enumerate(encoded) if f.keyframe)
    assert not any(out[:first_key])
    assert all(out[first_key:])  # every frame is flushed as it comes, for a player waiting on the pipe
    packets, times = demux(b"".join(out) + muxer.close())
    assert times[0] == timestrip.to_millis(encoded[first_key].capture_time)
    assert len(packets) == len(encoded) - first_key


def test_a_timestamp_that_does_not_advance_still_gets_a_later_one():
    encoded = frames(0.3)
    muxer = TsMuxer()
    ts = b"".join(muxer.mux(f.data, f.keyframe, 1000) for f in encoded) + muxer.close()
    pts = [p.pts for p in demux(ts)[0]]
    assert pts == sorted(set(pts))
