"""The `schemaversions.cgi` answer every XML API shares: which schema versions the camera speaks.

Clients send only the major version (`schemaversion=1`) and pick features by the minor (export to USB needs
1.1, encryption 1.2; AMBIGUITIES.md E-5), so the versions are kept as comparable tuples.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from app.vapix import xmlwire
from app.vapix.errors import ProtocolError


@dataclass(frozen=True, order=True)
class SchemaVersion:
    major: int
    minor: int
    deprecated: bool = False

    @classmethod
    def parse(cls, text: str, deprecated: bool = False) -> SchemaVersion:
        major, _, minor = text.strip().partition(".")
        try:
            return cls(int(major), int(minor or 0), deprecated)
        except ValueError:
            raise ProtocolError(f"not a schema version: {text!r}") from None

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"


@dataclass(frozen=True)
class SchemaVersions:
    versions: tuple[SchemaVersion, ...]

    @classmethod
    def from_xml(cls, root: etree._Element) -> SchemaVersions:
        xmlwire.raise_for_error(root)
        found = []
        for element in xmlwire.find_all(root, "SchemaVersion"):
            if not isinstance(element.tag, str) or len(element) == 0:
                continue  # the root's SchemaVersion attribute is not an entry
            number = xmlwire.text_of(element, "VersionNumber")
            if number is None:
                raise ProtocolError("a SchemaVersion entry has no VersionNumber")
            deprecated = (xmlwire.text_of(element, "Deprecated") or "false").lower() == "true"
            found.append(SchemaVersion.parse(number, deprecated))
        if not found:
            raise ProtocolError("the camera listed no schema versions")
        return cls(tuple(sorted(found)))

    def latest(self, major: int) -> SchemaVersion | None:
        return max((v for v in self.versions if v.major == major), default=None)

    def supports(self, major: int, minor: int = 0) -> bool:
        latest = self.latest(major)
        return latest is not None and latest.minor >= minor
