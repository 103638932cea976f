"""Calls to the JSON CGIs (apidiscovery, basicdeviceinfo): `{"apiVersion", "method", "params"}` in,
`data` or `error` out."""

from __future__ import annotations

from typing import Any

from app.vapix.errors import ApiError, ProtocolError
from app.vapix.transport import VapixTransport


async def call(
    transport: VapixTransport, path: str, method: str, api_version: str = "1.0", params: dict[str, Any] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"apiVersion": api_version, "method": method}
    if params is not None:
        body["params"] = params
    answer = await transport.post_json(path, body)
    error = answer.get("error")
    if isinstance(error, dict):
        raise ApiError(str(error.get("message", "the camera reported an error")), _int(error.get("code")))
    data = answer.get("data")
    if not isinstance(data, dict):
        raise ProtocolError(f"{path} {method}: the answer has no data")
    return data


def _int(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[call-overload, no-any-return]
    except (TypeError, ValueError):
        return None
