"""The synthetic video source: the time strip and text in the picture, real H.264 and MJPEG out of PyAV, one
encoder fanned out to bounded subscriber queues, and the stream parameters a client may ask for."""

from __future__ import annotations

import asyncio
import itertools
import json
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import av
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from device.clock import ManualClock, SystemClock
from device.media import timestrip
from device.media.font import GLYPH_HEIGHT, GLYPHS, draw_text, text_size
from device.media.synthetic import (
    MIN_KEY_INTERVAL,
    EncodedFrame,
    FrameQueue,
    SourceOptions,
    SyntheticSource,
    crf_for,
    format_time,
    qscale_for,
)

START = datetime(2026, 11, 24, 1, 23, 45, 678000, tzinfo=UTC)
FPS = 15


def make_source(**kwargs) -> SyntheticSource:
    return SyntheticSource(kwargs.pop("clock", None) or ManualClock(START), **kwargs)


def encode_live(source: SyntheticSource, count: int) -> list[EncodedFrame]:
    """`count` frames as the live loop makes them: capture time from the clock, clock advanced 1/fps each."""
    clock = source.clock
    assert isinstance(clock, ManualClock)
    frames: list[EncodedFrame] = []
    for n in range(count):
        frames += source.produce(n, clock.now())
        clock.advance(float(1 / source.fps))
    return frames


def decoder_for(source: SyntheticSource) -> av.VideoCodecContext:
    decoder = av.CodecContext.create("h264" if source.codec == "h264" else "mjpeg", "r")
    assert isinstance(decoder, av.VideoCodecContext)
    if source.extradata:
        decoder.extradata = source.extradata
    return decoder


def strip_of(frame: av.VideoFrame) -> int:
    luma = frame.planes[0]
    return timestrip.read_strip(memoryview(luma), frame.width, frame.height, luma.line_size)


def decode_strips(source: SyntheticSource, frames: list[EncodedFrame]) -> list[int]:
    decoder = decoder_for(source)
    pictures = []
    for encoded in frames:
        pictures += decoder.decode(av.Packet(encoded.data))
    pictures += decoder.decode(None)
    assert len(pictures) == len(frames)
    assert all((p.width, p.height) == (source.width, source.height) for p in pictures)
    return [strip_of(p) for p in pictures]


def millis(frames: list[EncodedFrame]) -> list[int]:
    return [timestrip.to_millis(f.capture_time) for f in frames]


def nal_types(annex_b: bytes) -> list[int]:
    return [chunk[0] & 0x1F for chunk in annex_b.split(b"\x00\x00\x01")[1:] if chunk]


# --- The time strip on raw pictures ----------------------------------------------------------------------------

GEOMETRIES = [(640, 360, 640), (1920, 1080, 1920), (320, 180, 384), (650, 366, 704)]


@given(value=st.integers(0, 2**48 - 1), geometry=st.sampled_from(GEOMETRIES))
@settings(max_examples=200, deadline=None)
def test_the_strip_reads_back_every_48_bit_value(value, geometry):
    width, height, line_size = geometry
    luma = bytearray([90]) * (line_size * height)
    timestrip.paint_strip(luma, width, height, line_size, value)
    assert timestrip.read_strip(bytes(luma), width, height, line_size) == value


def test_the_strip_stays_in_its_bands():
    width, height = 640, 360
    luma = bytearray([90]) * (width * height)
    timestrip.paint_strip(luma, width, height, width, 2**47 + 5)
    below = luma[timestrip.strip_height(height) * width :]
    assert set(below) == {90}
    assert set(luma[: timestrip.strip_height(height) * width]) == {timestrip.BLACK, timestrip.WHITE}


def test_a_picture_without_a_strip_or_with_a_damaged_block_is_refused():
    width, height = 640, 360
    with pytest.raises(ValueError, match="unreadable"):
        timestrip.read_strip(bytes([16]) * (width * height), width, height, width)
    luma = bytearray([90]) * (width * height)
    timestrip.paint_strip(luma, width, height, width, 123456789)
    band = timestrip.band_height(height)
    for row in range(band, 2 * band):  # paint block 47 of the complement band the same as its data bit
        luma[row * width + 630 : row * width + 640] = luma[630:640]
    with pytest.raises(ValueError, match=r"bits \[47\]"):
        timestrip.read_strip(bytes(luma), width, height, width)


