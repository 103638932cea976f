"""param.cgi: the camera's parameters in the VAPIX text format (`root.Storage.S0.CleanupMaxAge=7`)."""

from __future__ import annotations

from aiohttp import web

from device.http.args import cgi_args
from device.http.keys import state_of, user_of
from device.http.module import ApiEntry, HttpModule
from device.params.store import ParamUpdateError
from device.users import Role


def _text(body: str) -> web.Response:
    return web.Response(text=body, content_type="text/plain")


async def param_cgi(request: web.Request) -> web.Response:
    args = await cgi_args(request)
    user = user_of(request)
    role = user.role if user else Role.VIEWER
    action = args.get("action", "").lower()
    if action == "list":
        return _list(request, args.get("group", ""), role)
    if action == "update":
        return _update(request, args, role)
    return _text(f"# Error: Invalid action '{args.get('action', '')}'\n")


def _list(request: web.Request, group_arg: str, role: Role) -> web.Response:
    groups = [g.strip() for g in group_arg.split(",")] if group_arg.strip() else [""]
    found, missing = state_of(request).params.list(groups, role)
    lines = [f"{name}={value}" for name, value in found]
    lines += [f"# Error: Error -1 getting param in group '{group}'" for group in missing]
    return _text("".join(line + "\n" for line in lines))


def _update(request: web.Request, args: dict[str, str], role: Role) -> web.Response:
    # Parameter names always contain a dot; other arguments (timestamp=, cache busters) are ignored.
    changes = {k: v for k, v in args.items() if k != "action" and "." in k}
    if not changes:
        return _text("# Error: No parameters to update\n")
    try:
        state_of(request).params.update(changes, role)
    except ParamUpdateError as exc:
        name = exc.name if exc.name.lower().startswith("root.") else f"root.{exc.name}"
        return _text(f"# Error: Error setting '{name}' to '{exc.value}'! ({exc.reason})\n")
    return _text("OK\n")


MODULE = HttpModule(
    routes=[web.get("/axis-cgi/param.cgi", param_cgi, allow_head=False), web.post("/axis-cgi/param.cgi", param_cgi)],
    apis=(ApiEntry("param-cgi", "1.0", "Legacy Parameter Handling"),),
)
