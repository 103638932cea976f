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
        self._runner = web.AppRunner(self._app, access_log=None, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, self._host, self._port, ssl_context=self._ssl).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
