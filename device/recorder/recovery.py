"""Start-up repair after a crash: close what a killed recorder left open, at its last complete frame.

What a SIGKILL or power loss leaves behind, and what becomes of it:

* a block whose sidecar still says ``Recording``: its file is cut to the end of its last complete cluster (one
  frame per cluster, see :mod:`device.recorder.muxer`), its sidecar becomes ``Complete`` with StopTime = the last
  frame's time + one frame duration, and it is indexed with its key frames. A block with no complete frame is
  deleted, there is nothing in it to keep;
* an encrypted block: the chunks that authenticate are the plaintext (the last sealed chunk was never marked
  last, the unsealed tail is lost), cut as above and re-encrypted into a properly sealed file, replaced atomically;
* a recording without StopTime: it stops where its last block stops (its start if no block survived, and it is
  then removed as empty).

The files are the truth: sidecars and recording.xml are read from disk, not from the index, which is only
updated. Plaintext files are cut in place (truncation never rewrites the bytes it keeps).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from device.recorder import keyframes
from device.recorder.muxer import scan
from device.storage import crypto
from device.storage.files import StorePath, local, sync, write_atomic
from device.storage.layout import BlockMeta, block_xml
from device.storage.store import RecordingStore

log = logging.getLogger(__name__)
_MS = timedelta(milliseconds=1)


def recover_interrupted(store: RecordingStore) -> list[str]:
    """Close every interrupted block and recording of `store`; returns the IDs of the recordings closed."""
    recordings = store.recording_files()
    blocks = store.block_files()
    for folder, rec in recordings.values():
        if rec is not None and rec.stop is None:  # indexed first: its blocks refer to it
            store.index.put_recording(rec, folder.relative_to(store.root).as_posix())
    db = keyframes.ensure_keyframe_table(store.index_path)
    try:
        for _token, (sidecar, meta) in blocks.items():
            if meta is not None and meta.status != "Complete":
                recovered = _recover_block(store, db, sidecar, meta)
                blocks[meta.token] = (sidecar, recovered)
    finally:
        db.close()

    closed = []
    for rec_id, (_folder, rec) in recordings.items():
        if rec is None or rec.stop is not None:
            continue
        stops = [b.stop for _p, b in blocks.values() if b is not None and b.recording_id == rec_id and b.stop]
        stop = max(stops) if stops else rec.start
        writer = store.begin_recording(rec)  # rewrites recording.xml as it is, and makes sure it is indexed
        writer.finish(stop)
        if not stops:
            store.delete_recording_if_empty(rec_id)
        log.info("closed interrupted recording %s at %s", rec_id, stop)
        closed.append(rec_id)
    return closed


def _recover_block(
    store: RecordingStore, db: sqlite3.Connection, sidecar: StorePath, meta: BlockMeta
) -> BlockMeta | None:
    """Cut, close and index one interrupted block; None when nothing of it could be kept (it is then deleted)."""
    mkv = sidecar.with_suffix(".mkv")
    plain = _readable_plaintext(mkv, store.data_key) if mkv.exists() else b""
    found = scan(plain)
    if not found.frames:
        _delete(store, db, sidecar, mkv, meta.token)
        log.warning("deleted interrupted block %s: no complete frame in it", meta.token)
        return None
    kept = plain[: found.end]
    old_size = mkv.stat().st_size
    if store.data_key is not None:
        _rewrite_encrypted(local(mkv), store.data_key, kept)
    elif len(kept) < old_size:
        with mkv.open("r+b") as f:
            f.truncate(len(kept))
            sync(f)
    new_size = mkv.stat().st_size
    if new_size < old_size:
        store.space.release(old_size - new_size)
    elif new_size > old_size:  # pragma: no cover - a cut file never grows; counted anyway
        with contextlib.suppress(Exception):
            store.space.reserve(new_size - old_size)

    last = found.frames[-1]
    if found.frame_duration_ms:
        duration = timedelta(milliseconds=found.frame_duration_ms)
    else:
        duration = _frame_duration(store, meta)
    stop = meta.start + last.timestamp_ms * _MS + duration
    closed = replace(meta, stop=stop, status="Complete")
    old_xml = sidecar.stat().st_size
    data = block_xml(closed)
    write_atomic(sidecar, data)
    if len(data) < old_xml:
        store.space.release(old_xml - len(data))
    else:  # a few bytes more; never worth failing a repair for, the next recount settles it
        with contextlib.suppress(Exception):
            store.space.reserve(len(data) - old_xml)
    try:
        store.index.put_block(closed, mkv.relative_to(store.root).as_posix(), new_size)
    except sqlite3.IntegrityError:  # its recording is not indexed: the files are right, repair.cgi rebuilds
        log.warning("block %s closed but not indexed: recording %s is not in the index", meta.token, meta.recording_id)
    keyframes.replace_keyframes(db, meta.token, found.keyframes(meta.start))
    log.info("closed interrupted block %s at %s (%d of %d bytes kept)", meta.token, stop, len(kept), len(plain))
    return closed


def _frame_duration(store: RecordingStore, block: BlockMeta) -> timedelta:
    for meta, _folder, _locked in store.index.recordings():
        if meta.id == block.recording_id and meta.video.fps > 0:
            return timedelta(seconds=1 / meta.video.fps)
    return timedelta(0)


def _delete(store: RecordingStore, db: sqlite3.Connection, sidecar: StorePath, mkv: StorePath, token: str) -> None:
    freed = 0
    for path in (mkv, sidecar):
        if path.exists():
            freed += path.stat().st_size
            path.unlink()
    store.space.release(freed)
    store.index.delete_block(token)
    keyframes.delete_keyframes(db, token)


def _readable_plaintext(mkv: StorePath, key: bytes | None) -> bytes:
    """The block's bytes as the recorder wrote them, as far as they can be trusted."""
    if key is None:
        return mkv.read_bytes()
    return authenticated_prefix(local(mkv), key)


def authenticated_prefix(mkv: Path, key: bytes) -> bytes:
    """The plaintext of an encrypted block's leading chunks that authenticate, sealed-last or not: a killed
    writer never sealed its final chunk, and an unfinished chunk on disk is cut short."""
    aes = AESGCM(key)
    out = bytearray()
    header = crypto._HEADER
    with mkv.open("rb") as f:
        head = f.read(header.size)
        if len(head) < header.size:
            return b""
        magic, prefix = header.unpack(head)
        if magic != crypto.MAGIC:
            return b""
        index = 0
        while sealed := f.read(crypto.CHUNK + crypto.TAG):
            plain = None
            for last in (False, True):
                with contextlib.suppress(InvalidTag):
                    plain = aes.decrypt(crypto._nonce(prefix, index), sealed, crypto._aad(index, last))
                    break
            if plain is None:
                break
            out += plain
            index += 1
    return bytes(out)


def _rewrite_encrypted(mkv: Path, key: bytes, plain: bytes) -> None:
    tmp = mkv.with_name(f".{mkv.name}.recover")
    writer = crypto.EncryptedWriter(tmp.open("wb"), key)
    writer.write(plain)
    writer.close()
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, mkv)
