"""Scrubbing (issue #9): from the operator releasing the playhead to the new frame on screen, and the still shown
while dragging. Run by hand from the repository root: `.venv/bin/python -m bench.scrub_release [--runs 20]`
(about 2 minutes, Linux; everything goes to a temporary folder removed at the end).

Target: from the user releasing the playhead to the new frame on screen ≤ 500 ms on loopback.

The data and the camera are those of bench/rtsp_playback.py (its `build_block` and `start_camera`): one recording
of exactly one five-minute block of busy 1280x720 H.264 at about 2 Mbit/s, a key frame every 2 s, written by the
recorder's own RecordingSession into a data dir that `python -m device` mounts.

Release to frame: what ``PlayerController.play_from`` does once the playhead is let go (``_play``; the camera's
RTSP port is already known, and the feed playing before the drag was closed when the drag began): a new
``ContinuousFrames`` over the recordings from the moment on (``segments_from`` of the track's spans, the
``pull=1`` playback URL, the viewer's credentials), fed into a new ``VlcFeed`` (its own libvlc instance, as the app
makes one) with a ``MemoryVideo`` instead of a window, so the picture is observable. Timed from just before those
are built until libvlc has shown its first picture (``MemoryVideo.wait_for`` in a thread); on the way, when they
were built, when the first frame came out of RTSP (setup, ``Range: clock=`` seek, the key frame at or before the
moment: this is also when ``player.play()`` is called), and when libvlc made its video output (the app's
``MediaPlayerVout`` event, where it drops the still). The feed is closed after each run, not timed.

Still: ``fetch_still(url, credentials, recording_id, moment)`` from call to return (RTSP session from the key frame
at or before the moment, every frame up to it decoded with PyAV, the last one converted to RGB): what the operator
sees while dragging.

Both at `--runs` moments spread over the recording (uniformly random, fixed seed, kept at least a frame away from
key frames, so the GOP up to the moment must be decoded), after `--warmup` rounds not counted. The client (this
process: RTSP, muxing, libvlc's decoder, PyAV) and the camera share the same 2 cores, as on an operator's desk with
a virtual camera. ``--vlc-arg`` adds libvlc options (e.g. ``--file-caching=100``) to see what the player's own
start-up costs; without it, the app's libvlc arguments as they are.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import vlc

from app.playback.auth import Credentials
from app.playback.continuous import ContinuousFrames, segments_from
from app.playback.session import Frame
from app.playback.still import fetch_still
from app.playback.vlcfeed import DEFAULT_ARGS, MemoryVideo, VlcFeed
from app.timeline.spans import Span, SpanKind
from app.vapix.playback import playback_url
from bench.clips import bitrate, encode_clip
from bench.rtsp_playback import Block, build_block, ms, percentile, start_camera, verdict
from device.media.synthetic import parse_resolution
from device.storage.index import RecordingIndex
from device.storage.layout import INDEX_NAME
from tests.support.device_process import CREDENTIALS, RunningDevice

TARGET = 0.500
"""Release to the new frame on screen, seconds."""
SHOWN_TIMEOUT = 10.0
MARGIN = 2.0
"""Seconds kept clear at each end of the recording when choosing moments."""


@dataclass(frozen=True)
class Release:
    offset: float
    """Seconds into the recording asked for."""
    built: float
    """ContinuousFrames and VlcFeed made (a libvlc instance and player), seconds from the release."""
    first_frame: float
    """The first frame out of RTSP (a key frame): libvlc is given the stream."""
    vout: float
    """libvlc made its video output."""
    shown: float
    """libvlc showed its first picture: the measure."""
    size: tuple[int, int]
    behind: float
    """How far libvlc's first picture (the key frame it starts from) is before the moment asked, seconds."""


@dataclass(frozen=True)
class StillTime:
    offset: float
    seconds: float
    behind: float
    """How far the picture returned is before the moment asked (under one frame when exact)."""
    gop_position: float
    """Seconds from the key frame before the moment to the moment: how much had to be decoded."""


def recording_span(data_dir: Path, recording_id: str) -> Span:
    """The recording as the timeline has it (start and stop from the camera's index, as list.cgi gives them)."""
    index = RecordingIndex(data_dir / "sdcard" / INDEX_NAME)
    try:
        [meta] = [meta for meta, _dir, _locked in index.recordings() if meta.id == recording_id]
    finally:
        index.close()
    assert meta.stop is not None
    return Span(recording_id, meta.start.timestamp(), meta.stop.timestamp(), SpanKind.CONTINUOUS)


