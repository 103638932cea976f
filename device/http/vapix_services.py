"""`POST /vapix/services`: the one SOAP endpoint of the Action and Event services (EVENTS.md §0).

Dispatch is on the Body's child (namespace and local name), never on headers, because real clients disagree on
Content-Type and SOAPAction; a `?timestamp=` cache buster is ignored like any unknown argument.
"""

from __future__ import annotations

from aiohttp import web
from lxml import etree

from device.http import action_service, event_service
from device.http.keys import state_of
from device.http.module import HttpModule
from device.http.soap import SoapFault, SoapHandler, SoapRequest, fault_response, parse_operation, soap_response

OPERATIONS: dict[tuple[str, str], SoapHandler] = {**event_service.OPERATIONS, **action_service.OPERATIONS}
MAX_BODY = 1024 * 1024


async def services_endpoint(request: web.Request) -> web.Response:
    now = state_of(request).clock.now()
    try:
        body = await request.read()
        if len(body) > MAX_BODY:
            raise SoapFault("The request is too large")
        operation = parse_operation(body)
        name = etree.QName(operation)
        handler = OPERATIONS.get((name.namespace or "", name.localname))
        if handler is None:
            raise SoapFault(f"Method '{name.localname}' not implemented: method name or namespace not recognized")
        return soap_response(await handler(SoapRequest(operation, request)))
    except SoapFault as fault:
        return fault_response(fault, now)


MODULE = HttpModule(routes=[web.post("/vapix/services", services_endpoint)])
