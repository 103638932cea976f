"""One transport per camera: idempotent reads survive a busy or briefly unreachable camera, writes are sent
exactly once, and every failure reaches the caller as a typed error."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable

import httpx
import pytest

from app.vapix.errors import (
    ConnectionFailed,
    Forbidden,
    HttpStatusError,
    InvalidRequest,
    NotFound,
    ProtocolError,
    ServerError,
    TlsError,
    Unauthorized,
)
from app.vapix.transport import Endpoint, RetryPolicy, VapixTransport

ENDPOINT = Endpoint("camera.test", 80)
FAST = RetryPolicy(backoff=0)


class Camera:
    """A scripted camera behind httpx.MockTransport: each request takes the next step (the last one repeats)."""

    def __init__(self, *steps: httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]) -> None:
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.steps[min(len(self.requests), len(self.steps)) - 1]
        if isinstance(step, Exception):
            raise step
        return step(request) if callable(step) else step

    def transport(self, retry: RetryPolicy = FAST, **kwargs) -> VapixTransport:
        return VapixTransport(ENDPOINT, None, None, retry=retry, transport=httpx.MockTransport(self), **kwargs)


def ok(text: str = "OK\n") -> httpx.Response:
    return httpx.Response(200, text=text)


def refused() -> httpx.ConnectError:
    return httpx.ConnectError("[Errno 111] Connection refused")


# -- retries ---------------------------------------------------------------------------------------------------------


async def test_a_read_survives_connection_errors_and_succeeds_on_the_third_attempt():
    camera = Camera(refused(), refused(), ok("root\nadmin\n"))
    async with camera.transport() as transport:
        assert await transport.get_text("/axis-cgi/usergroup.cgi") == "root\nadmin\n"
    assert len(camera.requests) == 3


async def test_a_read_survives_a_busy_camera_answering_503():
    camera = Camera(httpx.Response(503), httpx.Response(503), ok("done"))
    async with camera.transport() as transport:
        assert await transport.get_text("/axis-cgi/disks/list.cgi", {"diskid": "all"}) == "done"
    assert len(camera.requests) == 3
    assert {(r.url.host, r.url.raw_path) for r in camera.requests} == {
        ("camera.test", b"/axis-cgi/disks/list.cgi?diskid=all")
    }


async def test_a_timeout_is_retried_like_a_refused_connection():
    camera = Camera(httpx.ReadTimeout("timed out"), ok())
    async with camera.transport() as transport:
        assert await transport.get_text("/x") == "OK\n"
    assert len(camera.requests) == 2


@pytest.mark.parametrize("attempts", [1, 2, 3, 5])
async def test_an_unreachable_camera_is_connection_failed_once_the_attempts_run_out(attempts):
    camera = Camera(refused())
    async with camera.transport(RetryPolicy(attempts=attempts, backoff=0)) as transport:
        with pytest.raises(ConnectionFailed, match=r"camera\.test:80") as caught:
            await transport.get_text("/axis-cgi/usergroup.cgi")
    assert type(caught.value) is ConnectionFailed
    assert len(camera.requests) == attempts


async def test_a_camera_that_never_answers_in_time_says_so():
    camera = Camera(httpx.ConnectTimeout("timed out"))
    async with camera.transport() as transport:
        with pytest.raises(ConnectionFailed, match="did not answer in time"):
            await transport.get_text("/x")
    assert len(camera.requests) == 3


async def test_a_camera_busy_on_every_attempt_is_a_server_error():
    camera = Camera(httpx.Response(503))
    async with camera.transport() as transport:
        with pytest.raises(ServerError) as caught:
            await transport.get_text("/axis-cgi/disks/list.cgi")
    assert caught.value.status == 503
    assert len(camera.requests) == 3


async def test_with_check_off_a_camera_busy_on_every_attempt_returns_the_last_503():
    camera = Camera(httpx.Response(503, text="busy"))
    async with camera.transport() as transport:
        response = await transport.request("GET", "/x", check=False)
    assert (response.status_code, response.text) == (503, "busy")
    assert len(camera.requests) == 3


async def test_retries_wait_longer_each_time():
    camera = Camera(refused(), refused(), ok())
    async with camera.transport(RetryPolicy(attempts=3, backoff=0.05)) as transport:
        started = time.monotonic()
        await transport.get_text("/x")
    assert time.monotonic() - started >= 0.05 + 0.1


@pytest.mark.parametrize(
    ("failure", "error"),
    [
        (refused(), ConnectionFailed),
        (httpx.ReadTimeout("timed out"), ConnectionFailed),
        (httpx.Response(503), ServerError),
    ],
    ids=["refused", "timeout", "busy"],
)
async def test_a_write_is_never_retried(failure, error):
    camera = Camera(failure, ok())
    async with camera.transport() as transport:
        with pytest.raises(error):
            await transport.post_form("/axis-cgi/param.cgi", {"action": "update", "root.Storage.S0.Locked": "yes"})
    assert len(camera.requests) == 1
    assert camera.requests[0].method == "POST"


async def test_a_json_call_is_a_post_and_is_never_retried():
    camera = Camera(refused(), ok("{}"))
    async with camera.transport() as transport:
        with pytest.raises(ConnectionFailed):
            await transport.post_json("/axis-cgi/apidiscovery.cgi", {"method": "getApiList"})
    assert len(camera.requests) == 1


# -- statuses --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, Unauthorized),
        (403, Forbidden),
        (404, NotFound),
        (500, ServerError),
        (502, ServerError),
        (400, HttpStatusError),
    ],
)
async def test_an_http_error_status_is_a_typed_error_naming_the_cgi(status, error):
    camera = Camera(httpx.Response(status, text="<HTML>refused</HTML>"))
    async with camera.transport() as transport:
        with pytest.raises(HttpStatusError, match=r"/axis-cgi/disks/list\.cgi") as caught:
            await transport.get_text("/axis-cgi/disks/list.cgi")
    assert type(caught.value) is error
    assert caught.value.status == status
    assert len(camera.requests) == 1  # only 503 is worth a retry


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_with_check_off_an_error_status_is_returned_not_raised(method):
    camera = Camera(httpx.Response(404, text="<HTML>404 Not Found</HTML>"))
    async with camera.transport() as transport:
        response = await transport.request(method, "/axis-cgi/apidiscovery.cgi", check=False)
    assert response.status_code == 404
    assert response.text == "<HTML>404 Not Found</HTML>"


# -- decoding --------------------------------------------------------------------------------------------------------


async def test_get_xml_raises_the_error_a_200_body_carries():
    body = (
        "<NetworkShareResponse SchemaVersion='1.0'><GeneralError><ErrorCode>20</ErrorCode>"
        "<ErrorDescription>Invalid share id</ErrorDescription></GeneralError></NetworkShareResponse>"
    )
    camera = Camera(httpx.Response(200, text=body, headers={"Content-Type": "text/xml"}))
    async with camera.transport() as transport:
        with pytest.raises(InvalidRequest, match="Invalid share id"):
            await transport.get_xml("/axis-cgi/disks/networkshare/list.cgi", {"schemaversion": "1", "shareid": "x"})


async def test_get_xml_returns_a_success_root_and_refuses_html():
    camera = Camera(ok("<root><lock diskid='SD_DISK' result='OK'/></root>"), ok("<HTML><BODY>login"))
    async with camera.transport() as transport:
        root = await transport.get_xml("/axis-cgi/disks/lock.cgi")
        assert root[0].get("result") == "OK"
        with pytest.raises(ProtocolError):
            await transport.get_xml("/axis-cgi/disks/lock.cgi")


@pytest.mark.parametrize("body", ["not json", "[1, 2]", '"text"', ""])
async def test_post_json_refuses_anything_but_a_json_object(body):
    camera = Camera(ok(body))
    async with camera.transport() as transport:
        with pytest.raises(ProtocolError, match="apidiscovery"):
            await transport.post_json("/axis-cgi/apidiscovery.cgi", {"method": "getApiList"})


async def test_post_json_sends_the_body_as_json_and_form_posts_send_a_form():
    camera = Camera(ok('{"data": {}}'))
    async with camera.transport() as transport:
        assert await transport.post_json("/j", {"apiVersion": "1.0", "method": "getApiList"}) == {"data": {}}
        await transport.post_form("/f", {"action": "update", "root.A.B": "x y"})
    json_request, form_request = camera.requests
    assert json_request.headers["content-type"] == "application/json"
    assert json_request.read() in (
        b'{"apiVersion":"1.0","method":"getApiList"}',
        b'{"apiVersion": "1.0", "method": "getApiList"}',
    )
    assert form_request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert form_request.read() == b"action=update&root.A.B=x+y"
    assert json_request.headers["user-agent"] == "Edgestore"


def test_an_ipv6_camera_gets_a_bracketed_url():
    assert Endpoint("fe80::1", 443, https=True).base_url == "https://[fe80::1]:443"
    assert Endpoint("192.168.0.90", 80).base_url == "http://192.168.0.90:80"


async def test_a_connection_error_without_a_message_still_says_what_happened():
    # Servers that drop the connection give httpx errors with an empty message (httpcore maps a bare EndOfStream).
    camera = Camera(httpx.ReadError(""))
    async with camera.transport() as transport:
        with pytest.raises(ConnectionFailed) as caught:
            await transport.get_text("/x")
    assert "ReadError" in str(caught.value)


# -- over a real socket ----------------------------------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.functional
async def test_a_port_nobody_listens_on_is_connection_failed():
    port = closed_port()
    async with VapixTransport(Endpoint("127.0.0.1", port), "root", "pass", retry=FAST) as transport:
        with pytest.raises(ConnectionFailed, match=re.escape(f"127.0.0.1:{port}")) as caught:
            await transport.get_text("/axis-cgi/usergroup.cgi")
    assert not isinstance(caught.value, TlsError)


@pytest.mark.functional
async def test_a_port_nobody_listens_on_is_connection_failed_over_https_too():
    port = closed_port()
    async with VapixTransport(Endpoint("127.0.0.1", port, https=True), None, None, retry=FAST) as transport:
        with pytest.raises(ConnectionFailed) as caught:
            await transport.get_text("/axis-cgi/usergroup.cgi")
    assert not isinstance(caught.value, TlsError)
