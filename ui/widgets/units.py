"""Sizes as people read them on a disk's label: decimal GB, as card makers print them."""

from __future__ import annotations


def human_size(kb: int) -> str:
    size = kb * 1024.0
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit in ("B", "kB") else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")
