"""Answering RTSP challenges: the RFC examples, the camera's own verifier, and no Basic when Digest is offered."""

from __future__ import annotations

import base64
from urllib.request import parse_http_list, parse_keqv_list

import pytest

from app.playback import auth as rtsp_auth
from app.playback.auth import Credentials, RtspAuth
from device.auth.digest import challenges as device_challenges

MUFASA = Credentials("Mufasa", "Circle Of Life")


def fields(header: str) -> dict[str, str]:
    scheme, _, rest = header.partition(" ")
    assert scheme == "Digest"
    return parse_keqv_list(parse_http_list(rest))


def test_nothing_is_sent_before_a_challenge_nor_without_credentials():
    assert RtspAuth(MUFASA).authorization("DESCRIBE", "rtsp://h/") is None
    anonymous = RtspAuth(None)
    assert not anonymous.challenged(['Digest realm="r", nonce="n"'])
    assert anonymous.authorization("DESCRIBE", "rtsp://h/") is None


def test_digest_without_qop_is_rfc_2069s_example():
    auth = RtspAuth(Credentials("Mufasa", "CircleOfLife"))
    assert auth.challenged(['Digest realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093"'])
    header = fields(auth.authorization("GET", "/dir/index.html") or "")
    assert header["response"] == "1949323746fe6a43ef61f9606e7febea"
    assert header["uri"] == "/dir/index.html"
    assert "qop" not in header


def test_digest_with_qop_auth_is_rfc_2617s_example(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(rtsp_auth.secrets, "token_hex", lambda _n: "0a4f113b")
    auth = RtspAuth(MUFASA)
    challenge = (
        'Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", '
        'opaque="5ccc069c403ebaf9f0171e9517f40e41"'
    )
    assert auth.challenged([challenge])
    header = fields(auth.authorization("GET", "/dir/index.html") or "")
    assert header["response"] == "6629fae49393a05397450978507c4ef1"
    assert (header["qop"], header["nc"], header["cnonce"]) == ("auth", "00000001", "0a4f113b")
    assert header["opaque"] == "5ccc069c403ebaf9f0171e9517f40e41"
    assert fields(auth.authorization("GET", "/dir/index.html") or "")["nc"] == "00000002"


def test_the_strongest_digest_is_chosen_and_basic_only_when_there_is_no_digest():
    auth = RtspAuth(MUFASA)
    assert auth.challenged(['Basic realm="r"', *device_challenges("r", "n1", False, ("MD5", "SHA-256"))])
    assert fields(auth.authorization("PLAY", "rtsp://h/") or "")["algorithm"] == "SHA-256"
    basic_only = RtspAuth(MUFASA)
    assert basic_only.challenged(['Basic realm="r"'])
    token = (basic_only.authorization("PLAY", "rtsp://h/") or "").removeprefix("Basic ")
    assert base64.b64decode(token).decode() == "Mufasa:Circle Of Life"
    assert not RtspAuth(MUFASA).challenged(["Negotiate abc", 'Digest realm="r", nonce="n", qop="auth-int"'])


def test_the_password_never_shows_in_a_repr():
    assert "Circle" not in repr(MUFASA)
