"""Export throughput of exportrecording.cgi against `ffmpeg -c copy` over the same blocks, and the camera's peak
memory during the export (issue #6). Run by hand from the repository root:
`.venv/bin/python -m bench.export_throughput [--size 1G] [--runs 5] [--profile]` (about 45 s at 1 GiB, Linux,
needs ffmpeg and ffprobe on PATH; the span and every output go to a temporary folder removed at the end).

Targets: the camera's export at least as fast as ``ffmpeg -f concat -c copy`` over the same block files, in the
same run (ratio >= 1.0), and the camera process under 150 MB RSS for the whole export.

The span is made quickly rather than recorded: a few seconds of 1280x720 H.264 (noise on a scrolling texture, so
frames are as big as a busy scene's, rate-capped at --bitrate like a camera stream) are encoded once with PyAV,
and their packets are fed in a loop, capture times advancing at the frame rate, through the recorder's own
:class:`RecordingSession` into a data dir the camera then mounts: the blocks, sidecars, index and key-frame rows
are exactly what the live recorder writes, split at the default 300 s. Encoding all 31,000 frames of 1 GiB would
take about 7 minutes here (13 ms a frame) against a few seconds; the export only copies packets and never looks
inside them, so looped packets cost it exactly what fresh ones would.

After one warm-up round that does not count (see ``--warmup``), each run in turn: the export over HTTP (Digest,
viewer, httpx streaming to a file on disk), with the camera's VmRSS sampled every 20 ms (VmHWM is the process
lifetime's peak, which includes mounting), then ffmpeg's concat demuxer stream-copying the same blocks to a file
on the same disk. Before each, ``sync`` writes back what the previous step left dirty, so neither is timed while
the kernel flushes the other's gigabyte; the blocks stay in the page cache for both. Both outputs are checked
with ffprobe (duration and packet count equal to the span's), so an XML error or a file cut short cannot pass as
a fast export. Throughputs are bytes of output per second, MB = 10^6 bytes. Afterwards the camera is stopped and
the same export runs in this process into a null sink (plan + remux, no HTTP): the gap between the two is what
HTTP, the thread hand-off and the client cost. ``--profile`` runs that once more under cProfile.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import math
import os
import pstats
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from bench.clips import Clip, bitrate, encode_clip, looped
from device.backfill import WRITING_APP, backfill
from device.cli import _size
from device.export.formats import MATROSKA
from device.export.plan import ExportRequest, plan_export
from device.export.remux import remux
from device.identity import load_identity
from device.media.synthetic import parse_resolution
from device.recorder import keyframes
from device.recorder.session import RecordingSession
from device.storage.files import tree_size
from device.storage.layout import INDEX_NAME, RecordingMeta, VideoAttributes, make_token
from device.storage.space import Space
from device.storage.store import RecordingStore
from tests.support.device_process import CREDENTIALS, DEFAULT_USERS, SERIAL, RunningDevice

MB = 1_000_000
SD_SIZE = 32 * 1024**3
"""The camera's default card (``--sd-size``), so the free space backfill checks is the one the camera sees."""
RSS_TARGET = 150 * MB
RATIO_TARGET = 1.0
SAMPLE_SECONDS = 0.02
EXPORT = "/axis-cgi/record/export"
EBML_MAGIC = b"\x1a\x45\xdf\xa3"


# --- the span -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """The recording the benchmark exports: what the outputs are checked against, and the blocks ffmpeg reads."""

    recording_id: str
    start: datetime
    frames: int
    fps: int
    blocks: list[Path]
    bytes: int

    @property
    def seconds(self) -> float:
        return self.frames / self.fps


