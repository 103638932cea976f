"""The client understands every way a camera (or a proxy in front of it) phrases its challenges, answers with
the strongest Digest it can, keeps using a nonce without extra round trips, and falls back to Basic."""

from __future__ import annotations

import asyncio
import base64
import secrets
from urllib.request import parse_http_list, parse_keqv_list

import httpx
import pytest

from app.vapix.auth import Challenge, VapixAuth, best_digest, parse_challenges
from app.vapix.errors import Unauthorized
from app.vapix.params import ParamApi
from app.vapix.usergroup import user_groups
from tests.conftest import transport_for

REALM = "AXIS_ACCC8E000001"
NONCE = "Z2V0dGluZ3M=0123456789abcdef0123456789abcdef01234567"
SHA256 = f'Digest realm="{REALM}", nonce="{NONCE}", algorithm=SHA-256, qop="auth"'
MD5 = f'Digest realm="{REALM}", nonce="{NONCE}", algorithm=MD5, qop="auth"'
BASIC = f'Basic realm="{REALM}"'


def summary(challenges: list[Challenge]) -> list[tuple[str, str, str | None]]:
    return [(c.scheme, c.algorithm, c.params.get("nonce")) for c in challenges]


# -- reading challenges ----------------------------------------------------------------------------------------------


def test_one_header_per_challenge_is_read_in_order():
    challenges = parse_challenges([SHA256, MD5])
    assert summary(challenges) == [("digest", "SHA-256", NONCE), ("digest", "MD5", NONCE)]
    assert challenges[0].params == {"realm": REALM, "nonce": NONCE, "algorithm": "SHA-256", "qop": "auth"}


def test_challenges_a_proxy_joined_into_one_header_are_read_like_separate_ones():
    joined = ", ".join([SHA256, MD5, BASIC])
    assert parse_challenges([joined]) == parse_challenges([SHA256, MD5, BASIC])
    assert summary(parse_challenges([joined])) == [
        ("digest", "SHA-256", NONCE),
        ("digest", "MD5", NONCE),
        ("basic", "MD5", None),  # Basic carries no algorithm; the property's default is irrelevant to it
    ]
    assert parse_challenges([joined])[2].params == {"realm": REALM}


def test_basic_and_digest_mixed_under_the_basic_digest_policy():
    challenges = parse_challenges([BASIC, f"{MD5}, {SHA256}"])
    assert [c.scheme for c in challenges] == ["basic", "digest", "digest"]
    assert best_digest(challenges).algorithm == "SHA-256"


def test_scheme_and_parameter_names_are_case_insensitive_and_values_are_kept():
    challenges = parse_challenges([f'DIGEST Realm="{REALM}", NONCE="{NONCE}", Algorithm=sha-256, QOP="auth"'])
    assert summary(challenges) == [("digest", "SHA-256", NONCE)]
    assert challenges[0].params["realm"] == REALM


def test_a_quoted_comma_inside_a_parameter_does_not_split_the_challenge():
    challenges = parse_challenges([f'Digest realm="Lobby, north door", nonce="{NONCE}", qop="auth,auth-int"'])
    assert len(challenges) == 1
    assert challenges[0].params["realm"] == "Lobby, north door"
    assert challenges[0].params["qop"] == "auth,auth-int"
    assert best_digest(challenges) is challenges[0]


def test_a_stale_challenge_is_recognised():
    assert parse_challenges([f"{SHA256}, stale=true"])[0].stale
    assert parse_challenges([f'{SHA256}, stale="TRUE"'])[0].stale
    assert not parse_challenges([SHA256])[0].stale


@pytest.mark.parametrize("order", [[SHA256, MD5], [MD5, SHA256], [f"{MD5}, {SHA256}, {BASIC}"]])
def test_the_strongest_digest_is_sha_256_wherever_it_appears(order):
    best = best_digest(parse_challenges(order))
    assert best is not None
    assert best.algorithm == "SHA-256"


@pytest.mark.parametrize(
    "unsupported",
    [
        f'Digest realm="{REALM}", nonce="n1", algorithm=SHA-512-256, qop="auth"',
        f'Digest realm="{REALM}", nonce="n1", algorithm=SHA-256-sess, qop="auth"',
        f'Digest realm="{REALM}", nonce="n1", algorithm=MD5-sess, qop="auth"',
        f'Digest realm="{REALM}", nonce="n1", algorithm=SHA-256, qop="auth-int"',
    ],
    ids=["sha-512-256", "sha-256-sess", "md5-sess", "auth-int-only"],
)
def test_unsupported_algorithms_and_qop_are_passed_over(unsupported):
    assert best_digest(parse_challenges([unsupported])) is None
    assert best_digest(parse_challenges([unsupported, MD5])).algorithm == "MD5"
    assert best_digest(parse_challenges([unsupported, BASIC])) is None


