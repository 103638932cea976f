"""An installer binds a NAS share to the camera and records to it: the NetworkShare disk takes its size from the
share, recordings land under the camera's own folder in the AXIS layout, list.cgi lists them and RTSP plays them
back from the NAS. bind and unbind keep to the spec's order (bound shares cannot be changed or removed, mounted
ones cannot be unbound), and formatting the share empties only this camera's folder."""

from __future__ import annotations

import sqlite3
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from lxml import etree

from tests.device.disk_client import disk, get, get_xml, mount, param_update, run_ok, unmount, until
from tests.device.test_export import export, strip_times
from tests.device.test_network_share_api import add, code, credentials, listing, share_cgi, use_port
from tests.device.test_recorder import decode_times
from tests.device.test_recording_api import cgi
from tests.device.test_recording_api import listing as recordings
from tests.device.test_rtsp_playback import playback_url
from tests.support.device_process import SERIAL
from tests.support.samba import RECORDINGS, SEALED, SambaServer, samba, samba_clean  # noqa: F401

pytestmark = pytest.mark.functional
SHARE = "NetworkShare"
FOLDER = f"axis-{SERIAL}"


def bind(device, share_id: str, **params: str) -> etree._Element:
    return share_cgi(device, "bind", "operator", shareid=share_id, **params)


def added(device, server: SambaServer, name: str = "Samba") -> str:
    use_port(device, server.port)
    return add(device, name, **credentials(server)).find("AddSuccess").get("ShareId")


def mkvs_on_nas(server: SambaServer, recording_id: str) -> list[Path]:
    return sorted(server.local(RECORDINGS, FOLDER).glob(f"*/*/{recording_id}/*/*.mkv"))


def test_bind_unbind_and_the_refusals_that_keep_their_order(device, samba_clean):  # noqa: F811
    first = added(device, samba_clean)
    second = add(device, "Other", **credentials(samba_clean)).find("AddSuccess").get("ShareId")
    assert disk(device, SHARE)["status"] == "disconnected"

    bound = bind(device, first, automaticmount="no")
    assert bound.find("BindSuccess").get("DiskID") == SHARE  # capital ID, as the spec writes it
    assert [s.get("DiskId") for s in listing(device)] == [SHARE, None]
    assert disk(device, SHARE)["status"] == "connected"  # bound, not mounted: automaticmount=no
    assert code(bind(device, first)) == 310
    assert code(bind(device, second)) == 300
    assert code(share_cgi(device, "modify", shareid=first, share="elsewhere")) == 600
    assert code(share_cgi(device, "remove", shareid=first)) == 500
    assert share_cgi(device, "modify", shareid=first, nicename="Front NAS").find("GeneralSuccess") is not None
    assert disk(device, SHARE)["name"] == "Front NAS"  # the disk carries the share's name

    mount(device, SHARE)
    assert disk(device, SHARE)["status"] == "OK"
    assert code(share_cgi(device, "unbind", "operator", shareid=first)) == 400
    unmount(device, SHARE)
    assert share_cgi(device, "unbind", "operator", shareid=first).find("GeneralSuccess") is not None
    assert [s.get("DiskId") for s in listing(device)] == [None, None]
    assert disk(device, SHARE)["status"] == "disconnected"
    assert share_cgi(device, "remove", shareid=f"{first},{second}").find("GeneralSuccess") is not None
    assert code(bind(device, "12345")) == 20
    assert code(bind(device, second, automaticmount="maybe")) == 20


