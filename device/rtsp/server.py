"""The RTSP server component: connections, framing and authentication with the camera's users.

This is the protocol core. Media (DESCRIBE of a stream, SETUP, PLAY) arrives with the recording engine and
playback; until a stream exists every stream URL is answered 404 after authentication, and session methods
454, which is what a camera with no such stream or session says.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from device.http.access import RTSP_PLAYBACK_ROLE
from device.rtsp.messages import RtspProtocolError, RtspRequest, RtspResponse, read_request
from device.state import DeviceState

log = logging.getLogger(__name__)

PUBLIC = "OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER"
SESSION_METHODS = {"SETUP", "PLAY", "PAUSE", "TEARDOWN", "GET_PARAMETER", "SET_PARAMETER"}
SERVER_NAME = "Edgestore RTSP Server"


class RtspServer:
    def __init__(self, state: DeviceState, host: str, port: int) -> None:
        self._state = state
        self._host, self._port = host, port
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() first"
        host, port = self._server.sockets[0].getsockname()[:2]
        return f"rtsp://{f'[{host}]' if ':' in host else host}:{port}"

    @property
    def port(self) -> int:
        assert self._server is not None, "start() first"
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._on_connection, self._host, self._port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._connections):
                task.cancel()
            await asyncio.gather(*self._connections, return_exceptions=True)
            await self._server.wait_closed()
            self._server = None

    async def _on_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            await self._serve(reader, writer)
        except (RtspProtocolError, ConnectionError) as exc:
            log.info("RTSP connection closed: %s", exc)
        except asyncio.CancelledError:
            pass  # stop(): end quietly; asyncio on 3.11 logs a cancelled connection callback as an error
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                await writer.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while (request := await read_request(reader)) is not None:
            response = self.handle(request)
            response.headers.append(("Server", SERVER_NAME))
            writer.write(response.encode(request.cseq))
            await writer.drain()

    def handle(self, request: RtspRequest) -> RtspResponse:
        if request.version != "RTSP/1.0":
            return RtspResponse(505)
        if request.method == "OPTIONS":
            return RtspResponse(200, [("Public", PUBLIC)])
        if request.method not in SESSION_METHODS | {"DESCRIBE"}:
            return RtspResponse(501)
        denied = self._authenticate(request)
        if denied is not None:
            return denied
        if request.method == "DESCRIBE":
            return RtspResponse(404)
        return RtspResponse(454)

    def _authenticate(self, request: RtspRequest) -> RtspResponse | None:
        params = self._state.params
        if params.get("Network.RTSP.ProtViewer") == "anonymous":
            return None
        policy = self._state.http_auth_policy
        auth = self._state.auth
        outcome = auth.authenticate(policy, request.method, request.path_qs, request.headers.get("Authorization"))
        if outcome.user is not None and outcome.user.role >= RTSP_PLAYBACK_ROLE:
            return None
        # RTSP clients (live555, FFmpeg) speak MD5 Digest only.
        challenges = auth.challenge_headers(policy, outcome.stale, algorithms=("MD5",))
        return RtspResponse(401, [("WWW-Authenticate", c) for c in challenges])
