"""What the disk tests do to a running camera: the disk CGIs over real HTTP with Digest auth, job polling, the
admin-only scenario hooks, and a look at the SD card's folder. Plain functions, so each test reads as a story."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import httpx
from lxml import etree

from tests.support.device_process import CREDENTIALS

SD = "SD_DISK"
SHARE = "NetworkShare"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_BASE = "http://www.axis.com/vapix/http_cgi/"
DP_NS = "http://www.axis.com/vapix/http_cgi/disks/properties1"
MATROSKA_MAGIC = bytes.fromhex("1A45DFA3")
# WIRE.md §2.1: real firmware's order, then the document's name for the encryption flag.
LIST_ATTRIBUTES = [
    "diskid",
    "name",
    "totalsize",
    "freesize",
    "cleanuplevel",
    "cleanupmaxage",
    "cleanuppolicy",
    "locked",
    "full",
    "readonly",
    "status",
    "filesystem",
    "group",
    "requiredfilesystem",
    "encryptionenabled",
    "diskencrypted",
    "diskencryptionenabled",
]

T = TypeVar("T")


def until(probe: Callable[[], T], timeout: float = 15.0, interval: float = 0.02) -> T:
    """Poll `probe` until it returns something truthy; that value is returned."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met within {timeout} s (last: {value!r})")
        time.sleep(interval)


def get(device, path: str, role: str = "admin", **params: str) -> httpx.Response:
    return httpx.get(f"{device.http_url}{path}", params=params, auth=httpx.DigestAuth(*CREDENTIALS[role]), timeout=20)


