"""Which blocks the camera deletes to keep a disk within its rules: CleanupMaxAge, the storage limit, and
free space, oldest first, never from a locked or ongoing recording. A recording group's retention time
(`keep_for`, EVENTS.md §4.1) deletes its recordings' blocks once they are older, whatever the disk's policy.

A pure function of the blocks and the rules, so every retention decision is tested without files; the disk
manager runs it periodically and applies it. CleanupMaxAge applies only under policy `fifo`; space is made
whatever the policy, when the disk or its storage limit is nearly full, so recording never stops for lack of
space while there is anything unprotected left to delete.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class BlockInfo:
    token: str
    recording_id: str
    start: datetime
    stop: datetime | None
    size: int
    protected: bool  # its recording is locked, or the block is still being written
    keep_for: timedelta | None = None  # its recording group's retention time


@dataclass(frozen=True)
class Rules:
    policy: str  # "fifo" or "none"
    max_age_days: int  # 0: no age limit
    limit_bytes: int  # 0: no storage limit
    capacity: int
    free_floor: int  # keep at least this much free


def choose_blocks(blocks: list[BlockInfo], now: datetime, rules: Rules, used: int) -> list[str]:
    candidates = sorted((b for b in blocks if not b.protected and b.stop is not None), key=lambda b: b.start)
    expired = [b for b in candidates if b.keep_for is not None and b.stop is not None and b.stop < now - b.keep_for]
    chosen = [b.token for b in expired]
    freed = sum(b.size for b in expired)
    candidates = [b for b in candidates if b.token not in chosen]
    by_age = rules.policy == "fifo" and rules.max_age_days > 0
    cutoff = now - timedelta(days=rules.max_age_days) if by_age else None
    for block in candidates:
        remaining = used - freed
        too_old = cutoff is not None and block.stop is not None and block.stop < cutoff
        over_limit = rules.limit_bytes > 0 and remaining > rules.limit_bytes
        too_full = rules.capacity - remaining < rules.free_floor
        if not (too_old or over_limit or too_full):
            break  # blocks are oldest first: once one may stay, so may all after it
        chosen.append(block.token)
        freed += block.size
    return chosen
