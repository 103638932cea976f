"""An RTSP player talks to the camera: options, the Digest challenge, and honest answers to whoever signs in."""

from __future__ import annotations

import asyncio
import hashlib
import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx
import pytest

from tests.support.device_process import ADMIN, SERIAL, VIEWER

pytestmark = pytest.mark.functional

STREAM = "/axis-media/media.amp"


@dataclass
class Reply:
    version: str
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]


class RtspClient:
    """Just enough RTSP/1.0 over one TCP connection to send requests and read replies."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.cseq = 0

    @classmethod
    async def connect(cls, device) -> RtspClient:
        reader, writer = await asyncio.open_connection(device.host, device.rtsp_port)
        return cls(reader, writer)

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()

    async def send_raw(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def request(
        self, method: str, url: str, headers: dict[str, str] | None = None, version: str = "RTSP/1.0"
    ) -> Reply:
        self.cseq += 1
        lines = [f"{method} {url} {version}", f"CSeq: {self.cseq}", "User-Agent: edgestore-tests"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        await self.send_raw(("\r\n".join(lines) + "\r\n\r\n").encode())
        return await self.read_reply()

    async def read_reply(self) -> Reply:
        head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), 5)
        status_line, *header_lines = head.decode().split("\r\n")
        version, status, reason = status_line.split(" ", 2)
        headers = [tuple(part.strip() for part in line.split(":", 1)) for line in header_lines if line]
        reply = Reply(version, int(status), reason, headers, b"")  # type: ignore[arg-type]
        length = int(reply.header("Content-Length") or 0)
        reply.body = await self.reader.readexactly(length) if length else b""
        return reply

    async def at_eof(self) -> bool:
        return await asyncio.wait_for(self.reader.read(1), 5) == b""


def stream_url(device) -> str:
    return f"rtsp://{device.host}:{device.rtsp_port}{STREAM}"


def digest_params(challenge: str) -> dict[str, str]:
    assert challenge.startswith("Digest "), challenge
    pairs = re.findall(r'(\w+)=(?:"([^"]*)"|([^,\s]*))', challenge[7:])
    return {key: quoted or bare for key, quoted, bare in pairs}


def md5_authorization(
    user: str, password: str, challenge: dict[str, str], method: str, uri: str, qop: bool = False
) -> str:
    def md5(text: str) -> str:
        return hashlib.md5(text.encode()).hexdigest()

    ha1 = md5(f"{user}:{challenge['realm']}:{password}")
    ha2 = md5(f"{method}:{uri}")
    base = f'Digest username="{user}", realm="{challenge["realm"]}", nonce="{challenge["nonce"]}", uri="{uri}"'
    if qop:  # RFC 7616, as FFmpeg answers when offered qop
        response = md5(f"{ha1}:{challenge['nonce']}:00000001:c0ffee:auth:{ha2}")
        return f'{base}, response="{response}", algorithm=MD5, qop=auth, nc=00000001, cnonce="c0ffee"'
    response = md5(f"{ha1}:{challenge['nonce']}:{ha2}")  # RFC 2069, as live555 answers
    return f'{base}, response="{response}"'


async def signed_describe(device, user: str, password: str, qop: bool = False) -> tuple[Reply, Reply]:
    """DESCRIBE unsigned, then again with an answer to the challenge, on one connection."""
    client = await RtspClient.connect(device)
    try:
        url = stream_url(device)
        first = await client.request("DESCRIBE", url, {"Accept": "application/sdp"})
        challenge = digest_params(first.header("WWW-Authenticate") or "")
        authorization = md5_authorization(user, password, challenge, "DESCRIBE", url, qop)
        second = await client.request("DESCRIBE", url, {"Accept": "application/sdp", "Authorization": authorization})
        return first, second
    finally:
        await client.close()


async def one_request(device, method: str, url: str | None = None, **kwargs) -> Reply:
    client = await RtspClient.connect(device)
    try:
        return await client.request(method, url or stream_url(device), **kwargs)
    finally:
        await client.close()


# --- Tests -----------------------------------------------------------------------------------------------------


async def test_options_lists_the_playback_methods_and_echoes_the_cseq(shared_device):
    client = await RtspClient.connect(shared_device)
    try:
        client.cseq = 41
        reply = await client.request("OPTIONS", stream_url(shared_device))
    finally:
        await client.close()
    assert (reply.version, reply.status, reply.reason) == ("RTSP/1.0", 200, "OK")
    assert reply.header("CSeq") == "42"
    public = {m.strip() for m in (reply.header("Public") or "").split(",")}
    assert {"OPTIONS", "DESCRIBE", "SETUP", "PLAY", "PAUSE", "TEARDOWN", "GET_PARAMETER"} <= public


async def test_options_star_needs_no_credentials(shared_device):
    reply = await one_request(shared_device, "OPTIONS", "*")
    assert reply.status == 200
    assert reply.header("Public")


async def test_describe_without_credentials_is_challenged_with_md5_digest_in_the_axis_realm(shared_device):
    reply = await one_request(shared_device, "DESCRIBE", headers={"Accept": "application/sdp"})
    assert reply.status == 401
    assert reply.header("CSeq") == "1"
    challenges = reply.all("WWW-Authenticate")
    assert challenges  # RTSP clients (live555, FFmpeg) speak MD5 only, so nothing else is offered
    assert all(c.startswith(f'Digest realm="AXIS_{SERIAL}"') for c in challenges), challenges
    assert all("algorithm=MD5" in c for c in challenges), challenges
    assert not any("SHA-256" in c for c in challenges)
    nonce = digest_params(challenges[0])["nonce"]
    assert re.fullmatch(r"[A-Za-z0-9+/]{11}=[0-9a-f]{40}", nonce)


def is_live_sdp(reply: Reply) -> bool:
    """The answer is the live view's SDP: a video track and no range (there is nothing to seek)."""
    body = reply.body.decode()
    return reply.header("Content-Type") == "application/sdp" and "m=video 0 RTP/AVP" in body and "a=range" not in body


