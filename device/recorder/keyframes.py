"""The key-frame index: for each block, its key frames' capture times and byte offsets, for fast seeking.

A side table in the store's own index.db (WAL, like the rest of it), kept here until it is folded into
:class:`device.storage.index.RecordingIndex`. Like the index it is a cache: :func:`device.recorder.muxer.scan`
rebuilds a block's rows from the block itself.

Times are stored as :func:`device.storage.layout.format_time` text (UTC, fixed width, microseconds), which sorts
as the times do. Offsets are plaintext byte offsets of the cluster starting with the key frame (before any
encryption), as ``RecordingStore.read(mkv, offset)`` takes them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from device.storage.layout import format_time, parse_time

_SCHEMA = """
CREATE TABLE IF NOT EXISTS keyframes (
    block_token TEXT NOT NULL, time TEXT NOT NULL, offset INTEGER NOT NULL,
    PRIMARY KEY (block_token, time)
) WITHOUT ROWID;
"""

KeyFrame = tuple[datetime, int]
"""(capture time, plaintext byte offset)."""


def ensure_keyframe_table(db_path: Path) -> sqlite3.Connection:
    """A connection of our own to `db_path` (the store's index.db) in WAL mode and autocommit, with the table
    created if missing. The caller closes it; note that ``RecordingStore.rebuild``/``erase`` delete index.db, and a
    connection opened before that must be reopened."""
    conn = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False, timeout=10)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(_SCHEMA)
    return conn


def add_keyframes(conn: sqlite3.Connection, token: str, keyframes: Iterable[KeyFrame]) -> None:
    """Record key frames of block `token`; a time already recorded gets the new offset."""
    conn.executemany(
        "INSERT INTO keyframes (block_token, time, offset) VALUES (?,?,?)"
        " ON CONFLICT(block_token, time) DO UPDATE SET offset=excluded.offset",
        [(token, format_time(moment), offset) for moment, offset in keyframes],
    )


def replace_keyframes(conn: sqlite3.Connection, token: str, keyframes: Iterable[KeyFrame]) -> None:
    """All of block `token`'s key frames, replacing what was recorded (after a recovery truncated it)."""
    rows = [(token, format_time(moment), offset) for moment, offset in keyframes]
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("DELETE FROM keyframes WHERE block_token=?", (token,))
        conn.executemany("INSERT OR REPLACE INTO keyframes (block_token, time, offset) VALUES (?,?,?)", rows)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def delete_keyframes(conn: sqlite3.Connection, token: str) -> None:
    conn.execute("DELETE FROM keyframes WHERE block_token=?", (token,))


def keyframes_for(conn: sqlite3.Connection, token: str) -> list[KeyFrame]:
    """Block `token`'s key frames in time order."""
    rows = conn.execute("SELECT time, offset FROM keyframes WHERE block_token=? ORDER BY time", (token,)).fetchall()
    return [(parse_time(t), int(o)) for t, o in rows]


def keyframe_at_or_before(conn: sqlite3.Connection, token: str, moment: datetime) -> KeyFrame | None:
    """The last key frame of block `token` at or before `moment`: where playback of `moment` starts decoding.
    None when `moment` is before the block's first key frame."""
    row = conn.execute(
        "SELECT time, offset FROM keyframes WHERE block_token=? AND time<=? ORDER BY time DESC LIMIT 1",
        (token, format_time(moment)),
    ).fetchone()
    return (parse_time(row[0]), int(row[1])) if row else None


def recording_keyframe_at_or_before(
    conn: sqlite3.Connection, recording_id: str, moment: datetime
) -> tuple[str, datetime, int] | None:
    """(block token, time, offset) of the last key frame of a recording at or before `moment`, through the
    index's ``blocks`` table (so only blocks indexed there, i.e. closed ones, are searched)."""
    row = conn.execute(
        "SELECT k.block_token, k.time, k.offset FROM keyframes k JOIN blocks b ON b.token = k.block_token"
        " WHERE b.recording_id=? AND k.time<=? ORDER BY k.time DESC LIMIT 1",
        (recording_id, format_time(moment)),
    ).fetchone()
    return (str(row[0]), parse_time(row[1]), int(row[2])) if row else None
