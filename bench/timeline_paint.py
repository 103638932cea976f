"""Timeline paint time with 100 000 recordings, at zooms from seconds to weeks. Run by hand from the repository
root: `QT_QPA_PLATFORM=offscreen .venv/bin/python -m bench.timeline_paint [--recordings 100000] [--frames 60]`.

The real TimelineView (ui/timeline/view.py) with two tracks: one of N event recordings (30 s each, one a minute,
alternating triggered and scheduled), one of N/10 continuous hour-long recordings with gaps. Each zoom is
painted `frames` times into an image the size of a 1600 by 300 view, panning a little each frame as a drag does;
the first paint at each zoom (building that zoom's level of detail) is reported apart. Target: ≤ 16 ms a frame.
"""

from __future__ import annotations

import argparse
import statistics
import time

from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from app.timeline.spans import Span, SpanKind
from ui.timeline.view import TimelineView, Track

ZOOMS = (("10 s", 10), ("1 min", 60), ("1 h", 3600), ("1 day", 86400), ("1 week", 7 * 86400), ("4 weeks", 28 * 86400))


def tracks(count: int, start: float) -> list[Track]:
    events, continuous = Track("bench/SD_DISK", "Bench · SD card"), Track("bench/NetworkShare", "Bench · NAS")
    kinds = (SpanKind.TRIGGERED, SpanKind.SCHEDULED)
    events.spans.update(Span(f"e{i}", start + i * 60.0, start + i * 60.0 + 30, kinds[i % 2]) for i in range(count))
    continuous.spans.update(
        Span(f"c{i}", start + i * 4000.0, start + i * 4000.0 + 3600, SpanKind.CONTINUOUS) for i in range(count // 10)
    )
    return [events, continuous]


def paint_ms(view: TimelineView, image: QImage) -> float:
    began = time.perf_counter()
    view.render(image)
    return (time.perf_counter() - began) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recordings", type=int, default=100_000)
    parser.add_argument("--frames", type=int, default=60)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    start = 1_700_000_000.0
    end = start + args.recordings * 60.0
    view = TimelineView()
    view.clock = lambda: end
    view.resize(1600, 300)
    began = time.perf_counter()
    view.set_tracks(tracks(args.recordings, start))
    print(f"{args.recordings} + {args.recordings // 10} recordings added in {time.perf_counter() - began:.2f} s")
    image = QImage(view.size(), QImage.Format.Format_ARGB32_Premultiplied)
    print(f"{'view width':>10} {'first ms':>9} {'median ms':>10} {'p95 ms':>7} {'max ms':>7}")
    for label, seconds in ZOOMS:
        middle = (start + end) / 2
        view.show_range(middle - seconds / 2, middle + seconds / 2)
        first = paint_ms(view, image)
        times = []
        for _ in range(args.frames):
            view.pan(7)  # a drag moves a few pixels per frame
            times.append(paint_ms(view, image))
        times.sort()
        p95 = times[int(len(times) * 0.95) - 1]
        print(f"{label:>10} {first:9.1f} {statistics.median(times):10.2f} {p95:7.2f} {times[-1]:7.2f}")
    app.processEvents()


if __name__ == "__main__":
    main()
