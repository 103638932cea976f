"""The recording store's files on a real Samba share behave as local files do: what the store, the recorder and
playback rely on (write-then-rename, a block read while it is written, globbing the AXIS layout, folders pruned)
holds over SMB, and a share that goes away says so as StorageUnavailable, not as a missing file."""

from __future__ import annotations

import uuid

import pytest

from device.storage.smbpath import SmbPath, SmbVolume, StorageUnavailable
from tests.support.samba import RECORDINGS, SambaServer, samba, samba_clean, unique_name  # noqa: F401

pytestmark = pytest.mark.functional


def _volume(server: SambaServer) -> SmbVolume:
    kwargs = {**server.client_kwargs(), "connection_cache": {}, "connection_timeout": 5}
    return SmbVolume(server.host, RECORDINGS, kwargs)


@pytest.fixture
def root(samba_clean: SambaServer) -> SmbPath:  # noqa: F811
    path = _volume(samba_clean).root(f"axis-{uuid.uuid4().hex[:8].upper()}")
    path.mkdir(parents=True, exist_ok=True)
    return path


def test_derived_paths_stay_on_the_share(root: SmbPath):
    block = root / "20261124" / "10" / "rec" / "20261124_10" / "tok.mkv"
    assert isinstance(block.parent, SmbPath)
    assert isinstance(block.with_suffix(".xml"), SmbPath)
    assert block.volume is root.volume
    assert block.relative_to(root).as_posix() == "20261124/10/rec/20261124_10/tok.mkv"
    assert block.unc.endswith(r"\recordings" + "\\" + root.name + r"\20261124\10\rec\20261124_10\tok.mkv")


def test_files_written_over_smb_are_on_the_nas(samba_clean: SambaServer, root: SmbPath):  # noqa: F811
    folder = root / "20261124" / "10"
    folder.mkdir(parents=True, exist_ok=True)
    folder.mkdir(parents=True, exist_ok=True)  # again: exist_ok holds
    (folder / "a.xml").write_bytes(b"<a/>")
    assert samba_clean.local(RECORDINGS, root.name, "20261124", "10", "a.xml").read_bytes() == b"<a/>"
    assert (folder / "a.xml").read_bytes() == b"<a/>"
    assert (folder / "a.xml").stat().st_size == 4
    assert folder.is_dir()
    assert not (folder / "a.xml").is_dir()
    assert (folder / "a.xml").exists()
    assert not (folder / "missing").exists()
    with pytest.raises(FileExistsError):
        folder.mkdir()


def test_a_block_reads_while_it_is_being_written(root: SmbPath):
    mkv = root / "block.mkv"
    with mkv.open("wb") as writer:
        writer.write(b"cluster-1")
        writer.flush()
        with mkv.open("rb") as reader:  # playback of an ongoing recording
            assert reader.read() == b"cluster-1"
        assert mkv.stat().st_size == 9
        writer.write(b"cluster-2")
    with mkv.open("rb") as reader:
        reader.seek(9)
        assert reader.read(5) == b"clust"


def test_replace_is_the_stores_atomic_write(root: SmbPath):
    target, tmp = root / "index.db", root / ".index.db.tmp"
    target.write_bytes(b"old")
    tmp.write_bytes(b"new")
    tmp.replace(target)
    assert target.read_bytes() == b"new"
    assert not tmp.exists()


def test_glob_finds_the_axis_layout(root: SmbPath):
    for rec, token in (("R1", "T1"), ("R2", "T2")):
        folder = root / "20261124" / "10" / rec / "20261124_10"
        folder.mkdir(parents=True)
        (folder.parent / "recording.xml").write_bytes(b"<Recording/>")
        (folder / f"{token}.xml").write_bytes(b"<RecordingBlock/>")
        (folder / f"{token}.mkv").write_bytes(b"\x1a\x45\xdf\xa3")
    (root / "lost+found").mkdir()
    recordings = sorted(p.parent.name for p in root.glob("[0-9]*/[0-9]*/*/recording.xml"))
    sidecars = sorted(p.stem for p in root.glob("[0-9]*/[0-9]*/*/*_*/*.xml"))
    assert recordings == ["R1", "R2"]
    assert sidecars == ["T1", "T2"]
    assert sorted(p.name for p in root.iterdir()) == ["20261124", "lost+found"]
    assert root.tree_size() == 2 * (len(b"<Recording/>") + len(b"<RecordingBlock/>") + 4)


def test_remove_files_and_trees(root: SmbPath):
    folder = root / "a" / "b"
    folder.mkdir(parents=True)
    (folder / "f").write_bytes(b"x")
    (folder / "f").unlink()
    (folder / "f").unlink(missing_ok=True)
    with pytest.raises(FileNotFoundError):
        (folder / "f").unlink()
    folder.rmdir()
    (root / "a" / "c").mkdir()
    (root / "a" / "c" / "g").write_bytes(b"y")
    (root / "a").rmtree()
    assert not (root / "a").exists()


def test_the_share_reports_its_size(root: SmbPath):
    total, free = root.volume.usage()
    assert total > 0
    assert 0 < free <= total


def test_a_stopped_nas_is_storage_unavailable_not_a_missing_file(samba_clean: SambaServer, root: SmbPath):  # noqa: F811
    name = unique_name()
    (root / name).write_bytes(b"x")
    samba_clean.stop()
    try:
        with pytest.raises(StorageUnavailable):
            (root / name).read_bytes()
        with pytest.raises(StorageUnavailable):
            (root / name).exists()
    finally:
        samba_clean.start()
    assert (root / name).read_bytes() == b"x"  # the same volume works again once the NAS is back
