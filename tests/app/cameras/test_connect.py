"""Adding a camera, the installer learns exactly what is wrong: password, address, or not a camera at all."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from app.cameras.connect import Outcome, check_connection
from app.vapix.transport import Endpoint
from app.vapix.usergroup import Role
from tests.conftest import endpoint_of
from tests.support.device_process import SERIAL

pytestmark = pytest.mark.functional


async def test_a_reachable_camera_with_the_right_password_reports_what_it_is(shared_device):
    report = await check_connection(endpoint_of(shared_device), "op", "operator-pass")
    assert report.outcome is Outcome.OK, report.message
    assert report.summary is not None
    assert report.summary.info.serial == SERIAL
    assert report.summary.info.brand == "AXIS"
    assert report.summary.role is Role.OPERATOR
    caps = report.summary.capabilities
    assert caps.sd_card
    assert caps.network_share
    assert caps.continuous_profiles >= 1
    assert SERIAL in report.message


async def test_a_wrong_password_is_named_as_such(shared_device):
    report = await check_connection(endpoint_of(shared_device), "root", "not-the-password")
    assert report.outcome is Outcome.WRONG_CREDENTIALS
    assert "wrong user name or password" in report.message


async def test_nothing_listening_is_reported_unreachable():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    report = await check_connection(Endpoint("127.0.0.1", port), "root", "x", timeout=3)
    assert report.outcome is Outcome.UNREACHABLE
    assert f"127.0.0.1:{port}" in report.message


async def _serve(handler) -> tuple[web.AppRunner, int]:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, runner.addresses[0][1]


@pytest.fixture
async def web_page() -> AsyncIterator[int]:
    async def page(_request: web.Request) -> web.Response:
        return web.Response(text="<html><body>My NAS</body></html>", content_type="text/html")

    runner, port = await _serve(page)
    yield port
    await runner.cleanup()


@pytest.fixture
async def router_login() -> AsyncIterator[int]:
    async def login(_request: web.Request) -> web.Response:
        return web.Response(status=401, headers={"WWW-Authenticate": 'Basic realm="router"'})

    runner, port = await _serve(login)
    yield port
    await runner.cleanup()


async def test_a_web_server_that_is_not_a_camera_is_not_told_its_password_is_wrong(web_page):
    report = await check_connection(Endpoint("127.0.0.1", web_page), "root", "x")
    assert report.outcome is Outcome.NOT_AXIS
    assert "not an Axis camera" in report.message


async def test_another_device_asking_for_a_password_is_not_an_axis_camera(router_login):
    report = await check_connection(Endpoint("127.0.0.1", router_login), "admin", "admin")
    assert report.outcome is Outcome.NOT_AXIS
