"""The client reads every error style a camera uses (AMBIGUITIES.md G-6) from the body, never from the status,
and no body, however broken or hostile, gets past the parser as anything but a ProtocolError."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from app.vapix import xmlwire
from app.vapix.errors import (
    ApiError,
    InvalidRequest,
    ProtocolError,
    RequestFailed,
    UnsupportedVersion,
)

XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
DISK_PROPERTIES_ROOT = (
    '<DiskPropertiesResponse xmlns="http://www.axis.com/vapix/http_cgi/disks/properties1" '
    f"{XSI} "
    'xsi:schemaLocation="http://www.axis.com/vapix/http_cgi/disks/properties1 '
    'http://www.axis.com/vapix/http_cgi/disks/properties/disk_properties1.xsd" SchemaVersion="1.0">'
)


def legacy(schema: str, element: str) -> bytes:
    return (
        '<?xml version="1.0" ?>\n'
        f'<root {XSI} xsi:noNamespaceSchemaLocation="http://www.axis.com/vapix/http_cgi/{schema}">\n'
        f"  {element}\n"
        "</root>\n"
    ).encode()


def disk_properties(inner: str) -> bytes:
    declaration = '<?xml version="1.0" encoding="UTF-8"?>'
    return f"{declaration}\n{DISK_PROPERTIES_ROOT}\n  {inner}\n</DiskPropertiesResponse>\n".encode()


def network_share(inner: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<NetworkShareResponse SchemaVersion="1.0" {XSI} '
        'xsi:noNamespaceSchemaLocation="http://www.axis.com/vapix/http_cgi/networkshare1.xsd">\n'
        f"  {inner}\n</NetworkShareResponse>\n"
    ).encode()


def storage_limit(inner: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<StorageLimitsResponse {XSI} SchemaVersion="1.0" '
        'xsi:noNamespaceSchemaLocation="http://www.axis.com/vapix/http_cgi/recordingstoragelimit1.xsd">\n'
        f"  {inner}\n</StorageLimitsResponse>\n"
    ).encode()


def export(inner: str) -> bytes:
    return (
        f'<ExportRecordingResponse {XSI} SchemaVersion="1.2" '
        'xsi:noNamespaceSchemaLocation="http://www.axis.com/vapix/http_cgi/exportrecording1.xsd">'
        f"{inner}</ExportRecordingResponse>"
    ).encode()


def general_error(code: str, description: str) -> str:
    return (
        f"<GeneralError><ErrorCode>{code}</ErrorCode><ErrorDescription>{description}</ErrorDescription></GeneralError>"
    )


def error_of(body: bytes) -> ApiError | None:
    return xmlwire.error_in(xmlwire.parse(body))


# -- the three error styles ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "description"),
    [
        (
            legacy(
                "disk/startjob1.xsd",
                '<job action="format" diskid="SD_DISK" result="ERROR" description="The disk is locked" />',
            ),
            "The disk is locked",
        ),
        (
            legacy(
                "disk/checkjob1.xsd",
                '<job jobid="4" diskid="SD_DISK" action="format" progress="100" result="ERROR" '
                'description="Formatting failed" />',
            ),
            "Formatting failed",
        ),
        (
            legacy(
                "recording/remove1.xsd",
                '<remove recordingid="20240709_125955_7F35_B8A44F9D7D55" result="ERROR" errormsg="No such recording"/>',
            ),
            "No such recording",
        ),
        (legacy("recording/record1.xsd", '<record result="ERROR" errormsg="Disk is full" />'), "Disk is full"),
        (
            legacy(
                "recording/continuousconfigurationremove1.xsd",
                '<remove profile="21" result="ERROR" errormsg="No such profile" />',
            ),
            "No such profile",
        ),
    ],
    ids=["format-job", "job-status", "remove-recording", "record", "remove-profile"],
)
def test_a_legacy_cgi_refusal_is_an_api_error_with_the_cameras_words_and_no_code(body, description):
    error = error_of(body)
    assert type(error) is ApiError
    assert error.description == description
    assert error.code is None


@pytest.mark.parametrize(
    ("code", "expected"),
    [("10", RequestFailed), ("20", InvalidRequest), ("40", UnsupportedVersion)],
)
@pytest.mark.parametrize(
    "wrap",
    [
        lambda e: disk_properties(f"<Error>{e}</Error>"),
        network_share,
        storage_limit,
        export,
        lambda e: export(f"<GetJobStatusSuccess>{e}</GetJobStatusSuccess>"),
        lambda e: network_share(f"<JobSuccess>{e}</JobSuccess>"),
    ],
    ids=["disk-properties", "network-share", "storage-limit", "export", "export-job-failed", "share-job-failed"],
)
def test_the_shared_xml_api_error_codes_become_typed_errors(wrap, code, expected):
    error = error_of(wrap(general_error(code, "Something went wrong")))
    assert type(error) is expected
    assert error.code == int(code)
    assert error.description == "Something went wrong"


def test_the_disk_properties_error_is_found_under_its_default_namespace_exactly_as_the_doc_prints_it():
    body = disk_properties(
        "<Error><GeneralError><ErrorCode>40</ErrorCode>"
        "<ErrorDescription>Unsupported schema version</ErrorDescription></GeneralError></Error>"
    )
    root = xmlwire.parse(body)
    assert etree.QName(root).namespace == "http://www.axis.com/vapix/http_cgi/disks/properties1"
    with pytest.raises(UnsupportedVersion, match="Unsupported schema version") as caught:
        xmlwire.raise_for_error(root)
    assert caught.value.code == 40


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (storage_limit(general_error("110", "Disk not found")), 110),
        (storage_limit(general_error("120", "Invalid size value")), 120),
        (network_share(general_error("610", "Share not found")), 610),
    ],
)
def test_an_api_specific_code_is_a_plain_api_error_that_keeps_its_code(body, code):
    error = error_of(body)
    assert type(error) is ApiError
    assert error.code == code
    assert str(code) in str(error)


def test_a_code_that_is_not_a_number_is_still_an_error():
    error = error_of(network_share(general_error("E42", "Odd firmware")))
    assert type(error) is ApiError
    assert error.code is None
    assert error.description == "Odd firmware"


def test_an_error_without_a_description_still_says_it_is_an_error():
    error = error_of(network_share("<GeneralError><ErrorCode>20</ErrorCode></GeneralError>"))
    assert isinstance(error, InvalidRequest)
    assert error.description


def test_a_general_error_whose_code_is_empty_is_still_an_error():
    # AMBIGUITIES.md G-6: "look for ... a descendant ErrorCode"; an empty one must not read as success.
    body = storage_limit(
        "<GeneralError><ErrorCode></ErrorCode><ErrorDescription>Disk not found</ErrorDescription></GeneralError>"
    )
    error = error_of(body)
    assert isinstance(error, ApiError)
    assert error.description == "Disk not found"


def test_raise_for_error_raises_the_typed_error_and_returns_a_success_root():
    with pytest.raises(InvalidRequest, match="Invalid argument"):
        xmlwire.raise_for_error(xmlwire.parse(network_share(general_error("20", "Invalid argument"))))
    root = xmlwire.parse(network_share("<GeneralSuccess />"))
    assert xmlwire.raise_for_error(root) is root


# -- success bodies --------------------------------------------------------------------------------------------------

REAL_DISK_LIST = (
    b'<?xml version="1.0"?>\n'
    b'<root xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    b'xsi:noNamespaceSchemaLocation="http://www.axis.com/vapix/http_cgi/disk/list1.xsd">\n'
    b'<disks numberofdisks="2" >  <disk diskid="SD_DISK" name="" totalsize="116109036" freesize="63126240" '
    b'cleanuplevel="99" cleanupmaxage="7000" cleanuppolicy="fifo" locked="no" full="no" readonly="no" status="OK" '
    b'filesystem="ext4" group="S0" requiredfilesystem="none" encryptionenabled="false" diskencrypted="false"/>\n'
    b'  <disk diskid="NetworkShare" name="" totalsize="1073741824" freesize="920987392" cleanuplevel="99" '
    b'cleanupmaxage="7000" cleanuppolicy="fifo" locked="no" full="no" readonly="no" status="OK" filesystem="cifs" '
    b'group="S1" requiredfilesystem="none" encryptionenabled="false" diskencrypted="false"/>\n'
    b"</disks> </root>\n"
)


@pytest.mark.parametrize(
    "body",
    [
        REAL_DISK_LIST,
        legacy("disk/startjob1.xsd", '<job action="format" diskid="SD_DISK" result="OK" jobid="11" />'),
        legacy(
            "disk/checkjob1.xsd",
            '<job jobid="4" diskid="SD_DISK" action="format" result="OK" progress="15" description="Formatting" />',
        ),
        legacy("recording/remove1.xsd", '<remove recordingid="20240709_125955_7F35_B8A44F9D7D55" result="OK"/>'),
        disk_properties("<Success><GeneralSuccess /></Success>"),
        network_share("<GeneralSuccess />"),
        network_share("<JobSuccess><Progress>15</Progress></JobSuccess>"),
        network_share('<BindSuccess DiskID="NetworkShare" />'),
        storage_limit(
            '<GetStorageLimitsResponse><StorageLimit diskid="NetworkShare" size="2796202667" usedspace="553324" />'
            "</GetStorageLimitsResponse>"
        ),
        export('<GetJobStatusSuccess><JobStatus Status="In Progress" Progress="45" /></GetJobStatusSuccess>'),
    ],
    ids=[
        "real-disk-list",
        "job-started",
        "job-progress-with-description",
        "recording-removed",
        "disk-properties",
        "share-general",
        "share-job-progress",
        "share-bound",
        "storage-limits",
        "export-job",
    ],
)
def test_a_success_body_carries_no_error(body):
    root = xmlwire.parse(body)
    assert xmlwire.error_in(root) is None
    assert xmlwire.raise_for_error(root) is root


def test_lookups_go_by_local_name_whatever_the_namespace_and_wrappers():
    root = xmlwire.parse(
        disk_properties(
            '<Success><GetAlertLevelsSuccess><AlertLevels Wear="50" Temperature="360"/>'
            "</GetAlertLevelsSuccess></Success>"
        )
    )
    levels = xmlwire.find(root, "AlertLevels")
    assert levels is not None
    assert (levels.get("Wear"), levels.get("Temperature")) == ("50", "360")
    assert xmlwire.find(root, "Nothing") is None
    bind = xmlwire.find(xmlwire.parse(network_share('<BindSuccess DiskID="NetworkShare" />')), "BindSuccess")
    assert xmlwire.attr(bind, "DiskId", "DiskID") == "NetworkShare"


# -- broken bodies ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   \r\n\t ",
        REAL_DISK_LIST[: len(REAL_DISK_LIST) // 2],
        network_share("<GeneralSuccess />")[:-30],
        b'<?xml version="1.0"?>',
        b"<root><job result='OK'></root>",
        b"<root><job action=unmount result='OK'/></root>",  # the doc's unquoted attribute (WIRE.md 2.3)
        b"<HTML><HEAD><TITLE>404 Not Found</TITLE></HEAD>\n<BODY><H1>404 Not Found</H1><P></BODY></HTML>",
        b'{"apiVersion": "1.0", "data": {}}',
        b"OK\n",
        b"<a>\x00</a>",
        b'<?xml version="1.0" encoding="bogus"?><root/>',
        b"\xff\xfe\xfd",
    ],
    ids=[
        "empty",
        "whitespace",
        "truncated-list",
        "truncated-share",
        "declaration-only",
        "unclosed",
        "unquoted-attribute",
        "html-404",
        "json",
        "plain-text",
        "nul",
        "unknown-encoding",
        "binary",
    ],
)
def test_a_body_that_is_not_well_formed_xml_is_a_protocol_error(body):
    with pytest.raises(ProtocolError):
        xmlwire.parse(body)


# -- hostile bodies --------------------------------------------------------------------------------------------------


def billion_laughs(levels: int) -> bytes:
    entities = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, levels + 1)]
    return (
        f'<?xml version="1.0"?><!DOCTYPE root [{"".join(entities)}]>'
        f"<root><GeneralError><ErrorCode>20</ErrorCode><ErrorDescription>&lol{levels};</ErrorDescription>"
        "</GeneralError></root>"
    ).encode()


def outcome(body: bytes) -> str:
    """What a caller could ever see of a body: the tree and its error, or the refusal."""
    try:
        root = xmlwire.parse(body)
    except ProtocolError as exc:
        return f"refused: {exc}"
    return f"{etree.tostring(root).decode()} {xmlwire.error_in(root)!r}"


def test_a_few_nested_entities_parse_but_stay_unexpanded():
    root = xmlwire.parse(billion_laughs(3))
    assert b"lollol" not in etree.tostring(root)
    error = xmlwire.error_in(root)
    assert isinstance(error, InvalidRequest)
    assert "lol" not in error.description


def test_a_billion_laughs_body_is_neither_expanded_nor_a_crash():
    started = time.monotonic()
    assert "lollol" not in outcome(billion_laughs(9))
    assert time.monotonic() - started < 2


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text("TOP-SECRET-CONTENT")
    return path


@pytest.fixture
def listener() -> socket.socket:
    """A port that would see any fetch the parser made."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    yield server
    server.close()