def test_a_recording_on_the_share_is_listed_and_plays_back_from_the_nas(device, samba_clean):  # noqa: F811
    share_id = added(device, samba_clean)
    assert bind(device, share_id).find("BindSuccess") is not None  # automaticmount defaults to yes
    until(lambda: disk(device, SHARE)["status"] == "OK")
    info = disk(device, SHARE)
    assert info["filesystem"] == "cifs"
    assert 0 < int(info["freesize"]) <= int(info["totalsize"])  # kB, from the NAS's own figures

    started = cgi(device, "record.cgi", diskid=SHARE, options="resolution=640x360&fps=15")
    recording_id = started.get("recordingid")
    until(lambda: sum(p.stat().st_size for p in mkvs_on_nas(samba_clean, recording_id)) > 50_000, timeout=20)
    cgi(device, "stop.cgi", recordingid=recording_id)

    entry = recordings(device, diskid=SHARE)[recording_id]
    assert (entry["diskid"], entry["recordingstatus"]) == (SHARE, "completed")
    folder = samba_clean.local(RECORDINGS, FOLDER)
    assert list(folder.glob(f"*/*/{recording_id}/recording.xml"))  # the AXIS layout, in the camera's folder
    times = [t for mkv in mkvs_on_nas(samba_clean, recording_id) for t in decode_times(mkv.read_bytes())]
    assert len(times) >= 15
    start, stop = (datetime.fromisoformat(entry[k]) for k in ("starttime", "stoptime"))
    assert start - timedelta(milliseconds=1) <= times[0]  # the strip shows whole milliseconds
    assert times[-1] < stop

    played = subprocess.run(
        ["ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-count_frames", "-select_streams", "v:0",
         "-show_entries", "stream=nb_read_frames,width", "-of", "csv=p=0", playback_url(device, recording_id)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    width, frames = played.stdout.strip().split(",")
    assert (width, int(frames)) == ("640", len(times)), played.stderr

    exported = export(device, {"recordingid": recording_id}, diskid=SHARE)  # a clip straight from the NAS
    assert exported.status_code == 200
    assert strip_times(exported.content) == times

    unmount(device, SHARE)  # the index goes to the share with the recordings, as real cameras keep it
    with sqlite3.connect(folder / "index.db") as index:
        assert index.execute("SELECT id FROM recordings").fetchall() == [(recording_id,)]


def test_formatting_the_share_empties_only_this_cameras_folder(device, samba_clean):  # noqa: F811
    neighbour = samba_clean.local(RECORDINGS, "axis-B8A44F000002")
    neighbour.mkdir()
    (neighbour / "index.db").write_bytes(b"another camera's")
    share_id = added(device, samba_clean)
    bind(device, share_id)
    until(lambda: disk(device, SHARE)["status"] == "OK")
    recording_id = cgi(device, "record.cgi", diskid=SHARE).get("recordingid")
    until(lambda: mkvs_on_nas(samba_clean, recording_id))
    cgi(device, "stop.cgi", recordingid=recording_id)

    run_ok(device, "format", SHARE, filesystem="cifs")
    assert disk(device, SHARE)["status"] == "OK"
    assert recordings(device, diskid=SHARE) == {}
    assert mkvs_on_nas(samba_clean, recording_id) == []
    assert (neighbour / "index.db").read_bytes() == b"another camera's"
    refused = get_xml(device, "/axis-cgi/disks/format.cgi", diskid=SHARE, filesystem="ext4")
    assert "cifs" in refused.find(".//*[@result='ERROR']").get("description")


def test_the_port_can_be_set_as_the_shares_own_parameter(device, samba_clean):  # noqa: F811
    """NetworkShare.N#.Port instead of ExtraMountOptions' port=, as WIRE.md §10 lists it; fixed while bound."""
    share_id = add(device, "Samba", **credentials(samba_clean)).find("AddSuccess").get("ShareId")
    param_update(device, **{"root.NetworkShare.N0.Port": str(samba_clean.port)})
    bind(device, share_id)
    until(lambda: disk(device, SHARE)["status"] == "OK")
    refused = get(device, "/axis-cgi/param.cgi", action="update", **{"root.NetworkShare.N0.Port": "445"})
    assert refused.text.startswith("# Error")
    assert "bound" in refused.text
    assert get(device, "/axis-cgi/param.cgi", action="list", group="NetworkShare.N0.Port").text.strip() == (
        f"root.NetworkShare.N0.Port={samba_clean.port}"
    )


def test_a_bound_share_is_mounted_again_after_a_restart_and_keeps_its_recordings(device, samba_clean):  # noqa: F811
    share_id = added(device, samba_clean)
    bind(device, share_id)
    until(lambda: disk(device, SHARE)["status"] == "OK")
    recording_id = cgi(device, "record.cgi", diskid=SHARE).get("recordingid")
    until(lambda: mkvs_on_nas(samba_clean, recording_id))
    cgi(device, "stop.cgi", recordingid=recording_id)

    device.restart()
    assert [s.get("DiskId") for s in listing(device)] == [SHARE]
    until(lambda: disk(device, SHARE)["status"] == "OK")
    assert recordings(device, diskid=SHARE)[recording_id]["recordingstatus"] == "completed"


def test_the_mount_follows_the_dialect_and_encryption_of_the_mount_options(device, samba_clean):  # noqa: F811
    """vers= and seal apply to the recording connection too, not only to test.cgi. The sealed share needs SMB 3
    encryption: pinned to SMB 2.1 the mount fails (and keeps trying), with 3.1.1 and seal it records."""
    use_port(device, samba_clean.port, "vers=2.1")
    share_id = add(device, "Sealed", **credentials(samba_clean, SEALED)).find("AddSuccess").get("ShareId")
    bind(device, share_id)
    assert disk(device, SHARE)["status"] == "disconnected"
    assert share_cgi(device, "unbind", "operator", shareid=share_id).find("GeneralSuccess") is not None

    use_port(device, samba_clean.port, "vers=3.1.1,seal")
    bind(device, share_id)
    until(lambda: disk(device, SHARE)["status"] == "OK")
    recording_id = cgi(device, "record.cgi", diskid=SHARE).get("recordingid")
    folder = samba_clean.local(SEALED, FOLDER)
    until(lambda: list(folder.glob(f"*/*/{recording_id}/*/*.mkv")))
    cgi(device, "stop.cgi", recordingid=recording_id)
    assert recordings(device, diskid=SHARE)[recording_id]["recordingstatus"] == "completed"
