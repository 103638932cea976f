"""The XML answers start with the root element, namespace and schema location real cameras send (WIRE.md §1)."""

from __future__ import annotations

import pytest
from lxml import etree

from device.http.xml import (
    DISK_PROPERTIES,
    EXPORT,
    NETWORK_SHARE,
    STORAGE_LIMIT,
    XSI,
    XmlApi,
    legacy_root,
    xml_response,
)

XSI_DECL = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
BASE = "http://www.axis.com/vapix/http_cgi/"
DISK_PROPERTIES_NS = "http://www.axis.com/vapix/http_cgi/disks/properties1"


def text(element: etree._Element) -> str:
    return etree.tostring(element, encoding="unicode")


def local_names(element: etree._Element) -> list[str]:
    return [etree.QName(e).localname for e in element.iter()]


@pytest.mark.parametrize(
    "schema", ["disk/list1.xsd", "disk/capabilities1.xsd", "disk/startjob1.xsd", "recording/list1.xsd"]
)
def test_a_legacy_root_is_root_with_a_no_namespace_schema_location(schema):
    assert text(legacy_root(schema)) == (
        f'<root {XSI_DECL} xsi:noNamespaceSchemaLocation="http://www.axis.com/vapix/http_cgi/{schema}"/>'
    )


def test_the_disk_list_root_is_exactly_the_real_one():
    serialised = text(legacy_root("disk/list1.xsd"))
    assert XSI_DECL in serialised
    assert 'xsi:noNamespaceSchemaLocation="http://www.axis.com/vapix/http_cgi/disk/list1.xsd"' in serialised
    assert legacy_root("disk/list1.xsd").get(f"{{{XSI}}}noNamespaceSchemaLocation") == BASE + "disk/list1.xsd"


def test_disk_properties_uses_a_default_namespace_with_a_schema_location():
    root = DISK_PROPERTIES.root()
    serialised = text(root)
    assert root.tag == f"{{{DISK_PROPERTIES_NS}}}DiskPropertiesResponse"
    assert serialised.startswith("<DiskPropertiesResponse ")  # default namespace: no prefix
    assert f'xmlns="{DISK_PROPERTIES_NS}"' in serialised
    assert XSI_DECL in serialised
    assert root.get(f"{{{XSI}}}schemaLocation") == (
        "http://www.axis.com/vapix/http_cgi/disks/properties1 "
        "http://www.axis.com/vapix/http_cgi/disks/properties/disk_properties1.xsd"
    )
    assert "noNamespaceSchemaLocation" not in serialised
    assert root.get("SchemaVersion", "").startswith("1.")


def test_disk_properties_children_are_in_its_namespace():
    root = DISK_PROPERTIES.root()
    child = DISK_PROPERTIES.sub(root, "DiskAlertLevels", diskid="SD_DISK")
    assert child.tag == f"{{{DISK_PROPERTIES_NS}}}DiskAlertLevels"
    assert "<DiskAlertLevels " in text(root)  # unprefixed
    assert child.get("diskid") == "SD_DISK"


@pytest.mark.parametrize(
    ("api", "tag", "schema", "version"),
    [
        (NETWORK_SHARE, "NetworkShareResponse", "networkshare1.xsd", "1.0"),
        (STORAGE_LIMIT, "StorageLimitsResponse", "recordingstoragelimit1.xsd", "1.0"),
        (EXPORT, "ExportRecordingResponse", "exportrecording1.xsd", None),
    ],
    ids=["networkshare", "storagelimit", "export"],
)
def test_the_versioned_roots_carry_schema_version_then_no_namespace_schema_location(api, tag, schema, version):
    root = api.root()
    serialised = text(root)
    assert root.tag == tag  # no namespace
    assert serialised.startswith(f"<{tag} {XSI_DECL} ")
    assert root.get(f"{{{XSI}}}noNamespaceSchemaLocation") == BASE + schema
    schema_version = root.get("SchemaVersion")
    assert schema_version is not None
    if version:
        assert schema_version == version
    else:
        assert schema_version in {"1.0", "1.1", "1.2"}
    assert serialised.index("SchemaVersion=") < serialised.index("xsi:noNamespaceSchemaLocation=")


@pytest.mark.parametrize("api", [DISK_PROPERTIES, NETWORK_SHARE, STORAGE_LIMIT, EXPORT], ids=lambda a: a.root_tag)
def test_a_root_can_answer_with_the_version_the_client_asked_for(api):
    assert api.root("1.0").get("SchemaVersion") == "1.0"


@pytest.mark.parametrize("api", [DISK_PROPERTIES, NETWORK_SHARE, STORAGE_LIMIT, EXPORT], ids=lambda a: a.root_tag)
def test_an_error_nests_general_error_with_code_and_description(api):
    root = api.error(40, "Specified version is not supported.")
    assert local_names(root) == [api.root_tag, "GeneralError", "ErrorCode", "ErrorDescription"]
    general = root[0]
    assert general[0].text == "40"
    assert general[1].text == "Specified version is not supported."
    assert etree.QName(general).namespace == api.namespace


@pytest.mark.parametrize("api", [DISK_PROPERTIES, NETWORK_SHARE], ids=lambda a: a.root_tag)
def test_an_error_can_sit_inside_a_wrapper_element(api):
    root = api.error(20, "Invalid request.", wrapper="ListResponse")
    assert local_names(root) == [api.root_tag, "ListResponse", "GeneralError", "ErrorCode", "ErrorDescription"]
    assert root[0][0][0].text == "20"
    assert all(etree.QName(e).namespace == api.namespace for e in root.iter())


def test_error_text_is_escaped_not_injected():
    root = NETWORK_SHARE.error(10, "<b>bad</b> & worse")
    serialised = text(root)
    assert "&lt;b&gt;bad&lt;/b&gt; &amp; worse" in serialised
    assert etree.fromstring(serialised.encode())[0][1].text == "<b>bad</b> & worse"


@pytest.mark.parametrize("api", [DISK_PROPERTIES, NETWORK_SHARE, STORAGE_LIMIT, EXPORT], ids=lambda a: a.root_tag)
@pytest.mark.parametrize("requested", ["1", "1.0", "1.2", " 1 "])
def test_any_version_of_major_1_is_accepted(api, requested):
    assert api.schema_error(requested) is None


@pytest.mark.parametrize("api", [DISK_PROPERTIES, NETWORK_SHARE, STORAGE_LIMIT, EXPORT], ids=lambda a: a.root_tag)
@pytest.mark.parametrize("requested", ["2", "2.0", "0", "10"])
def test_another_major_version_is_error_40(api, requested):
    error = api.schema_error(requested)
    assert error is not None
    assert error[0] == 40


@pytest.mark.parametrize("api", [DISK_PROPERTIES, NETWORK_SHARE, STORAGE_LIMIT, EXPORT], ids=lambda a: a.root_tag)
@pytest.mark.parametrize("requested", ["", "  ", None, "x", "1.x", "v1", "-1", "1.0.0"])
def test_a_missing_or_unreadable_version_is_error_20(api, requested):
    error = api.schema_error(requested)
    assert error is not None
    assert error[0] == 20


def test_a_new_api_reports_its_major_version():
    assert XmlApi("XResponse", "x1.xsd", "3.4").major == 3


def test_an_xml_response_is_utf8_text_xml_with_a_declaration():
    response = xml_response(legacy_root("disk/list1.xsd"))
    assert response.content_type == "text/xml"
    assert response.charset == "utf-8"
    assert response.status == 200
    body = response.body
    assert isinstance(body, bytes)
    assert body.startswith(b"<?xml ")
    assert etree.fromstring(body).tag == "root"
