"""Client authentication for cameras: Digest (RFC 7616, SHA-256 or MD5) with Basic fallback.

Written here rather than using httpx.DigestAuth because cameras send several WWW-Authenticate headers (one per
algorithm, plus Basic under basic_digest), which httpx joins into one string and misreads, and because a
camera that restarted answers a cached nonce with stale=true and must be retried transparently.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Generator
from dataclasses import dataclass
from urllib.request import parse_http_list, parse_keqv_list

import httpx

_SCHEME_SPLIT = re.compile(r",\s*(?=(?:Digest|Basic)\s)", re.IGNORECASE)
_STRENGTH = {"SHA-256": 2, "MD5": 1}


@dataclass(frozen=True)
class Challenge:
    scheme: str  # "digest" or "basic"
    params: dict[str, str]

    @property
    def algorithm(self) -> str:
        return self.params.get("algorithm", "MD5").upper()

    @property
    def stale(self) -> bool:
        return self.params.get("stale", "").lower() == "true"


def parse_challenges(values: list[str]) -> list[Challenge]:
    found = []
    for value in values:
        for part in _SCHEME_SPLIT.split(value):
            scheme, _, rest = part.strip().partition(" ")
            try:
                params = {k.lower(): v for k, v in parse_keqv_list(parse_http_list(rest)).items()} if rest else {}
            except ValueError:
                continue
            found.append(Challenge(scheme.lower(), params))
    return found


def best_digest(challenges: list[Challenge]) -> Challenge | None:
    usable = [c for c in challenges if c.scheme == "digest" and c.algorithm in _STRENGTH and _qop(c) in ("auth", None)]
    return max(usable, key=lambda c: _STRENGTH[c.algorithm], default=None)


def _qop(challenge: Challenge) -> str | None:
    offered = challenge.params.get("qop")
    if offered is None:
        return None
    return "auth" if "auth" in [q.strip() for q in offered.split(",")] else "unsupported"


class VapixAuth(httpx.Auth):
    def __init__(self, username: str, password: str) -> None:
        self._username = username
        self._password = password
        self._digest: Challenge | None = None
        # Counts per nonce, not one counter reset per challenge: requests in flight together can be challenged
        # with the same nonce, and two of them sending nc=00000001 would look like a replay.
        self._counts: dict[str, int] = {}
        self._basic = False

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self._authorize(request)
        response = yield request
        if response.status_code != 401:
            return
        challenges = parse_challenges(response.headers.get_list("www-authenticate"))
        digest = best_digest(challenges)
        if digest is not None:
            self._digest, self._basic = digest, False
        elif any(c.scheme == "basic" for c in challenges):
            self._digest, self._basic = None, True
        else:
            return
        # Exactly one more try, answering the challenge just received. The first request either had no
        # credentials or answered an older challenge (a nonce that expired, or a camera that restarted);
        # if this one is refused too, the credentials are wrong or the role is too low.
        self._authorize(request)
        yield request

    def _authorize(self, request: httpx.Request) -> None:
        if self._digest is not None:
            request.headers["Authorization"] = self._digest_header(request, self._digest)
        elif self._basic:
            token = base64.b64encode(f"{self._username}:{self._password}".encode()).decode()
            request.headers["Authorization"] = f"Basic {token}"

    def _digest_header(self, request: httpx.Request, challenge: Challenge) -> str:
        p = challenge.params
        algorithm = challenge.algorithm
        uri = request.url.raw_path.decode("ascii")
        ha1 = _h(algorithm, f"{self._username}:{p.get('realm', '')}:{self._password}")
        ha2 = _h(algorithm, f"{request.method}:{uri}")
        fields = {
            "username": self._username,
            "realm": p.get("realm", ""),
            "nonce": p.get("nonce", ""),
            "uri": uri,
            "algorithm": algorithm,
        }
        if _qop(challenge) == "auth":
            nonce = fields["nonce"]
            self._counts[nonce] = count = self._counts.pop(nonce, 0) + 1
            while len(self._counts) > 16:
                del self._counts[next(iter(self._counts))]
            nc, cnonce = f"{count:08x}", secrets.token_hex(8)
            fields["response"] = _h(algorithm, f"{ha1}:{fields['nonce']}:{nc}:{cnonce}:auth:{ha2}")
            unquoted = {"qop": "auth", "nc": nc}
            fields["cnonce"] = cnonce
        else:
            fields["response"] = _h(algorithm, f"{ha1}:{fields['nonce']}:{ha2}")
            unquoted = {}
        if "opaque" in p:
            fields["opaque"] = p["opaque"]
        parts = [f'{k}="{v}"' if k != "algorithm" else f"{k}={v}" for k, v in fields.items()]
        parts += [f"{k}={v}" for k, v in unquoted.items()]
        return "Digest " + ", ".join(parts)


def _h(algorithm: str, text: str) -> str:
    digest = hashlib.sha256 if algorithm == "SHA-256" else hashlib.md5
    return digest(text.encode()).hexdigest()
