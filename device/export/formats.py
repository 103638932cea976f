"""The export formats this camera offers, and which recordings and encryptions each can carry.

Matroska takes every codec the recorder writes (H.264 and Motion JPEG) and can be wrapped in an AES-256 ZIP, as
the spec's capabilities example shows. MP4 is the optional format a field report saw on a recent camera
(WIRE.md §5.4): fragmented, so it streams without seeking back; it carries H.264 only (an MJPEG recording is
error 180) and is offered without encryption (ZIP around MP4 is error 280). ``capabilities.cgi`` lists exactly
this table, so a client can know both refusals in advance.
"""

from __future__ import annotations

from dataclasses import dataclass

ZIP_AES256 = "zip-aes256"


@dataclass(frozen=True)
class ExportFormat:
    name: str
    """As in ``exportformat=``."""
    extension: str
    content_type: str
    muxer: str
    """The FFmpeg muxer."""
    muxer_options: tuple[tuple[str, str], ...]
    encodings: frozenset[str]
    """Recording encodings (recording.xml ``Encoding``) it can carry by stream copy."""
    encryptions: tuple[str, ...]


MATROSKA = ExportFormat(
    "matroska",
    "mkv",
    "video/x-matroska",
    "matroska",
    (),
    frozenset({"video/x-h264", "image/jpeg"}),
    (ZIP_AES256,),
)
MP4 = ExportFormat(
    "mp4",
    "mp4",
    "video/mp4",
    "mp4",
    (("movflags", "frag_keyframe+empty_moov+default_base_moof"),),
    frozenset({"video/x-h264"}),
    (),
)
FORMATS: dict[str, ExportFormat] = {f.name: f for f in (MATROSKA, MP4)}
ENCRYPTIONS = (ZIP_AES256,)
