"""RTSP playback takes frames out of Matroska blocks with the recorder's EBML walk (muxer.frames_in), not an FFmpeg
demuxer per read: the same payloads, timestamps and key flags as PyAV's demux, for the recorder's blocks (a cluster
per frame, cut off anywhere) and for ordinary Matroska (several frames per cluster, SPS and PPS only in the avcC),
which must play over RTSP too."""

from __future__ import annotations

import io
import subprocess
from fractions import Fraction
from pathlib import Path

import av
import pytest

from device.recorder.muxer import (
    BLOCK,
    BLOCK_GROUP,
    CLUSTER,
    CLUSTER_TIMESTAMP,
    REFERENCE_BLOCK,
    BlockFrame,
    BlockMuxer,
    frames_in,
    scan,
    video_track,
)
from device.rtsp.playback import (
    SPS,
    Recording,
    RecordingReader,
    block_layout,
    length_prefixed_nals,
    parameter_sets,
    parse_avcc,
    read_block,
    with_parameter_sets,
)
from device.rtsp.rtp import split_annex_b
from device.storage.sample import FPS as SAMPLE_FPS
from device.storage.sample import encode_clip, write_sample_recording
from tests.device.disk_client import mkv_files, sample
from tests.device.test_recorder import START, frames, make_store
from tests.device.test_rtsp_playback import needs_ffmpeg, playback_url


def recorder_block(codec: str = "h264", seconds: float = 2.0) -> bytes:
    """A block as the recorder writes it: a cluster per frame, SimpleBlocks, 4-byte NAL lengths."""
    out = io.BytesIO()
    encoded = frames(seconds, codec)
    muxer = BlockMuxer(out, encoded[0].capture_time, codec, 640, 360, Fraction(15))  # type: ignore[arg-type]
    for frame in encoded:
        muxer.write(frame)
    muxer.close()
    return out.getvalue()


def pyav_demux(data: bytes) -> list[tuple[int, bool, bytes]]:
    """(timestamp in ns, key frame, payload) of every packet, as FFmpeg's demuxer reads them."""
    with av.open(io.BytesIO(data), "r", format="matroska") as container:
        stream = container.streams.video[0]
        return [
            (int(p.pts * p.time_base * 1_000_000_000), p.is_keyframe, bytes(p))
            for p in container.demux(stream)
            if p.size and p.pts is not None and p.time_base is not None
        ]


def walked(found: list[BlockFrame]) -> list[tuple[int, bool, bytes]]:
    return [(f.timestamp_ns, f.keyframe, f.payload) for f in found]


def walk(data: bytes) -> list[tuple[int, bool, bytes]]:
    track = video_track(data)
    assert track is not None
    found = frames_in(data, track, track.header_size)
    assert found is not None
    assert found.end == len(data)
    return walked(found.frames)


@pytest.mark.parametrize("codec", ["h264", "jpeg"])
def test_the_walk_reads_a_recorder_block_as_pyav_does(codec: str):
    data = recorder_block(codec)
    track = video_track(data)
    assert track is not None
    assert track.codec_id == ("V_MPEG4/ISO/AVC" if codec == "h264" else "V_MJPEG")
    assert track.header_size == scan(data).header_size
    expected = pyav_demux(data)
    assert len(expected) == 30
    assert walk(data) == expected