def test_the_strip_refuses_values_and_pictures_it_cannot_hold():
    luma = bytearray(640 * 360)
    with pytest.raises(ValueError):
        timestrip.paint_strip(luma, 640, 360, 640, 2**48)
    with pytest.raises(ValueError):
        timestrip.paint_strip(luma, 640, 360, 640, -1)
    with pytest.raises(ValueError):
        timestrip.paint_strip(bytearray(100 * 360), 100, 360, 100, 0)
    with pytest.raises(ValueError):
        timestrip.paint_strip(bytearray(640 * 10), 640, 360, 640, 0)


@given(st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(9999, 1, 1), timezones=st.just(UTC)))
def test_milliseconds_are_exact_integers(moment):
    ms = timestrip.to_millis(moment)
    assert timestrip.from_millis(ms) == moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    assert 0 <= ms < 2**48


# --- The font --------------------------------------------------------------------------------------------------


def test_the_font_covers_the_time_text_and_draws_the_lit_pixels():
    assert set(format_time(START)) <= set(GLYPHS)
    assert text_size("12:00", 2) == ((5 * 6 - 1) * 2, GLYPH_HEIGHT * 2)
    line = 40
    luma = bytearray(line * 20)
    draw_text(luma, line, 1, 1, "-", 1, value=200)
    assert [i for i, v in enumerate(luma) if v] == [4 * line + 1 + c for c in range(5)]  # the bar of '-', row 3


def test_text_is_clipped_at_the_edges_and_unknown_characters_drawn_as_question_marks():
    line = 20
    luma = bytearray(line * 10)
    draw_text(luma, line, 15, 5, "888", 2)  # runs off the right and the bottom
    assert len(luma) == line * 10
    known, unknown = bytearray(200), bytearray(200)
    draw_text(known, 20, 0, 0, "?", 1)
    draw_text(unknown, 20, 0, 0, "é", 1)
    assert known == unknown
    lower, upper = bytearray(200), bytearray(200)
    draw_text(lower, 20, 0, 0, "utc", 1)
    draw_text(upper, 20, 0, 0, "UTC", 1)
    assert lower == upper


# --- Encoding --------------------------------------------------------------------------------------------------


def test_h264_frames_carry_their_capture_time_through_encode_and_decode():
    source = make_source()
    frames = encode_live(source, 3 * FPS)
    assert len(frames) == 3 * FPS  # one packet per frame, no encoder delay
    assert [f.pts for f in frames] == list(range(3 * FPS))
    assert all(f.time_base == Fraction(1, FPS) and f.codec == "h264" for f in frames)
    assert frames[0].capture_time == START
    steps = {after.capture_time - before.capture_time for before, after in itertools.pairwise(frames)}
    assert steps == {timedelta(seconds=1 / FPS)}
    assert decode_strips(source, frames) == millis(frames)


def test_mjpeg_frames_are_whole_jpegs_carrying_their_capture_time():
    source = make_source(codec="jpeg")
    frames = encode_live(source, 20)
    assert all(f.keyframe and f.extradata is None and f.codec == "jpeg" for f in frames)
    assert all(f.data.startswith(b"\xff\xd8") and f.data.endswith(b"\xff\xd9") for f in frames)
    assert decode_strips(source, frames) == millis(frames)


def test_key_frames_come_every_gop_with_sps_and_pps():
    source = make_source()
    frames = encode_live(source, 4 * source.gop + 1)
    assert source.gop == 2 * FPS
    assert [f.pts for f in frames if f.keyframe] == [0, 30, 60, 90, 120]
    extradata = source.extradata
    assert extradata is not None
    assert nal_types(extradata) == [7, 8]  # SPS, PPS
    assert all(f.extradata == extradata for f in frames)
    for key in (f for f in frames if f.keyframe):
        assert {7, 8, 5} <= set(nal_types(key.data))  # a key frame stands alone: headers in band, then an IDR
    assert all(5 not in nal_types(f.data) for f in frames if not f.keyframe)


def test_the_gop_can_be_chosen():
    source = make_source(gop=4, fps=Fraction(30000, 1001))
    frames = encode_live(source, 13)
    assert [f.pts for f in frames if f.keyframe] == [0, 4, 8, 12]
    assert frames[0].time_base == Fraction(1001, 30000)


