"""What a CGI group brings to the HTTP server: its routes and the API-discovery entries it makes true."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web


@dataclass(frozen=True)
class ApiEntry:
    id: str
    version: str
    name: str
    doc_link: str = ""


@dataclass(frozen=True)
class HttpModule:
    routes: list[web.RouteDef]
    apis: tuple[ApiEntry, ...] = field(default_factory=tuple)


APIS = web.AppKey("apis", list[ApiEntry])