@pytest.mark.parametrize("qop", [False, True], ids=["rfc2069", "qop-auth"])
async def test_a_viewer_answering_the_challenge_is_described_the_live_stream(shared_device, qop):
    first, second = await signed_describe(shared_device, *VIEWER, qop=qop)
    assert first.status == 401
    assert second.status == 200
    assert second.header("CSeq") == "2"
    assert is_live_sdp(second), second.body


async def test_an_admin_is_a_viewer_too(shared_device):
    _, second = await signed_describe(shared_device, *ADMIN)
    assert second.status == 200


async def test_a_wrong_password_is_challenged_again(shared_device):
    _, second = await signed_describe(shared_device, "view", "not-the-password")
    assert second.status == 401
    assert (second.header("WWW-Authenticate") or "").startswith("Digest ")


async def test_session_methods_without_a_session_get_454_after_sign_in(shared_device):
    client = await RtspClient.connect(shared_device)
    try:
        url = stream_url(shared_device)
        challenge = digest_params((await client.request("SETUP", url)).header("WWW-Authenticate") or "")
        authorization = md5_authorization(*VIEWER, challenge, "TEARDOWN", url)
        reply = await client.request("TEARDOWN", url, {"Authorization": authorization, "Session": "12345678"})
    finally:
        await client.close()
    assert reply.status == 454


async def test_an_unknown_method_is_not_implemented(shared_device):
    reply = await one_request(shared_device, "RECORD_PLEASE")
    assert reply.status == 501
    assert reply.header("CSeq") == "1"


@pytest.mark.parametrize("method", ["OPTIONS", "DESCRIBE", "SETUP", "PLAY"])
async def test_a_required_option_the_camera_does_not_offer_is_refused_by_name(shared_device, method):
    """GStreamer's onvif-mode requires ``onvif-replay``; WIRE.md §7 shows a real camera refusing
    ``com.axis.parameters-in-header``. The answer is 551 naming each, whatever the method and before sign-in,
    so a client learns at once to do without, rather than getting a play that ignores what it required."""
    required = {"Require": "onvif-replay, com.axis.parameters-in-header"}
    reply = await one_request(shared_device, method, headers=required)
    assert (reply.status, reply.reason) == (551, "Option not supported")
    assert reply.header("CSeq") == "1"
    assert [tag.strip() for tag in (reply.header("Unsupported") or "").split(",")] == [
        "onvif-replay",
        "com.axis.parameters-in-header",
    ]
    without = await one_request(shared_device, method)
    assert without.status != 551


