"""SOAP 1.2 as Axis firmware speaks it at `/vapix/services` (EVENTS.md §0).

Requests: any prefixes, default namespaces, with or without a Header, any Content-Type and SOAPAction; the
operation is the Body's single child. Responses: the envelope on one line with the namespace declarations of
real firmware, empty elements with explicit end tags, HTTP 200; faults are HTTP 400 with `SOAP-ENV:Sender` and
the fault's identity as the element inside `Detail`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiohttp import web
from lxml import etree

SOAP_ENV = "http://www.w3.org/2003/05/soap-envelope"
SOAP11_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
ACTION_NS = "http://www.axis.com/vapix/ws/action1"
EVENT_NS = "http://www.axis.com/vapix/ws/event1"
WSNT = "http://docs.oasis-open.org/wsn/b-2"
WSTOP = "http://docs.oasis-open.org/wsn/t-1"
WSRFBF = "http://docs.oasis-open.org/wsrf/bf-2"
TER = "http://www.onvif.org/ver10/error"
CONTENT_TYPE = "application/soap+xml; charset=utf-8"

# A subset of the 52 declarations of AXIS M1075-L 12.9.57, in its order (EVENTS.md §0.2).
NSMAP: dict[str | None, str] = {
    "SOAP-ENV": SOAP_ENV,
    "SOAP-ENC": "http://www.w3.org/2003/05/soap-encoding",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
    "xsd": "http://www.w3.org/2001/XMLSchema",
    "wsa5": "http://www.w3.org/2005/08/addressing",
    "wsrfbf": WSRFBF,
    "wstop": WSTOP,
    "tt": "http://www.onvif.org/ver10/schema",
    "aa": ACTION_NS,
    "aev": EVENT_NS,
    "wsnt": WSNT,
    "ter": TER,
    "tns1": "http://www.onvif.org/ver10/topics",
    "tnsaxis": "http://www.axis.com/2009/event/topics",
}

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


@dataclass
class SoapFault(Exception):
    """A Sender fault. `detail` is the element inside Detail as (namespace, local name), with optional children
    (already built); `subcode` and `detail_text` are for the ONVIF schema-validation shape."""

    reason: str
    detail: tuple[str, str] | None = None
    children: list[etree._Element] = field(default_factory=list)
    subcode: str | None = None
    detail_text: str | None = None
    timestamp: datetime | None = None  # wsnt faults carry wsrfbf:Timestamp

    def __str__(self) -> str:
        return self.reason


def invalid_args(message: str) -> SoapFault:
    """The ONVIF schema-validation fault (EVENTS.md §0.3, second shape)."""
    return SoapFault("Invalid argument", subcode="ter:InvalidArgs", detail_text=message)


@dataclass(frozen=True)
class SoapRequest:
    operation: etree._Element  # the Body's child
    http: web.Request

    def child(self, local: str) -> etree._Element | None:
        """The first child with this local name, in whatever namespace the client put it."""
        return find(self.operation, local)


SoapHandler = Callable[[SoapRequest], Awaitable[etree._Element]]


def find(parent: etree._Element, local: str) -> etree._Element | None:
    return next((c for c in parent if isinstance(c.tag, str) and etree.QName(c).localname == local), None)


def find_all(parent: etree._Element, local: str) -> list[etree._Element]:
    return [c for c in parent if isinstance(c.tag, str) and etree.QName(c).localname == local]


def text_of(parent: etree._Element, local: str) -> str | None:
    element = find(parent, local)
    return None if element is None else (element.text or "")


def parse_operation(body: bytes) -> etree._Element:
    """The Body's single child; raises SoapFault for what is not a SOAP envelope."""
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise SoapFault(f"XML syntax error: {exc}") from None
    if etree.QName(root).localname != "Envelope" or etree.QName(root).namespace not in (SOAP_ENV, SOAP11_ENV):
        raise SoapFault("The request is not a SOAP 1.2 envelope")
    soap_body = find(root, "Body")
    children = [] if soap_body is None else [c for c in soap_body if isinstance(c.tag, str)]
    if len(children) != 1:
        raise SoapFault("The SOAP Body must hold exactly one operation")
    return children[0]


def element(parent: etree._Element, ns: str, local: str, text: str | None = None, **attrs: str) -> etree._Element:
    child = etree.SubElement(parent, f"{{{ns}}}{local}", attrs)
    if text is not None:
        child.text = text
    return child


def response_body(ns: str, local: str) -> tuple[etree._Element, etree._Element]:
    """A new envelope and its operation response element (e.g. aa:AddActionRuleResponse)."""
    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap=NSMAP)
    body = etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body")
    return envelope, etree.SubElement(body, f"{{{ns}}}{local}")


def envelope_of(element_: etree._Element) -> etree._Element:
    return element_.getroottree().getroot()


def soap_response(envelope: etree._Element, status: int = 200) -> web.Response:
    _explicit_end_tags(envelope)
    body = b'<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(envelope, encoding="UTF-8")
    return web.Response(body=body, status=status, headers={"Content-Type": CONTENT_TYPE})


def fault_response(fault: SoapFault, now: datetime) -> web.Response:
    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap=NSMAP)
    body = etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body")
    node = element(body, SOAP_ENV, "Fault")
    code = element(node, SOAP_ENV, "Code")
    element(code, SOAP_ENV, "Value", "SOAP-ENV:Sender")
    if fault.subcode:
        element(element(code, SOAP_ENV, "Subcode"), SOAP_ENV, "Value", fault.subcode)
    reason = element(element(node, SOAP_ENV, "Reason"), SOAP_ENV, "Text", fault.reason or None)
    reason.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
    if fault.detail is not None or fault.detail_text is not None:
        detail = element(node, SOAP_ENV, "Detail")
        if fault.detail_text is not None:
            element(detail, SOAP_ENV, "Text", fault.detail_text)
        if fault.detail is not None:
            inner = element(detail, *fault.detail)
            if fault.detail[0] == WSNT:
                stamp = (fault.timestamp or now).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                element(inner, WSRFBF, "Timestamp", stamp)
            inner.extend(fault.children)
    return soap_response(envelope, status=400)


def _explicit_end_tags(root: etree._Element) -> None:
    """`<aa:X></aa:X>` rather than `<aa:X/>`, as gSOAP writes them; an empty Reason text stays `<Text/>`."""
    for node in root.iter():
        if isinstance(node.tag, str) and len(node) == 0 and node.text is None and etree.QName(node).localname != "Text":
            node.text = ""
