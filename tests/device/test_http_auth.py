"""An installer's client signs in to the camera the way Axis cameras expect: Digest or Basic, per policy."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import subprocess
import time

import httpx
import pytest

from app.vapix.auth import parse_challenges
from app.vapix.errors import Unauthorized
from tests.conftest import transport_for
from tests.support.device_process import ADMIN, SERIAL

pytestmark = pytest.mark.functional


def _h(alg: str, text: str) -> str:
    return (hashlib.sha256 if alg == "SHA-256" else hashlib.md5)(text.encode()).hexdigest()


def digest_header(
    user: str, password: str, challenge: dict[str, str], method: str, uri: str, nc: int = 1, alg: str = "MD5"
) -> str:
    ha1 = _h(alg, f"{user}:{challenge['realm']}:{password}")
    ha2 = _h(alg, f"{method}:{uri}")
    ncs = f"{nc:08x}"
    response = _h(alg, f"{ha1}:{challenge['nonce']}:{ncs}:abc:auth:{ha2}")
    return (
        f'Digest username="{user}", realm="{challenge["realm"]}", nonce="{challenge["nonce"]}", '
        f'uri="{uri}", algorithm={alg}, response="{response}", qop=auth, nc={ncs}, cnonce="abc"'
    )


def challenge_of(response: httpx.Response, alg: str = "MD5") -> dict[str, str]:
    found = [
        c.params
        for c in parse_challenges(response.headers.get_list("www-authenticate"))
        if c.scheme == "digest" and c.algorithm == alg
    ]
    assert found, response.headers
    return found[0]


def set_policy(device, policy: str) -> None:
    reply = httpx.post(
        f"{device.http_url}/axis-cgi/param.cgi",
        data={"action": "update", "root.Network.HTTP.AuthenticationPolicy": policy},
        auth=httpx.DigestAuth(*ADMIN),
    )
    assert reply.text.strip() == "OK"


def test_a_request_without_credentials_is_challenged_with_the_axis_realm(shared_device):
    response = httpx.get(f"{shared_device.http_url}/axis-cgi/usergroup.cgi")
    assert response.status_code == 401
    challenges = parse_challenges(response.headers.get_list("www-authenticate"))
    assert [(c.scheme, c.algorithm) for c in challenges] == [("digest", "SHA-256"), ("digest", "MD5")]
    assert {c.params["realm"] for c in challenges} == {f"AXIS_{SERIAL}"}
    assert all(c.params["qop"] == "auth" for c in challenges)
    nonce = challenges[0].params["nonce"]
    assert nonce[11] == "="  # <base64 timestamp>=<40 hex>, as real firmware
    assert len(nonce) == 52


@pytest.mark.parametrize("alg", ["MD5", "SHA-256"])
def test_digest_with_either_algorithm_signs_in(shared_device, alg):
    url, uri = f"{shared_device.http_url}/axis-cgi/usergroup.cgi", "/axis-cgi/usergroup.cgi"
    challenge = challenge_of(httpx.get(url), alg)
    response = httpx.get(url, headers={"Authorization": digest_header(*ADMIN, challenge, "GET", uri, alg=alg)})
    assert response.status_code == 200
    assert response.text == "root\nadmin operator viewer\n"


def test_a_wrong_password_is_refused_without_stale(shared_device):
    url, uri = f"{shared_device.http_url}/axis-cgi/usergroup.cgi", "/axis-cgi/usergroup.cgi"
    challenge = challenge_of(httpx.get(url))
    response = httpx.get(url, headers={"Authorization": digest_header("root", "nope", challenge, "GET", uri)})
    assert response.status_code == 401
    assert not any(c.stale for c in parse_challenges(response.headers.get_list("www-authenticate")))


def test_a_replayed_nonce_count_is_refused_as_stale(shared_device):
    url, uri = f"{shared_device.http_url}/axis-cgi/usergroup.cgi", "/axis-cgi/usergroup.cgi"
    challenge = challenge_of(httpx.get(url))
    header = {"Authorization": digest_header(*ADMIN, challenge, "GET", uri, nc=7)}
    assert httpx.get(url, headers=header).status_code == 200
    replay = httpx.get(url, headers=header)
    assert replay.status_code == 401
    assert all(c.stale for c in parse_challenges(replay.headers.get_list("www-authenticate")) if c.scheme == "digest")


def test_an_expired_nonce_is_answered_stale_and_the_client_retries_transparently(device_factory):
    device = device_factory("--nonce-lifetime", "1")
    url, uri = f"{device.http_url}/axis-cgi/usergroup.cgi", "/axis-cgi/usergroup.cgi"
    challenge = challenge_of(httpx.get(url))
    time.sleep(1.2)  # let the nonce expire: the camera's clock runs in another process
    response = httpx.get(url, headers={"Authorization": digest_header(*ADMIN, challenge, "GET", uri)})
    assert response.status_code == 401
    assert all(c.stale for c in parse_challenges(response.headers.get_list("www-authenticate")))

    async def two_calls_across_expiry() -> list[int]:
        statuses: list[int] = []
        async with transport_for(device) as transport:
            transport._client.event_hooks["response"].append(lambda r: _record(statuses, r))
            await transport.get_text(uri)
            await asyncio.sleep(1.2)
            assert (await transport.get_text(uri)).startswith("root\n")
        return statuses

    # first call: challenge + answer; second: cached (stale) nonce refused, then answered afresh
    assert asyncio.run(two_calls_across_expiry()) == [401, 200, 401, 200]


async def _record(statuses: list[int], response: httpx.Response) -> None:
    statuses.append(response.status_code)


@pytest.mark.parametrize(
    ("policy", "digest_ok", "basic_ok"),
    [
        ("digest", True, False),
        ("basic", False, True),
        ("basic_digest", True, True),
    ],
)
def test_the_authentication_policy_decides_which_schemes_work(device, policy, digest_ok, basic_ok):
    set_policy(device, policy)
    url = f"{device.http_url}/axis-cgi/usergroup.cgi"
    schemes = {c.scheme for c in parse_challenges(httpx.get(url).headers.get_list("www-authenticate"))}
    assert schemes == {s for s, ok in (("digest", digest_ok), ("basic", basic_ok)) if ok}
    assert (httpx.get(url, auth=httpx.DigestAuth(*ADMIN)).status_code == 200) is digest_ok
    assert (httpx.get(url, auth=httpx.BasicAuth(*ADMIN)).status_code == 200) is basic_ok


@pytest.mark.parametrize("policy", ["digest", "basic", "basic_digest"])
async def test_our_client_signs_in_under_every_policy(device, policy):
    set_policy(device, policy)
    async with transport_for(device, "viewer") as transport:
        assert await transport.get_text("/axis-cgi/usergroup.cgi") == "view\nviewer\n"
    async with transport_for(device, "viewer") as transport:
        transport._client.auth = type(transport._client.auth)("view", "wrong")  # type: ignore[misc]
        with pytest.raises(Unauthorized):
            await transport.get_text("/axis-cgi/usergroup.cgi")


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is installed by the README's test command")
@pytest.mark.parametrize(
    ("flag", "policy"), [("--digest", "digest"), ("--basic", "basic"), ("--anyauth", "basic_digest")]
)
def test_curl_signs_in_as_the_axis_documentation_shows(device, flag, policy):
    set_policy(device, policy)
    out = subprocess.run(
        ["curl", "-sS", flag, "-u", "op:operator-pass", f"{device.http_url}/axis-cgi/usergroup.cgi"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert out.stdout == "op\noperator viewer\n"