def test_an_old_style_digest_without_qop_is_usable_and_md5_by_default():
    best = best_digest(parse_challenges([f'Digest realm="{REALM}", nonce="{NONCE}"']))
    assert best is not None
    assert best.algorithm == "MD5"


def test_basic_alone_offers_no_digest():
    assert best_digest(parse_challenges([BASIC])) is None
    assert parse_challenges([]) == []


# -- answering a challenge: the worked example of RFC 7616 section 3.9.1 -------------------------------------------

RFC_CHALLENGE = (
    'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm={alg}, '
    'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"'
)
RFC_CNONCE = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
RFC_RESPONSES = {
    "SHA-256": "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
    "MD5": "8ca523f5e9506fed4657c9700eebdbec",
}


def answer_rfc_example(offered: list[str]) -> dict[str, str]:
    request = httpx.Request("GET", "http://www.example.org/dir/index.html")
    flow = VapixAuth("Mufasa", "Circle of Life").sync_auth_flow(request)
    first = next(flow)
    assert "authorization" not in first.headers
    challenge = httpx.Response(401, headers=[("WWW-Authenticate", c) for c in offered], request=request)
    return digest_fields(flow.send(challenge).headers["authorization"])


@pytest.fixture
def rfc_cnonce(monkeypatch):
    """The RFC's client nonce instead of a random one, so the worked example's response is reproduced."""
    monkeypatch.setattr(secrets, "token_hex", lambda _: RFC_CNONCE)


@pytest.mark.parametrize("alg", ["SHA-256", "MD5"])
def test_the_rfc_7616_worked_example_is_answered_exactly(rfc_cnonce, alg):
    fields = answer_rfc_example([RFC_CHALLENGE.format(alg=alg)])
    assert fields == {
        "username": "Mufasa",
        "realm": "http-auth@example.org",
        "nonce": "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
        "uri": "/dir/index.html",
        "algorithm": alg,
        "response": RFC_RESPONSES[alg],
        "cnonce": RFC_CNONCE,
        "opaque": "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS",
        "qop": "auth",
        "nc": "00000001",
    }


def test_offered_md5_first_and_sha_256_second_the_client_answers_sha_256(rfc_cnonce):
    fields = answer_rfc_example([RFC_CHALLENGE.format(alg="MD5"), RFC_CHALLENGE.format(alg="SHA-256")])
    assert (fields["algorithm"], fields["response"]) == ("SHA-256", RFC_RESPONSES["SHA-256"])


def test_a_challenge_the_client_cannot_answer_ends_the_flow_with_the_401():
    request = httpx.Request("GET", "http://camera.test/axis-cgi/usergroup.cgi")
    flow = VapixAuth("root", "pass").sync_auth_flow(request)
    next(flow)
    refusal = httpx.Response(401, headers={"WWW-Authenticate": 'Bearer realm="x"'}, request=request)
    with pytest.raises(StopIteration):
        flow.send(refusal)


def test_two_requests_challenged_with_the_same_nonce_never_send_the_same_count():
    # Two requests in flight on a new connection are both challenged. Cameras whose nonce is a coarse
    # timestamp (WIRE.md section 8: older firmware) give both the same nonce; a repeated nc is a replay.
    auth = VapixAuth("view", "viewer-pass")
    first = httpx.Request("GET", "http://camera.test/axis-cgi/usergroup.cgi")
    second = httpx.Request("GET", "http://camera.test/axis-cgi/param.cgi?action=list")
    flows = [auth.sync_auth_flow(first), auth.sync_auth_flow(second)]
    for flow in flows:
        next(flow)  # both go out before either challenge comes back
    answers = [
        flow.send(httpx.Response(401, headers={"WWW-Authenticate": SHA256}, request=request))
        for flow, request in zip(flows, (first, second), strict=True)
    ]
    counts = [(f["nonce"], f["nc"]) for f in (digest_fields(a.headers["authorization"]) for a in answers)]
    assert counts[0] != counts[1]