def test_a_recorder_block_cut_mid_cluster_leaves_that_cluster_for_the_next_read():
    data = recorder_block()
    track = video_track(data)
    assert track is not None
    clusters = sorted({f.offset for f in scan(data).frames})
    expected = pyav_demux(data)
    for cut in (clusters[5] + 3, clusters[5] + 40, (clusters[12] + clusters[13]) // 2):
        first = frames_in(data[:cut], track, track.header_size)
        assert first is not None
        assert first.end in clusters
        assert first.end < cut
        rest = frames_in(data[first.end :], track)
        assert rest is not None
        assert rest.end == len(data) - first.end
        assert walked(first.frames + rest.frames) == expected
    # Read from a cluster boundary on (a seek, a later chunk): the chunk needs no header in front.
    later = frames_in(data[clusters[10] :], track)
    assert later is not None
    assert walked(later.frames) == expected[10:]


def ordinary_matroska() -> bytes:
    """What device/storage/sample.py writes: libx264 through FFmpeg's seekable matroska muxer, several frames to a
    cluster, SeekHead and Cues, and SPS and PPS only in the avcC CodecPrivate."""
    return encode_clip(6.0)


def test_the_walk_reads_ordinary_matroska_with_several_frames_per_cluster_as_pyav_does():
    data = ordinary_matroska()
    offsets = [f.offset for f in scan(data).frames]
    assert len(set(offsets)) < len(offsets)  # several frames to a cluster
    expected = pyav_demux(data)
    assert len(expected) == 6 * SAMPLE_FPS
    assert walk(data) == expected
    layout = block_layout(data)
    assert layout is not None
    assert layout.avcc is not None
    assert layout.avcc.length_size == 4
    key = expected[0][2]
    assert SPS not in [n[0] & 0x1F for n in length_prefixed_nals(key, 4)]  # not in band


def test_a_cluster_cut_short_for_good_gives_its_whole_blocks_when_partial():
    data = ordinary_matroska()
    track = video_track(data)
    assert track is not None
    expected = pyav_demux(data)
    cut = len(data) // 2
    held = frames_in(data[:cut], track, track.header_size)
    tail = frames_in(data[:cut], track, track.header_size, partial=True)
    assert held is not None
    assert tail is not None
    assert held.end == tail.end < cut
    assert len(held.frames) < len(tail.frames) < len(expected)
    assert walked(tail.frames) == expected[: len(tail.frames)]


def ebml(ident: int, body: bytes) -> bytes:
    """An element with an 8-byte size."""
    return ident.to_bytes((ident.bit_length() + 7) // 8, "big") + (len(body) | 1 << 56).to_bytes(8, "big") + body


def as_block_groups(data: bytes, lacing: bool = False) -> bytes:
    """The recorder block `data` rewritten with each frame in a BlockGroup (Block, plus ReferenceBlock for a frame
    that is not a key frame), one cluster per GOP: a layout other Matroska writers use."""
    track = video_track(data)
    assert track is not None
    found = frames_in(data, track, track.header_size)
    assert found is not None
    clusters: list[list[BlockFrame]] = []
    for frame in found.frames:
        if frame.keyframe:
            clusters.append([])
        clusters[-1].append(frame)
    out = data[: track.header_size]
    for cluster in clusters:
        base = cluster[0].timestamp_ns // 1_000_000
        body = ebml(CLUSTER_TIMESTAMP, base.to_bytes(4, "big"))
        for frame in cluster:
            relative = frame.timestamp_ns // 1_000_000 - base
            flags = 0x02 if lacing else 0  # Xiph lacing: a laced block, which the walk leaves to PyAV
            block = bytes((0x80 | track.number,)) + relative.to_bytes(2, "big", signed=True) + bytes((flags,))
            group = ebml(BLOCK, block + frame.payload)
            if not frame.keyframe:
                group += ebml(REFERENCE_BLOCK, (-1).to_bytes(1, "big", signed=True))
            body += ebml(BLOCK_GROUP, group)
        out += ebml(CLUSTER, body)
    return out


def test_block_groups_read_as_pyav_reads_them():
    data = as_block_groups(recorder_block())
    expected = pyav_demux(data)
    assert [k for _t, k, _p in expected].count(True) == 1
    assert walk(data) == expected
    assert walk(data) == walk(recorder_block())


def test_what_the_walk_does_not_take_apart_is_left_to_pyav():
    data = as_block_groups(recorder_block(), lacing=True)
    track = video_track(data)
    assert track is not None
    assert frames_in(data, track, track.header_size) is None


def test_avcc_parameter_sets_go_before_key_frames_that_lack_them():
    data = ordinary_matroska()
    layout = block_layout(data)
    assert layout is not None
    assert layout.avcc is not None
    config = parse_avcc(layout.track.codec_private)
    assert config == layout.avcc
    assert [n[0] & 0x1F for n in config.sps + config.pps] == [7, 8]
    delimiter, idr = b"\x09\xf0", b"\x65\x88"
    assert with_parameter_sets([delimiter, idr], config) == [delimiter, *config.sps, *config.pps, idr]
    assert with_parameter_sets([*config.sps, *config.pps, idr], config) == [*config.sps, *config.pps, idr]
    assert parse_avcc(b"\x00\x00\x00\x01\x67") is None  # Annex B extradata


def test_a_sample_recording_reads_back_every_frame_with_parameter_sets_in_band(tmp_path: Path):
    store = make_store(tmp_path / "card", encrypted=False)
    recording_id = write_sample_recording(store, START, seconds=4, block_seconds=2)
    [meta] = [m for m, _dir, _locked in store.index.recordings() if m.id == recording_id]
    recording = Recording(meta, store, store.index.blocks(recording_id))
    sps, pps = parameter_sets(recording)
    assert (sps[0] & 0x1F, pps[0] & 0x1F) == (7, 8)
    reader = RecordingReader(recording, 0.0)
    read = []
    while not (batch := reader.read()).ended:
        read += batch.frames
    assert [round(f.time * SAMPLE_FPS) for f in read] == list(range(4 * SAMPLE_FPS))
    keys = [f for f in read if f.keyframe]
    assert len(keys) >= 2  # one per block at least
    assert all(f.h264_nals()[:2] == [sps, pps] for f in keys)
    assert all(split_annex_b(f.data) == f.h264_nals() for f in read)
    assert [f.data for f in read] == [f.data for block in recording.blocks for f in read_block(recording, block)]


def decoded_planes(data: bytes) -> list[bytes]:
    with av.open(io.BytesIO(data), "r") as container:
        return [bytes(frame.planes[0]) for frame in container.decode(video=0)]


@pytest.mark.functional
@needs_ffmpeg
def test_a_sample_recording_plays_to_ffmpeg_every_frame(camera, tmp_path: Path):
    """Ordinary Matroska, as device/storage/sample.py writes it, plays like the recorder's blocks: DESCRIBE finds
    the parameter sets in the avcC, and every frame arrives and decodes."""
    recording_id = sample(camera, seconds=4, blockseconds=2)
    recorded = [plane for mkv in mkv_files(camera, recording_id) for plane in decoded_planes(mkv.read_bytes())]
    assert len(recorded) == 4 * SAMPLE_FPS
    url = playback_url(camera, recording_id)
    probe = ["ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-show_entries", "stream=codec_name,width,height"]
    probed = subprocess.run([*probe, "-of", "csv=p=0", url], capture_output=True, text=True, timeout=30)
    assert probed.returncode == 0, probed.stderr
    assert probed.stdout.strip() == "h264,160,90"
    out = tmp_path / "played.mkv"
    command = ["ffmpeg", "-v", "error", "-rtsp_transport", "tcp", "-i", url, "-c", "copy", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert decoded_planes(out.read_bytes()) == recorded