def build_span(data_dir: Path, clip: Clip, size: int) -> Span:
    """A recording of about `size` bytes ending a minute ago, written by the recorder's own session into a data
    dir `python -m device` mounts. ``backfill`` with no hours lays the data dir out (identity, params, a
    formatted card) exactly as the camera expects it, so this only adds the recording."""
    backfill(data_dir, 0, serial=SERIAL, sd_size=SD_SIZE)
    identity = load_identity(data_dir)
    root = data_dir / "sdcard"
    store = RecordingStore(root, Space(SD_SIZE, tree_size(root)), identity.zone, identity.serial)
    frames = math.ceil(size / clip.bytes_per_frame)
    end = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    start = end - timedelta(seconds=math.ceil(frames / clip.fps))
    meta = RecordingMeta(
        make_token(start, store.zone, store.serial),
        "1",
        start,
        None,
        "continuous",
        "continuous",
        "continuous",
        VideoAttributes(clip.width, clip.height, f"{clip.fps}:1", "video/x-h264"),
    )
    db = keyframes.ensure_keyframe_table(root / INDEX_NAME)
    try:
        session = RecordingSession(store, meta, 300, WRITING_APP, keyframe_db=db)
        for frame in looped(clip, start, frames):
            session.feed(frame)
        session.finish()
        blocks = store.index.blocks(meta.id)
    finally:
        db.close()
        store.close()
    paths = [root / block.mkv for block in blocks]
    return Span(meta.id, start, frames, clip.fps, paths, sum(block.size for block in blocks))


# --- measuring ------------------------------------------------------------------------------------------------


def status_bytes(pid: int, field: str) -> int:
    """A memory line of /proc/PID/status (VmRSS, VmHWM) in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/{pid}/status")


class RssSampler:
    """The highest VmRSS of `pid` seen while running: VmHWM cannot be reset (clear_refs needs privileges the
    camera's owner may lack) and holds the peak of mounting too, so sampling is what isolates the export."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, status_bytes(self.pid, "VmRSS"))

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, status_bytes(self.pid, "VmRSS"))
            self._stop.wait(SAMPLE_SECONDS)


def settle() -> None:
    """Write back what earlier steps left dirty (the span just written, the previous run's output), so no run
    is timed while the kernel flushes another's gigabyte. The blocks stay in the page cache, clean."""
    os.sync()


@dataclass(frozen=True)
class Run:
    """One timed export or copy; throughput is of the output file, the thing a user waits for."""

    seconds: float
    bytes: int
    first_byte: float = 0.0
    rss_peak: int = 0

    @property
    def rate(self) -> float:
        return self.bytes / self.seconds / MB


def export_over_http(client: httpx.Client, url: str, params: dict[str, str], out: Path, pid: int) -> Run:
    """One exportrecording.cgi download to `out`, as the app saves it. A response that is not Matroska (the
    API's errors come as HTTP 200 XML) fails the benchmark instead of counting as a fast export."""
    written = 0
    first_byte = 0.0
    settle()
    with RssSampler(pid) as rss, out.open("wb") as f:
        began = time.perf_counter()
        with client.stream("GET", url, params=params) as response:
            response.raise_for_status()
            for chunk in response.iter_raw():
                if not written:
                    first_byte = time.perf_counter() - began
                    if not chunk.startswith(EBML_MAGIC):
                        kind = response.headers.get("content-type", "")
                        raise RuntimeError(f"not a Matroska file ({kind}): {chunk[:300]!r}")
                f.write(chunk)
                written += len(chunk)
        seconds = time.perf_counter() - began
    return Run(seconds, written, first_byte, rss.peak)


def ffmpeg_copy(blocks: list[Path], work: Path, out: Path) -> Run:
    """The reference: FFmpeg's concat demuxer stream-copying the same block files into one Matroska file."""
    listing = work / "list.txt"
    listing.write_text("".join(f"file '{path}'\n" for path in blocks))
    command = ["ffmpeg", "-v", "error", "-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy", "-y"]
    settle()
    began = time.perf_counter()
    subprocess.run([*command, str(out)], check=True)
    return Run(time.perf_counter() - began, out.stat().st_size)


def probe(path: Path, count: bool) -> tuple[float, int | None]:
    """The file's duration (container, else stream) and, when `count`, its video packets (a whole demux)."""
    command = ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries"]
    command += ["format=duration:stream=duration,nb_read_packets", "-of", "json"]
    if count:
        command.append("-count_packets")
    found = json.loads(subprocess.run([*command, str(path)], check=True, capture_output=True, text=True).stdout)
    stream = found.get("streams", [{}])[0]
    duration = float(found.get("format", {}).get("duration") or stream.get("duration") or 0)
    packets = stream.get("nb_read_packets")
    return duration, int(packets) if packets is not None else None


def check_output(label: str, path: Path, span: Span, count: bool) -> str:
    """Fail unless `path` holds the whole span: duration within a second (or 0.5 %), every packet when counted."""
    duration, packets = probe(path, count)
    if abs(duration - span.seconds) > max(1.0, span.seconds * 0.005):
        raise RuntimeError(f"{label}: {path.name} lasts {duration:.2f} s, the span {span.seconds:.2f} s")
    if count and packets != span.frames:
        raise RuntimeError(f"{label}: {path.name} holds {packets} packets, the span {span.frames}")
    return f"{label}: {duration:.2f} s" + (f", {packets} packets" if count else "")


