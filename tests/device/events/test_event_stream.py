"""The WebSocket event stream against a running camera (EVENTS.md §3.1): session tokens or Digest on the
upgrade, events:configure with topic filters, the current states on connect, and storage disruption true and
false as the SD card is pulled and put back."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import httpx
import pytest

from tests.device.disk_client import get, scenario
from tests.support.device_process import CREDENTIALS

pytestmark = pytest.mark.functional

DISRUPTION = "tnsaxis:Storage/Disruption"


def token(device, role: str = "viewer") -> str:
    response = get(device, "/axis-cgi/wssession.cgi", role)
    assert response.status_code == 200, response.text
    assert response.text.strip().isdigit()
    return response.text.strip()


def stream_url(device, session: str | None) -> str:
    url = device.http_url.replace("http://", "ws://") + "/vapix/ws-data-stream?sources=events"
    return url + (f"&wssession={session}" if session else "")


async def configure(socket: aiohttp.ClientWebSocketResponse, *filters: dict[str, str], context: str = "c1") -> None:
    request = {"apiVersion": "1.0", "context": context, "method": "events:configure"}
    await socket.send_json({**request, "params": {"eventFilterList": list(filters)}})
    answer = await receive(socket)
    while answer["method"] == "events:notify":  # what the previous filters still had on the way
        answer = await receive(socket)
    assert answer == {"apiVersion": "1.0", "context": context, "method": "events:configure", "data": {}}


async def receive(socket: aiohttp.ClientWebSocketResponse, timeout: float = 10.0) -> dict[str, Any]:
    message = await socket.receive(timeout=timeout)
    assert message.type is aiohttp.WSMsgType.TEXT, message
    return json.loads(message.data)


async def notifications(socket, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
    found = []
    for _ in range(count):
        message = await receive(socket, timeout)
        assert message["method"] == "events:notify"
        found.append(message["params"]["notification"])
    return found


def disruption_of(notification: dict[str, Any]) -> tuple[str, str]:
    assert notification["topic"] == DISRUPTION
    assert notification["message"]["key"] == {}
    return notification["message"]["source"]["disk_id"], notification["message"]["data"]["disruption"]


async def test_disruption_goes_true_and_false_as_the_card_is_pulled_and_inserted(device):
    async with aiohttp.ClientSession() as session, session.ws_connect(stream_url(device, token(device))) as socket:
        await configure(socket, {"topicFilter": "tnsaxis:Storage/Disruption"})
        initial = {disruption_of(n) for n in await notifications(socket, 2)}
        assert initial == {("SD_DISK", "0"), ("NetworkShare", "1")}  # an unbound share is disrupted from the start

        assert scenario(device, "pull").status_code == 200
        (pulled,) = await notifications(socket, 1)
        assert disruption_of(pulled) == ("SD_DISK", "1")
        assert isinstance(pulled["timestamp"], int)
        assert pulled["timestamp"] > 1_600_000_000_000

        assert scenario(device, "insert").status_code == 200
        (inserted,) = await notifications(socket, 1)
        assert disruption_of(inserted) == ("SD_DISK", "0")
        assert inserted["timestamp"] >= pulled["timestamp"]


async def test_digest_on_the_upgrade_and_filters_in_every_spelling(device):
    digest = aiohttp.DigestAuthMiddleware(*CREDENTIALS["operator"])
    async with (
        aiohttp.ClientSession(middlewares=(digest,)) as session,
        session.ws_connect(stream_url(device, None)) as socket,
    ):
        content = 'boolean(//SimpleItem[@Name="port" and @Value="9"])'
        await configure(socket, {"topicFilter": "onvif:Device/axis:IO/VirtualInput//.", "contentFilter": content})
        (initial,) = await notifications(socket, 1)
        assert initial["message"] == {"source": {"port": "9"}, "key": {}, "data": {"active": "0"}}
        get(device, "/axis-cgi/virtualinput/activate.cgi", "operator", schemaversion="1", port="8")  # filtered out
        get(device, "/axis-cgi/virtualinput/activate.cgi", "operator", schemaversion="1", port="9")
        (change,) = await notifications(socket, 1)
        assert (change["topic"], change["message"]["data"]) == ("tns1:Device/tnsaxis:IO/VirtualInput", {"active": "1"})


async def test_one_message_per_matching_filter_and_everything_with_the_catch_all(device):
    async with aiohttp.ClientSession() as session, session.ws_connect(stream_url(device, token(device))) as socket:
        await configure(socket, {"topicFilter": "tnsaxis:Storage/Recording"}, {"topicFilter": "axis:Storage/Recording"})
        (first, second) = await notifications(socket, 2)  # the recording state, once per filter
        assert first == second
        assert first["message"] == {"source": {}, "key": {}, "data": {"recording": "0"}}

        await configure(socket, {"topicFilter": "//."}, context="all")
        seen: set[str] = set()
        wanted = {"tnsaxis:Storage/Alert", "tns1:Device/tnsaxis:Status/SystemReady", "tnsaxis:Storage/Recording"}
        while not wanted <= seen:
            seen.add((await notifications(socket, 1))[0]["topic"])

        await configure(socket, {"topicFilter": "tns1:Device/tnsaxis:IO/VirtualPort"}, context="c2")
        get(device, "/axis-cgi/io/virtualinput.cgi", "viewer", action="6:/")
        notes = await notifications(socket, 2)
        assert [n["message"]["data"] for n in notes] == [{"state": "0"}, {"state": "1"}]  # the state, then the change


async def test_configure_errors(shared_device):
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(stream_url(shared_device, token(shared_device))) as socket,
    ):
        for request, code in (
            ("not json", 2101),
            ({"apiVersion": "2.0", "method": "events:configure", "params": {"eventFilterList": []}}, 2100),
            ({"apiVersion": "1.0", "method": "events:frobnicate"}, 2102),
            ({"apiVersion": "1.0", "method": "events:configure", "params": {}}, 2103),
            (
                {
                    "apiVersion": "1.0",
                    "method": "events:configure",
                    "params": {"eventFilterList": [{"topicFilter": "!!"}]},
                },
                2104,
            ),
        ):
            await socket.send_str(request if isinstance(request, str) else json.dumps(request))
            answer = await receive(socket)
            assert answer["error"]["code"] == code, answer
            assert answer["method"] == "events:configure"


async def test_a_token_is_good_once_and_no_credentials_get_401(shared_device):
    session_token = token(shared_device)
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(stream_url(shared_device, session_token)) as first:
            assert not first.closed  # the token opened the stream
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(stream_url(shared_device, session_token))
        assert refused.value.status == 401
        with pytest.raises(aiohttp.WSServerHandshakeError) as anonymous:
            await session.ws_connect(stream_url(shared_device, None))
        assert anonymous.value.status == 401
        assert anonymous.value.headers is not None
        assert anonymous.value.headers["WWW-Authenticate"].startswith("Digest")


def test_the_stream_is_listed_in_api_discovery(shared_device):
    response = httpx.post(
        f"{shared_device.http_url}/axis-cgi/apidiscovery.cgi",
        json={"apiVersion": "1.0", "method": "getApiList"},
        auth=httpx.DigestAuth(*CREDENTIALS["viewer"]),
    )
    ids = {api["id"]: api["version"] for api in response.json()["data"]["apiList"]}
    assert ids["event-streaming-over-websocket"] == "1.0"
