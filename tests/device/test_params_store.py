"""The parameter store on its own: all-or-nothing updates, listeners, crash-safe persistence, value rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from device.identity import DeviceIdentity
from device.params.definitions import build_definitions
from device.params.store import ParamStore, ParamUpdateError
from device.params.validators import OCTAL_MODE, YES_NO, Choice, IntRange, Text
from device.users import Role

IDENTITY = DeviceIdentity(serial="ACCC8E000001", timezone="UTC")
RTSP_PORT = 8554
DEFINITIONS = build_definitions(IDENTITY, RTSP_PORT)
DEFAULTS = {d.name: d.default for d in DEFINITIONS}


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "params.json"


@pytest.fixture
def store(path: Path) -> ParamStore:
    return ParamStore(path, DEFINITIONS)


def saved(path: Path) -> dict[str, str]:
    return json.loads(path.read_text(encoding="utf-8"))


# --- Updates ---------------------------------------------------------------------------------------------------


def test_a_new_store_holds_the_defaults_and_writes_nothing(store, path):
    assert all(store.get(name) == default for name, default in DEFAULTS.items())
    assert store.get("Network.RTSP.Port") == str(RTSP_PORT)
    assert not path.exists()


def test_names_are_found_with_or_without_root_in_any_case(store):
    assert store.get("root.Storage.S0.DiskID") == "SD_DISK"
    assert store.get("STORAGE.s0.diskid") == "SD_DISK"


def test_an_update_with_one_bad_value_changes_nothing_and_saves_nothing(store, path):
    heard: list[tuple[str, str]] = []
    store.subscribe(lambda name, value: heard.append((name, value)))
    changes = {"Storage.S0.FriendlyName": "Card", "root.Storage.S0.CleanupMaxAge": "9999"}
    with pytest.raises(ParamUpdateError) as caught:
        store.update(changes, Role.ADMIN)
    assert (caught.value.name, caught.value.value) == ("root.Storage.S0.CleanupMaxAge", "9999")
    assert store.get("Storage.S0.FriendlyName") == ""
    assert store.get("Storage.S0.CleanupMaxAge") == DEFAULTS["Storage.S0.CleanupMaxAge"]
    assert heard == []
    assert not path.exists()


def test_listeners_hear_every_change_with_canonical_names_and_values(store):
    heard: list[tuple[str, str]] = []
    store.subscribe(lambda name, value: heard.append((name, value)))
    store.update({"root.storage.s0.cleanuppolicyactive": "NONE", "Storage.S1.CleanupMaxAge": " 014 "}, Role.ADMIN)
    assert heard == [("Storage.S0.CleanupPolicyActive", "none"), ("Storage.S1.CleanupMaxAge", "14")]
    store.put("root.Storage.S0.Locked", "yes")  # from inside the device (lock.cgi)
    assert heard[-1] == ("Storage.S0.Locked", "yes")


def test_every_listener_is_told(store):
    first: list[str] = []
    second: list[str] = []
    store.subscribe(lambda name, value: first.append(value))
    store.subscribe(lambda name, value: second.append(value))
    store.update({"Recording.DefaultSplitDuration": "60"}, Role.OPERATOR)
    assert first == second == ["60"]


@pytest.mark.parametrize(
    ("role", "name", "reason"),
    [
        (Role.OPERATOR, "Storage.S0.CleanupMaxAge", "not writable with this user's role"),
        (Role.VIEWER, "Recording.DefaultSplitDuration", "not writable with this user's role"),
        (Role.VIEWER, "Storage.S0.FriendlyName", "no such parameter"),  # a viewer cannot see Storage at all
        (Role.OPERATOR, "Network.HTTP.AuthenticationPolicy", "no such parameter"),
        (Role.ADMIN, "Storage.S0.DiskID", "read-only"),
        (Role.ADMIN, "Storage.S0.FileSystem", "read-only"),
        (Role.ADMIN, "Network.RTSP.Port", "read-only"),
        (Role.ADMIN, "Storage.S0.Nope", "no such parameter"),
    ],
)
def test_who_may_write_what(store, role, name, reason):
    with pytest.raises(ParamUpdateError) as caught:
        store.update({name: "60"}, role)
    assert caught.value.reason == reason


# --- Persistence -----------------------------------------------------------------------------------------------


def test_an_update_is_saved_and_read_back_by_the_next_store(store, path):
    store.update({"Storage.S0.FriendlyName": "Front door", "Storage.S0.CleanupMaxAge": "30"}, Role.ADMIN)
    assert saved(path)["Storage.S0.FriendlyName"] == "Front door"
    again = ParamStore(path, DEFINITIONS)
    assert again.get("Storage.S0.FriendlyName") == "Front door"
    assert again.get("Storage.S0.CleanupMaxAge") == "30"


def test_saving_leaves_no_temporary_files(store, path):
    for age in range(5):
        store.update({"Storage.S0.CleanupMaxAge": str(age)}, Role.ADMIN)
    assert [p.name for p in path.parent.iterdir()] == ["params.json"]


def test_a_failed_save_leaves_the_previous_file_whole_and_no_temporary_file(store, path, monkeypatch):
    store.update({"Storage.S0.FriendlyName": "Before"}, Role.ADMIN)
    good = path.read_text(encoding="utf-8")

    def power_cut(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("device.persist.os.fsync", power_cut)
    with pytest.raises(OSError):
        store.update({"Storage.S0.FriendlyName": "After"}, Role.ADMIN)
    monkeypatch.undo()
    assert path.read_text(encoding="utf-8") == good
    assert [p.name for p in path.parent.iterdir()] == ["params.json"]


def test_parameters_derived_at_start_up_are_never_saved(store, path):
    store.put("Network.RTSP.Port", "40000")
    store.update({"Storage.S0.FriendlyName": "x"}, Role.ADMIN)
    written = saved(path)
    not_persisted = {d.name for d in DEFINITIONS if not d.persist}
    assert "Network.RTSP.Port" in not_persisted
    assert "Properties.API.HTTP.Version" in not_persisted
    assert not_persisted.isdisjoint(written)
    assert set(written) == {d.name for d in DEFINITIONS if d.persist}


def test_a_saved_value_for_a_derived_parameter_is_ignored(path):
    path.write_text(json.dumps({"Network.RTSP.Port": "9999", "Properties.API.HTTP.Version": "9"}), encoding="utf-8")
    store = ParamStore(path, DEFINITIONS)
    assert store.get("Network.RTSP.Port") == str(RTSP_PORT)
    assert store.get("Properties.API.HTTP.Version") == "3"


def test_an_invalid_saved_value_falls_back_to_the_default(path):
    path.write_text(
        json.dumps(
            {
                "Storage.S0.CleanupMaxAge": "banana",
                "Storage.S0.CleanupPolicyActive": "lifo",
                "Storage.S0.FriendlyName": "line\nbreak",
                "Storage.S1.CleanupPolicyActive": "NONE",  # valid, stored canonically
                "No.Such.Param": "1",
            }
        ),
        encoding="utf-8",
    )
    store = ParamStore(path, DEFINITIONS)
    assert store.get("Storage.S0.CleanupMaxAge") == DEFAULTS["Storage.S0.CleanupMaxAge"]
    assert store.get("Storage.S0.CleanupPolicyActive") == "fifo"
    assert store.get("Storage.S0.FriendlyName") == ""
    assert store.get("Storage.S1.CleanupPolicyActive") == "none"


@pytest.mark.parametrize("raw", [30, None, True, ["fifo"]], ids=repr)
def test_a_hand_edited_non_text_value_falls_back_to_the_default(path, raw):
    # `"CleanupMaxAge": 30` is the natural way to hand-edit a number into JSON; it must not stop the camera.
    path.write_text(json.dumps({"Storage.S0.CleanupMaxAge": raw}), encoding="utf-8")
    store = ParamStore(path, DEFINITIONS)
    # Either reading is fine (the default, or 30 taken as "30"); not starting at all is not.
    assert store.get("Storage.S0.CleanupMaxAge") in {DEFAULTS["Storage.S0.CleanupMaxAge"], "30"}


# --- Listing ---------------------------------------------------------------------------------------------------


def test_listing_matches_whole_segments_and_reports_missing_groups(store):
    found, missing = store.list(["Storage.S", "Brand.Brand", "root.brand.brand"], Role.ADMIN)
    assert found == [("root.Brand.Brand", "AXIS")]  # listed once even though asked twice
    assert missing == ["Storage.S"]


def test_listing_hides_what_the_role_may_not_read(store):
    found, missing = store.list([""], Role.VIEWER)
    names = [name for name, _ in found]
    assert "root.Recording.DefaultDiskId" in names
    assert not any(name.startswith("root.Storage.") for name in names)
    assert missing == []


# --- Validators ------------------------------------------------------------------------------------------------


def test_choice_accepts_any_case_and_stores_the_canonical_spelling():
    policy = Choice(("fifo", "none"))
    assert policy("FIFO") == "fifo"
    assert policy("None") == "none"
    assert YES_NO("YES") == "yes"
    with pytest.raises(ValueError):
        policy("lifo")
    with pytest.raises(ValueError):
        policy(" fifo")


@pytest.mark.parametrize(("text", "stored"), [("0", "0"), ("7000", "7000"), (" 30 ", "30"), ("007", "7")])
def test_int_range_accepts_whole_numbers_within_its_bounds(text, stored):
    assert IntRange(0, 7000)(text) == stored


@pytest.mark.parametrize("text", ["-1", "7001", "", " ", "abc", "1.5", "0x10", "1e3", "30 days"])
def test_int_range_refuses_numbers_outside_its_bounds_and_garbage(text):
    with pytest.raises(ValueError):
        IntRange(0, 7000)(text)


@given(low=st.integers(-10_000, 10_000), span=st.integers(0, 10_000), number=st.integers(-30_000, 30_000))
def test_int_range_accepts_exactly_the_integers_in_range(low, span, number):
    check = IntRange(low, low + span)
    if low <= number <= low + span:
        assert check(str(number)) == str(number)
    else:
        with pytest.raises(ValueError):
            check(str(number))


@given(st.text(max_size=20))
def test_int_range_only_ever_stores_a_number_within_its_bounds(text):
    try:
        stored = IntRange(0, 7000)(text)
    except ValueError:
        return
    assert stored == str(int(stored))
    assert 0 <= int(stored) <= 7000


def test_text_refuses_line_breaks_nul_and_overlong_values():
    name = Text(max_length=64)
    assert name("My SD Card") == "My SD Card"
    assert name("x" * 64) == "x" * 64
    assert name("") == ""
    for bad in ("x" * 65, "two\nlines", "carriage\rreturn", "nul\0byte"):
        with pytest.raises(ValueError):
            name(bad)


@given(before=st.text(max_size=40), after=st.text(max_size=40))
def test_text_never_accepts_a_value_with_a_newline(before, after):
    with pytest.raises(ValueError):
        Text()(f"{before}\n{after}")


@pytest.mark.parametrize("mode", ["0770", "770", "0755", "0000", "777"])
def test_octal_mode_accepts_three_or_four_octal_digits(mode):
    assert OCTAL_MODE(mode) == mode


@pytest.mark.parametrize("mode", ["", "77", "0778", "07700", "rwx", "0x1F", "0o770", " 770"])
def test_octal_mode_refuses_anything_else(mode):
    with pytest.raises(ValueError):
        OCTAL_MODE(mode)