def remux_in_process(data_dir: Path, span: Span) -> Run:
    """plan_export + remux into a null sink, in this process: the export engine alone, no HTTP."""
    identity = load_identity(data_dir)
    root = data_dir / "sdcard"
    store = RecordingStore(root, Space(SD_SIZE, tree_size(root)), identity.zone, identity.serial)
    try:
        settle()
        began = time.perf_counter()
        request = ExportRequest(span.recording_id, "SD_DISK", MATROSKA)
        result = remux(plan_export(store, request, datetime.now(UTC)), lambda _data: None)
        seconds = time.perf_counter() - began
    finally:
        store.close()
    if result.frames != span.frames:
        raise RuntimeError(f"in-process remux copied {result.frames} frames of {span.frames}")
    return Run(seconds, result.bytes)


def profile_remux(data_dir: Path, span: Span, top: int) -> str:
    """The in-process export under cProfile, `top` functions by own time: where the engine's time goes, without
    HTTP and the client in the picture (py-spy on the camera would need ptrace rights a bench cannot assume)."""
    profiler = cProfile.Profile()
    profiler.enable()
    remux_in_process(data_dir, span)
    profiler.disable()
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("tottime").print_stats(top)
    return text.getvalue()


# --- the run --------------------------------------------------------------------------------------------------


