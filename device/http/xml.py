"""XML responses as real cameras write them: root element, namespace and schema location per CGI group.

WIRE.md §1 recovered these from real cameras and the documentation; the spec text lost them. Errors travel
as HTTP 200 with the error in the body, in the three styles of AMBIGUITIES.md G-6.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from aiohttp import web
from lxml import etree

from device.errors import CodedError
from device.http.args import cgi_args

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
log = logging.getLogger(__name__)

XSI = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_BASE = "http://www.axis.com/vapix/http_cgi/"
_XSI_NO_NS = f"{{{XSI}}}noNamespaceSchemaLocation"


def legacy_root(schema: str) -> etree._Element:
    """`<root>` of the disk and recording CGIs, e.g. legacy_root("disk/list1.xsd")."""
    root = etree.Element("root", nsmap={"xsi": XSI})
    root.set(_XSI_NO_NS, SCHEMA_BASE + schema)
    return root


@dataclass(frozen=True)
class XmlApi:
    """One of the schema-versioned XML APIs: the root it answers with and the versions it speaks."""

    root_tag: str
    schema: str
    version: str  # major.minor this camera implements
    namespace: str | None = None  # Disk properties uses a default namespace with xsi:schemaLocation

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0])

    def root(self, version: str | None = None) -> etree._Element:
        if self.namespace:
            root = etree.Element(f"{{{self.namespace}}}{self.root_tag}", nsmap={None: self.namespace, "xsi": XSI})
            root.set(f"{{{XSI}}}schemaLocation", f"{self.namespace} {SCHEMA_BASE}{self.schema}")
            root.set("SchemaVersion", version or self.version)
            return root
        root = etree.Element(self.root_tag, nsmap={"xsi": XSI})
        root.set("SchemaVersion", version or self.version)
        root.set(_XSI_NO_NS, SCHEMA_BASE + self.schema)
        return root

    def sub(self, parent: etree._Element, tag: str, **attrs: str) -> etree._Element:
        qualified = f"{{{self.namespace}}}{tag}" if self.namespace else tag
        return etree.SubElement(parent, qualified, attrs)

    def error(self, code: int, description: str, wrapper: str | None = None) -> etree._Element:
        """`Root > [wrapper >] GeneralError > ErrorCode, ErrorDescription` (G-7)."""
        root = self.root()
        parent = self.sub(root, wrapper) if wrapper else root
        general = self.sub(parent, "GeneralError")
        self.sub(general, "ErrorCode").text = str(code)
        self.sub(general, "ErrorDescription").text = description
        return root

    def schema_versions(self, versions: Sequence[str] = ()) -> etree._Element:
        """schemaversions.cgi's answer: every version given (this API's own by default), none deprecated."""
        root = self.root()
        body = self.sub(root, "SchemaVersionsSuccess")
        for version in versions or (self.version,):
            entry = self.sub(body, "SchemaVersion")
            self.sub(entry, "VersionNumber").text = version
            self.sub(entry, "Deprecated").text = "false"
        return root

    def schema_error(self, requested: str | None) -> tuple[int, str] | None:
        """Check `schemaversion`: "1" and "1.0" both mean major 1; another major is error 40."""
        if requested is None or requested.strip() == "":
            return (20, "Invalid request. The schemaversion argument is required.")
        major, _, minor = requested.strip().partition(".")
        if not major.isdigit() or (minor and not minor.isdigit()):
            return (20, f"Invalid request. Invalid schemaversion '{requested}'.")
        if int(major) != self.major:
            return (40, f"Specified version is not supported. Supported major version is {self.major}.")
        return None


DISK_PROPERTIES = XmlApi(
    "DiskPropertiesResponse",
    "disks/properties/disk_properties1.xsd",
    "1.1",
    namespace="http://www.axis.com/vapix/http_cgi/disks/properties1",
)
NETWORK_SHARE = XmlApi("NetworkShareResponse", "networkshare1.xsd", "1.0")
STORAGE_LIMIT = XmlApi("StorageLimitsResponse", "recordingstoragelimit1.xsd", "1.0")
EXPORT = XmlApi("ExportRecordingResponse", "exportrecording1.xsd", "1.2")


class ApiFailure(CodedError):
    """A request an XML API refuses: the numeric code and description of its GeneralError."""


Args = dict[str, str]
VersionedHandler = Callable[[web.Request, Args], Awaitable[web.StreamResponse]]


def versioned(api: XmlApi, error_wrapper: str | None = None) -> Callable[[VersionedHandler], Handler]:
    """Wrap an XML API handler: check `schemaversion` first (20, 40), and answer any CodedError (ApiFailure, or a
    component's own refusal) as the API's GeneralError, so each handler only says what is wrong.

    Any other failure (a file gone from the card, a locked index) is still the API's answer, error 10 "Error while
    processing the request", which every one of these APIs has: a client parses the XML it was promised instead
    of an HTTP 500 page, and the traceback goes to the log for whoever fixes it. Once a handler has sent bytes (a
    streamed export), no answer can follow them: the failure is raised on, and aiohttp drops the connection, so
    the client sees the transfer cut short rather than a file that looks whole."""

    def wrap(handler: VersionedHandler) -> Handler:
        async def run(request: web.Request) -> web.StreamResponse:
            args = await cgi_args(request)
            problem = api.schema_error(args.get("schemaversion"))
            try:
                if problem is not None:
                    raise ApiFailure(*problem)
                return await handler(request, args)
            except CodedError as exc:  # ApiFailure, and the refusals of the components (ExportError, ShareError)
                return xml_response(api.error(exc.code, exc.description, error_wrapper))
            except web.HTTPException:
                raise
            except Exception as exc:
                if request.writer.output_size > 0:  # headers (and maybe a body) already went out
                    raise
                log.exception("%s failed unexpectedly", request.path)
                return xml_response(api.error(10, unexpected_failure(exc), error_wrapper))

        return run

    return wrap


def unexpected_failure(exc: BaseException) -> str:
    """Error 10's description for a failure no component foresaw: what went wrong, in words, without the host's
    paths (the log has them)."""
    return f"Error while processing the request: unexpected {type(exc).__name__} (see the camera's log)."


def xml_response(root: etree._Element) -> web.Response:
    body = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return web.Response(body=body, content_type="text/xml", charset="utf-8")