def get_xml(device, path: str, role: str = "admin", **params: str) -> etree._Element:
    response = get(device, path, role, **params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/xml")
    return etree.fromstring(response.content)


# --- disks/list.cgi --------------------------------------------------------------------------------------------


def list_root(device, diskid: str = "all", role: str = "admin") -> etree._Element:
    return get_xml(device, "/axis-cgi/disks/list.cgi", role, diskid=diskid)


def disks(device, diskid: str = "all") -> dict[str, dict[str, str]]:
    return {d.get("diskid"): dict(d.attrib) for d in list_root(device, diskid).iter("disk")}


def disk(device, diskid: str = SD) -> dict[str, str]:
    return disks(device, diskid)[diskid]


# --- jobs ------------------------------------------------------------------------------------------------------


def start_job(device, cgi: str, diskid: str = SD, role: str = "admin", **params: str) -> dict[str, str]:
    """The `<job>` of a job CGI's start response (format, checkdisk, repair, mount)."""
    root = get_xml(device, f"/axis-cgi/disks/{cgi}.cgi", role, diskid=diskid, **params)
    assert root.get(f"{{{XSI}}}noNamespaceSchemaLocation") == SCHEMA_BASE + "disk/startjob1.xsd"
    (job,) = root.findall("job")
    return dict(job.attrib)


def job_status(device, jobid: str, diskid: str = SD, role: str = "admin") -> dict[str, str]:
    root = get_xml(device, "/axis-cgi/disks/job.cgi", role, jobid=jobid, diskid=diskid)
    assert root.get(f"{{{XSI}}}noNamespaceSchemaLocation") == SCHEMA_BASE + "disk/checkjob1.xsd"
    (job,) = root.findall("job")
    return dict(job.attrib)


def wait_job(device, jobid: str, diskid: str = SD, timeout: float = 20.0) -> dict[str, str]:
    """Poll job.cgi as real clients do: until progress is 100."""
    return until(lambda: (status := job_status(device, jobid, diskid))["progress"] == "100" and status, timeout=timeout)


def run_job(device, cgi: str, diskid: str = SD, **params: str) -> dict[str, str]:
    """Start a job, expect the camera to accept it, and return job.cgi's final answer."""
    started = start_job(device, cgi, diskid, **params)
    assert started["result"] == "OK", started
    return wait_job(device, started["jobid"], diskid)


def run_ok(device, cgi: str, diskid: str = SD, **params: str) -> str:
    """A job that must succeed; its description."""
    done = run_job(device, cgi, diskid, **params)
    assert done["result"] == "OK", done
    return done["description"]


def unmount(device, diskid: str = SD) -> str:
    return run_ok(device, "mount", diskid, action="unmount")


def mount(device, diskid: str = SD) -> str:
    return run_ok(device, "mount", diskid, action="mount")


# --- properties, limits, health, lock ------------------------------------------------------------------------


def props(device, cgi: str, role: str = "admin", **params: str) -> etree._Element:
    """A disk properties CGI; schemaversion=1 and diskid=SD_DISK unless given."""
    params = {"schemaversion": "1", "diskid": SD, **params}
    params = {k: v for k, v in params.items() if v is not None}
    return get_xml(device, f"/axis-cgi/disks/properties/{cgi}.cgi", role, **params)


def dp(tag: str) -> str:
    return f"{{{DP_NS}}}{tag}"


def dp_ok(root: etree._Element) -> None:
    assert root.tag == dp("DiskPropertiesResponse"), etree.tostring(root)
    assert root.find(f"{dp('Success')}/{dp('GeneralSuccess')}") is not None, etree.tostring(root)


def dp_error(root: etree._Element) -> int:
    """The code of `DiskPropertiesResponse > Error > GeneralError > ErrorCode`, with a description."""
    assert root.tag == dp("DiskPropertiesResponse"), etree.tostring(root)
    assert root.find(dp("Success")) is None
    general = root.find(f"{dp('Error')}/{dp('GeneralError')}")
    assert general is not None, etree.tostring(root)
    assert (general.findtext(dp("ErrorDescription")) or "").strip()
    return int(general.findtext(dp("ErrorCode")) or "-1")


def limits(device, **params: str) -> etree._Element:
    return get_xml(device, "/axis-cgi/record/storage/getlimit.cgi", **{"schemaversion": "1", **params})


def limit_of(device, diskid: str = SD) -> dict[str, str]:
    return {e.get("diskid"): dict(e.attrib) for e in limits(device).iter("StorageLimit")}[diskid]


def set_limit(device, **params: str) -> etree._Element:
    return get_xml(device, "/axis-cgi/record/storage/setlimit.cgi", **{"schemaversion": "1", **params})


def error_code(root: etree._Element) -> int | None:
    code = root.findtext("GeneralError/ErrorCode")
    return int(code) if code is not None else None


def health(device) -> dict[str, dict[str, str]]:
    root = get_xml(device, "/axis-cgi/disks/gethealth.cgi")
    return {e.get("diskid"): dict(e.attrib) for e in root.iter("HealthStatus")}


def lock(device, action: str = "lock", diskid: str = SD) -> etree._Element:
    return get_xml(device, "/axis-cgi/disks/lock.cgi", action=action, diskid=diskid)


# --- param.cgi -------------------------------------------------------------------------------------------------


def param(device, name: str) -> str:
    text = get(device, "/axis-cgi/param.cgi", action="list", group=name).text
    line = text.strip()
    assert line.startswith(f"root.{name}="), text
    return line.split("=", 1)[1]


def param_update(device, **changes: str) -> None:
    response = get(device, "/axis-cgi/param.cgi", action="update", **changes)
    assert response.text == "OK\n", response.text


# --- scenarios and the card's folder ---------------------------------------------------------------------------


def scenario(device, verb: str, diskid: str = SD, **params: str) -> httpx.Response:
    return httpx.post(
        f"{device.http_url}/local/edgestore/scenario/disks/{diskid}/{verb}",
        params=params,
        auth=httpx.DigestAuth(*CREDENTIALS["admin"]),
        timeout=60,
    )


def sample(device, seconds: int = 4, blockseconds: int = 2, agedays: float = 0) -> str:
    """A short real recording on the SD card; its recording ID."""
    response = scenario(
        device, "sample-recording", seconds=str(seconds), blockseconds=str(blockseconds), agedays=str(agedays)
    )
    assert response.status_code == 200, response.text
    return response.json()["recordingid"]


def card(device) -> Path:
    return device.data_dir / "sdcard"


def mkv_files(device, recording_id: str | None = None) -> list[Path]:
    found = sorted(card(device).glob("[0-9]*/[0-9]*/*/*_*/*.mkv"))
    return [p for p in found if recording_id is None or p.parent.parent.name == recording_id]


def snapshot(paths: list[Path]) -> dict[Path, tuple[bytes, int]]:
    """Each file's bytes and modification time, to show nothing rewrote them."""
    return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in paths}
