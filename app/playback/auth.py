"""Answering an RTSP camera's 401: Digest (RFC 7616 with qop=auth, or RFC 2069 without) and Basic.

The challenge parsing is the HTTP client's (`app.vapix.auth`): cameras send the same WWW-Authenticate forms on
both protocols. What differs is the request, which is not an httpx request, and the digest URI, which on RTSP is
the absolute URL (what live555 and FFmpeg send, and what Axis cameras verify). Basic is only used when the camera
offers no Digest, so a password never travels in the clear when it need not.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field

from app.vapix.auth import Challenge, best_digest, parse_challenges

_HASHES = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str = field(repr=False)


def _h(algorithm: str, text: str) -> str:
    return _HASHES[algorithm](text.encode()).hexdigest()


class RtspAuth:
    """Remembers the last challenge and signs every later request with it, so only the first request of a
    connection (and one after a stale nonce) costs a round trip."""

    def __init__(self, credentials: Credentials | None) -> None:
        self._credentials = credentials
        self._digest: Challenge | None = None
        self._basic = False
        self._count = 0

    def challenged(self, www_authenticate: list[str]) -> bool:
        """Take the challenges of a 401; True when a retry signed with them may succeed."""
        if self._credentials is None:
            return False
        challenges = parse_challenges(www_authenticate)
        digest = best_digest(challenges)
        if digest is not None:
            self._digest, self._basic, self._count = digest, False, 0
            return True
        if any(c.scheme == "basic" for c in challenges):
            self._digest, self._basic = None, True
            return True
        return False

    def authorization(self, method: str, url: str) -> str | None:
        """The Authorization header for a request, or None before any challenge."""
        if self._credentials is None:
            return None
        user, password = self._credentials.username, self._credentials.password
        if self._basic:
            return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        if self._digest is None:
            return None
        p = self._digest.params
        algorithm = self._digest.algorithm
        realm, nonce = p.get("realm", ""), p.get("nonce", "")
        ha1 = _h(algorithm, f"{user}:{realm}:{password}")
        ha2 = _h(algorithm, f"{method}:{url}")
        fields = [("username", user), ("realm", realm), ("nonce", nonce), ("uri", url)]
        quoted_after: list[tuple[str, str]] = []
        bare = [("algorithm", algorithm)]
        if "auth" in [q.strip() for q in p.get("qop", "").split(",")]:
            self._count += 1
            nc, cnonce = f"{self._count:08x}", secrets.token_hex(8)
            response = _h(algorithm, f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
            quoted_after.append(("cnonce", cnonce))
            bare += [("qop", "auth"), ("nc", nc)]
        else:
            response = _h(algorithm, f"{ha1}:{nonce}:{ha2}")
        fields.append(("response", response))
        fields += quoted_after
        if "opaque" in p:
            fields.append(("opaque", p["opaque"]))
        return "Digest " + ", ".join([*(f'{k}="{v}"' for k, v in fields), *(f"{k}={v}" for k, v in bare)])
