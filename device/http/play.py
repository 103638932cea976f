"""play.cgi (Recording API, deprecated but in the spec): an MJPEG recording as a live-view-like stream.

``multipart/x-mixed-replace`` with one JPEG per part, as Axis's MJPEG live view sends it (boundary
``myboundary``), paced at ``rate`` (``max``, or n/d from 1/1000 to 1000/1; 1/1 by default, R-15) from the
frame closest to ``starttime`` to the frame closest to ``stoptime``, as the spec words both; a time halfway
between two frames takes the earlier one, so ``starttime`` equal to ``stoptime`` is always exactly one frame. The
frame closest to the stop may lie after it, so the range is planned `READ_PAST` beyond the stop and read one
frame past it. Times outside the recording are cut to it, as the Export API cuts them.

The spec documents no error form for play.cgi (AMBIGUITIES.md G-6), and a client expecting a multipart stream
tells a refusal from it by its Content-Type anyway, so refusals are HTTP statuses with a sentence, as
download.cgi's are: 400 for a bad argument (a missing recordingid, a mediatype other than video or audio, a rate
that is not max or n/d within the bounds, a time that does not parse, a start after the stop); 404 when there is
nothing to play (an unknown recording, audio, which recordings do not have, a start after the recording's end
or a stop before its start, as the Export API's 150 and 160 say); 415 for an H.264 recording, which plays over
RTSP. Frames are read in a thread of their own and paced on the loop, so a slow viewer holds no executor thread
and no more than a few frames of memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from fractions import Fraction
from typing import TypeVar

from aiohttp import web

from device.export.failures import read_failure
from device.export.formats import MATROSKA
from device.export.packets import range_packets
from device.export.pipe import stream_from_thread
from device.export.plan import ExportError, ExportRequest, locate_recording, plan_export
from device.http.args import cgi_args
from device.http.keys import services_of, state_of
from device.http.module import HttpModule
from device.media.synthetic import MIN_FPS
from device.recorder.ids import recording_id_argument
from device.storage.layout import parse_client_time

log = logging.getLogger(__name__)

BOUNDARY = "myboundary"
MIN_RATE, MAX_RATE = Fraction(1, 1000), Fraction(1000)
_RATE = re.compile(r"(\d+)(?:/(\d+))?")
READ_PAST = timedelta(seconds=2) / MIN_FPS
"""How far past the stop the range is planned: twice the longest frame interval the camera records, so the first
frame after the stop, a candidate for the closest, is in it. Only one frame past the stop is ever read."""
VIEWER_WATCH = 0.5
"""Seconds between looks at whether the viewer is still there while a frame waits for its time."""
T = TypeVar("T")


class PlayRefused(Exception):
    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status, self.text = status, text


def parse_rate(text: str | None) -> Fraction | None:
    """None for ``max`` (as fast as the client reads), else the fraction of real time: ``n/d``, or a bare ``n``
    for ``n/1``, in whole numbers. Anything else is refused rather than guessed at (``1/``, ``1.5``, ``1/0``)."""
    if text is None or not text.strip():
        return Fraction(1)
    if text.strip().lower() == "max":
        return None
    match = _RATE.fullmatch(text.strip())
    if match is None or int(match[2] or 1) == 0:
        raise PlayRefused(400, f"Invalid rate '{text}': use max or numerator/denominator, e.g. 1/1.")
    rate = Fraction(int(match[1]), int(match[2] or 1))
    if not MIN_RATE <= rate <= MAX_RATE:
        raise PlayRefused(400, f"Invalid rate '{text}': it must lie between 1/1000 and 1000/1.")
    return rate


def parse_time(args: dict[str, str], name: str) -> datetime | None:
    text = args.get(name, "").strip()
    if not text:
        return None
    try:
        return parse_client_time(text)
    except ValueError:
        raise PlayRefused(400, f"Invalid {name} '{text}': use YYYY-MM-DDTHH:MM:SS[.ffffff]Z (UTC).") from None


def closest_frames(
    frames: Iterable[tuple[datetime, T]], start: datetime | None, stop: datetime | None
) -> Iterator[tuple[datetime, T]]:
    """The frames from the one closest to `start` to the one closest to `stop` (all of them for None).

    `frames` come in time order and may begin before `start` (a plan starts at the frame at or before it). Ties
    go to the earlier frame, at both ends: the same rule at both ends means a start at or before the stop never
    picks a frame after the stop's. `frames` are read one past the last frame yielded, no further."""
    sent: tuple[datetime, T] | None = None
    held: tuple[datetime, T] | None = None  # the last frame before `start`, a candidate for the first
    for frame in frames:
        moment = frame[0]
        if sent is None:
            if start is not None and moment < start:
                held = frame
                continue
            if held is None or start is None or start - held[0] > moment - start:
                sent = frame
                yield frame
                continue
            sent = held
            yield held  # and `frame`, the first at or after the start, may still be the stop's
        if stop is not None and moment > stop:
            if moment - stop < stop - sent[0]:
                yield frame
            return
        sent = frame
        yield frame
    if sent is None and held is not None:
        yield held  # every frame lies before the start: the last one is the closest


