"""How fast `python -m device backfill` makes history. Run by hand from the repository root:
`.venv/bin/python -m bench.backfill_speed [--hours 1]`. Prints the run's summary and the speed in x real time
(hours of history per hour of wall time), plus the index-only fill rate (100k rows)."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from device.backfill import backfill


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hours", type=float, default=1.0)
    p.add_argument("--index-only", type=int, default=100_000)
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="edgestore-bench-") as tmp:
        report = backfill(Path(tmp) / "history", args.hours)
        print(f"history: {report.describe()}")
        print(
            f"history: {report.speed:.0f}x real time, {report.video_seconds / report.elapsed:.0f}x for the video alone"
        )
        began = time.perf_counter()
        backfill(Path(tmp) / "index-only", 0, index_only_count=args.index_only)
        seconds = time.perf_counter() - began
        print(f"index-only: {args.index_only} recordings in {seconds:.1f} s ({args.index_only / seconds:.0f}/s)")


if __name__ == "__main__":
    main()
