"""The shape shared by the JSON CGIs (apidiscovery, basicdeviceinfo): a method, an apiVersion, and errors
as `{"error": {"code", "message"}}` with HTTP 200, as AXIS OS answers them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

INVALID_JSON = 4000
METHOD_NOT_SUPPORTED = 4002
VERSION_NOT_SUPPORTED = 4005
INVALID_PARAMETER = 4003


@dataclass(frozen=True)
class JsonCall:
    method: str
    api_version: str
    params: dict[str, Any]
    context: str | None


class JsonCallError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


async def read_call(request: web.Request) -> JsonCall:
    try:
        body = json.loads(await request.text() or "{}")
    except json.JSONDecodeError:
        raise JsonCallError(INVALID_JSON, "Malformed JSON") from None
    if not isinstance(body, dict) or not isinstance(body.get("method"), str):
        raise JsonCallError(INVALID_JSON, "The request needs a method")
    params = body.get("params") or {}
    return JsonCall(
        body["method"],
        str(body.get("apiVersion", "1.0")),
        params if isinstance(params, dict) else {},
        body.get("context"),
    )


def check_version(call: JsonCall, supported: list[str]) -> None:
    major = call.api_version.split(".")[0]
    if not any(v.split(".")[0] == major for v in supported):
        raise JsonCallError(VERSION_NOT_SUPPORTED, f"apiVersion {call.api_version} is not supported")


def reply(
    call: JsonCall | None, data: dict[str, Any] | None = None, error: JsonCallError | None = None
) -> web.Response:
    body: dict[str, Any] = {"apiVersion": call.api_version if call else "1.0"}
    if call is not None:
        body["method"] = call.method
        if call.context is not None:
            body["context"] = call.context
    if error is not None:
        body["error"] = {"code": error.code, "message": error.message}
    else:
        body["data"] = data or {}
    return web.json_response(body)