def moments(count: int, seconds: float, gop: float, fps: int, seed: int) -> list[float]:
    """`count` offsets into the recording, uniformly random with `seed`, none within a frame of a key frame."""
    rng = random.Random(seed)
    chosen: list[float] = []
    while len(chosen) < count:
        offset = round(rng.uniform(MARGIN, seconds - MARGIN), 3)
        if 1 / fps <= offset % gop <= gop - 1 / fps:
            chosen.append(offset)
    return chosen


async def release_once(
    url_for: Callable[[str], str], credentials: Credentials, span: Span, offset: float, extra_args: list[str]
) -> Release:
    moment = span.start + offset
    began = time.perf_counter()
    # --- what PlayerController._play does on release ---
    frames = ContinuousFrames(url_for, credentials, segments_from([span], moment))
    video = MemoryVideo()
    instance = vlc.Instance([*DEFAULT_ARGS, *extra_args]) if extra_args else None
    feed = VlcFeed(instance, video=video)
    feed.player.set_rate(1.0)
    built = time.perf_counter()
    vout: list[float] = []
    feed.player.event_manager().event_attach(
        vlc.EventType.MediaPlayerVout, lambda _event: vout.append(time.perf_counter())
    )
    first: list[float] = []

    async def stamped() -> AsyncIterator[Frame]:
        async for frame in frames:
            if not first:
                first.append(time.perf_counter())
            yield frame

    def wait_shown() -> float | None:
        return time.perf_counter() if video.wait_for(1, SHOWN_TIMEOUT) else None

    feeding = asyncio.create_task(feed.feed(stamped()))
    waiting = asyncio.create_task(asyncio.to_thread(wait_shown))
    try:
        done, _ = await asyncio.wait({feeding, waiting}, return_when=asyncio.FIRST_COMPLETED)
        if feeding in done and feeding.exception() is not None:
            raise RuntimeError(f"feeding failed at +{offset:.3f} s") from feeding.exception()
        shown_at = await waiting
        if shown_at is None:
            raise RuntimeError(f"libvlc showed no picture within {SHOWN_TIMEOUT:g} s at +{offset:.3f} s")
        picture = video.pictures[0]
        started_at = feed.first_wall_clock
    finally:
        feeding.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await feeding
        await feed.close()
        if instance is not None:
            instance.release()
    return Release(
        offset,
        built - began,
        (first[0] if first else shown_at) - began,
        (vout[0] if vout else shown_at) - began,
        shown_at - began,
        (picture.width, picture.height),
        moment - started_at.timestamp() if started_at is not None else float("nan"),
    )


async def still_once(url: str, credentials: Credentials, span: Span, offset: float, gop: float) -> StillTime:
    moment = datetime.fromtimestamp(span.start + offset, UTC)
    began = time.perf_counter()
    still = await fetch_still(url, credentials, span.recording_id, moment)
    took = time.perf_counter() - began
    return StillTime(offset, took, (moment - still.captured).total_seconds(), offset % gop)


async def measure(device: RunningDevice, span: Span, args: argparse.Namespace) -> tuple[list[Release], list[StillTime]]:
    """Release and still in turns at each moment, so a slow moment of the machine hits both alike."""
    host, port = device.host, device.rtsp_port
    credentials = Credentials(*CREDENTIALS["viewer"])

    def url_for(recording_id: str) -> str:
        return playback_url(host, port, recording_id, pull=True).url

    seconds = span.stop - span.start if span.stop is not None else 0.0
    offsets = moments(args.warmup + args.runs, seconds, args.gop_seconds, args.fps, args.seed)
    releases: list[Release] = []
    stills: list[StillTime] = []
    for n, offset in enumerate(offsets):
        release = await release_once(url_for, credentials, span, offset, args.vlc_arg)
        await asyncio.sleep(0.3)
        still = await still_once(url_for(span.recording_id), credentials, span, offset, args.gop_seconds)
        await asyncio.sleep(0.3)
        if n >= args.warmup:
            releases.append(release)
            stills.append(still)
        label = "warm-up" if n < args.warmup else f"run {n + 1 - args.warmup}"
        print(
            f"{label} at +{offset:7.3f} s: release to frame {ms(release.shown)} (built {ms(release.built)}, "
            f"first RTSP frame {ms(release.first_frame)}, vout {ms(release.vout)}, picture {release.behind:.2f} s "
            f"before); still {ms(still.seconds)} "
            f"({still.gop_position:.2f} s into the GOP, {still.behind * 1000:.0f} ms before the moment)",
            flush=True,
        )
    return releases, stills