def test_an_external_file_entity_is_not_read(secret_file):
    body = (
        f'<!DOCTYPE root [<!ENTITY xxe SYSTEM "{secret_file.as_uri()}">]>'
        "<root><GeneralError><ErrorCode>10</ErrorCode><ErrorDescription>&xxe;</ErrorDescription></GeneralError></root>"
    ).encode()
    root = xmlwire.parse(body)
    assert b"TOP-SECRET" not in etree.tostring(root)
    error = xmlwire.error_in(root)
    assert isinstance(error, RequestFailed)
    assert "TOP-SECRET" not in str(error)


def test_an_external_parameter_entity_is_not_read(secret_file):
    body = f'<!DOCTYPE root [<!ENTITY % p SYSTEM "{secret_file.as_uri()}"> %p;]><root result="OK"/>'.encode()
    assert "TOP-SECRET" not in outcome(body)


@pytest.mark.parametrize(
    "template",
    [
        '<!DOCTYPE root [<!ENTITY xxe SYSTEM "{url}">]><root><ErrorDescription>&xxe;</ErrorDescription></root>',
        '<!DOCTYPE root SYSTEM "{url}"><root/>',
        '<!DOCTYPE root [<!ENTITY % p SYSTEM "{url}"> %p;]><root/>',
        '<root xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="{url}"/></root>',
    ],
    ids=["general-entity", "external-dtd", "parameter-entity", "xinclude"],
)
def test_nothing_is_fetched_from_the_network(listener, template):
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/evil"
    outcome(template.format(url=url).encode())
    with pytest.raises(TimeoutError):
        listener.accept()


# -- any bytes at all ------------------------------------------------------------------------------------------------

XML_PIECES = st.sampled_from(
    [
        "<",
        ">",
        "</",
        "/>",
        "<?xml version='1.0'?>",
        "<?xml version='1.0' encoding='utf-16'?>",
        "<!DOCTYPE r [",
        "]>",
        '<!ENTITY e "x">',
        "&e;",
        "&amp;",
        "&#0;",
        "<![CDATA[",
        "]]>",
        "<!--",
        "-->",
        "root",
        "GeneralError",
        "ErrorCode",
        "ErrorDescription",
        "10",
        "20",
        "40",
        "99999999999999999999",
        ' result="ERROR"',
        ' errormsg="x"',
        ' xmlns="urn:x"',
        " xmlns:p='urn:p'",
        "p:",
        "=",
        '"',
        " ",
        "\x00",
        "\ufeff",
        "é",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=512), st.lists(XML_PIECES, max_size=40).map(lambda p: "".join(p).encode())))
def test_any_body_either_parses_or_is_a_protocol_error(body):
    try:
        root = xmlwire.parse(body)
    except ProtocolError:
        return
    error = xmlwire.error_in(root)
    assert error is None or isinstance(error, ApiError)
