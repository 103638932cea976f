"""An installer adds NAS shares to the camera and tests them against a real Samba server before recording to them:
add, list, modify and remove with the spec's refusals, the password never shown, and test.cgi's job reaching each
of its error codes from a real cause."""

from __future__ import annotations

import os
import time

import pytest
from lxml import etree

from tests.device.disk_client import get, get_xml, param_update, until
from tests.support.samba import READONLY, RECORDINGS, SEALED, SambaServer, free_port, samba, samba_clean  # noqa: F401

pytestmark = pytest.mark.functional

BASE = "/axis-cgi/disks/networkshare"


def share_cgi(device, name: str, role: str = "admin", **params: str) -> etree._Element:
    params.setdefault("schemaversion", "1")
    root = get_xml(device, f"{BASE}/{name}.cgi", role, **params)
    assert root.tag == "NetworkShareResponse"
    return root


def code(root: etree._Element) -> int | None:
    found = root.findtext(".//GeneralError/ErrorCode")
    return None if found is None else int(found)


def listing(device, **params: str) -> list[dict[str, str]]:
    root = share_cgi(device, "list", "operator", **params)
    shares = root.find("ListSuccess/NetworkShares")
    assert shares is not None, etree.tostring(root)
    assert int(shares.get("NumberOfShares")) == len(shares)
    return [dict(s.attrib) for s in shares]


def add(device, nicename: str, **params: str) -> etree._Element:
    params = {"address": "nas.example", "share": "cameras", "user": "cam", "pass": "s3cret!", **params}
    return share_cgi(device, "add", nicename=nicename, **params)


def test_shares_are_added_listed_modified_and_removed_without_ever_showing_the_password(device):
    first = add(device, "Front NAS").find("AddSuccess").get("ShareId")
    assert first.isdigit()  # numeric, as real firmware assigns them
    assert add(device, "Back NAS", shareid="back-1").find("AddSuccess").get("ShareId") == "back-1"

    shares = listing(device)  # without shareid, as real clients ask
    assert [s["NiceName"] for s in shares] == ["Front NAS", "Back NAS"]
    assert shares[0] == {
        "NiceName": "Front NAS",
        "ShareId": first,
        "Address": "nas.example",
        "Share": "cameras",
        "User": "cam",
    }
    assert [s["ShareId"] for s in listing(device, shareid="back-1")] == ["back-1"]
    assert len(listing(device, shareid="all")) == 2

    params = get(device, "/axis-cgi/param.cgi", action="list", group="NetworkShare").text
    assert "root.NetworkShare.N0.Password=******" in params
    assert f"root.NetworkShare.N0.ShareId={first}" in params
    assert "s3cret!" not in params
    assert "s3cret!" not in etree.tostring(share_cgi(device, "list")).decode()
    assert get(device, "/axis-cgi/param.cgi", action="list", group="NetworkShare", role="operator").status_code == 200
    assert "NetworkShare.N0" not in get(device, "/axis-cgi/param.cgi", role="operator", action="list").text

    assert (
        share_cgi(device, "modify", shareid=first, nicename="Front", share="cams2").find("GeneralSuccess") is not None
    )
    assert listing(device, shareid=first)[0]["Share"] == "cams2"
    assert share_cgi(device, "remove", shareid=f"{first},back-1").find("GeneralSuccess") is not None
    assert listing(device) == []
    assert "NetworkShare.N0" not in get(device, "/axis-cgi/param.cgi", action="list").text


def test_every_refusal_of_add_modify_and_remove_has_its_code(device):
    add(device, "One", shareid="one")
    assert code(add(device, "Bad", shareid="no spaces")) == 200
    assert code(add(device, "Two", shareid="one")) == 210
    assert code(add(device, "One")) == 220
    assert code(share_cgi(device, "add", nicename="x", address="nas")) == 20  # no share
    for n in range(7):
        add(device, f"Filler {n}")
    assert code(add(device, "Too many")) == 230
    add_free = [s["ShareId"] for s in listing(device) if s["NiceName"].startswith("Filler")]
    assert code(share_cgi(device, "modify", shareid="one", nicename="Filler 0")) == 620
    assert code(share_cgi(device, "modify", shareid="nope", nicename="x")) == 20
    assert code(share_cgi(device, "remove", shareid=f"{add_free[0]},nope")) == 20
    assert len(listing(device)) == 8  # all or nothing
    assert code(share_cgi(device, "list", schemaversion="2")) == 40
    assert share_cgi(device, "schemaversions").findtext(".//VersionNumber") == "1.0"
    assert get(device, f"{BASE}/add.cgi", "operator", schemaversion="1", nicename="x").status_code == 401