# -- against the camera ----------------------------------------------------------------------------------------------


def digest_fields(header: str) -> dict[str, str]:
    scheme, _, rest = header.partition(" ")
    assert scheme == "Digest"
    return parse_keqv_list(parse_http_list(rest))


def record_exchanges(transport) -> list[tuple[int, str | None]]:
    """(status, Authorization sent) for every HTTP exchange the client makes, auth retries included."""
    seen: list[tuple[int, str | None]] = []

    async def on_response(response: httpx.Response) -> None:
        seen.append((response.status_code, response.request.headers.get("authorization")))

    transport._client.event_hooks["response"].append(on_response)
    return seen


@pytest.mark.functional
async def test_our_client_answers_the_camera_with_sha_256_and_reuses_the_nonce(shared_device):
    async with transport_for(shared_device, "operator") as transport:
        seen = record_exchanges(transport)
        assert (await user_groups(transport)).user == "op"
        assert (await user_groups(transport)).user == "op"

    assert [status for status, _ in seen] == [401, 200, 200]  # one challenge, then no more round trips
    assert seen[0][1] is None
    first, second = digest_fields(seen[1][1]), digest_fields(seen[2][1])
    assert first["algorithm"] == "SHA-256"
    assert first["realm"] == REALM
    assert first["username"] == "op"
    assert first["uri"] == "/axis-cgi/usergroup.cgi"
    assert (first["qop"], first["nc"]) == ("auth", "00000001")
    assert second["nonce"] == first["nonce"]
    assert second["nc"] == "00000002"
    assert second["cnonce"] != first["cnonce"]


@pytest.mark.functional
async def test_the_digest_uri_includes_the_query_string(shared_device):
    async with transport_for(shared_device, "viewer") as transport:
        seen = record_exchanges(transport)
        values = await ParamApi(transport).list("Brand")
    assert values["Brand.Brand"] == "AXIS"
    assert digest_fields(seen[-1][1])["uri"] == "/axis-cgi/param.cgi?action=list&group=root.Brand"


@pytest.mark.functional
async def test_a_wrong_password_is_refused_after_exactly_one_answer(shared_device):
    async with transport_for(shared_device, "viewer") as transport:
        transport._client.auth = type(transport._client.auth)("view", "wrong")
        seen = record_exchanges(transport)
        with pytest.raises(Unauthorized):
            await user_groups(transport)
    assert [status for status, _ in seen] == [401, 401]


@pytest.mark.functional
async def test_basic_is_used_when_the_cameras_policy_allows_only_basic(device):
    async with transport_for(device, "admin") as admin:
        await ParamApi(admin).update({"Network.HTTP.AuthenticationPolicy": "basic"})

    async with transport_for(device, "viewer") as transport:
        seen = record_exchanges(transport)
        assert (await user_groups(transport)).user == "view"
        assert (await user_groups(transport)).user == "view"

    basic = "Basic " + base64.b64encode(b"view:viewer-pass").decode()
    assert seen == [(401, None), (200, basic), (200, basic)]  # after the first challenge Basic is sent up front


@pytest.mark.functional
async def test_requests_in_flight_together_on_a_new_connection_all_sign_in(shared_device):
    # The dashboard asks a camera several things at once right after the user adds it. The camera hands the
    # same nonce to challenges issued in the same millisecond, so each answer needs its own nonce count.
    async with transport_for(shared_device, "viewer") as transport:
        seen = record_exchanges(transport)
        answers = await asyncio.gather(*(user_groups(transport) for _ in range(20)), return_exceptions=True)
    assert [a if isinstance(a, Exception) else a.user for a in answers] == ["view"] * 20
    counts = [(f["nonce"], f["nc"]) for f in (digest_fields(h) for _, h in seen if h)]
    assert len(set(counts)) == len(counts)  # never the same count twice on one nonce


@pytest.mark.functional
async def test_once_signed_in_requests_in_flight_together_need_no_new_challenge(shared_device):
    async with transport_for(shared_device, "viewer") as transport:
        await user_groups(transport)
        seen = record_exchanges(transport)
        answers = await asyncio.gather(*(user_groups(transport) for _ in range(10)))
    assert [a.user for a in answers] == ["view"] * 10
    assert [status for status, _ in seen] == [200] * 10
    assert sorted(int(digest_fields(h)["nc"], 16) for _, h in seen) == list(range(2, 12))
