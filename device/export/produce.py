"""An export written to a sink: the Matroska (or MP4) file, or the AES-256 ZIP holding it."""

from __future__ import annotations

from collections.abc import Callable

from device.export.archive import AesZipWriter
from device.export.plan import ExportPlan
from device.export.remux import RemuxResult, SeekableOutput, Sink, remux


def produce(
    plan: ExportPlan,
    sink: Sink | SeekableOutput,
    entry_name: str,
    password: str | None = None,
    progress: Callable[[float], None] | None = None,
    cancelled: Callable[[], bool] = lambda: False,
) -> RemuxResult:
    """Write the export to `sink`, inside an AES-256 ZIP as `entry_name` when a `password` is given. Blocking: run
    in a worker thread. On an exception the sink holds an unfinished file (no ZIP directory, no trailer)."""
    if password is None:
        return remux(plan, sink, progress, cancelled)
    if not callable(sink):
        raise TypeError("an encrypted export is written as a stream")
    with AesZipWriter(sink, entry_name, password, plan.start, plan.estimated_bytes()) as entry:
        return remux(plan, entry.write, progress, cancelled)
