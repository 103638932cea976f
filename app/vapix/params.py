"""param.cgi: read and write camera parameters in the VAPIX text format."""

from __future__ import annotations

from collections.abc import Mapping

from app.vapix.errors import ParamError, ProtocolError
from app.vapix.transport import VapixTransport

PATH = "/axis-cgi/param.cgi"


def parse_param_list(text: str) -> dict[str, str]:
    """`root.A.B=value` lines into {"A.B": "value"}; a reply of only `# Error` lines raises."""
    values: dict[str, str] = {}
    errors: list[str] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        if line.startswith("#"):
            errors.append(line.lstrip("# ").removeprefix("Error: "))
            continue
        name, sep, value = line.partition("=")
        if not sep:
            raise ProtocolError(f"param.cgi sent a line that is not name=value: {line[:80]!r}")
        values[name.removeprefix("root.")] = value
    if errors and not values:
        raise ParamError("; ".join(errors))
    return values


class ParamApi:
    def __init__(self, transport: VapixTransport) -> None:
        self._transport = transport

    async def list(self, *groups: str) -> dict[str, str]:
        query = {"action": "list"}
        if groups:
            query["group"] = ",".join(f"root.{g.removeprefix('root.')}" for g in groups)
        return parse_param_list(await self._transport.get_text(PATH, query))

    async def update(self, values: Mapping[str, str]) -> None:
        form = {"action": "update", **{f"root.{k.removeprefix('root.')}": v for k, v in values.items()}}
        reply = (await self._transport.post_form(PATH, form)).strip()
        if reply != "OK":
            raise ParamError(reply.lstrip("# ").removeprefix("Error: ") or "param.cgi refused the update")
