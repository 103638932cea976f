"""The Virtual input API (`virtualinput/activate.cgi`, `deactivate.cgi`, `getschemaversions.cgi`) and the
manual trigger (`io/virtualinput.cgi`), EVENTS.md §2.4-2.5."""

from __future__ import annotations

from aiohttp import web

from device.events.inputs import UnknownPort, parse_trigger_action
from device.http.args import cgi_args
from device.http.keys import services_of
from device.http.module import HttpModule
from device.http.xml import XmlApi, xml_response

VIRTUAL_INPUT = XmlApi(
    "VirtualInputResponse", "virtualinput1_0.xsd", "1.1", namespace="http://www.axis.com/vapix/http_cgi/virtualinput1"
)


class _Refused(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code, self.description = code, description


async def activate_cgi(request: web.Request) -> web.Response:
    return await _switch(request, active=True)


async def deactivate_cgi(request: web.Request) -> web.Response:
    return await _switch(request, active=False)


async def _switch(request: web.Request, active: bool) -> web.Response:
    args = await cgi_args(request)
    inputs = services_of(request).events.inputs
    try:
        _check_version(args.get("schemaversion"))
        port = _port(args.get("port"))
        changed = inputs.activate(port, _duration(args.get("duration"))) if active else inputs.deactivate(port)
    except _Refused as exc:
        return xml_response(VIRTUAL_INPUT.error(exc.code, exc.description, "Error"))
    except UnknownPort as exc:
        return xml_response(VIRTUAL_INPUT.error(20, str(exc), "Error"))
    root = VIRTUAL_INPUT.root()
    success = VIRTUAL_INPUT.sub(
        VIRTUAL_INPUT.sub(root, "Success"), "ActivateSuccess" if active else "DeactivateSuccess"
    )
    VIRTUAL_INPUT.sub(success, "StateChanged").text = "true" if changed else "false"
    return xml_response(root)


async def getschemaversions_cgi(request: web.Request) -> web.Response:
    root = VIRTUAL_INPUT.root()
    success = VIRTUAL_INPUT.sub(root, "Success")
    versions = VIRTUAL_INPUT.sub(success, "ListSuccess")
    VIRTUAL_INPUT.sub(versions, "SchemaVersion").text = VIRTUAL_INPUT.version
    return xml_response(root)


def _check_version(requested: str | None) -> None:
    if requested is None or not requested.strip():
        raise _Refused(10, "Missing argument: schemaversion")
    major = requested.strip().partition(".")[0]
    if major != str(VIRTUAL_INPUT.major):
        raise _Refused(30, f"Schema version {requested} is not supported")


def _port(text: str | None) -> int:
    if text is None or not text.strip():
        raise _Refused(10, "Missing argument: port")
    if not text.strip().isdigit():
        raise _Refused(20, f"The specified virtual input {text} does not exist")
    return int(text)


def _duration(text: str | None) -> float | None:
    if text is None:
        return None
    if not text.strip().isdigit():
        raise _Refused(50, f"Invalid duration '{text}'")
    return float(text)


async def manual_trigger_cgi(request: web.Request) -> web.Response:
    action = (await cgi_args(request)).get("action", "")
    try:
        port, steps = parse_trigger_action(action)
        services_of(request).events.inputs.manual_trigger(port, steps)
    except (ValueError, UnknownPort) as exc:
        return web.Response(status=400, text=f"Error: {exc}\n")
    return web.Response(text="OK\n")


MODULE = HttpModule(
    routes=[
        web.get("/axis-cgi/virtualinput/activate.cgi", activate_cgi, allow_head=False),
        web.get("/axis-cgi/virtualinput/deactivate.cgi", deactivate_cgi, allow_head=False),
        web.get("/axis-cgi/virtualinput/getschemaversions.cgi", getschemaversions_cgi, allow_head=False),
        web.get("/axis-cgi/io/virtualinput.cgi", manual_trigger_cgi, allow_head=False),
    ],
    apis=(),
)
