"""Ask for credentials as an Axis camera does: 401 with a challenge for missing or wrong credentials, and
also for a known user whose role is too low (real cameras answer 401 there, not 403; WIRE.md §8)."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from device.http.access import required_role
from device.http.args import cgi_args
from device.http.keys import USER_KEY, state_of
from device.users import Role

_BODY = (
    "<HTML><HEAD><TITLE>401 Unauthorized</TITLE></HEAD>\n<BODY><H1>401 Unauthorized</H1>\n"
    "Your client does not have permission to get URL {path} from this server.\n</BODY></HTML>\n"
)


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    needed = required_role(request.path, (await cgi_args(request)).get("action"))
    state = state_of(request)
    policy = state.http_auth_policy
    outcome = state.auth.authenticate(policy, request.method, request.path_qs, request.headers.get("Authorization"))
    if outcome.user is not None:
        request[USER_KEY] = outcome.user
    if needed is None or (outcome.user is not None and outcome.user.role >= needed):
        return await handler(request)
    return unauthorized(request, policy, outcome.stale)


def unauthorized(request: web.Request, policy: str, stale: bool = False) -> web.Response:
    state = state_of(request)
    response = web.Response(status=401, text=_BODY.format(path=request.path), content_type="text/html")
    for value in state.auth.challenge_headers(policy, stale):
        response.headers.add("WWW-Authenticate", value)
    return response


def has_role(request: web.Request, role: Role) -> bool:
    user = request.get(USER_KEY)
    return user is not None and user.role >= role
