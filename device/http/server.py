"""The HTTP server component: one aiohttp application with the auth middleware and every CGI module."""

from __future__ import annotations

import ssl
from collections.abc import Sequence

from aiohttp import web

from device.http.auth_middleware import auth_middleware
from device.http.keys import SERVICES, STATE
from device.http.module import APIS, HttpModule
from device.services import Services
from device.state import DeviceState

SHUTDOWN_GRACE = 3.0
"""Seconds a stopping camera lets requests in flight finish before it cancels them. aiohttp's default is 60 s,
which a play.cgi viewer at a slow rate or a download the client reads slowly would hold in full, so a camera
asked to stop (the app closing, *Restart*) would hang for a minute. Ordinary requests end in milliseconds; a
stream cut here ends without its last chunk, so its client knows it is incomplete."""


def build_app(state: DeviceState, services: Services, modules: Sequence[HttpModule]) -> web.Application:
    app = web.Application(middlewares=[auth_middleware])
    app[STATE] = state
    app[SERVICES] = services
    app[APIS] = [api for module in modules for api in module.apis]
    for module in modules:
        app.add_routes(module.routes)
    return app


class HttpServer:
    def __init__(
        self,
        state: DeviceState,
        services: Services,
        modules: Sequence[HttpModule],
        host: str,
        port: int,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._app = build_app(state, services, modules)
        self._host, self._port, self._ssl = host, port, ssl_context
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        assert self._runner is not None, "start() first"
        host, port = self._runner.addresses[0][:2]
        scheme = "https" if self._ssl else "http"
        return f"{scheme}://{_url_host(host)}:{port}"

    async def start(self) -> None:
        self._runner = web.AppRunner(self._app, access_log=None, handle_signals=False, shutdown_timeout=SHUTDOWN_GRACE)
        await self._runner.setup()
        await web.TCPSite(self._runner, self._host, self._port, ssl_context=self._ssl).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
