"""A TCP relay between an RTSP client and the camera that keeps what each side sent, so a test can see the
requests a client made (keep-alives, TEARDOWN) and the camera's answers, which no API of either side shows."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from app.playback.messages import RtspResponse, read_message


@dataclass
class Wiretap:
    target_host: str
    target_port: int
    sent: bytearray = field(default_factory=bytearray)
    """Everything clients sent, in order."""
    received: bytearray = field(default_factory=bytearray)
    """Everything the camera sent, in order (RTSP answers and interleaved media)."""
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    def requests(self) -> list[tuple[str, dict[str, str]]]:
        """(request line, headers) of every request the client sent."""
        found = []
        for head in bytes(self.sent).decode("latin-1").split("\r\n\r\n"):
            lines = [line for line in head.split("\r\n") if line]
            if lines:
                headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
                found.append((lines[0], headers))
        return found

    async def responses(self) -> list[RtspResponse]:
        reader = asyncio.StreamReader()
        reader.feed_data(bytes(self.received))
        reader.feed_eof()
        found = []
        with contextlib.suppress(Exception):  # the relay may have been stopped inside a message
            while (message := await read_message(reader)) is not None:
                if isinstance(message, RtspResponse):
                    found.append(message)
        return found

    async def _relay(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        camera_reader, camera_writer = await asyncio.open_connection(self.target_host, self.target_port)
        pumps = [
            asyncio.create_task(self._pump(client_reader, camera_writer, self.sent)),
            asyncio.create_task(self._pump(camera_reader, client_writer, self.received)),
        ]
        self._tasks.update(pumps)
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        for pump in pumps:
            pump.cancel()
        for writer in (client_writer, camera_writer):
            writer.close()

    @staticmethod
    async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, log: bytearray) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                log += data
                writer.write(data)
                await writer.drain()
