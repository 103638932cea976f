"""CGI arguments from the query string and, for POST, a form-encoded body (R-16)."""

from __future__ import annotations

from aiohttp import web


async def cgi_args(request: web.Request) -> dict[str, str]:
    args = dict(request.query.items())
    if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
        form = await request.post()
        args.update({k: v for k, v in form.items() if isinstance(v, str)})
    return args
