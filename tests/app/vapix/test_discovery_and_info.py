"""Before anything else the client finds out what it is talking to: which APIs the camera has, which product it
is (even before the user typed a password), and which role the user has on it."""

from __future__ import annotations

import json

import httpx
import pytest

from app.vapix import jsonapi
from app.vapix.apidiscovery import ApiDiscovery, ApiInfo
from app.vapix.deviceinfo import BasicDeviceInfo, DeviceInfo
from app.vapix.errors import ApiError, NotFound, ProtocolError, Unauthorized
from app.vapix.transport import Endpoint, RetryPolicy, VapixTransport
from app.vapix.usergroup import Role, UserGroups, user_groups
from tests.conftest import endpoint_of, transport_for
from tests.support.device_process import SERIAL

# -- against the camera ----------------------------------------------------------------------------------------------


@pytest.mark.functional
async def test_api_discovery_lists_the_apis_the_client_relies_on(shared_device):
    async with transport_for(shared_device, "viewer") as transport:
        apis = await ApiDiscovery(transport).api_list()
    assert {"param-cgi", "basic-device-info", "api-discovery"} <= set(apis)
    assert apis["api-discovery"] == ApiInfo("api-discovery", "1.0", "API Discovery Service")
    assert apis["param-cgi"].version == "1.0"
    assert all(api.id == key and api.version for key, api in apis.items())


@pytest.mark.functional
async def test_device_info_gives_the_serial_and_brand(shared_device):
    async with transport_for(shared_device, "viewer") as transport:
        info = await BasicDeviceInfo(transport).all_properties()
    assert info.serial == SERIAL == "ACCC8E000001"
    assert info.brand == "AXIS"
    assert info.model
    assert info.firmware
    assert info.full_name


@pytest.mark.functional
async def test_without_credentials_the_unrestricted_properties_still_identify_an_axis_camera(shared_device):
    async with transport_for(shared_device, "viewer") as signed_in:
        full = await BasicDeviceInfo(signed_in).all_properties()
    async with VapixTransport(endpoint_of(shared_device), None, None) as anonymous:
        info = await BasicDeviceInfo(anonymous).unrestricted_properties()
    assert (info.brand, info.serial) == ("AXIS", SERIAL)
    assert info == full  # every field the client keeps is unrestricted


@pytest.mark.functional
async def test_without_credentials_the_full_properties_are_unauthorized(shared_device):
    async with VapixTransport(endpoint_of(shared_device), None, None) as anonymous:
        with pytest.raises(Unauthorized):
            await BasicDeviceInfo(anonymous).all_properties()


@pytest.mark.functional
@pytest.mark.parametrize(
    ("role", "user", "expected"),
    [("admin", "root", Role.ADMIN), ("operator", "op", Role.OPERATOR), ("viewer", "view", Role.VIEWER)],
)
async def test_usergroup_tells_each_user_their_role(shared_device, role, user, expected):
    async with transport_for(shared_device, role) as transport:
        groups = await user_groups(transport)
    assert groups.user == user
    assert groups.role is expected
    assert expected.name.lower() in groups.groups


@pytest.mark.functional
async def test_usergroup_without_credentials_is_unauthorized(shared_device):
    async with VapixTransport(endpoint_of(shared_device), None, None) as anonymous:
        with pytest.raises(Unauthorized):
            await user_groups(anonymous)


# -- parsing ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "user", "groups", "role"),
    [
        ("root\nadmin operator viewer\n", "root", ("admin", "operator", "viewer"), Role.ADMIN),
        ("op\noperator viewer\n", "op", ("operator", "viewer"), Role.OPERATOR),
        ("view\nviewer\n", "view", ("viewer",), Role.VIEWER),
        ("  guest \r\n ptz  viewer \r\n", "guest", ("ptz", "viewer"), Role.VIEWER),
        ("svc\nptz\n", "svc", ("ptz",), Role.UNKNOWN),
        ("x\nADMIN\n", "x", ("ADMIN",), Role.ADMIN),
    ],
)
def test_usergroup_answers_are_parsed_to_the_highest_role(text, user, groups, role):
    parsed = UserGroups.parse(text)
    assert (parsed.user, parsed.groups, parsed.role) == (user, groups, role)


@pytest.mark.parametrize("text", ["root\n", "root", "", "\n\n", "\nadmin\n"])
def test_usergroup_answers_without_two_lines_are_a_protocol_error(text):
    with pytest.raises(ProtocolError):
        UserGroups.parse(text)


def test_device_info_reads_the_property_list_and_tolerates_missing_or_null_fields():
    props = {"Brand": "AXIS", "ProdNbr": "M3086-V", "SerialNumber": SERIAL, "Version": None, "Extra": "ignored"}
    assert DeviceInfo.from_properties(props) == DeviceInfo("AXIS", "M3086-V", "", SERIAL, "", "")


# -- the JSON envelope, from a scripted camera -----------------------------------------------------------------------


def scripted(body: object, status: int = 200) -> tuple[VapixTransport, list[httpx.Request]]:
    requests: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(status, json=body) if not isinstance(body, str) else httpx.Response(status, text=body)

    endpoint = Endpoint("camera.test", 80)
    transport = VapixTransport(
        endpoint, None, None, retry=RetryPolicy(backoff=0), transport=httpx.MockTransport(answer)
    )
    return transport, requests


async def test_a_json_call_sends_the_method_and_version_and_returns_data():
    transport, requests = scripted({"apiVersion": "1.0", "method": "getApiList", "data": {"apiList": []}})
    async with transport:
        assert await jsonapi.call(transport, "/axis-cgi/apidiscovery.cgi", "getApiList") == {"apiList": []}
        await jsonapi.call(transport, "/axis-cgi/x.cgi", "m", "1.1", {"a": 1})
    assert [json.loads(r.content) for r in requests] == [
        {"apiVersion": "1.0", "method": "getApiList"},
        {"apiVersion": "1.1", "method": "m", "params": {"a": 1}},
    ]


@pytest.mark.parametrize(
    ("error", "code"),
    [({"code": 2002, "message": "Method not supported"}, 2002), ({"code": "4002", "message": "Bad"}, 4002), ({}, None)],
)
async def test_a_json_error_is_an_api_error_with_its_code(error, code):
    transport, _ = scripted({"apiVersion": "1.0", "error": error})
    async with transport:
        with pytest.raises(ApiError) as caught:
            await jsonapi.call(transport, "/axis-cgi/basicdeviceinfo.cgi", "getAllProperties")
    assert caught.value.code == code
    assert caught.value.description


@pytest.mark.parametrize("body", [{"apiVersion": "1.0"}, {"data": []}, {"data": "x"}])
async def test_a_json_answer_without_data_is_a_protocol_error(body):
    transport, _ = scripted(body)
    async with transport:
        with pytest.raises(ProtocolError):
            await ApiDiscovery(transport).api_list()


async def test_api_discovery_skips_entries_without_an_id():
    transport, _ = scripted(
        {"data": {"apiList": [{"id": "param-cgi", "version": "1.0", "name": "P"}, {"version": "2.0"}, "junk"]}}
    )
    async with transport:
        assert await ApiDiscovery(transport).api_list() == {"param-cgi": ApiInfo("param-cgi", "1.0", "P")}


async def test_old_firmware_without_api_discovery_answers_not_found():
    body = "<HTML><HEAD><TITLE>404 Not Found</TITLE></HEAD>\n<BODY><H1>404 Not Found</H1></BODY></HTML>"
    transport, _ = scripted(body, status=404)
    async with transport:
        with pytest.raises(NotFound):
            await ApiDiscovery(transport).api_list()
