"""An installer caps how much of a disk the camera's recordings may use, with the Recording storage limit API
(WIRE.md §4, AMBIGUITIES.md L-*). Sizes are kB; 0 disables the limit; the smallest limit is 1 GiB."""

from __future__ import annotations

import pytest

from tests.device.disk_client import (
    SD,
    SHARE,
    XSI,
    get,
    get_xml,
    limit_of,
    limits,
    mkv_files,
    sample,
    set_limit,
)

pytestmark = pytest.mark.functional

ROOT = "StorageLimitsResponse"
SCHEMA = "http://www.axis.com/vapix/http_cgi/recordingstoragelimit1.xsd"
MIN_KB = 1048576


def code(root) -> int:
    assert root.tag == ROOT
    general = root.find("GeneralError")
    assert general is not None, root
    assert (general.findtext("ErrorDescription") or "").strip()
    return int(general.findtext("ErrorCode"))


def test_the_limits_of_all_disks_have_the_documented_shape(shared_device):
    root = limits(shared_device)
    assert root.tag == ROOT
    assert root.get(f"{{{XSI}}}noNamespaceSchemaLocation") == SCHEMA
    assert root.get("SchemaVersion") == "1.0"
    (wrapper,) = root
    assert wrapper.tag == "GetStorageLimitsResponse"
    assert sorted(e.get("diskid") for e in wrapper.iter("StorageLimit")) == [SHARE, SD]
    for element in wrapper:
        assert element.tag == "StorageLimit"
        assert set(element.attrib) == {"diskid", "size", "usedspace"}
        assert element.get("size") == "0"  # no limit on a fresh camera
        assert element.get("usedspace").isdigit()


def test_the_limit_of_one_disk(shared_device):
    root = limits(shared_device, diskid=SHARE)
    assert [e.get("diskid") for e in root.iter("StorageLimit")] == [SHARE]


def test_setting_a_limit_is_a_general_success_and_getlimit_shows_it(camera):
    root = set_limit(camera, diskid=SD, size="2097152")
    assert root.tag == ROOT
    assert root.get(f"{{{XSI}}}noNamespaceSchemaLocation") == SCHEMA
    assert [child.tag for child in root] == ["GeneralSuccess"]
    assert limit_of(camera, SD)["size"] == "2097152"
    assert limit_of(camera, SHARE)["size"] == "0"


def test_the_smallest_limit_is_accepted_and_zero_disables_it(camera):
    set_limit(camera, diskid=SD, size=str(MIN_KB))
    assert limit_of(camera)["size"] == str(MIN_KB)
    assert [c.tag for c in set_limit(camera, diskid=SD, size="0")] == ["GeneralSuccess"]
    assert limit_of(camera)["size"] == "0"


def test_an_operator_may_set_a_limit(camera):
    response = get(
        camera, "/axis-cgi/record/storage/setlimit.cgi", "operator", schemaversion="1", diskid=SD, size=str(MIN_KB)
    )
    assert response.status_code == 200
    assert limit_of(camera)["size"] == str(MIN_KB)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"diskid": "DUMMY", "size": str(MIN_KB)}, 110),
        ({"diskid": SD, "size": "textstring"}, 120),
        ({"diskid": SD, "size": "-1"}, 120),
        ({"diskid": SD, "size": "1.5"}, 120),
        ({"diskid": SD, "size": "1048575"}, 130),
        ({"diskid": SD, "size": "1"}, 130),
        ({"diskid": SD}, 20),
        ({"size": str(MIN_KB)}, 20),
        ({"diskid": SD, "size": str(MIN_KB), "schemaversion": "2"}, 40),
        ({"diskid": SD, "size": str(MIN_KB), "schemaversion": ""}, 20),
    ],
)
def test_a_refused_limit_is_a_general_error_with_its_code_and_changes_nothing(shared_device, params, expected):
    assert code(set_limit(shared_device, **params)) == expected
    assert limit_of(shared_device)["size"] == "0"


@pytest.mark.parametrize(("params", "expected"), [({"diskid": "DUMMY"}, 110), ({"schemaversion": "2"}, 40)])
def test_getlimit_refusals(shared_device, params, expected):
    assert code(limits(shared_device, **params)) == expected


def test_getlimit_accepts_schemaversion_1_0(shared_device):
    assert limits(shared_device, schemaversion="1.0").find("GetStorageLimitsResponse") is not None


def test_the_schema_versions(shared_device):
    root = get_xml(shared_device, "/axis-cgi/record/storage/schemaversions.cgi")
    assert root.tag == ROOT
    versions = root.findall("SchemaVersionsSuccess/SchemaVersion")
    assert [v.findtext("VersionNumber") for v in versions] == ["1.0"]
    assert versions[0].findtext("Deprecated") == "false"


def test_used_space_counts_what_the_recordings_take(camera):
    """Regression: usedspace subtracts the index files' size from a count that never included their growth, so a card
    with recordings reports 0 kB (manager.used_by_recordings)."""
    before = int(limit_of(camera)["usedspace"])
    recording = sample(camera, seconds=10, blockseconds=5)
    video_kb = sum(p.stat().st_size for p in mkv_files(camera, recording)) // 1024
    assert video_kb > 0
    after = int(limit_of(camera)["usedspace"])
    assert after >= before + video_kb, (before, after, video_kb)
