"""A recording's frames read back for RTSP playback, block by block, in a worker thread.

Each block is a Matroska file (device/recorder/muxer.py); its plaintext comes from ``RecordingStore.read``, so
encrypted cards play too. PyAV demuxes it; H.264 packets come out in the Matroska form (length-prefixed NAL units,
``avcC`` extradata) and are turned back into Annex B access units, SPS and PPS in band before key frames as the
camera's encoder made them.

A frame's time is seconds since the recording start: the block's start (its first key frame's capture time) plus
the packet's Matroska timestamp, minus the recording's start time.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import av
import av.error

from device.rtsp.rtp import annex_b, split_annex_b
from device.storage.index import IndexedBlock, RecordingFilter
from device.storage.layout import RecordingMeta
from device.storage.manager import DiskManager
from device.storage.store import RecordingStore

H264 = "video/x-h264"
SPS, PPS = 7, 8


class PlaybackError(Exception):
    """The recording cannot be played (codec, unreadable first block); the text says why."""


@dataclass(frozen=True, slots=True)
class PlaybackFrame:
    time: float
    """Seconds since the recording start."""
    data: bytes
    """One access unit, Annex B."""
    keyframe: bool


@dataclass
class Recording:
    meta: RecordingMeta
    store: RecordingStore
    blocks: list[IndexedBlock]

    @property
    def duration(self) -> float | None:
        """Seconds from start to stop; None while the recording goes on."""
        return None if self.meta.stop is None else max(0.0, (self.meta.stop - self.meta.start).total_seconds())

    def block_offset(self, block: IndexedBlock) -> float:
        return (block.meta.start - self.meta.start).total_seconds()


def find_recording(disks: DiskManager, recording_id: str) -> Recording | None:
    """The recording with this ID on any mounted disk, with its blocks in order. Blocking: run in a thread."""
    for disk in list(disks.disks.values()):
        store = disk.store
        if store is None:
            continue
        _total, _matched, page = store.index.query_recordings(RecordingFilter(recording_ids=(recording_id,)), False, 1)
        if page:
            return Recording(page[0][0], store, store.index.blocks(recording_id))
    return None


def _avcc_to_annex_b(data: bytes, length_size: int) -> bytes:
    nals = []
    offset = 0
    while offset + length_size <= len(data):
        size = int.from_bytes(data[offset : offset + length_size], "big")
        offset += length_size
        nals.append(data[offset : offset + size])
        offset += size
    return annex_b(nals)


def demux_block(data: bytes, offset: float) -> list[PlaybackFrame]:
    """Every frame of one block's plaintext, timed from `offset` (the block start in recording seconds). A block
    cut short (power loss, still being written) yields the frames it holds."""
    frames: list[PlaybackFrame] = []
    try:
        with av.open(io.BytesIO(data), "r", format="matroska") as container:
            stream = container.streams.video[0]
            if stream.codec_context.name != "h264":
                raise PlaybackError(f"only H.264 recordings play over RTSP, not {stream.codec_context.name}")
            extradata = stream.codec_context.extradata or b""
            avcc = bool(extradata) and extradata[0] == 1
            length_size = (extradata[4] & 0x03) + 1 if avcc and len(extradata) > 4 else 4
            for packet in container.demux(stream):
                if packet.size == 0 or packet.pts is None or packet.time_base is None:
                    continue
                raw = bytes(packet)
                unit = _avcc_to_annex_b(raw, length_size) if avcc else raw
                frames.append(PlaybackFrame(offset + float(packet.pts * packet.time_base), unit, packet.is_keyframe))
    except av.error.FFmpegError:
        pass  # a truncated tail: keep what was read
    return frames


def read_block(recording: Recording, block: IndexedBlock) -> list[PlaybackFrame]:
    """One block's frames. Blocking: run in a thread."""
    try:
        data = recording.store.read(recording.store.root / Path(block.mkv))
    except OSError:
        return []
    return demux_block(data, recording.block_offset(block))


def parameter_sets(recording: Recording) -> tuple[bytes, bytes]:
    """SPS and PPS of the recording's first key frame, for the SDP. Blocking: run in a thread."""
    if recording.meta.video.encoding != H264:
        raise PlaybackError(f"only H.264 recordings play over RTSP, not {recording.meta.video.encoding}")
    for block in recording.blocks:
        for frame in read_block(recording, block):
            if frame.keyframe:
                nals = split_annex_b(frame.data)
                sps = next((n for n in nals if n[0] & 0x1F == SPS), None)
                pps = next((n for n in nals if n[0] & 0x1F == PPS), None)
                if sps is not None and pps is not None:
                    return sps, pps
    raise PlaybackError("the recording holds no playable key frame")


def start_block(recording: Recording, start: float) -> int:
    """The index of the block that holds `start` seconds (the last one starting at or before it)."""
    chosen = 0
    for index, block in enumerate(recording.blocks):
        if recording.block_offset(block) <= start:
            chosen = index
    return chosen


def from_keyframe(frames: list[PlaybackFrame], start: float) -> list[PlaybackFrame]:
    """The frames from the last key frame at or before `start` (from the first key frame if none is)."""
    keys = [i for i, f in enumerate(frames) if f.keyframe]
    if not keys:
        return []
    before = [i for i in keys if frames[i].time <= start + 1e-6]
    return frames[before[-1] if before else keys[0] :]
