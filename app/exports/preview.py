"""What an export of a range will be, asked of the camera before the operator commits: properties.cgi for every
piece (the spec says to ask first) and capabilities.cgi for whether it can encrypt.

The camera snaps each start to the key frame at or before it, so the clip may begin a little earlier than the
selection; the preview carries the snapped pieces, and the export passes those starts back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.exports.plan import Piece
from app.vapix.export import ExportRange, Exports
from app.vapix.transport import VapixTransport


@dataclass(frozen=True)
class ExportPreview:
    asked: tuple[Piece, ...]
    pieces: tuple[Piece, ...]
    """As the camera will export them: starts snapped to key frames."""
    estimates: tuple[int | None, ...]
    """Bytes per piece; None where the camera cannot estimate."""
    encrypts: bool
    """The camera offers AES-256 ZIP."""

    @property
    def start(self) -> datetime:
        return self.pieces[0].start

    @property
    def snapped_by(self) -> float:
        """How many seconds earlier than asked the export begins."""
        return max(0.0, (self.asked[0].start - self.pieces[0].start).total_seconds())

    @property
    def estimated_bytes(self) -> int | None:
        return None if any(e is None for e in self.estimates) else sum(e or 0 for e in self.estimates)


async def preview(transport: VapixTransport, disk_id: str, pieces: list[Piece]) -> ExportPreview:
    exports = Exports(transport)
    encrypts = (await exports.capabilities()).encrypts()
    snapped: list[Piece] = []
    estimates: list[int | None] = []
    for piece in pieces:
        properties = await exports.properties(ExportRange(piece.recording_id, disk_id, piece.start, piece.stop))
        snapped.append(Piece(piece.recording_id, properties.start, properties.stop))
        estimates.append(properties.estimated_bytes)
    return ExportPreview(tuple(pieces), tuple(snapped), tuple(estimates), encrypts)