def test_a_key_frame_asked_for_comes_next_but_never_sooner_than_half_a_second_after_the_last():
    """A viewer renewing its stream gets a key frame at once; one asking on every frame (the source may be a
    recording's too) gets one every `MIN_KEY_INTERVAL`, and the GOP counts on from the last one made."""
    source = make_source()  # 15 fps, a key frame every 30 frames
    keys = []
    for pts in range(120):
        if pts == 40 or 60 <= pts < 75:
            source.request_key_frame()
        keys += [f.pts for f in source.produce(pts, START + timedelta(seconds=pts / FPS)) if f.keyframe]
    # 40 at once, and the GOP counts from it; asked on every frame from 60 to 74: one every 8 frames (0.53 s),
    # the last ask honoured at 76; then 30 frames on, as ever
    assert keys == [0, 30, 40, 60, 68, 76, 106]
    assert all((b - a) / FPS >= MIN_KEY_INTERVAL for a, b in itertools.pairwise(keys))


async def test_a_restarted_queue_drops_what_it_holds_and_starts_again_at_the_next_key_frame():
    source = make_source(gop=5)
    queue = source.subscribe()
    frames = encode_live(source, 16)
    for frame in frames[:8]:
        source.publish(frame)
    queue.restart()
    for frame in frames[8:]:
        source.publish(frame)
    assert [f.pts for f in drain(queue)] == [10, 11, 12, 13, 14, 15]
    assert queue.dropped == 0  # given up by the reader, not lost to overflow


@pytest.mark.parametrize("codec", ["h264", "jpeg"])
@pytest.mark.parametrize("compression", [0, 100])
@pytest.mark.parametrize("resolution", [(320, 180), (640, 360)])
def test_the_strip_survives_every_compression(codec, compression, resolution):
    source = make_source(codec=codec, compression=compression, width=resolution[0], height=resolution[1])
    frames = encode_live(source, 20)
    assert decode_strips(source, frames) == millis(frames)


def test_higher_compression_means_smaller_frames():
    sizes = {}
    for compression in (0, 50, 100):
        frames = encode_live(make_source(codec="jpeg", compression=compression), 3)
        sizes[compression] = sum(len(f.data) for f in frames)
    assert sizes[0] > sizes[50] > sizes[100]
    assert (crf_for(0), crf_for(30), crf_for(100)) == (18, 25, 40)
    assert (qscale_for(0), qscale_for(100)) == (2, 31)


def test_full_hd_works():
    source = make_source(width=1920, height=1080, fps=30)
    frames = encode_live(source, 8)
    assert decode_strips(source, frames) == millis(frames)


def test_backfill_makes_frames_at_the_frame_rate_from_a_given_start():
    source = make_source()
    frames = list(source.frames(START, 16))
    assert [f.capture_time - START for f in frames] == [
        timedelta(microseconds=round(i * 1_000_000 / FPS)) for i in range(16)
    ]
    more = list(source.frames(START + timedelta(hours=1), 2))
    assert [f.pts for f in frames + more] == list(range(18))
    with pytest.raises(ValueError):
        source.produce(3, START)


def test_the_time_text_is_drawn_under_the_strip():
    source = make_source()
    one, two = source.render(0, START), source.render(0, START + timedelta(seconds=1))
    same = source.render(0, START)
    top, text_rows = timestrip.strip_height(source.height), GLYPH_HEIGHT * 2 + 8
    line = one.planes[0].line_size

    def band(frame: av.VideoFrame) -> bytes:
        return bytes(frame.planes[0])[top * line : (top + text_rows) * line]

    assert band(one) != band(two)
    assert band(one) == band(same)
    assert bytes(one.planes[0]) == bytes(same.planes[0])  # a moment always looks the same
    assert format_time(START) == "2026-11-24 01:23:45.678 UTC"


def test_something_moves():
    source = make_source()
    one, two = source.render(0, START), source.render(1, START + timedelta(milliseconds=500))
    below = (timestrip.strip_height(source.height) + 60) * one.planes[0].line_size
    assert bytes(one.planes[0])[below:] != bytes(two.planes[0])[below:]
    assert bytes(one.planes[2]) != bytes(two.planes[2])  # the box is coloured


@pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffprobe is not installed")
def test_the_packets_stream_copy_into_matroska(tmp_path: Path):
    source = make_source()
    frames = encode_live(source, 2 * FPS)
    path = tmp_path / "clip.mkv"
    with av.open(str(path), "w", format="matroska") as container:
        stream = container.add_mux_stream("h264", rate=FPS, width=source.width, height=source.height)
        for frame in frames:
            packet = av.Packet(frame.data)
            packet.pts = packet.dts = frame.pts
            packet.time_base = frame.time_base
            packet.is_keyframe = frame.keyframe
            packet.stream = stream
            container.mux(packet)
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-count_frames", "-show_streams", "-of", "json", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    (video,) = json.loads(probe.stdout)["streams"]
    assert (video["codec_name"], video["width"], video["height"]) == ("h264", 640, 360)
    assert int(video["nb_read_frames"]) == 2 * FPS
    with av.open(str(path)) as reopened:
        avcc = reopened.streams.video[0].codec_context.extradata
        assert avcc is not None
        pictures = [p for packet in reopened.demux(video=0) for p in packet.decode()]
    assert source.extradata is not None
    for unit in source.extradata.split(b"\x00\x00\x00\x01")[1:]:
        assert unit in avcc  # the file's avcC holds exactly our SPS and PPS
    assert [strip_of(p) for p in pictures] == millis(frames)


# --- Fan-out ---------------------------------------------------------------------------------------------------


def drain(queue: asyncio.Queue[EncodedFrame]) -> list[EncodedFrame]:
    out = []
    while not queue.empty():
        out.append(queue.get_nowait())
    return out


async def test_two_subscribers_both_receive_every_frame_in_order():
    source = make_source()
    first, second = source.subscribe(), source.subscribe()
    frames = encode_live(source, 2 * source.gop)
    for frame in frames:
        source.publish(frame)
    assert drain(first) == frames
    assert drain(second) == frames
    assert source.subscriber_count == 2
    source.unsubscribe(first)
    source.unsubscribe(first)
    source.publish(frames[0])
    assert first.empty()
    assert drain(second) == [frames[0]]


async def test_a_subscriber_that_never_reads_stays_bounded_and_does_not_hold_up_the_other():
    source = make_source(gop=5)
    stuck, reader = source.subscribe(maxsize=12), source.subscribe(maxsize=2)
    received = []
    frames = encode_live(source, 100)
    for frame in frames:
        source.publish(frame)
        assert stuck.qsize() <= 12
        received += drain(reader)
    assert received == frames
    assert reader.dropped == 0
    kept = drain(stuck)
    assert kept[0].keyframe
    assert kept == frames[-len(kept) :]  # the newest frames, from a key frame on
    assert stuck.dropped == 100 - len(kept)


async def test_a_new_subscribers_first_frame_is_a_key_frame():
    source = make_source(gop=10)
    frames = encode_live(source, 25)
    for frame in frames[:3]:
        source.publish(frame)
    late = source.subscribe()
    for frame in frames[3:]:
        source.publish(frame)
    got = drain(late)
    assert got[0].keyframe
    assert got[0].pts == 10
    assert got == frames[10:]
    assert late.dropped == 0  # frames before the first key frame were never owed


async def test_a_slow_reader_loses_whole_gops_and_what_it_gets_still_decodes():
    source = make_source(gop=6)
    slow = source.subscribe(maxsize=8)
    frames = encode_live(source, 90)
    received = []
    for n, frame in enumerate(frames):
        source.publish(frame)
        if n % 13 == 12:  # reads in bursts, too rarely to keep up
            received += drain(slow)
    received += drain(slow)
    assert 0 < len(received) < len(frames)
    assert slow.dropped == len(frames) - len(received)
    pts = [f.pts for f in received]
    assert pts == sorted(pts)
    for before, after in itertools.pairwise(received):
        assert after.pts == before.pts + 1 or after.keyframe  # every gap ends at a key frame
    assert decode_strips(source, received) == millis(received)


async def test_a_full_queue_without_a_key_frame_waits_for_the_next_one():
    def frame(pts: int, key: bool) -> EncodedFrame:
        return EncodedFrame(b"", pts, Fraction(1, 15), key, START, "h264", None)

    queue = FrameQueue(3)
    for pts, key in [(0, True), (1, False), (2, False), (3, False), (4, False), (5, True), (6, False)]:
        queue.offer(frame(pts, key))
    assert [f.pts for f in drain(queue)] == [5, 6]
    assert queue.dropped == 5  # 0-3 to overflow, 4 while waiting for a key frame after it
    with pytest.raises(ValueError):
        FrameQueue(0)


