"""A 5x7 bitmap font, built in, for writing the time and a label onto synthetic frames.

Built in rather than loaded because the camera must render text with nothing but PyAV installed (no Pillow, no
numpy, no font files to ship in the frozen app), and because a fixed pixel font renders identically everywhere,
which keeps frames reproducible for tests.
"""

from __future__ import annotations

GLYPH_WIDTH = 5
GLYPH_HEIGHT = 7
ADVANCE = GLYPH_WIDTH + 1
"""One blank column between characters."""

_GLYPHS_ART: dict[str, tuple[str, ...]] = {
    " ": (".....", ".....", ".....", ".....", ".....", ".....", "....."),
    "0": (".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."),
    "1": ("..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."),
    "2": (".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"),
    "3": ("#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."),
    "4": ("...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."),
    "5": ("#####", "#....", "####.", "....#", "....#", "#...#", ".###."),
    "6": ("..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."),
    "7": ("#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."),
    "8": (".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."),
    "9": (".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."),
    ":": (".....", "..#..", "..#..", ".....", "..#..", "..#..", "....."),
    "-": (".....", ".....", ".....", "#####", ".....", ".....", "....."),
    ".": (".....", ".....", ".....", ".....", ".....", ".##..", ".##.."),
    "+": (".....", "..#..", "..#..", "#####", "..#..", "..#..", "....."),
    "/": (".....", "....#", "...#.", "..#..", ".#...", "#....", "....."),
    "_": (".....", ".....", ".....", ".....", ".....", ".....", "#####"),
    "?": (".###.", "#...#", "....#", "...#.", "..#..", ".....", "..#.."),
    "A": (".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"),
    "B": ("####.", "#...#", "#...#", "####.", "#...#", "#...#", "####."),
    "C": (".###.", "#...#", "#....", "#....", "#....", "#...#", ".###."),
    "D": ("###..", "#..#.", "#...#", "#...#", "#...#", "#..#.", "###.."),
    "E": ("#####", "#....", "#....", "####.", "#....", "#....", "#####"),
    "F": ("#####", "#....", "#....", "####.", "#....", "#....", "#...."),
    "G": (".###.", "#...#", "#....", "#.###", "#...#", "#...#", ".####"),
    "H": ("#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"),
    "I": (".###.", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."),
    "J": ("..###", "...#.", "...#.", "...#.", "...#.", "#..#.", ".##.."),
    "K": ("#...#", "#..#.", "#.#..", "##...", "#.#..", "#..#.", "#...#"),
    "L": ("#....", "#....", "#....", "#....", "#....", "#....", "#####"),
    "M": ("#...#", "##.##", "#.#.#", "#.#.#", "#...#", "#...#", "#...#"),
    "N": ("#...#", "#...#", "##..#", "#.#.#", "#..##", "#...#", "#...#"),
    "O": (".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."),
    "P": ("####.", "#...#", "#...#", "####.", "#....", "#....", "#...."),
    "Q": (".###.", "#...#", "#...#", "#...#", "#.#.#", "#..#.", ".##.#"),
    "R": ("####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#"),
    "S": (".####", "#....", "#....", ".###.", "....#", "....#", "####."),
    "T": ("#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."),
    "U": ("#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."),
    "V": ("#...#", "#...#", "#...#", "#...#", "#...#", ".#.#.", "..#.."),
    "W": ("#...#", "#...#", "#...#", "#.#.#", "#.#.#", "#.#.#", ".#.#."),
    "X": ("#...#", "#...#", ".#.#.", "..#..", ".#.#.", "#...#", "#...#"),
    "Y": ("#...#", "#...#", ".#.#.", "..#..", "..#..", "..#..", "..#.."),
    "Z": ("#####", "....#", "...#.", "..#..", ".#...", "#....", "#####"),
}


def _columns(art: tuple[str, ...]) -> tuple[tuple[int, ...], ...]:
    return tuple(tuple(c for c, cell in enumerate(row) if cell == "#") for row in art)


GLYPHS: dict[str, tuple[tuple[int, ...], ...]] = {char: _columns(art) for char, art in _GLYPHS_ART.items()}
"""For each character and each of its 7 rows, the lit columns."""

SUPPORTED = frozenset(GLYPHS)


def text_size(text: str, scale: int) -> tuple[int, int]:
    """Width and height in pixels of `text` drawn at `scale` (without the trailing blank column)."""
    if not text:
        return 0, GLYPH_HEIGHT * scale
    return (len(text) * ADVANCE - 1) * scale, GLYPH_HEIGHT * scale


def _runs(text: str, glyph_row: int, scale: int) -> list[tuple[int, int]]:
    """Lit spans of one glyph row across the whole string, merged, so each pixel row costs a few slice writes
    instead of one per pixel: drawing must stay cheap enough to run on every frame in pure Python."""
    runs: list[tuple[int, int]] = []
    for index, char in enumerate(text.upper()):
        glyph = GLYPHS.get(char, GLYPHS["?"])
        for column in glyph[glyph_row]:
            start = (index * ADVANCE + column) * scale
            if runs and runs[-1][1] == start:
                runs[-1] = (runs[-1][0], start + scale)
            else:
                runs.append((start, start + scale))
    return runs


def draw_text(luma: bytearray, line_size: int, x: int, y: int, text: str, scale: int, value: int = 235) -> None:
    """Draw `text` with its top-left corner at (x, y), every font pixel a `scale` x `scale` square of `value`.

    Lower-case letters are drawn as capitals and unknown characters as '?', so any label renders rather than
    failing inside the frame loop. Pixels beyond the plane are clipped: the caller lays text out for the
    resolution but need not prove it fits.
    """
    if scale < 1:
        raise ValueError(f"scale must be at least 1, not {scale}")
    rows = len(luma) // line_size
    fill = bytes([value]) * (len(text) * ADVANCE * scale)
    for glyph_row in range(GLYPH_HEIGHT):
        spans = []
        for start, end in _runs(text, glyph_row, scale):
            left, right = max(0, x + start), min(line_size, x + end)
            if left < right:
                spans.append((left, right))
        for sub in range(scale):
            row = y + glyph_row * scale + sub
            if not 0 <= row < rows:
                continue
            offset = row * line_size
            for left, right in spans:
                luma[offset + left : offset + right] = fill[: right - left]
