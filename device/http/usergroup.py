"""usergroup.cgi: the calling user's name and groups, on two lines (what Kane610/axis parses)."""

from __future__ import annotations

from aiohttp import web

from device.http.keys import user_of
from device.http.module import HttpModule


async def usergroup_cgi(request: web.Request) -> web.Response:
    user = user_of(request)
    assert user is not None, "the access table makes usergroup.cgi viewer-only"
    return web.Response(text=f"{user.name}\n{' '.join(user.role.groups)}\n", content_type="text/plain")


MODULE = HttpModule(routes=[web.get("/axis-cgi/usergroup.cgi", usergroup_cgi, allow_head=False)])
