"""Scenario hooks for events (admin only), like the disks' and the USB disk's: set the camera's clock.

`POST /local/edgestore/scenario/clock?time=2024-06-21T05:59:58Z` puts the camera's wall clock at that moment
(a real camera's time is set by NTP or by hand); schedules, triggered recordings and the frames' time strips
follow it. Tests use it to stand just before a schedule's window instead of waiting for one.
"""

from __future__ import annotations

from aiohttp import web

from device.clock import SettableClock
from device.http.args import cgi_args
from device.http.keys import state_of
from device.http.module import HttpModule
from device.storage.layout import format_time, parse_client_time


async def clock_scenario(request: web.Request) -> web.Response:
    clock = state_of(request).clock
    if not isinstance(clock, SettableClock):
        return web.json_response({"error": "This camera's clock cannot be set."}, status=400)
    text = (await cgi_args(request)).get("time", "")
    try:
        clock.set_now(parse_client_time(text))
    except ValueError:
        return web.json_response({"error": f"time must be an ISO 8601 time, not {text!r}"}, status=400)
    return web.json_response({"time": format_time(clock.now())})


MODULE = HttpModule(routes=[web.post("/local/edgestore/scenario/clock", clock_scenario)])
