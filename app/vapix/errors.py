"""Everything that can go wrong talking to a camera, as typed exceptions.

One table maps HTTP statuses, and one maps the VAPIX error codes every XML API shares; callers catch the type
they can act on (a wrong password, an unreachable host, an unsupported schema) instead of reading status codes.
"""

from __future__ import annotations


class VapixError(Exception):
    """Base of every error the client raises."""


class ConnectionFailed(VapixError):
    """The camera could not be reached (refused, timed out, name not found)."""


class TlsError(ConnectionFailed):
    """The camera's certificate is not the one trusted (CA or pinned fingerprint)."""


class ProtocolError(VapixError):
    """The camera answered something that is not the expected format (malformed or truncated XML, ...)."""


class HttpStatusError(VapixError):
    def __init__(self, status: int, message: str = "") -> None:
        super().__init__(message or f"HTTP {status}")
        self.status = status


class Unauthorized(HttpStatusError):
    """401: wrong credentials, or a role too low for the CGI (real cameras answer 401 for both)."""


class Forbidden(HttpStatusError):
    """403: some firmware answers this for a role that is too low."""


class NotFound(HttpStatusError):
    """404: the camera does not have this CGI (older firmware, or the API is not supported)."""


class ServerError(HttpStatusError):
    """5xx: the camera failed or is busy."""


_STATUS_ERRORS: dict[int, type[HttpStatusError]] = {401: Unauthorized, 403: Forbidden, 404: NotFound}


def error_for_status(status: int, message: str = "") -> HttpStatusError:
    cls = _STATUS_ERRORS.get(status, ServerError if status >= 500 else HttpStatusError)
    return cls(status, message)


class ApiError(VapixError):
    """The camera refused the request and said why in the body (HTTP 200, AMBIGUITIES.md G-6)."""

    def __init__(self, description: str, code: int | None = None) -> None:
        super().__init__(f"{description} (error {code})" if code is not None else description)
        self.code = code
        self.description = description


class RequestFailed(ApiError):
    """Code 10: the camera failed while processing the request."""


class InvalidRequest(ApiError):
    """Code 20: an argument is missing or invalid."""


class UnsupportedVersion(ApiError):
    """Code 40: the camera does not speak this schema version."""


class ParamError(ApiError):
    """param.cgi answered `# Error: ...`."""


_CODE_ERRORS: dict[int, type[ApiError]] = {10: RequestFailed, 20: InvalidRequest, 40: UnsupportedVersion}


def error_for_code(code: int | None, description: str) -> ApiError:
    cls = _CODE_ERRORS.get(code, ApiError) if code is not None else ApiError
    return cls(description, code)
