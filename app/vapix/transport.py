"""One transport per camera: the HTTP client, authentication, TLS trust, timeouts, retries and error mapping.

Handlers ask it for XML, text or JSON and get decoded content or a typed exception; they never see a status
code. Only idempotent GETs are retried (on connection errors and 503, which busy cameras answer), because
repeating a POST could start a second format job.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from lxml import etree

from app.vapix import xmlwire
from app.vapix.auth import VapixAuth
from app.vapix.errors import ConnectionFailed, ProtocolError, TlsError, error_for_status
from app.vapix.tls import TlsTrust


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    https: bool = False
    trust: TlsTrust = field(default_factory=TlsTrust)

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.https else 'http'}://{host}:{self.port}"


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3
    backoff: float = 0.25  # seconds before the second attempt; doubles after


class VapixTransport:
    def __init__(
        self,
        endpoint: Endpoint,
        username: str | None,
        password: str | None,
        *,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.endpoint = endpoint
        self._retry = retry or RetryPolicy()
        verify: ssl.SSLContext | bool = endpoint.trust.ssl_context() if endpoint.https else True
        auth = VapixAuth(username, password or "") if username is not None else None
        self._client = httpx.AsyncClient(
            base_url=endpoint.base_url,
            auth=auth,
            timeout=timeout,
            verify=verify,
            transport=transport,
            headers={"User-Agent": "Edgestore"},
        )

    async def __aenter__(self) -> VapixTransport:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        check: bool = True,
    ) -> httpx.Response:
        """Send with retries; with check=False an HTTP error status is returned instead of raised. `content` and
        `headers` are for bodies that are neither a form nor JSON (SOAP envelopes)."""
        attempts = self._retry.attempts if method == "GET" else 1
        delay = self._retry.backoff
        for attempt in range(1, attempts + 1):
            try:
                response = await self._client.request(
                    method, path, params=params, data=data, json=json, content=content, headers=headers
                )
            except httpx.TransportError as exc:
                if attempt == attempts or _is_tls_failure(exc):
                    raise _connection_error(self.endpoint, exc) from None
            else:
                busy = response.status_code == 503 and attempt < attempts  # a busy camera: wait, then retry
                if not busy:
                    if response.status_code >= 400 and check:
                        raise error_for_status(response.status_code, _status_message(path, response))
                    return response
            await asyncio.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable: the last attempt returns or raises")

    @contextlib.asynccontextmanager
    async def stream(self, path: str, params: Mapping[str, str] | None = None) -> AsyncIterator[httpx.Response]:
        """A GET whose body is read as it arrives (exports, which can be gigabytes). Not retried: a download that
        failed half way is for the caller to restart. HTTP error statuses are raised as by ``request``."""
        try:
            async with self._client.stream("GET", path, params=params) as response:
                if response.status_code >= 400:
                    raise error_for_status(response.status_code, _status_message(path, response))
                yield response
        except httpx.TransportError as exc:
            raise _connection_error(self.endpoint, exc) from None

    async def get_xml(self, path: str, params: Mapping[str, str] | None = None) -> etree._Element:
        response = await self.request("GET", path, params=params)
        return xmlwire.raise_for_error(xmlwire.parse(response.content))

    async def get_text(self, path: str, params: Mapping[str, str] | None = None) -> str:
        return (await self.request("GET", path, params=params)).text

    async def post_form(self, path: str, data: Mapping[str, str]) -> str:
        return (await self.request("POST", path, data=data)).text

    async def post_json(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        response = await self.request("POST", path, json=body)
        try:
            decoded = response.json()
        except ValueError:
            raise ProtocolError(f"{path} did not answer JSON") from None
        if not isinstance(decoded, dict):
            raise ProtocolError(f"{path} answered JSON that is not an object")
        return decoded


def _is_tls_failure(exc: httpx.TransportError) -> bool:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLError):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def _connection_error(endpoint: Endpoint, exc: httpx.TransportError) -> ConnectionFailed:
    where = f"{endpoint.host}:{endpoint.port}"
    if _is_tls_failure(exc):
        return TlsError(f"the certificate of {where} is not trusted: {exc}")
    if isinstance(exc, httpx.TimeoutException):
        return ConnectionFailed(f"{where} did not answer in time")
    return ConnectionFailed(f"cannot reach {where}: {str(exc) or type(exc).__name__}")


def _status_message(path: str, response: httpx.Response) -> str:
    return f"{path}: HTTP {response.status_code} {response.reason_phrase}"