def row(label: str, values: list[float]) -> str:
    return f"| {label} | {ms(statistics.median(values))} | {ms(percentile(values, 0.9))} | {ms(max(values))} |"


def report(releases: list[Release], stills: list[StillTime], block: Block, args: argparse.Namespace) -> None:
    width, height = args.resolution
    print()
    print(
        f"{len(releases)} runs, {width}x{height} @ {args.fps} fps H.264, {block.bitrate / 1e6:.2f} Mbit/s, "
        f"key frame every {args.gop_seconds} s; libvlc {vlc.libvlc_get_version().decode()}"
        + (f", extra libvlc args {args.vlc_arg}" if args.vlc_arg else "")
    )
    print()
    print("| from release (or still call) to | median | p90 | worst |")
    print("|---|---|---|---|")
    print(row("ContinuousFrames + VlcFeed built", [r.built for r in releases]))
    print(row("first frame out of RTSP (player.play())", [r.first_frame for r in releases]))
    print(row("libvlc video output made", [r.vout for r in releases]))
    print(row("**first picture shown by libvlc**", [r.shown for r in releases]))
    print(row("libvlc alone: first RTSP frame to picture", [r.shown - r.first_frame for r in releases]))
    print(row("still returned (fetch_still)", [s.seconds for s in stills]))
    sizes = sorted({r.size for r in releases})
    behind = max(s.behind for s in stills)
    keys = [r.behind for r in releases]
    print()
    print(f"pictures shown: {sizes}; stills at most {behind * 1000:.1f} ms before the moment asked")
    print(
        f"libvlc's first picture is the key frame at or before the moment: median {statistics.median(keys):.2f} s, "
        f"at most {max(keys):.2f} s before it"
    )
    median = statistics.median(r.shown for r in releases)
    worst = max(r.shown for r in releases)
    met = verdict(median <= TARGET)
    print(f"release to frame: median {ms(median)}, worst {ms(worst)} (target <= {ms(TARGET)}): {met}")
    print(f"within the target: {sum(r.shown <= TARGET for r in releases)} of {len(releases)} runs")


async def run(args: argparse.Namespace, work: Path) -> None:
    data_dir = work / "camera"
    began = time.perf_counter()
    width, height = args.resolution
    clip = encode_clip(
        width, height, args.fps, args.clip_seconds, args.bitrate, args.gop_seconds * args.fps, vbv_seconds=1.0
    )
    block = build_block(data_dir, clip)
    span = recording_span(data_dir, block.recording_id)
    print(
        f"block: {block.bytes / 2**20:.1f} MiB, {block.seconds:.0f} s of {width}x{height} @ {args.fps} fps H.264, "
        f"{block.bitrate / 1e6:.2f} Mbit/s, {block.key_frames} key frames "
        f"(made in {time.perf_counter() - began:.1f} s)",
        flush=True,
    )
    print("load average (1, 5, 15 min): " + ", ".join(f"{load:.2f}" for load in os.getloadavg()), flush=True)
    device = start_camera(data_dir)
    try:
        releases, stills = await measure(device, span, args)
    finally:
        device.stop()
    report(releases, stills, block, args)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=20, help="counted moments (default 20)")
    p.add_argument("--warmup", type=int, default=2, help="moments before those, not counted (default 2)")
    p.add_argument("--seed", type=int, default=9, help="of the random moments (default 9)")
    p.add_argument("--resolution", type=parse_resolution, default=(1280, 720))
    p.add_argument("--fps", type=int, default=30)
    p.add_argument("--bitrate", type=bitrate, default="2M", help="bits per second of the clip (default 2M)")
    p.add_argument("--gop-seconds", type=int, default=2, help="seconds between key frames (default 2)")
    p.add_argument("--clip-seconds", type=int, default=4, help="seconds encoded, then looped (default 4)")
    p.add_argument(
        "--vlc-arg",
        action="append",
        default=[],
        help="an extra libvlc argument for the feed's instance (repeatable; default: the app's DEFAULT_ARGS only)",
    )
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="edgestore-bench-") as tmp:
        asyncio.run(run(args, Path(tmp)))


if __name__ == "__main__":
    main()
