"""RFC 2435: JPEG over RTP (static payload type 26, 90 kHz), for MJPEG recordings and live MJPEG. Pure functions
apart from :func:`reencode`, which runs FFmpeg and belongs in a worker thread.

The JPEG headers do not travel. Every packet carries an 8-byte main header (type, Q, width/8, height/8 and the
offset of its fragment in the frame's entropy-coded data); the receiver rebuilds SOI, DQT, SOF0, DHT and SOS from
it, with the *standard* Huffman tables of JPEG Annex K.3, and appends the data and an EOI. So:

* type 1 is 4:2:0 (Y sampled 2x2), type 0 is 4:2:2 (Y 2x1), chroma 1x1, three components; Y uses quantization
  table 0 and both chroma components table 1, with the standard luma and chroma Huffman tables;
* Q is 255: the quantization tables (8-bit, luma then chroma, 64 bytes each in the zigzag order of DQT) travel
  in band in the first packet of every frame, behind a 4-byte quantization table header, so they may change
  from frame to frame (a recording's compression may change between blocks);
* a frame with a restart interval (DRI; FFmpeg's slice-threaded MJPEG encoder writes one per MCU row) has
  RST markers in its data: its type is 64 or 65, and every packet carries a restart marker header after the main
  header, with F = L = 1 and the count 0x3FFF ("not aligned with packets", RFC 2435 §3.1.7);
* width and height travel in units of 8 pixels, rounded up (as FFmpeg's packetizer does): 180 rows are said as
  184, which costs nothing because the entropy-coded data holds whole MCUs (16 rows in 4:2:0) either way. The
  SDP's ``a=x-dimensions`` gives the true size. 2040 pixels is the most either may be.

A JPEG the format cannot describe (optimised Huffman tables, as FFmpeg's MJPEG encoder writes when it runs on one
thread; 4:4:4 or grey; 16-bit tables; progressive) is decoded and encoded once more, by :func:`reencode`, into
one it can, at about the same quality: sending it as it is would make every receiver decode garbage.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from fractions import Fraction

import av
import av.error

from device.rtsp.rtp import MTU

PAYLOAD_TYPE = 26
MAX_SIZE = 2040
"""Pixels: width/8 and height/8 are one byte each."""
Q_IN_BAND = 255
"""Q 128-255: the tables travel in band; 255: they may change with every frame."""
RESTART_TYPES = 64
"""Added to the type when the data holds restart markers."""

SOI, EOI, SOS, DQT, DHT, DRI = 0xD8, 0xD9, 0xDA, 0xDB, 0xC4, 0xDD
_BASELINE_SOF = (0xC0, 0xC1)  # baseline and extended sequential DCT, Huffman coded
_OTHER_SOF = {0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_STANDALONE = {0x01, SOI, *range(0xD0, 0xD8)}  # markers without a length

# JPEG Annex K.3: the Huffman tables an RFC 2435 receiver assumes, as (class, id): the 16 code-length counts
# followed by the symbol values, exactly as a DHT segment holds them.
STANDARD_HUFFMAN: dict[tuple[int, int], bytes] = {
    (0, 0): bytes.fromhex("00010501010101010100000000000000000102030405060708090a0b"),
    (0, 1): bytes.fromhex("00030101010101010101010000000000000102030405060708090a0b"),
    (1, 0): bytes.fromhex(
        "0002010303020403050504040000017d01020300041105122131410613516107227114328191a1082342b1c11552d1f024336272"
        "82090a161718191a25262728292a3435363738393a434445464748494a535455565758595a636465666768696a737475767778"
        "797a838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6"
        "d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9fa"
    ),
    (1, 1): bytes.fromhex(
        "00020102040403040705040400010277000102031104052131061241510761711322328108144291a1b1c109233352f0156272d1"
        "0a162434e125f11718191a262728292a35363738393a434445464748494a535455565758595a636465666768696a7374757677"
        "78797a82838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4"
        "d5d6d7d8d9dae2e3e4e5e6e7e8e9eaf2f3f4f5f6f7f8f9fa"
    ),
}

_MPEG1_INTRA = (
    (8, 16, 19, 22, 26, 27, 29, 34),
    (16, 16, 22, 24, 27, 29, 34, 37),
    (19, 22, 26, 27, 29, 34, 34, 38),
    (22, 22, 26, 27, 29, 34, 37, 40),
    (22, 26, 27, 29, 32, 35, 40, 48),
    (26, 27, 29, 32, 35, 40, 48, 58),
    (26, 27, 29, 34, 38, 46, 56, 69),
    (27, 29, 35, 38, 46, 56, 69, 83),
)
"""FFmpeg's MJPEG encoder writes this matrix times its quantiser / 8 as its tables; :func:`quantiser` inverts it."""


