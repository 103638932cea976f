"""`python -m device backfill`: hours of realistic recording history on the camera's SD card, made much faster
than real time, for demos and benchmarks.

The history is real in every respect: each recording's frames come from :class:`SyntheticSource` (rendered and
encoded as fast as they go, with the capture time in the picture and its time strip) and are written through
:class:`RecordingSession`, so blocks, sidecars, recording.xml, the index and the key-frame table are exactly what
the live recorder writes. What it makes, ending at `end` (default now) and covering `hours`:

* continuous recordings of 10 to 60 minutes (shorter for a short history, so there are always several), split
  into blocks at Recording.DefaultSplitDuration as the camera splits them, each followed either by a short gap
  (a restart) or by an interruption of minutes (the camera was off);
* triggered recordings (TriggerType "triggered", event ID "motion") of 10 to 60 seconds, about four an hour, at
  random moments, overlapping the continuous ones as they do on a camera.

Speed: backfill video is 320x180 at 5 fps (a key frame every 2 s, as the camera's default GOP), measured at a few
hundred times real time on a 2-core machine; the recordings' VideoAttributes say so.

``index_only_count`` adds that many short recordings (4 s, one block each, 5 s apart, ending at `end`) straight
into the index in one transaction, for list benchmarks: event ID "bench", no files at all. Playback of them
fails and checkdisk reports their blocks missing; since a camera with AutoRepair on would "repair" them away at
mount, backfill turns Storage.S0.AutoRepair off in that data dir when it writes them (say so, and turn it back on
with param.cgi when done). Up to about 120,000 of them stay within CleanupMaxAge (7 days),
so the cleaner leaves them alone; more, and the camera's cleaner deletes the oldest rows.

The camera must be stopped while backfill runs: it writes the same card and index, and nothing here can tell
whether a camera has the data dir open.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from device.clock import SystemClock
from device.identity import IdentityError, load_identity
from device.media.synthetic import SyntheticSource, parse_resolution
from device.params.definitions import build_definitions
from device.params.store import ParamStore
from device.recorder import keyframes
from device.recorder.session import RecordingSession, RecordingStopped
from device.storage.disk import SD_CARD, CameraDiskState, CardMeta, Disk
from device.storage.files import tree_size
from device.storage.layout import (
    BlockMeta,
    RecordingMeta,
    VideoAttributes,
    block_paths,
    make_token,
    recording_dir,
)
from device.storage.space import DiskFull, Space
from device.storage.store import RecordingStore

GIB = 1024**3
DEFAULT_FPS = 5
DEFAULT_RESOLUTION = (320, 180)
BENCH_EVENT = "bench"
"""Event ID of index-only recordings (no files)."""
WRITING_APP = "Edgestore Virtual Camera"
BYTES_PER_SECOND_AT_DEFAULTS = 10_000
"""What one second of default backfill video takes, with a margin (measured about 4 kB/s), for the fit check."""
INDEX_ONLY_LENGTH = timedelta(seconds=4)
INDEX_ONLY_STEP = timedelta(seconds=5)

Progress = Callable[[float, str], None]


class BackfillError(Exception):
    """Backfill refused or could not finish; the message says why."""


@dataclass(frozen=True)
class Planned:
    start: datetime
    seconds: int
    triggered: bool


@dataclass
class BackfillReport:
    recordings: int = 0
    triggered: int = 0
    index_only: int = 0
    blocks: int = 0
    bytes: int = 0
    video_seconds: float = 0.0
    history_seconds: float = 0.0
    elapsed: float = 0.0

    @property
    def speed(self) -> float:
        """History covered per second of wall time (x real time)."""
        return self.history_seconds / self.elapsed if self.elapsed > 0 else 0.0

    def describe(self) -> str:
        text = (
            f"{self.recordings} recording(s) ({self.triggered} triggered), {self.blocks} block(s), "
            f"{self.bytes / 1024**2:.1f} MiB, {self.video_seconds / 3600:.2f} h of video in {self.elapsed:.1f} s"
        )
        if self.history_seconds:
            text += f" ({self.speed:.0f}x real time)"
        if self.index_only:
            text += f"; {self.index_only} index-only recording(s) with event ID {BENCH_EVENT!r} (no files)"
        return text


def plan(start: datetime, end: datetime, rng: random.Random) -> list[Planned]:
    """Continuous recordings with restarts and interruptions between them, and triggered ones, over start..end."""
    span = (end - start).total_seconds()
    if span <= 0:
        return []
    longest = max(120.0, min(3600.0, span / 4))  # several recordings even in a short history
    shortest = min(600.0, longest / 2)
    out: list[Planned] = []
    moment = start
    n = 0
    while moment < end:
        seconds = int(min(rng.uniform(shortest, longest), (end - moment).total_seconds()))
        if seconds < 10:
            break
        out.append(Planned(moment, seconds, False))
        # The first break is always an interruption, so every history has one.
        gap = rng.uniform(120, min(900, longest)) if n == 0 or rng.random() < 0.4 else rng.uniform(5, 30)
        moment += timedelta(seconds=seconds + gap)
        n += 1
    for _ in range(max(1, round(span / 900))):
        seconds = rng.randint(10, 60)
        latest = max(0.0, span - seconds)
        out.append(Planned(start + timedelta(seconds=round(rng.uniform(0, latest))), seconds, True))
    return sorted(out, key=lambda p: p.start)


def backfill(
    data_dir: Path,
    hours: float,
    *,
    end: datetime | None = None,
    seed: int = 0,
    fps: int = DEFAULT_FPS,
    resolution: tuple[int, int] = DEFAULT_RESOLUTION,
    index_only_count: int = 0,
    sd_size: int = 32 * GIB,
    serial: str | None = None,
    timezone: str | None = None,
    progress: Progress | None = None,
) -> BackfillReport:
    """Fill `data_dir`'s SD card with `hours` of history ending at `end`; see the module docstring."""
    if hours < 0 or index_only_count < 0:
        raise BackfillError("hours and the index-only count cannot be negative")
    report_progress = progress or (lambda _fraction, _text: None)
    began = time.monotonic()
    end = (end or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    start = end - timedelta(hours=hours)
    rng = random.Random(seed)
    planned = plan(start, end, rng)

    data_dir.mkdir(parents=True, exist_ok=True)
    identity = load_identity(data_dir, serial, timezone)
    params = ParamStore(data_dir / "params.json", build_definitions(identity, 8554))
    group = f"Storage.{SD_CARD.group}"
    disk = Disk(SD_CARD, data_dir / "sdcard", sd_size, CameraDiskState())
    card = disk.card()
    if card is None:  # a new card comes formatted, as DiskManager.start makes it
        disk.write_card(CardMeta(params.get(f"{group}.FileSystem")))
    elif card.encrypted:
        raise BackfillError("the SD card is encrypted; backfill writes plain cards only (format it first)")

    video_seconds = sum(p.seconds for p in planned)
    scale = resolution[0] * resolution[1] * fps / (DEFAULT_RESOLUTION[0] * DEFAULT_RESOLUTION[1] * DEFAULT_FPS)
    needed = int(video_seconds * BYTES_PER_SECOND_AT_DEFAULTS * scale)
    used = tree_size(disk.root)
    floor = min(max(sd_size // 100, 4 * 1024**2), sd_size // 4)  # DiskManager.free_floor: the camera's "full"
    if used + needed + floor > sd_size:
        raise BackfillError(
            f"{hours} h of history needs about {needed / 1024**2:.0f} MiB but the {sd_size / GIB:.1f} GiB card has "
            f"{max(0, sd_size - used - floor) / 1024**2:.0f} MiB free; use a bigger --sd-size or fewer hours"
        )
    if index_only_count:
        params.put(f"{group}.AutoRepair", "no")  # see the module docstring: repair would drop index-only rows

    store = RecordingStore(disk.root, Space(sd_size, used), identity.zone, identity.serial)
    split = int(params.get("Recording.DefaultSplitDuration"))
    report = BackfillReport(history_seconds=hours * 3600)
    db = keyframes.ensure_keyframe_table(store.index_path)
    try:
        done = 0
        for n, item in enumerate(planned, 1):
            _record(store, db, item, fps, resolution, split, report)
            done += item.seconds
            kind = "triggered" if item.triggered else "continuous"
            report_progress(
                done / max(1, video_seconds),
                f"{n}/{len(planned)} {kind} {item.start:%Y-%m-%d %H:%M:%S}Z {item.seconds} s",
            )
        if index_only_count:
            _index_only(store, end, index_only_count)
            report.index_only = index_only_count
            report_progress(1.0, f"{index_only_count} index-only recording(s) indexed")
    finally:
        db.close()
        store.close()
    report.elapsed = time.monotonic() - began
    return report


def _record(
    store: RecordingStore,
    db: sqlite3.Connection,
    item: Planned,
    fps: int,
    resolution: tuple[int, int],
    split: int,
    report: BackfillReport,
) -> None:
    # A source of its own per recording: its first frame is a key frame, so the recording starts on time.
    source = SyntheticSource(SystemClock(), resolution[0], resolution[1], fps)
    name = "motion" if item.triggered else "continuous"
    meta = RecordingMeta(
        make_token(item.start, store.zone, store.serial),
        "1",
        item.start,
        None,
        "triggered" if item.triggered else "continuous",
        name,
        name,
        VideoAttributes(resolution[0], resolution[1], f"{fps}:1", "video/x-h264"),
    )
    try:
        session = RecordingSession(store, meta, split, WRITING_APP, keyframe_db=db)
        for frame in source.frames(item.start, item.seconds * fps):
            session.feed(frame)
        session.finish()
    except (RecordingStopped, DiskFull) as exc:
        raise BackfillError(f"the card filled up during backfill ({exc}); use a bigger --sd-size") from None
    report.recordings += 1
    report.triggered += item.triggered
    report.video_seconds += item.seconds
    blocks = store.index.blocks(meta.id)
    report.blocks += len(blocks)
    report.bytes += sum(b.size for b in blocks)


def _index_only(store: RecordingStore, end: datetime, count: int) -> None:
    """`count` index rows (a recording and its one block each) with no files, in one transaction."""
    video = VideoAttributes(*DEFAULT_RESOLUTION, f"{DEFAULT_FPS}:1", "video/x-h264")
    index = store.index
    with index.transaction():
        for i in range(count):
            begin = end - INDEX_ONLY_LENGTH - i * INDEX_ONLY_STEP
            stop = begin + INDEX_ONLY_LENGTH
            rec_id = make_token(begin, store.zone, store.serial)
            folder = recording_dir(store.root, rec_id, begin, store.zone)
            index.put_recording(
                RecordingMeta(rec_id, "1", begin, stop, "triggered", BENCH_EVENT, BENCH_EVENT, video),
                folder.relative_to(store.root).as_posix(),
            )
            token = make_token(begin, store.zone, store.serial)
            mkv, _sidecar = block_paths(folder, token, begin, store.zone)
            index.put_block(
                BlockMeta(token, rec_id, begin, stop, "Complete"), mkv.relative_to(store.root).as_posix(), 0
            )


# --- command line: `python -m device backfill ...` (device.cli hands argv over) ---------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    from device.cli import _size  # the camera's own size syntax; imported here, cli imports this module lazily

    p = argparse.ArgumentParser(
        prog="edgestore-device backfill",
        description="Fill the camera's SD card with recording history, much faster than real time. "
        "Stop the camera first: it must not have the data dir open.",
    )
    p.add_argument("--data-dir", type=Path, required=True, help="the camera's data dir")
    p.add_argument("--hours", type=float, default=1.0, help="hours of history, ending at --end (default 1)")
    p.add_argument("--end", type=_iso, help="when the history ends, ISO 8601 (default now)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the history's shape (default 0)")
    p.add_argument("--fps", type=int, default=DEFAULT_FPS, help=f"frame rate of the video (default {DEFAULT_FPS})")
    p.add_argument(
        "--resolution",
        type=parse_resolution,
        default=DEFAULT_RESOLUTION,
        help="WxH of the video (default {}x{})".format(*DEFAULT_RESOLUTION),
    )
    p.add_argument(
        "--index-only",
        type=int,
        default=0,
        metavar="N",
        help=f"also index N short recordings without files (event ID {BENCH_EVENT!r}), for list benchmarks",
    )
    p.add_argument("--sd-size", type=_size, default="32G", metavar="SIZE", help="the SD card's size (default 32G)")
    p.add_argument("--serial", help="serial number, if the data dir has none yet")
    p.add_argument("--timezone", help="IANA time zone, if the data dir has none yet")
    return p.parse_args(argv)


def _iso(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    last = [-1]

    def progress(fraction: float, text: str) -> None:
        step = int(fraction * 10)
        if step != last[0] or fraction >= 1:
            last[0] = step
            print(f"backfill: {fraction:4.0%} {text}", flush=True)

    try:
        report = backfill(
            args.data_dir,
            args.hours,
            end=args.end,
            seed=args.seed,
            fps=args.fps,
            resolution=args.resolution,
            index_only_count=args.index_only,
            sd_size=args.sd_size,
            serial=args.serial,
            timezone=args.timezone,
            progress=progress,
        )
    except (BackfillError, IdentityError, ValueError, OSError) as exc:
        print(f"edgestore-device backfill: {exc}", file=sys.stderr)
        return 2
    print(f"backfill: done: {report.describe()}", flush=True)
    if report.index_only:
        print("backfill: Storage.S0.AutoRepair is now off in this data dir (repair would drop index-only rows)")
    return 0
