"""What can go wrong playing over RTSP, as types a player can act on (ask for a password again, say the recording
is gone, reconnect)."""

from __future__ import annotations


class RtspError(Exception):
    """Base of every error the RTSP session raises."""


class RtspConnectionError(RtspError):
    """The camera could not be reached, closed the connection, or broke the protocol."""


class RtspTimeout(RtspConnectionError):
    """The camera did not answer a request in time."""


class RtspStatusError(RtspError):
    def __init__(self, method: str, status: int, reason: str = "") -> None:
        super().__init__(f"RTSP {method} failed: {status} {reason}".rstrip())
        self.method = method
        self.status = status
        self.reason = reason


class RtspUnauthorized(RtspStatusError):
    """401: wrong credentials, or a role the camera does not let play recordings."""


class RtspNotFound(RtspStatusError):
    """404: no such recording (or a live stream on a camera that serves only recordings)."""


class RtspSessionGone(RtspStatusError):
    """454: the camera no longer knows the session (it timed out, or the camera restarted)."""


def status_error(method: str, status: int, reason: str = "") -> RtspStatusError:
    kind = {401: RtspUnauthorized, 404: RtspNotFound, 454: RtspSessionGone}.get(status, RtspStatusError)
    return kind(method, status, reason)