# --- test.cgi against a real Samba server --------------------------------------------------------------------------


def use_port(device, port: int, extra: str = "") -> None:
    """The camera reaches the test NAS on its high port through mount.cifs's option, as an installer would set it."""
    param_update(device, **{"root.Storage.S1.ExtraMountOptions": ",".join(filter(None, [f"port={port}", extra]))})


def run_test(device, **params: str) -> etree._Element:
    started = share_cgi(device, "test", "operator", **params)
    job = started.find("TestSuccess")
    assert job is not None, etree.tostring(started)
    progress: list[int] = []

    def finished() -> tuple[etree._Element] | None:
        body = share_cgi(device, "job", "operator", jobid=job.get("JobId")).find("JobSuccess")
        if body.find("Progress") is not None:
            progress.append(int(body.findtext("Progress")))
            return None
        return (body,)

    (body,) = until(finished, timeout=30, interval=0.05)
    assert progress == sorted(progress)
    return body


def credentials(server: SambaServer, share: str = RECORDINGS) -> dict[str, str]:
    return {"address": server.host, "share": share, "user": server.user, "pass": server.password}


def test_a_good_share_passes_the_test_and_nothing_is_left_on_it(device, samba_clean):  # noqa: F811
    use_port(device, samba_clean.port)
    body = run_test(device, **credentials(samba_clean))
    assert body.find("GeneralSuccess") is not None, etree.tostring(body)
    assert os.listdir(samba_clean.local(RECORDINGS)) == []

    stored = add(device, "Samba", **credentials(samba_clean)).find("AddSuccess").get("ShareId")
    assert run_test(device, shareid=stored).find("GeneralSuccess") is not None
    assert run_test(device, shareid=stored, **{"pass": "wrong"}).findtext("GeneralError/ErrorCode") == "710"


@pytest.mark.parametrize("dialect", ["2.1", "3.0", "3.1.1"])
def test_the_dialect_and_encryption_follow_the_mount_options(device, samba_clean, dialect):  # noqa: F811
    use_port(device, samba_clean.port, f"vers={dialect}")
    assert run_test(device, **credentials(samba_clean)).find("GeneralSuccess") is not None
    if dialect != "2.1":
        use_port(device, samba_clean.port, f"vers={dialect},seal")
        assert run_test(device, **credentials(samba_clean, SEALED)).find("GeneralSuccess") is not None


def test_each_failure_cause_has_its_code(device, samba_clean):  # noqa: F811
    use_port(device, samba_clean.port)
    good = credentials(samba_clean)
    causes = {
        "700": {**good, "address": "no-such-host.invalid"},
        "710": {**good, "pass": "wrong password"},
        "740": credentials(samba_clean, READONLY),
    }
    for expected, params in causes.items():
        body = run_test(device, **params)
        assert body.findtext("GeneralError/ErrorCode") == expected, etree.tostring(body)
    missing = run_test(device, **{**good, "share": "no-such-share"})
    assert missing.findtext("GeneralError/ErrorCode") == "710"
    assert "no-such-share" in missing.findtext("GeneralError/ErrorDescription")
    use_port(device, free_port())
    assert run_test(device, **good).findtext("GeneralError/ErrorCode") == "760"
    use_port(device, samba_clean.port, "vers=1.0")
    assert code(share_cgi(device, "test", "operator", **good)) == 20
    assert code(share_cgi(device, "test", "operator", address=samba_clean.host)) == 20
    assert code(share_cgi(device, "job", "operator", jobid="9999")) == 20


def test_a_third_test_while_two_hang_is_refused(device, samba_clean):  # noqa: F811
    use_port(device, samba_clean.port)
    samba_clean.freeze()  # the NAS accepts connections and then says nothing
    try:
        for _ in range(2):
            assert share_cgi(device, "test", "operator", **credentials(samba_clean)).find("TestSuccess") is not None
        time.sleep(0.3)
        assert code(share_cgi(device, "test", "operator", **credentials(samba_clean))) == 730
    finally:
        samba_clean.thaw()
