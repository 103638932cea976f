"""Filling timeline tracks from a camera's list.cgi: page by page in the background, then only what changed.

The first load pages through every recording of a disk (500 per request), handing each page over as it
arrives so the timeline fills in while the rest loads. After that, a refresh asks only for recordings with
any part after the last refresh (list.cgi's `starttime` means exactly that), which returns the ongoing ones
(grown) and new ones; a recording that disappeared (cleanup, remove) is noticed by the next full load.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, tzinfo

from app.timeline.spans import Span, SpanKind
from app.timeline.zone import ObservedZone
from app.vapix.recordings import Recording, RecordingQuery, Recordings
from app.vapix.transport import VapixTransport

PAGE = 500
REFRESH_MARGIN = 10.0  # seconds before the last refresh, for clocks and writes in flight


def span_of(recording: Recording) -> Span:
    stop = None if recording.ongoing or recording.stop is None else recording.stop.timestamp()
    return Span(recording.recording_id, recording.start.timestamp(), stop, SpanKind.of(recording.recording_type))


class TrackLoader:
    """One camera disk's recordings for the timeline."""

    def __init__(self, disk_id: str) -> None:
        self.disk_id = disk_id
        self.zone: tzinfo = UTC
        self.loaded_at: float | None = None
        self._changes: dict[float, timedelta] = {}  # where the camera's UTC offset changed, oldest first
        self._last_offset: tuple[float, timedelta] | None = None

    def _observe(self, recordings: list[Recording]) -> None:
        """Keep the moments the offset changed (not one per recording: 100 000 recordings hold a handful)."""
        for recording in sorted(recordings, key=lambda r: r.start):
            if recording.utc_offset is None:
                continue
            moment = recording.start.timestamp()
            last = self._last_offset
            if last is None or (moment >= last[0] and recording.utc_offset != last[1]):
                self._changes[moment] = recording.utc_offset
            if last is None or moment >= last[0]:
                self._last_offset = (moment, recording.utc_offset)
        if self._changes:
            self.zone = ObservedZone(self._changes)

    async def load_all(self, transport: VapixTransport, on_page: Callable[[list[Span]], object]) -> int:
        """Every recording, oldest first, one page per call of `on_page`; how many there were."""
        began = datetime.now(UTC).timestamp()
        query = RecordingQuery(disk_id=self.disk_id, ascending=True)
        count = 0
        offset = 0
        while True:
            page = await Recordings(transport).page(query, offset, PAGE)
            mine = [r for r in page.recordings if not r.disk_id or r.disk_id == self.disk_id]
            self._observe(mine)
            on_page([span_of(r) for r in mine])
            count += len(mine)
            offset += len(page.recordings)
            if len(page.recordings) < PAGE or offset >= page.matched:
                break
        self.loaded_at = began
        return count

    async def refresh(self, transport: VapixTransport) -> list[Span]:
        """Recordings that changed or began since the last load or refresh (ongoing ones among them)."""
        since = (self.loaded_at or 0.0) - REFRESH_MARGIN
        began = datetime.now(UTC).timestamp()
        query = RecordingQuery(start=datetime.fromtimestamp(since, UTC), disk_id=self.disk_id, ascending=True)
        recordings = Recordings(transport).iterate(query, PAGE)
        mine = [r async for r in recordings if r.disk_id in ("", self.disk_id)]
        self._observe(mine)
        found = [span_of(r) for r in mine]
        self.loaded_at = began
        return found
