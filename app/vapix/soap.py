"""SOAP 1.2 for the Action and Event services at `/vapix/services` (EVENTS.md §0): envelopes built with lxml,
answers and faults decoded, so the service modules deal in operations and dataclasses only.

A fault is HTTP 400 (AXIS OS 10.12+) or 500 (older firmware) with a SOAP Fault body; its identity is the element
inside Detail (`aa:ActionConfigurationIsInUseFault`), which :class:`SoapFaultError` carries as `name`.
"""

from __future__ import annotations

from lxml import etree

from app.vapix.errors import ProtocolError, VapixError, error_for_status
from app.vapix.transport import VapixTransport

PATH = "/vapix/services"
SOAP_ENV = "http://www.w3.org/2003/05/soap-envelope"
ACTION_NS = "http://www.axis.com/vapix/ws/action1"
EVENT_NS = "http://www.axis.com/vapix/ws/event1"
WSNT = "http://docs.oasis-open.org/wsn/b-2"
NSMAP = {
    "soap": SOAP_ENV,
    "aa": ACTION_NS,
    "aev": EVENT_NS,
    "wsnt": WSNT,
    "tns1": "http://www.onvif.org/ver10/topics",
    "tnsaxis": "http://www.axis.com/2009/event/topics",
}
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


class SoapFaultError(VapixError):
    """The camera refused the operation. `name` is the Detail element's local name (empty for the ONVIF
    schema-validation fault, whose `subcode` is `ter:InvalidArgs`)."""

    def __init__(
        self, name: str, reason: str, subcode: str | None = None, detail: etree._Element | None = None
    ) -> None:
        super().__init__(f"{name or subcode or 'SOAP fault'}: {reason}" if reason else name or subcode or "SOAP fault")
        self.name, self.reason, self.subcode, self.detail = name, reason, subcode, detail


def operation(ns: str, local: str) -> etree._Element:
    """A new operation element, e.g. operation(ACTION_NS, "GetActionRules"), to fill and pass to call()."""
    return etree.Element(f"{{{ns}}}{local}", nsmap={None: ns, "wsnt": WSNT})


def sub(parent: etree._Element, local: str, text: str | None = None, **attrs: str) -> etree._Element:
    """A child in the parent's namespace (elementFormDefault="qualified")."""
    ns = etree.QName(parent).namespace
    child = etree.SubElement(parent, f"{{{ns}}}{local}" if ns else local, attrs)
    if text is not None:
        child.text = text
    return child


def envelope(body: etree._Element) -> bytes:
    root = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV})
    etree.SubElement(root, f"{{{SOAP_ENV}}}Body").append(body)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8"))


async def call(transport: VapixTransport, body: etree._Element) -> etree._Element:
    """Send one operation; the response element inside Body. Raises SoapFaultError or ProtocolError."""
    response = await transport.request(
        "POST",
        PATH,
        content=envelope(body),
        headers={"Content-Type": "application/soap+xml; charset=utf-8"},
        check=False,
    )
    if response.status_code not in (200, 400, 500):  # 401 and friends carry no SOAP
        raise error_for_status(response.status_code, f"{PATH}: HTTP {response.status_code}")
    return decode(response.content)


def decode(content: bytes) -> etree._Element:
    try:
        root = etree.fromstring(content, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise ProtocolError(f"the camera's SOAP answer is not XML: {exc}") from None
    answer = root.find(f"{{{SOAP_ENV}}}Body")
    children = [] if answer is None else [c for c in answer if isinstance(c.tag, str)]
    if etree.QName(root).localname != "Envelope" or len(children) != 1:
        raise ProtocolError("the camera's SOAP answer has no single Body element")
    if etree.QName(children[0]).localname == "Fault":
        raise _fault(children[0])
    return children[0]


def _fault(node: etree._Element) -> SoapFaultError:
    ns = {"s": SOAP_ENV}
    reason = node.findtext("s:Reason/s:Text", default="", namespaces=ns) or ""
    subcode = node.findtext("s:Code/s:Subcode/s:Value", namespaces=ns)
    detail = node.find("s:Detail", ns)
    inner = (
        None
        if detail is None
        else next((c for c in detail if isinstance(c.tag, str) and c.tag != f"{{{SOAP_ENV}}}Text"), None)
    )
    if detail is not None and inner is None:
        reason = detail.findtext("s:Text", default=reason, namespaces=ns) or reason
    name = "" if inner is None else etree.QName(inner).localname
    return SoapFaultError(name, reason, subcode, inner)


def find(parent: etree._Element, local: str) -> etree._Element | None:
    return next((c for c in parent if isinstance(c.tag, str) and etree.QName(c).localname == local), None)


def find_all(parent: etree._Element | None, local: str) -> list[etree._Element]:
    if parent is None:
        return []
    return [c for c in parent if isinstance(c.tag, str) and etree.QName(c).localname == local]


def text(parent: etree._Element, local: str) -> str | None:
    found = find(parent, local)
    return None if found is None else (found.text or "")