# --- Live -------------------------------------------------------------------------------------------------------


async def test_the_live_source_paces_frames_and_fans_them_out():
    source = make_source(clock=SystemClock(), width=320, height=180, fps=30)
    queue = source.subscribe()
    await source.start()
    await source.start()
    assert source.running
    try:
        got = [await asyncio.wait_for(queue.get(), timeout=10) for _ in range(6)]
    finally:
        await source.stop()
    await source.stop()
    assert not source.running
    assert got[0].keyframe
    pts = [f.pts for f in got]
    assert pts == sorted(set(pts))
    assert decode_strips(source, got) == millis(got)


async def test_a_stopped_source_is_idle_and_restarts_where_it_left_off():
    source = make_source(clock=SystemClock(), width=320, height=180, fps=30)
    queue = source.subscribe()
    await source.start()
    before = [await asyncio.wait_for(queue.get(), timeout=10) for _ in range(3)]
    await source.stop()
    drain(queue)
    idle = source.next_pts
    await asyncio.sleep(0.1)
    assert source.next_pts == idle  # stop waited for the frame in flight; nothing is encoded after it
    await source.start()
    try:
        after = await asyncio.wait_for(queue.get(), timeout=10)
    finally:
        await source.stop()
    assert after.pts >= idle > before[-1].pts
    assert source.produce(source.next_pts, datetime.now(UTC))  # the encoder is free for the synchronous API


async def test_the_live_source_skips_ticks_when_it_falls_behind():
    clock = ManualClock(START)
    source = make_source(clock=clock, width=320, height=180, fps=30)
    queue = source.subscribe()
    await source.start()
    try:
        first = await asyncio.wait_for(queue.get(), timeout=10)
        clock.advance(1.0)  # as if the machine stalled for a second
        later = first
        while later.pts < 30:
            later = await asyncio.wait_for(queue.get(), timeout=10)
    finally:
        await source.stop()
    assert source.skipped > 0
    assert first.pts == 0


# --- Parameters -------------------------------------------------------------------------------------------------


def test_options_default_to_640x360_h264_at_15_fps():
    assert SourceOptions.parse({}) == SourceOptions(640, 360, 15, "h264", 30)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"resolution": "1920x1080"}, SourceOptions(1920, 1080)),
        ({"resolution": "320X180", "fps": "30"}, SourceOptions(320, 180, 30)),
        ({"videocodec": "jpeg", "compression": "0"}, SourceOptions(codec="jpeg", compression=0)),
        ({"videocodec": "H264", "compression": "100", "fps": "1"}, SourceOptions(fps=1, compression=100)),
        ({"camera": "1", "audio": "0"}, SourceOptions()),
    ],
)
def test_good_options_parse(query, expected):
    assert SourceOptions.parse(query) == expected


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ({"resolution": "1921x1080"}, "resolution"),
        ({"resolution": "3840x2160"}, "resolution"),
        ({"resolution": "641x360"}, "even"),
        ({"resolution": "160x90"}, "resolution"),
        ({"resolution": "640*360"}, "resolution"),
        ({"resolution": "x360"}, "resolution"),
        ({"fps": "0"}, "fps"),
        ({"fps": "31"}, "fps"),
        ({"fps": "12.5"}, "fps"),
        ({"videocodec": "h265"}, "videocodec"),
        ({"compression": "101"}, "compression"),
        ({"compression": "-1"}, "compression"),
        ({"compression": "high"}, "compression"),
    ],
)
def test_bad_options_are_refused_by_name(query, named):
    with pytest.raises(ValueError, match=named):
        SourceOptions.parse(query)


def test_a_source_is_made_from_options_and_refuses_what_options_would():
    options = SourceOptions.parse({"resolution": "320x180", "videocodec": "jpeg", "fps": "5"})
    source = SyntheticSource.from_options(options, ManualClock(START))
    assert (source.width, source.height, source.fps, source.codec, source.gop) == (320, 180, 5, "jpeg", 10)
    assert source.extradata is None
    for bad in ({"width": 641}, {"fps": 0}, {"fps": 60}, {"compression": 101}, {"gop": 0}, {"codec": "h265"}):
        with pytest.raises(ValueError):
            make_source(**bad)