class JpegError(ValueError):
    """Not a JPEG that can be read at all (cut short, no frame header, no scan)."""


class Unsupported(JpegError):
    """A JPEG RFC 2435 cannot carry as it is; :func:`reencode` makes one it can. The text says why."""


@dataclass(frozen=True, slots=True)
class RtpJpeg:
    """What the payload format carries of one JPEG image."""

    type: int
    """0 (4:2:2) or 1 (4:2:0), plus 64 when `restart` is set."""
    width: int
    height: int
    tables: bytes
    """The luma and the chroma quantization tables, 64 bytes each, in zigzag order."""
    restart: int
    """The restart interval in MCUs; 0: none."""
    scan: bytes
    """The entropy-coded data, without the EOI."""


def _segments(jpeg: bytes) -> tuple[list[tuple[int, bytes]], int]:
    """(marker, body) of each marker segment up to and including SOS, and where the scan data starts."""
    if not jpeg.startswith(b"\xff\xd8"):
        raise JpegError("not a JPEG image (no SOI)")
    segments: list[tuple[int, bytes]] = []
    pos = 2
    while pos + 1 < len(jpeg):
        if jpeg[pos] != 0xFF:
            raise JpegError(f"no marker at byte {pos}")
        marker = jpeg[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in _STANDALONE:
            pos += 2
            continue
        if marker == EOI or pos + 4 > len(jpeg):
            break
        length = int.from_bytes(jpeg[pos + 2 : pos + 4], "big")
        if length < 2 or pos + 2 + length > len(jpeg):
            raise JpegError(f"a segment runs past the end of the image at byte {pos}")
        segments.append((marker, jpeg[pos + 4 : pos + 2 + length]))
        pos += 2 + length
        if marker == SOS:
            return segments, pos
    raise JpegError("the image has no scan (SOS)")


def parse(jpeg: bytes) -> RtpJpeg:
    """What of `jpeg` travels. Raises Unsupported when RFC 2435 cannot carry it as it is (see the module
    docstring), JpegError when it is not a readable JPEG."""
    segments, scan_start = _segments(jpeg)
    tables: dict[int, tuple[int, bytes]] = {}
    huffman: dict[tuple[int, int], bytes] = {}
    frame: tuple[int, int, int, list[tuple[int, int, int, int]]] | None = None
    restart = 0
    selectors: list[tuple[int, int]] = []
    for marker, body in segments:
        if marker == DQT:
            pos = 0
            while pos < len(body):
                precision, table_id = body[pos] >> 4, body[pos] & 0x0F
                size = 128 if precision else 64
                tables[table_id] = (precision, body[pos + 1 : pos + 1 + size])
                pos += 1 + size
        elif marker == DHT:
            pos = 0
            while pos + 17 <= len(body):
                count = sum(body[pos + 1 : pos + 17])
                huffman[(body[pos] >> 4, body[pos] & 0x0F)] = body[pos + 1 : pos + 17 + count]
                pos += 17 + count
        elif marker in _BASELINE_SOF:
            if len(body) < 6:
                raise JpegError("a frame header cut short")
            precision, count = body[0], body[5]
            height, width = struct.unpack("!HH", body[1:5])
            components = [
                (body[6 + 3 * i], body[7 + 3 * i] >> 4, body[7 + 3 * i] & 0x0F, body[8 + 3 * i]) for i in range(count)
            ]
            frame = (precision, width, height, components)
        elif marker in _OTHER_SOF:
            raise Unsupported(f"SOF{marker - 0xC0} images (progressive, lossless or arithmetic) are not baseline")
        elif marker == DRI and len(body) >= 2:
            restart = int.from_bytes(body[:2], "big")
        elif marker == SOS:
            count = body[0] if body else 0
            selectors = [(body[1 + 2 * i], body[2 + 2 * i]) for i in range(count) if 2 + 2 * i < len(body)]
    if frame is None:
        raise JpegError("the image has no frame header (SOF)")
    precision, width, height, components = frame
    if precision != 8:
        raise Unsupported(f"{precision}-bit samples")
    if len(components) != 3:
        raise Unsupported(f"{len(components)} colour components (three are carried)")
    (y_id, y_h, y_v, y_table), (cb_id, cb_h, cb_v, cb_table), (cr_id, cr_h, cr_v, cr_table) = components
    kind = {(2, 1): 0, (2, 2): 1}.get((y_h, y_v))
    if kind is None or (cb_h, cb_v, cr_h, cr_v) != (1, 1, 1, 1):
        raise Unsupported(f"sampling {y_h}x{y_v},{cb_h}x{cb_v},{cr_h}x{cr_v} (4:2:0 and 4:2:2 are carried)")
    if cb_table != cr_table:
        raise Unsupported("the chroma components use two quantization tables (one is carried)")
    luma, chroma = tables.get(y_table), tables.get(cb_table)
    if luma is None or chroma is None:
        raise JpegError("a quantization table the frame uses is missing")
    if luma[0] or chroma[0]:
        raise Unsupported("16-bit quantization tables")
    if selectors != [(y_id, 0x00), (cb_id, 0x11), (cr_id, 0x11)]:
        raise Unsupported("the scan does not use Huffman tables 0 for luma and 1 for chroma")
    for key, standard in STANDARD_HUFFMAN.items():
        if huffman.get(key, standard) != standard:  # no DHT at all (AVI1 MJPEG) means the standard tables
            raise Unsupported("optimised Huffman tables (the standard ones are assumed by receivers)")
    if not (0 < width <= MAX_SIZE and 0 < height <= MAX_SIZE):
        raise Unsupported(f"{width}x{height} pixels (at most {MAX_SIZE} each way)")
    end = len(jpeg) - 2 if jpeg.endswith(b"\xff\xd9") else len(jpeg)
    kind += RESTART_TYPES if restart else 0
    return RtpJpeg(kind, width, height, luma[1] + chroma[1], restart, jpeg[scan_start:end])


def payloads(frame: RtpJpeg, mtu: int = MTU) -> list[tuple[bytes, bool]]:
    """(payload, marker) of each RTP packet of one frame, at most `mtu` bytes each; the last has the marker."""
    restart = struct.pack("!HH", frame.restart, 0xFFFF) if frame.restart else b""  # F = L = 1, count 0x3FFF
    tables = struct.pack("!BBH", 0, 0, len(frame.tables)) + frame.tables  # MBZ, precision (8-bit), length
    width, height = -(-frame.width // 8), -(-frame.height // 8)
    out: list[bytes] = []
    offset = 0
    while offset == 0 or offset < len(frame.scan):
        head = struct.pack("!I4B", offset & 0xFFFFFF, frame.type, Q_IN_BAND, width, height) + restart
        if offset == 0:
            head += tables
        chunk = frame.scan[offset : offset + mtu - len(head)]
        out.append(head + chunk)
        offset += len(chunk)
        if not chunk:
            break
    return [(payload, index == len(out) - 1) for index, payload in enumerate(out)]


def quantiser(luma: bytes) -> int:
    """FFmpeg's MJPEG quantiser (2-31) closest to a luma table: its entries are about ``matrix * q / 8``."""
    matrix = sum(sum(row) for row in _MPEG1_INTRA) - _MPEG1_INTRA[0][0]
    return min(31, max(2, round(8 * sum(luma[1:64]) / matrix)))


def _luma_table(jpeg: bytes) -> bytes | None:
    try:
        segments, _start = _segments(jpeg)
    except JpegError:
        return None
    for marker, body in segments:
        if marker == DQT and body and body[0] >> 4 == 0:
            return body[1:65]
    return None


def reencode(jpeg: bytes) -> bytes:
    """`jpeg` decoded and encoded again as a JPEG RFC 2435 carries (4:2:0, standard Huffman tables, 8-bit tables),
    at the quantiser its own luma table suggests. Blocking (FFmpeg): run in a worker thread. Raises JpegError
    when FFmpeg cannot decode it."""
    try:
        decoder = av.CodecContext.create("mjpeg", "r")
        pictures = decoder.decode(av.Packet(jpeg))
        if not pictures:
            pictures = decoder.decode(None)
        if not pictures:
            raise JpegError("FFmpeg decoded no picture from the JPEG")
        picture = pictures[0].reformat(format="yuvj420p")
        encoder = av.CodecContext.create("mjpeg", "w")
        encoder.width, encoder.height, encoder.pix_fmt = picture.width, picture.height, "yuvj420p"
        encoder.time_base = Fraction(1, 90_000)
        luma = _luma_table(jpeg)
        encoder.qmin = encoder.qmax = quantiser(luma) if luma else 4
        encoder.thread_count = 1  # one thread: no restart markers to carry
        encoder.options = {"huffman": "default"}  # optimal tables are FFmpeg's default: not for RFC 2435
        encoder.open()
        picture.pts = 0
        packets = encoder.encode(picture) + encoder.encode(None)
    except av.error.FFmpegError as exc:
        raise JpegError(f"FFmpeg cannot re-encode the JPEG: {exc}") from exc
    if not packets:
        raise JpegError("FFmpeg encoded no JPEG")
    return bytes(packets[0])


def carried(jpeg: bytes) -> RtpJpeg:
    """`jpeg` as RFC 2435 carries it, re-encoded first if it has to be. Blocking when it has to be."""
    try:
        return parse(jpeg)
    except Unsupported:
        return parse(reencode(jpeg))
