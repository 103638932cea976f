"""WebSocket session tokens from `wssession.cgi` (EVENTS.md §3.1): "valid for 15 seconds", good for one
connection, so a token seen in a log or a proxy's history cannot open a stream later."""

from __future__ import annotations

import secrets

from device.clock import Clock

LIFETIME_SECONDS = 15.0


class WsSessions:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._tokens: dict[str, tuple[float, str]] = {}  # token -> (issued, user)

    def issue(self, user: str) -> str:
        self._expire()
        token = str(secrets.randbelow(10**19 - 10**18) + 10**18)  # digits, like the doc's 1331901001644832701
        self._tokens[token] = (self._clock.monotonic(), user)
        return token

    def redeem(self, token: str) -> str | None:
        """The user the token was issued to, once; None when unknown or expired."""
        self._expire()
        found = self._tokens.pop(token, None)
        return None if found is None else found[1]

    def _expire(self) -> None:
        now = self._clock.monotonic()
        for token, (issued, _) in list(self._tokens.items()):
            if now - issued > LIFETIME_SECONDS:
                del self._tokens[token]
