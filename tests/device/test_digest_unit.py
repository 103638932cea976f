"""Digest authentication on its own, with a clock the test moves: nonces, replays and the response check."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from device.auth.digest import NonceAuthority, NonceState, challenges, parse_digest_header, verify_digest
from device.clock import ManualClock
from device.users import Role, UserSpec, UserStore

REALM = "AXIS_ACCC8E000001"
LIFETIME = 300.0
URI = "/axis-cgi/usergroup.cgi"
NONCE_SHAPE = re.compile(r"^[A-Za-z0-9+/]{11}=[0-9a-f]{40}$")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def nonces(clock: ManualClock) -> NonceAuthority:
    return NonceAuthority(clock, LIFETIME)


@pytest.fixture
def users(tmp_path: Path) -> UserStore:
    store = UserStore(tmp_path / "users.json", REALM)
    store.set(UserSpec("root", "admin-pass", Role.ADMIN))
    store.set(UserSpec("view", "viewer-pass", Role.VIEWER))
    return store


# --- Nonces ----------------------------------------------------------------------------------------------------


def test_a_nonce_has_the_shape_real_axis_firmware_gives(nonces, clock):
    for _ in range(20):
        assert NONCE_SHAPE.match(nonces.issue())
        clock.advance(0.137)


def test_a_fresh_nonce_is_fresh(nonces):
    assert nonces.check(nonces.issue(), "00000001") is NonceState.FRESH


def test_a_nonce_stays_fresh_for_its_lifetime_and_then_goes_stale(nonces, clock):
    nonce = nonces.issue()
    clock.advance(LIFETIME - 1)
    assert nonces.check(nonce, "00000001") is NonceState.FRESH
    clock.advance(2)
    assert nonces.check(nonce, "00000002") is NonceState.STALE


def test_a_nonce_issued_later_is_fresh_when_an_older_one_has_expired(nonces, clock):
    old = nonces.issue()
    clock.advance(LIFETIME / 2)
    new = nonces.issue()
    clock.advance(LIFETIME / 2 + 1)
    assert nonces.check(old, "00000001") is NonceState.STALE
    assert nonces.check(new, "00000001") is NonceState.FRESH


@pytest.mark.parametrize("where", [0, 5, 11, 12, 30, 51])
def test_a_tampered_nonce_is_foreign(nonces, where):
    nonce = nonces.issue()
    swapped = "B" if nonce[where] != "B" else "C"
    if where >= 12:  # keep the hex part hex
        swapped = "0" if nonce[where] != "0" else "1"
    tampered = nonce[:where] + swapped + nonce[where + 1 :]
    assert nonces.check(tampered, "00000001") is NonceState.FOREIGN


@pytest.mark.parametrize("nonce", ["", "x", "h20V+wGvBQA=b6c0ce8666d2d4b2688858d7a31386d9d337e072", "=" * 52])
def test_a_nonce_this_camera_never_issued_is_foreign(nonces, nonce):
    assert nonces.check(nonce, "00000001") is NonceState.FOREIGN


def test_a_nonce_from_before_a_restart_is_foreign(clock):
    before = NonceAuthority(clock, LIFETIME).issue()
    assert NonceAuthority(clock, LIFETIME).check(before, "00000001") is NonceState.FOREIGN


def test_a_nonce_with_non_ascii_characters_is_foreign_not_an_error(nonces):
    nonce = nonces.issue()
    assert nonces.check(nonce[:12] + "é" + nonce[13:], "00000001") is NonceState.FOREIGN


def test_a_repeated_nonce_count_is_a_replay(nonces):
    nonce = nonces.issue()
    assert nonces.check(nonce, "00000001") is NonceState.FRESH
    assert nonces.check(nonce, "00000001") is NonceState.STALE


def test_counts_sent_out_of_order_on_one_nonce_are_all_fresh(nonces):
    nonce = nonces.issue()
    for nc in ("00000003", "00000001", "00000005", "00000002", "00000004"):
        assert nonces.check(nonce, nc) is NonceState.FRESH, nc
    assert nonces.check(nonce, "00000002") is NonceState.STALE


def test_counts_are_tracked_per_nonce(nonces, clock):
    first = nonces.issue()
    clock.advance(0.01)
    second = nonces.issue()
    assert nonces.check(first, "00000001") is NonceState.FRESH
    assert nonces.check(second, "00000001") is NonceState.FRESH


def test_an_rfc_2069_client_without_a_count_is_fresh_every_time(nonces):
    nonce = nonces.issue()
    assert nonces.check(nonce, None) is NonceState.FRESH
    assert nonces.check(nonce, None) is NonceState.FRESH


def test_an_unreadable_count_is_not_accepted(nonces):
    assert nonces.check(nonces.issue(), "zz") is NonceState.STALE


def test_the_challenges_offer_sha256_then_md5_with_one_nonce(nonces):
    nonce = nonces.issue()
    assert challenges(REALM, nonce, stale=False) == [
        f'Digest realm="{REALM}", nonce="{nonce}", algorithm=SHA-256, qop="auth"',
        f'Digest realm="{REALM}", nonce="{nonce}", algorithm=MD5, qop="auth"',
    ]
    assert all(c.endswith(", stale=true") for c in challenges(REALM, nonce, stale=True))


# --- verify_digest ---------------------------------------------------------------------------------------------


def _h(algorithm: str, text: str) -> str:
    return (hashlib.sha256 if algorithm == "SHA-256" else hashlib.md5)(text.encode()).hexdigest()


def answer(
    nonce: str,
    *,
    user: str = "root",
    password: str = "admin-pass",
    realm: str = REALM,
    method: str = "GET",
    uri: str = URI,
    algorithm: str | None = "MD5",
    qop: str | None = "auth",
    nc: str = "00000001",
    cnonce: str = "0a4f113b",
) -> dict[str, str]:
    """The parameters a client's Authorization header carries, computed here from the RFCs."""
    alg = algorithm or "MD5"
    ha1 = _h(alg, f"{user}:{realm}:{password}")
    ha2 = _h(alg, f"{method}:{uri}")
    params = {"username": user, "realm": realm, "nonce": nonce, "uri": uri}
    if algorithm:
        params["algorithm"] = algorithm
    if qop:
        params |= {"qop": qop, "nc": nc, "cnonce": cnonce}
        params["response"] = _h(alg, f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
    else:
        params["response"] = _h(alg, f"{ha1}:{nonce}:{ha2}")
    return params


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256", None])
@pytest.mark.parametrize("qop", ["auth", None])
def test_a_correct_answer_signs_the_user_in(users, nonces, algorithm, qop):
    params = answer(nonces.issue(), algorithm=algorithm, qop=qop)
    outcome = verify_digest(params, "GET", URI, users, nonces)
    assert outcome.user is not None
    assert (outcome.user.name, outcome.user.role, outcome.stale) == ("root", Role.ADMIN, False)


def test_an_rtsp_client_may_send_the_absolute_url_as_uri(users, nonces):
    url = "rtsp://127.0.0.1:8554/axis-media/media.amp?recordingid=x"
    params = answer(nonces.issue(), user="view", password="viewer-pass", method="DESCRIBE", uri=url, qop=None)
    outcome = verify_digest(params, "DESCRIBE", "/axis-media/media.amp?recordingid=x", users, nonces)
    assert outcome.user is not None
    assert outcome.user.name == "view"


@pytest.mark.parametrize(
    "wrong",
    [
        {"realm": "AXIS_ACCC8E000002"},
        {"user": "nobody"},
        {"password": "guess"},
        {"uri": "/axis-cgi/param.cgi"},
        {"method": "POST"},
        {"algorithm": "MD5-sess"},
        {"qop": "auth-int"},
    ],
    ids=lambda w: next(iter(w)),
)
def test_a_wrong_answer_signs_nobody_in_and_is_not_stale(users, nonces, wrong):
    params = answer(nonces.issue(), **wrong)
    outcome = verify_digest(params, "GET", URI, users, nonces)
    assert (outcome.user, outcome.stale) == (None, False)


def test_a_tampered_response_signs_nobody_in(users, nonces):
    params = answer(nonces.issue())
    params["response"] = params["response"][:-1] + ("0" if params["response"][-1] != "0" else "1")
    assert verify_digest(params, "GET", URI, users, nonces).user is None


@pytest.mark.parametrize("missing", ["username", "realm", "nonce", "uri", "response"])
def test_an_answer_missing_a_field_signs_nobody_in(users, nonces, missing):
    params = answer(nonces.issue())
    del params[missing]
    assert verify_digest(params, "GET", URI, users, nonces).user is None


def test_a_right_answer_on_an_expired_nonce_is_stale(users, nonces, clock):
    params = answer(nonces.issue())
    clock.advance(LIFETIME + 1)
    outcome = verify_digest(params, "GET", URI, users, nonces)
    assert (outcome.user, outcome.stale) == (None, True)


def test_a_wrong_password_on_an_expired_nonce_is_not_stale(users, nonces, clock):
    params = answer(nonces.issue(), password="guess")
    clock.advance(LIFETIME + 1)
    assert verify_digest(params, "GET", URI, users, nonces).stale is False


def test_a_right_answer_replayed_is_stale(users, nonces):
    params = answer(nonces.issue())
    assert verify_digest(params, "GET", URI, users, nonces).user is not None
    outcome = verify_digest(params, "GET", URI, users, nonces)
    assert (outcome.user, outcome.stale) == (None, True)


def test_a_right_answer_on_a_nonce_from_before_a_restart_is_stale(users, clock):
    params = answer(NonceAuthority(clock, LIFETIME).issue())
    outcome = verify_digest(params, "GET", URI, users, NonceAuthority(clock, LIFETIME))
    assert (outcome.user, outcome.stale) == (None, True)


def test_a_response_with_non_ascii_characters_signs_nobody_in_without_an_error(users, nonces):
    params = answer(nonces.issue())
    params["response"] = "é" * 32
    assert verify_digest(params, "GET", URI, users, nonces).user is None


# --- parse_digest_header ---------------------------------------------------------------------------------------


def test_a_real_client_header_is_parsed_with_lower_case_keys():
    header = (
        'Digest username="root", realm="AXIS_ACCC8EB3494E", nonce="PNHWZB6nBQA=3160", '
        'uri="/axis-cgi/com/ptz.cgi?camera=1&continuouspantiltmove=-49,0", response="9bbb", '
        'algorithm=MD5, cnonce="17b7311e0c27a979", qop=auth, nc=00000003'
    )
    assert parse_digest_header(header) == {
        "username": "root",
        "realm": "AXIS_ACCC8EB3494E",
        "nonce": "PNHWZB6nBQA=3160",
        "uri": "/axis-cgi/com/ptz.cgi?camera=1&continuouspantiltmove=-49,0",
        "response": "9bbb",
        "algorithm": "MD5",
        "cnonce": "17b7311e0c27a979",
        "qop": "auth",
        "nc": "00000003",
    }


def test_the_scheme_name_is_case_insensitive():
    assert parse_digest_header('DIGEST username="root"') == {"username": "root"}


@pytest.mark.parametrize("header", ["", "Basic cm9vdDpwYXNz", "Bearer abc", "Digestive x=1", "username=root"])
def test_a_header_that_is_not_digest_gives_none(header):
    assert parse_digest_header(header) is None


@pytest.mark.parametrize("header", ['Digest username="root", realm', "Digest username=", 'Digest ="x"', "Digest ,,,"])
def test_a_malformed_digest_header_does_not_raise(header):
    parsed = parse_digest_header(header)
    assert parsed is None or isinstance(parsed, dict)


@given(st.text())
def test_parsing_any_text_never_raises(text):
    parsed = parse_digest_header(text)
    assert parsed is None or isinstance(parsed, dict)


@given(st.text(alphabet=st.sampled_from('abcnru=", \\'), max_size=40))
def test_parsing_any_digest_parameter_list_never_raises(rest):
    parsed = parse_digest_header("Digest " + rest)
    assert parsed is None or isinstance(parsed, dict)