async def _until(due: float, request: web.Request) -> bool:
    """Wait until loop time `due`; False as soon as the viewer has gone. A slow rate holds a frame for minutes (the
    next frame of a 5 fps recording at 1/1000 is 200 s away), and nothing else would notice a viewer leaving
    before the next write: the frames' reading thread would be held all that time."""
    loop = asyncio.get_running_loop()
    while (wait := due - loop.time()) > 0:
        if request.transport is None or request.transport.is_closing():
            return False
        await asyncio.sleep(min(wait, VIEWER_WATCH))
    return True


def _part(jpeg: bytes) -> bytes:
    head = f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n".encode()
    return head + jpeg + b"\r\n"


async def play_cgi(request: web.Request) -> web.StreamResponse:
    try:
        return await _play(request)
    except PlayRefused as exc:
        return web.Response(status=exc.status, text=exc.text + "\n")


async def _play(request: web.Request) -> web.StreamResponse:
    """The arguments first, in the order a person fixing the request would want, then the recording."""
    args = await cgi_args(request)
    recording_id = recording_id_argument(args.get("recordingid", ""))  # "ID" too, as RTSP takes it (WIRE.md §7)
    if not recording_id:
        raise PlayRefused(400, "recordingid is required.")
    mediatype = args.get("mediatype", "video").strip().lower()
    if mediatype not in ("video", "audio"):
        raise PlayRefused(400, f"Invalid mediatype '{mediatype}': use video or audio.")
    rate = parse_rate(args.get("rate"))
    start, stop = parse_time(args, "starttime"), parse_time(args, "stoptime")
    if start is not None and stop is not None and start > stop:
        raise PlayRefused(400, "Invalid starttime: it is after the stoptime.")
    disks = services_of(request).disks
    disk_id = await asyncio.to_thread(locate_recording, disks, recording_id)
    disk = None if disk_id is None else disks.disks.get(disk_id)
    if disk_id is None or disk is None or disk.store is None:
        raise PlayRefused(404, f"No recording {recording_id} on a mounted disk.")
    store = disk.store
    if mediatype == "audio":
        raise PlayRefused(404, "The recording has no audio.")
    read = ExportRequest(recording_id, disk_id, MATROSKA, start, None if stop is None else stop + READ_PAST)
    try:
        plan = await asyncio.to_thread(plan_export, store, read, state_of(request).clock.now())
    except ExportError as exc:  # 150 (start after the recording's end), 10 (no video in the range), or gone (110)
        raise PlayRefused(404, exc.description) from None
    except (OSError, sqlite3.Error) as exc:  # a block removed after the viewer listed it, or a failing card
        log.exception("play.cgi could not plan %s", recording_id)
        gone = isinstance(exc, FileNotFoundError)
        raise PlayRefused(404 if gone else 500, read_failure(exc)) from None
    if stop is not None and stop < plan.recording.start:
        raise PlayRefused(404, "Invalid stoptime: it is before the recording's start time; nothing was recorded then.")
    if plan.recording.video.encoding != "image/jpeg":
        raise PlayRefused(
            415,
            f"Only MJPEG recordings play with play.cgi; play this {plan.recording.video.encoding} recording over "
            f"RTSP: rtsp://<camera>/axis-media/media.amp?recordingid={recording_id}",
        )

    def work(send: Callable[[tuple[datetime, bytes]], None]) -> None:
        packets = range_packets(plan)
        try:
            for frame in closest_frames(((p.moment, bytes(p.packet)) for p in packets), start, stop):
                send(frame)
        finally:
            packets.close()

    frames = stream_from_thread(work, depth=4)
    response = web.StreamResponse(
        headers={
            "Content-Type": f"multipart/x-mixed-replace; boundary={BOUNDARY}",
            "Cache-Control": "no-cache",
            "Pragma": "no-cache",
        }
    )
    await response.prepare(request)
    loop = asyncio.get_running_loop()
    began: tuple[float, datetime] | None = None
    try:
        async for moment, jpeg in frames:
            if rate is not None:
                if began is None:
                    began = (loop.time(), moment)
                due = began[0] + (moment - began[1]).total_seconds() / float(rate)
                if not await _until(due, request):
                    return response  # the viewer has gone; aiohttp finishes what is left of the connection
            await response.write(_part(jpeg))
    finally:
        with contextlib.suppress(Exception):
            await frames.aclose()
    await response.write_eof()
    return response


MODULE = HttpModule(routes=[web.get("/axis-cgi/record/play.cgi", play_cgi, allow_head=False)])
