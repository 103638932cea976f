"""HTTP Digest (RFC 7616, with RFC 2069 answers still accepted for RTSP clients such as live555).

Nonces are stateless: `<base64 timestamp>=<40 hex HMAC>`, the shape Apache's mod_auth_digest gives real Axis
cameras (WIRE.md §8). Expiry is read from the timestamp, so any number of clients costs no memory; only the
highest nonce count seen per nonce is remembered, to refuse replays.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
from collections import OrderedDict
from dataclasses import dataclass
from enum import Enum
from urllib.request import parse_http_list, parse_keqv_list

from device.clock import Clock
from device.users import User, UserStore

ALGORITHMS = ("SHA-256", "MD5")
_MAX_COUNTS_PER_NONCE = 4096


class NonceState(Enum):
    FRESH = "fresh"
    STALE = "stale"  # ours, but expired or replayed
    FOREIGN = "foreign"  # not made by this process (a restart, or forged)


def _hash(algorithm: str, text: str) -> str:
    digest = hashlib.sha256 if algorithm == "SHA-256" else hashlib.md5
    return digest(text.encode()).hexdigest()


class NonceAuthority:
    def __init__(self, clock: Clock, lifetime: float = 300.0, max_tracked: int = 4096) -> None:
        self._clock = clock
        self._lifetime = lifetime
        self._secret = secrets.token_bytes(32)
        self._counter = 0
        # Counts seen per nonce. A set, not a high-water mark: a client with several requests in flight on
        # one nonce sends them in any order, and only an exact repeat is a replay.
        self._seen: OrderedDict[str, set[int]] = OrderedDict()
        self._max_tracked = max_tracked

    def issue(self) -> str:
        # 48 bits of milliseconds and a 16-bit counter: two clients challenged in the same millisecond must
        # not share a nonce, or the second one's nc=1 would look like a replay of the first's.
        self._counter = (self._counter + 1) & 0xFFFF
        value = (int(self._clock.monotonic() * 1000) << 16) | self._counter
        stamp = base64.b64encode(struct.pack(">Q", value)).decode()
        return stamp + self._mac(stamp)

    def check(self, nonce: str, nc: str | None) -> NonceState:
        stamp, mac = nonce[:12], nonce[12:]
        if len(stamp) != 12 or not _same(mac, self._mac(stamp)):
            return NonceState.FOREIGN
        try:
            issued_ms = struct.unpack(">Q", base64.b64decode(stamp, validate=True))[0] >> 16
        except (ValueError, struct.error):
            return NonceState.FOREIGN
        if self._clock.monotonic() * 1000 - issued_ms > self._lifetime * 1000:
            return NonceState.STALE
        return NonceState.FRESH if self._count(nonce, nc) else NonceState.STALE

    def _count(self, nonce: str, nc: str | None) -> bool:
        if nc is None:  # RFC 2069 clients send no count; nothing to replay-check
            return True
        try:
            count = int(nc, 16)
        except ValueError:
            return False
        seen = self._seen.setdefault(nonce, set())
        if count in seen or len(seen) >= _MAX_COUNTS_PER_NONCE:
            return False  # a replay, or a nonce used long enough: the client takes a fresh one
        seen.add(count)
        self._seen.move_to_end(nonce)
        while len(self._seen) > self._max_tracked:
            self._seen.popitem(last=False)
        return True

    def _mac(self, stamp: str) -> str:
        return hmac.new(self._secret, stamp.encode(), hashlib.sha1).hexdigest()


def parse_digest_header(value: str) -> dict[str, str] | None:
    """The parameters of a `Digest ...` Authorization header, or None if it is not one."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "digest":
        return None
    try:
        return {k.lower(): v for k, v in parse_keqv_list(parse_http_list(rest)).items()}
    except (ValueError, IndexError):  # `username=` with no value makes parse_keqv_list index an empty string
        return None


def challenges(realm: str, nonce: str, stale: bool, algorithms: tuple[str, ...] = ALGORITHMS) -> list[str]:
    """One WWW-Authenticate value per algorithm, strongest first (RFC 7616 §3.7), all with the same nonce."""
    tail = ", stale=true" if stale else ""
    return [f'Digest realm="{realm}", nonce="{nonce}", algorithm={alg}, qop="auth"{tail}' for alg in algorithms]


@dataclass(frozen=True)
class DigestOutcome:
    user: User | None
    stale: bool = False


def verify_digest(
    params: dict[str, str], method: str, request_path: str, users: UserStore, nonces: NonceAuthority
) -> DigestOutcome:
    user = users.get(params.get("username", ""))
    algorithm = params.get("algorithm", "MD5").upper()
    if user is None or algorithm not in ALGORITHMS or params.get("realm") != users.realm:
        return DigestOutcome(None)
    if not _uri_matches(params.get("uri", ""), request_path):
        return DigestOutcome(None)
    if not _same(params.get("response", "").lower(), _expected(params, method, user, algorithm)):
        return DigestOutcome(None)
    state = nonces.check(params.get("nonce", ""), params.get("nc"))
    if state is NonceState.FRESH:
        return DigestOutcome(user)
    # The digest is right but the nonce is not current: the client knows the password, ask it to retry.
    return DigestOutcome(None, stale=True)


def _expected(params: dict[str, str], method: str, user: User, algorithm: str) -> str:
    ha2 = _hash(algorithm, f"{method}:{params.get('uri', '')}")
    nonce = params.get("nonce", "")
    qop = params.get("qop")
    if qop is None:
        return _hash(algorithm, f"{user.ha1_for(algorithm)}:{nonce}:{ha2}")
    if qop != "auth":
        return ""
    nc, cnonce = params.get("nc", ""), params.get("cnonce", "")
    return _hash(algorithm, f"{user.ha1_for(algorithm)}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")


def _same(given: str, expected: str) -> bool:
    """Constant-time comparison that also takes text a client made up (compare_digest refuses non-ASCII str)."""
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8"))


def _uri_matches(uri: str, request_path: str) -> bool:
    """Clients send the path with query, or (RTSP) the absolute URL; either names the same resource."""
    if uri == request_path:
        return True
    if "://" in uri:
        uri = "/" + uri.split("://", 1)[1].partition("/")[2]
    return uri == request_path or uri.split("?", 1)[0] == request_path.split("?", 1)[0]