async def test_every_reply_says_the_cameras_date_in_gmt(shared_device):
    client = await RtspClient.connect(shared_device)
    try:
        replies = [
            await client.request("OPTIONS", "*"),
            await client.request("DESCRIBE", stream_url(shared_device)),  # 401
            await client.request("RECORD_PLEASE", stream_url(shared_device)),  # 501
            await client.request("OPTIONS", "*", {"Require": "onvif-replay"}),  # 551
            await client.request("OPTIONS", "*", version="RTSP/2.0"),  # 505
        ]
    finally:
        await client.close()
    assert [r.status for r in replies] == [200, 401, 501, 551, 505]
    for reply in replies:
        date = reply.header("Date") or ""
        # RFC 1123, as RFC 2326 §12.18 takes it from HTTP: "Wed, 16 Jul 2008 12:48:48 GMT" (WIRE.md §7)
        assert re.fullmatch(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT", date), (
            date
        )
        assert abs(parsedate_to_datetime(date) - datetime.now(UTC)) < timedelta(seconds=5)


async def test_rtsp_2_is_refused_as_an_unsupported_version(shared_device):
    reply = await one_request(shared_device, "OPTIONS", version="RTSP/2.0")
    assert reply.status == 505


@pytest.mark.parametrize(
    "garbage",
    [
        b"HELLO\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        b"OPTIONS * RTSP/1.0\r\nno colon here\r\n\r\n",
        b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nContent-Length: -5\r\n\r\n",
        b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nContent-Length: many\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",  # a TLS hello on the wrong port
    ],
    ids=["word", "http", "bad-header", "negative-length", "text-length", "binary"],
)
async def test_garbage_closes_that_connection_and_the_server_carries_on(shared_device, garbage):
    client = await RtspClient.connect(shared_device)
    try:
        await client.send_raw(garbage)
        assert await client.at_eof()
    finally:
        await client.close()
    reply = await one_request(shared_device, "OPTIONS", "*")
    assert reply.status == 200


async def test_several_requests_share_one_connection(shared_device):
    client = await RtspClient.connect(shared_device)
    try:
        statuses = [(await client.request(m, stream_url(shared_device))).status for m in ("OPTIONS",) * 3]
    finally:
        await client.close()
    assert statuses == [200, 200, 200]


@pytest.mark.parametrize("authorization", ["Digest username=", 'Digest username="view", ='])
async def test_a_malformed_authorization_header_is_challenged_not_dropped(shared_device, authorization):
    try:
        reply = await one_request(shared_device, "DESCRIBE", headers={"Authorization": authorization})
    except asyncio.IncompleteReadError:
        pytest.fail("the camera closed the connection instead of answering 401")
    assert reply.status == 401


async def test_with_anonymous_viewers_describe_needs_no_credentials(device):
    async with httpx.AsyncClient(auth=httpx.DigestAuth(*ADMIN)) as http:
        set_prot = await http.get(
            f"{device.http_url}/axis-cgi/param.cgi",
            params={"action": "update", "root.Network.RTSP.ProtViewer": "anonymous"},
        )
    assert set_prot.text == "OK\n"
    reply = await one_request(device, "DESCRIBE", headers={"Accept": "application/sdp"})
    assert reply.status == 200
    assert is_live_sdp(reply), reply.body


@pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffprobe (FFmpeg) is not installed")
def test_ffprobe_signs_in_and_is_told_an_unknown_recording_does_not_exist(shared_device):
    user, password = VIEWER
    url = f"rtsp://{user}:{password}@{shared_device.host}:{shared_device.rtsp_port}{STREAM}?recordingid=nothing"
    done = subprocess.run(["ffprobe", "-v", "error", url], capture_output=True, text=True, timeout=30)
    assert done.returncode != 0
    assert "404" in done.stderr, done.stderr
    assert "401" not in done.stderr
    assert "authorization failed" not in done.stderr.lower()
