"""One recording in progress: frames in, Matroska blocks out, split every so often, each key frame indexed.

A block starts at a key frame, always, so every block plays on its own. A block is split at the first key frame
once it has lasted the split duration (Recording.DefaultSplitDuration, 300 s by default); the new block starts at
that key frame and the old one stops there too, so consecutive blocks are contiguous. A block that ends any other
way (finish, disk full) stops one frame duration after its last frame's capture time.

Disk full: the session keeps a small margin of the card reserved for the whole recording, so that when a write is
refused it can still mark the block Complete and write the recording's StopTime (both files grow a little). It then
raises :class:`RecordingStopped`; what was written is whole clusters, closed and indexed. If even that fails, the
files say Recording and :func:`device.recorder.recovery.recover_interrupted` closes them at the next start.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from datetime import datetime, timedelta
from fractions import Fraction

from device.media.synthetic import EncodedFrame
from device.recorder import keyframes
from device.recorder.muxer import DEFAULT_WRITING_APP, BlockMuxer
from device.storage.layout import RecordingMeta
from device.storage.space import DiskFull
from device.storage.store import BlockWriter, RecordingStore, RecordingWriter

CLOSING_MARGIN = 4096
"""Bytes held back for closing: a sidecar gaining its StopTime and Complete, recording.xml gaining its StopTime."""


class RecordingStopped(Exception):
    """The recording could not go on and has been closed as far as possible; `reason` says why. `lost`: the disk
    itself failed (a NAS that went away), not just filled up."""

    def __init__(self, reason: str, lost: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.lost = lost


class RecordingSession:
    """Feeds one recording's frames into blocks of `store`.

    ``feed`` frames in capture order; ``finish`` at the end. Frames before the first key frame are skipped.
    One feeder per session (run it in a worker thread, not on the event loop: muxing and disk writes block).
    ``finish`` may come from another thread while a frame is being written (stop.cgi cancels the feeding task,
    but not the worker thread it awaits): it waits for that frame, so a block is never closed half-opened.
    """

    def __init__(
        self,
        store: RecordingStore,
        meta: RecordingMeta,
        split_seconds: float = 300,
        writing_app: str = DEFAULT_WRITING_APP,
        keyframe_db: sqlite3.Connection | None = None,
    ) -> None:
        if split_seconds <= 0:
            raise ValueError(f"split duration must be positive, not {split_seconds}")
        if meta.video.width <= 0 or meta.video.height <= 0:
            raise ValueError("the recording's video attributes need a width and a height")
        self.store = store
        self.split = timedelta(seconds=split_seconds)
        self.writing_app = writing_app
        self._own_db = keyframe_db is None
        self._db = keyframe_db if keyframe_db is not None else keyframes.ensure_keyframe_table(store.index_path)
        self._block: BlockWriter | None = None
        self._muxer: BlockMuxer | None = None
        self._last: EncodedFrame | None = None
        self._margin = 0
        self.blocks: list[str] = []
        """Tokens of the blocks written, in order."""
        self.skipped = 0
        self.stop: datetime | None = None
        self._finished = False
        self._lock = threading.Lock()
        try:
            store.space.reserve(CLOSING_MARGIN)
            self._margin = CLOSING_MARGIN
            self._recording: RecordingWriter = store.begin_recording(meta)
        except DiskFull as exc:
            self._release_margin()
            self._close_db()
            raise RecordingStopped(f"disk full: {exc}") from exc

    @property
    def recording_id(self) -> str:
        return self._recording.meta.id

    @property
    def meta(self) -> RecordingMeta:
        return self._recording.meta

    # --- frames

    @property
    def finished(self) -> bool:
        return self._finished

    def feed(self, frame: EncodedFrame) -> None:
        """Write one frame; raises RecordingStopped (after closing everything) when the disk is full."""
        with self._lock:
            self._feed(frame)

    def _feed(self, frame: EncodedFrame) -> None:
        if self._finished:
            raise RuntimeError("the recording is finished")
        try:
            if self._block is not None and frame.keyframe and frame.capture_time - self._block.meta.start >= self.split:
                self._split(frame)
            if self._block is None:
                if not frame.keyframe:
                    self.skipped += 1
                    return
                self._open_block(frame)
            assert self._muxer is not None
            assert self._block is not None
            self._muxer.write(frame)
            self._last = frame
            if frame.keyframe:
                keyframes.add_keyframes(self._db, self._block.meta.token, self._muxer.keyframes[-1:])
        except DiskFull as exc:
            self._stop_on_full()
            raise RecordingStopped(f"disk full: {exc}") from exc
        except OSError as exc:
            self._abandon()
            raise RecordingStopped(f"the disk cannot be written: {exc}", lost=True) from exc

    def finish(self, stop: datetime | None = None) -> None:
        """Close the current block and the recording. The recording's StopTime is `stop`, or the last block's
        stop when None or earlier. Raises RecordingStopped if the disk is too full even to close."""
        with self._lock:
            self._finish(stop)

    def _finish(self, stop: datetime | None) -> None:
        if self._finished:
            return
        try:
            block_stop = self._close_block(None)
            ends = [t for t in (stop, block_stop, self.stop) if t is not None]
            self._end(max(ends) if ends else self._recording.meta.start)
        except DiskFull as exc:
            self._stop_on_full()
            raise RecordingStopped(f"disk full: {exc}") from exc
        except OSError as exc:
            self._abandon()
            raise RecordingStopped(f"the disk cannot be written: {exc}", lost=True) from exc

    # --- internals

    def _frame_duration(self, frame: EncodedFrame) -> timedelta:
        return timedelta(microseconds=round(frame.time_base * 1_000_000))

    def _open_block(self, frame: EncodedFrame) -> None:
        block = self._recording.begin_block(frame.capture_time)
        self._block = block
        self.blocks.append(block.meta.token)
        video = self._recording.meta.video
        self._muxer = BlockMuxer(
            block,
            frame.capture_time,
            frame.codec,
            video.width,
            video.height,
            1 / Fraction(frame.time_base),
            self.writing_app,
            title=self._recording.meta.id,
        )

    def _split(self, frame: EncodedFrame) -> None:
        last = self._last
        assert last is not None
        # Contiguous when the key frame follows on time; an honest gap when frames were lost in between.
        expected = last.capture_time + self._frame_duration(last)
        slack = self._frame_duration(last) / 2
        stop = frame.capture_time if frame.capture_time <= expected + slack else None
        self._close_block(stop)

    def _close_block(self, stop: datetime | None) -> datetime | None:
        """Write out and close the current block; returns its stop (None if there was none)."""
        block, muxer = self._block, self._muxer
        if block is None or muxer is None:
            return None
        self._block = self._muxer = None
        last = self._last
        assert last is not None
        try:
            muxer.close()
        except DiskFull:
            muxer.abort()
            self._seal(block, muxer)
            raise
        if stop is None:
            stop = last.capture_time + self._frame_duration(last)
        block.close(stop)  # growth of the sidecar: rarely refused, and then recovery finishes it
        self.stop = stop
        return stop

    def _seal(self, block: BlockWriter, muxer: BlockMuxer) -> None:
        """Close a block after a refused write: it keeps the frames that reached the file, or goes if none did."""
        self._release_margin()
        if muxer.last_persisted is None or self._last is None:
            block.close(block.meta.start)
            self.store.delete_block(block.meta.token)
            keyframes.delete_keyframes(self._db, block.meta.token)
            self.blocks.remove(block.meta.token)
            return
        stop = muxer.last_persisted + self._frame_duration(self._last)
        block.close(stop)
        self.stop = stop
        kept = [(t, o) for t, o in muxer.keyframes if o < muxer.size]
        keyframes.replace_keyframes(self._db, block.meta.token, kept)

    def _stop_on_full(self) -> None:
        """Close what can be closed after DiskFull; never raises."""
        block, muxer = self._block, self._muxer
        self._block = self._muxer = None
        with contextlib.suppress(Exception):
            if block is not None and muxer is not None:
                muxer.abort()
                self._seal(block, muxer)
        self._release_margin()
        with contextlib.suppress(Exception):
            self._end(self.stop or self._recording.meta.start)
        self._finished = True
        self._close_db()

    def _abandon(self) -> None:
        """The disk failed under a write (a NAS that went away): nothing more can be written to it. What reached
        it is whole clusters; the block's sidecar and recording.xml still say it runs, and recovery closes them
        at the last whole frame when the disk is back. Never raises."""
        block, muxer = self._block, self._muxer
        self._block = self._muxer = None
        with contextlib.suppress(Exception):
            if muxer is not None:
                muxer.abort()
        with contextlib.suppress(Exception):
            if block is not None:
                block.abandon()
        self._release_margin()
        self._finished = True
        self._close_db()

    def _end(self, stop: datetime) -> None:
        self._release_margin()
        self._recording.finish(stop)
        self._finished = True
        self._close_db()

    def _release_margin(self) -> None:
        if self._margin:
            self.store.space.release(self._margin)
            self._margin = 0

    def _close_db(self) -> None:
        if self._own_db:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            self._own_db = False
