"""The client learns which schema versions a camera speaks, whatever wrapper and namespace each API uses, and
picks features by the minor version (AMBIGUITIES.md E-5)."""

from __future__ import annotations

import pytest

from app.vapix import xmlwire
from app.vapix.errors import ApiError, InvalidRequest, ProtocolError, UnsupportedVersion
from app.vapix.schemaversions import SchemaVersion, SchemaVersions

XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'


def entry(number: str, deprecated: str = "false") -> str:
    return (
        f"<SchemaVersion><VersionNumber>{number}</VersionNumber><Deprecated>{deprecated}</Deprecated></SchemaVersion>"
    )


DISK_PROPERTIES = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<DiskPropertiesResponse xmlns="http://www.axis.com/vapix/http_cgi/disks/properties1" '
    f"{XSI} "
    'xsi:schemaLocation="http://www.axis.com/vapix/http_cgi/disks/properties1 '
    'http://www.axis.com/vapix/http_cgi/disks/properties/disk_properties1.xsd" SchemaVersion="1.1">\n'
    f"  <Success><SchemaVersionsSuccess>{entry('1.0')}{entry('1.1')}</SchemaVersionsSuccess></Success>\n"
    "</DiskPropertiesResponse>\n"
)

NETWORK_SHARE = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    f'<NetworkShareResponse SchemaVersion="1.0" {XSI} '
    'xsi:noNamespaceSchemaLocation="http://www.axis.com/vapix/http_cgi/networkshare1.xsd">\n'
    f"  <SchemaVersionsSuccess>{entry('1.0')}</SchemaVersionsSuccess>\n"
    "</NetworkShareResponse>\n"
)


def export_response(inner: str) -> str:
    return (
        f'<ExportRecordingResponse {XSI} SchemaVersion="1.2" '
        'xsi:noNamespaceSchemaLocation="http://www.axis.com/vapix/http_cgi/exportrecording1.xsd">'
        f"{inner}</ExportRecordingResponse>"
    )


EXPORT = export_response(
    "<SchemaVersionsSuccess>"
    + entry("1.2")
    + entry("1.0", "true")
    + entry("1.1")
    + entry("2.0")
    + "</SchemaVersionsSuccess>"
)


def versions_of(body: str) -> SchemaVersions:
    return SchemaVersions.from_xml(xmlwire.parse(body.encode()))


def test_disk_properties_versions_are_read_through_the_namespace_and_both_wrappers():
    versions = versions_of(DISK_PROPERTIES)
    assert versions.versions == (SchemaVersion(1, 0), SchemaVersion(1, 1))
    assert [str(v) for v in versions.versions] == ["1.0", "1.1"]
    assert versions.latest(1) == SchemaVersion(1, 1)
    assert versions.supports(1, 1)
    assert not versions.supports(1, 2)


def test_network_share_with_a_single_version():
    versions = versions_of(NETWORK_SHARE)
    assert versions.versions == (SchemaVersion(1, 0),)
    assert versions.supports(1)
    assert versions.supports(1, 0)
    assert not versions.supports(1, 1)
    assert not versions.supports(2)


def test_export_lists_several_versions_sorted_with_the_deprecated_one_marked():
    versions = versions_of(EXPORT)
    assert [(str(v), v.deprecated) for v in versions.versions] == [
        ("1.0", True),
        ("1.1", False),
        ("1.2", False),
        ("2.0", False),
    ]
    assert versions.latest(1) == SchemaVersion(1, 2)
    assert versions.latest(2) == SchemaVersion(2, 0)
    assert versions.latest(3) is None
    assert versions.supports(1, 2)  # encryption needs 1.2 (E-5)
    assert versions.supports(1, 1)  # export to USB needs 1.1
    assert not versions.supports(1, 3)
    assert versions.supports(2, 0)
    assert not versions.supports(3)


def test_the_roots_schema_version_attribute_is_not_taken_for_an_entry():
    # The root says SchemaVersion="1.2" but lists only 1.0: the attribute is the answer's own version.
    versions = versions_of(export_response(f"<SchemaVersionsSuccess>{entry('1.0')}</SchemaVersionsSuccess>"))
    assert versions.versions == (SchemaVersion(1, 0),)


@pytest.mark.parametrize(
    "body",
    [
        export_response("<SchemaVersionsSuccess></SchemaVersionsSuccess>"),
        export_response("<SchemaVersionsSuccess/>"),
        export_response(""),
        NETWORK_SHARE.replace(entry("1.0"), ""),
    ],
    ids=["empty-wrapper", "self-closed-wrapper", "no-wrapper", "share-without-entries"],
)
def test_an_answer_without_versions_is_a_protocol_error(body):
    with pytest.raises(ProtocolError):
        versions_of(body)


@pytest.mark.parametrize(
    "inner",
    [
        "<SchemaVersion><Deprecated>false</Deprecated></SchemaVersion>",
        entry("one.zero"),
        entry("1.x"),
    ],
    ids=["no-number", "words", "letter-minor"],
)
def test_an_entry_that_is_not_a_version_is_a_protocol_error(inner):
    with pytest.raises(ProtocolError):
        versions_of(export_response(f"<SchemaVersionsSuccess>{inner}</SchemaVersionsSuccess>"))


@pytest.mark.parametrize(
    ("inner", "expected", "code"),
    [
        (
            "<Error><GeneralError><ErrorCode>40</ErrorCode>"
            "<ErrorDescription>Unsupported schema version</ErrorDescription></GeneralError></Error>",
            UnsupportedVersion,
            40,
        ),
        (
            "<GeneralError><ErrorCode>20</ErrorCode>"
            "<ErrorDescription>Invalid request</ErrorDescription></GeneralError>",
            InvalidRequest,
            20,
        ),
        (
            "<GeneralError><ErrorCode>700</ErrorCode><ErrorDescription>Busy</ErrorDescription></GeneralError>",
            ApiError,
            700,
        ),
    ],
)
def test_an_error_answer_raises_its_typed_error(inner, expected, code):
    with pytest.raises(expected) as caught:
        versions_of(export_response(inner))
    assert type(caught.value) is expected
    assert caught.value.code == code


def test_a_version_without_a_minor_is_minor_zero_and_versions_compare_numerically():
    assert SchemaVersion.parse("1") == SchemaVersion(1, 0)
    assert SchemaVersion.parse(" 1.10 ") > SchemaVersion.parse("1.9")
    assert SchemaVersion.parse("2.0", deprecated=True).deprecated
