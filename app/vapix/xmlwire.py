"""Reading camera XML safely and tolerantly.

Cameras differ in namespaces and wrapper elements (AMBIGUITIES.md G-7, G-8), so lookups go by local name over
descendants, never fixed paths. The parser resolves no entities and fetches nothing from the network.
"""

from __future__ import annotations

from lxml import etree

from app.vapix.errors import ApiError, ProtocolError, error_for_code

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_blank_text=True)


def parse(body: bytes) -> etree._Element:
    if not body.strip():
        raise ProtocolError("the camera sent an empty body where XML was expected")
    try:
        return etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise ProtocolError(f"the camera sent malformed XML: {exc}") from None


def local(element: etree._Element) -> str:
    return str(etree.QName(element).localname)


def find_all(root: etree._Element, name: str) -> list[etree._Element]:
    return [e for e in root.iter() if isinstance(e.tag, str) and local(e) == name]


def find(root: etree._Element, name: str) -> etree._Element | None:
    return next(iter(find_all(root, name)), None)


def text_of(root: etree._Element, name: str) -> str | None:
    element = find(root, name)
    return element.text.strip() if element is not None and element.text else None


def attr(element: etree._Element, *names: str) -> str | None:
    """The first attribute present among spellings (`DiskId` / `DiskID`, G-8)."""
    for name in names:
        value = element.get(name)
        if value is not None:
            return str(value)
    return None


def error_in(root: etree._Element) -> ApiError | None:
    """The error a response carries, in any of the three styles (G-6), or None for a success."""
    if find(root, "ErrorCode") is not None:  # an empty ErrorCode is still an error
        code_text = text_of(root, "ErrorCode") or ""
        try:
            code: int | None = int(code_text)
        except ValueError:
            code = None
        return error_for_code(code, text_of(root, "ErrorDescription") or "the camera reported an error")
    for element in root.iter():
        if isinstance(element.tag, str) and (element.get("result") or "").upper() == "ERROR":
            message = attr(element, "errormsg", "description") or f"{local(element)} failed"
            return ApiError(message)
    return None


def raise_for_error(root: etree._Element) -> etree._Element:
    error = error_in(root)
    if error is not None:
        raise error
    return root