def median(runs: list[Run], attr: str) -> float:
    """The median, not the mean: one run slowed by a neighbour on a shared machine must not move the result."""
    return float(statistics.median(getattr(run, attr) for run in runs))


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # The camera's own size syntax (as `device backfill` uses it): 1G, 256M; at least 16M.
    p.add_argument("--size", type=_size, default="1G", help="bytes of blocks in the span (default 1G = 1 GiB)")
    p.add_argument("--runs", type=int, default=5, help="measured runs of each (default 5; the median counts)")
    p.add_argument(
        "--warmup",
        type=int,
        default=1,
        help="runs of each before those, not counted (default 1): on the 2-core VM of docs/benchmarks.md the first "
        "gigabyte written after a pause costs 1-2 s more (dd of 1 GiB: 1.8 s, then 0.2 s), whoever writes it",
    )
    p.add_argument("--resolution", type=parse_resolution, default=(1280, 720))
    p.add_argument("--fps", type=int, default=30)
    p.add_argument("--bitrate", type=bitrate, default="8M", help="bits per second of the clip (default 8M)")
    p.add_argument("--clip-seconds", type=int, default=5)
    p.add_argument("--profile", action="store_true", help="also cProfile the in-process remux")
    args = p.parse_args()
    for tool in ("ffmpeg", "ffprobe"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is needed on PATH")

    with tempfile.TemporaryDirectory(prefix="edgestore-bench-") as tmp:
        work = Path(tmp)
        data_dir = work / "camera"
        began = time.perf_counter()
        width, height = args.resolution
        clip = encode_clip(width, height, args.fps, args.clip_seconds, args.bitrate)
        encoded = time.perf_counter() - began
        span = build_span(data_dir, clip, args.size)
        built = time.perf_counter() - began - encoded
        print(
            f"span: {span.bytes / 1024**3:.2f} GiB in {len(span.blocks)} blocks, {span.seconds:.0f} s of "
            f"{clip.width}x{clip.height} @ {clip.fps} fps H.264 at {clip.bitrate / 1e6:.1f} Mbit/s, "
            f"{span.frames} frames (clip encoded in {encoded:.1f} s, span written in {built:.1f} s)",
            flush=True,
        )
        # Timings on a shared 2-core machine mean little if something else is busy; say so up front.
        print("load average (1, 5, 15 min): " + ", ".join(f"{load:.2f}" for load in os.getloadavg()), flush=True)

        users = [a for user in DEFAULT_USERS for a in ("--user", user)]
        device = RunningDevice(data_dir, [*users, "--serial", SERIAL]).start()
        cameras: list[Run] = []
        ffmpegs: list[Run] = []
        checks: list[str] = []
        try:
            assert device.process is not None
            pid = device.process.pid
            params = {
                "schemaversion": "1",
                "recordingid": span.recording_id,
                "diskid": "SD_DISK",
                "exportformat": "matroska",
            }
            auth = httpx.DigestAuth(*CREDENTIALS["viewer"])
            timeout = httpx.Timeout(60.0)
            with httpx.Client(auth=auth, timeout=timeout) as client:
                properties = client.get(f"{device.http_url}{EXPORT}/properties.cgi", params=params)
                properties.raise_for_status()
                if "ExportProperties" not in properties.text:
                    raise RuntimeError(f"properties.cgi: {properties.text}")
                estimate = int(properties.text.split('EstimatedFileSize="', 1)[1].split('"', 1)[0]) * 1024
                time.sleep(1)  # mount-time work done, the camera idle
                rss_before = status_bytes(pid, "VmRSS")
                url = f"{device.http_url}{EXPORT}/exportrecording.cgi"
                for n in range(args.warmup + args.runs):
                    last = n == args.warmup + args.runs - 1
                    out = work / "camera.mkv"
                    cameras.append(export_over_http(client, url, params, out, pid))
                    checks.append(check_output("camera", out, span, count=last))
                    out.unlink()
                    out = work / "ffmpeg.mkv"
                    ffmpegs.append(ffmpeg_copy(span.blocks, work, out))
                    checks.append(check_output("ffmpeg", out, span, count=last))
                    out.unlink()
                    label = "warm-up" if n < args.warmup else f"run {n + 1 - args.warmup}"
                    print(
                        f"{label}: camera {cameras[-1].rate:.0f} MB/s, ffmpeg {ffmpegs[-1].rate:.0f} MB/s", flush=True
                    )
            lifetime_peak = status_bytes(pid, "VmHWM")
        finally:
            device.stop()
        in_process = [remux_in_process(data_dir, span) for _ in range(args.warmup + args.runs)]
        profile = profile_remux(data_dir, span, 25) if args.profile else ""

    print(f"checked with ffprobe: {'; '.join(checks[-2:])}; every run within 0.5 % of {span.seconds:.0f} s")
    print()
    print("| run | camera export (HTTP) | time to first byte | camera peak RSS | ffmpeg -c copy | in-process remux |")
    print("|---|---|---|---|---|---|")
    for n, (camera, ffmpeg, local) in enumerate(zip(cameras, ffmpegs, in_process, strict=True)):
        label = "warm-up" if n < args.warmup else str(n + 1 - args.warmup)
        print(
            f"| {label} | {camera.rate:.0f} MB/s ({camera.seconds:.3f} s) | {camera.first_byte * 1000:.0f} ms "
            f"| {camera.rss_peak / MB:.0f} MB | {ffmpeg.rate:.0f} MB/s ({ffmpeg.seconds:.3f} s) "
            f"| {local.rate:.0f} MB/s ({local.seconds:.3f} s) |"
        )
    counted = slice(args.warmup, None)
    camera_rate, ffmpeg_rate = median(cameras[counted], "rate"), median(ffmpegs[counted], "rate")
    ratio = camera_rate / ffmpeg_rate
    peak = max(run.rss_peak for run in cameras)  # warm-up included: it is an export too
    first_byte = median(cameras[counted], "first_byte")
    print(
        f"| median of {args.runs} | {camera_rate:.0f} MB/s | {first_byte * 1000:.0f} ms | {peak / MB:.0f} MB (max) "
        f"| {ffmpeg_rate:.0f} MB/s | {median(in_process[counted], 'rate'):.0f} MB/s |"
    )
    print()
    print(
        f"output: camera {cameras[-1].bytes / MB:.0f} MB (properties.cgi estimated {estimate / MB:.0f} MB), "
        f"ffmpeg {ffmpegs[-1].bytes / MB:.0f} MB"
    )
    print(f"ratio camera/ffmpeg: {ratio:.2f} (target >= {RATIO_TARGET:.1f}): {verdict(ratio >= RATIO_TARGET)}")
    print(
        f"camera peak RSS during the export: {peak / MB:.0f} MB (target < {RSS_TARGET / MB:.0f} MB): "
        f"{verdict(peak < RSS_TARGET)}; before the export {rss_before / MB:.0f} MB, "
        f"VmHWM (process lifetime, mount included) {lifetime_peak / MB:.0f} MB"
    )
    if profile:
        print()
        print(profile)


if __name__ == "__main__":
    main()
