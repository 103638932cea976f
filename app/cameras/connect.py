"""Checking a camera before it is saved, and telling the user exactly what is wrong.

The order matters: first, without credentials, whether anything answers and whether it is an Axis camera
(basicdeviceinfo answers unauthenticated on AXIS OS; older firmware gives itself away with an `AXIS_` Digest
realm); only then the credentials. So "wrong password" is never said of a web server that is not a camera.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from app.cameras.capabilities import CAPABILITY_GROUPS, StorageCapabilities
from app.vapix import params as params_api
from app.vapix.auth import parse_challenges
from app.vapix.deviceinfo import BasicDeviceInfo, DeviceInfo
from app.vapix.errors import ConnectionFailed, NotFound, TlsError, Unauthorized, VapixError
from app.vapix.params import ParamApi
from app.vapix.transport import Endpoint, VapixTransport
from app.vapix.usergroup import Role, user_groups


class Outcome(Enum):
    OK = "ok"
    WRONG_CREDENTIALS = "wrong_credentials"
    UNREACHABLE = "unreachable"
    CERTIFICATE = "certificate"
    NOT_AXIS = "not_axis"


@dataclass(frozen=True)
class CameraSummary:
    info: DeviceInfo
    role: Role
    capabilities: StorageCapabilities


@dataclass(frozen=True)
class ConnectionReport:
    outcome: Outcome
    message: str
    summary: CameraSummary | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK


async def check_connection(endpoint: Endpoint, username: str, password: str, timeout: float = 10.0) -> ConnectionReport:
    where = f"{endpoint.host}:{endpoint.port}"
    try:
        if not await _looks_like_axis(endpoint, timeout):
            return ConnectionReport(
                Outcome.NOT_AXIS, f"{where} answers, but it is not an Axis camera (it does not speak VAPIX)."
            )
        async with VapixTransport(endpoint, username, password, timeout=timeout) as transport:
            summary = await read_summary(transport)
    except TlsError as exc:
        return ConnectionReport(Outcome.CERTIFICATE, str(exc))
    except ConnectionFailed as exc:
        text = str(exc)  # the transport already names the host: "cannot reach H:P: …" or "H:P did not answer…"
        return ConnectionReport(Outcome.UNREACHABLE, text[:1].upper() + text[1:])
    except Unauthorized:
        return ConnectionReport(
            Outcome.WRONG_CREDENTIALS, f"The camera at {where} refused user '{username}': wrong user name or password."
        )
    except VapixError as exc:
        return ConnectionReport(Outcome.NOT_AXIS, f"{where} did not answer as an Axis camera does: {exc}")
    return ConnectionReport(
        Outcome.OK,
        f"Connected to {summary.info.full_name or summary.info.model} "
        f"({summary.info.serial}) as {summary.role.name.lower()}.",
        summary,
    )


async def read_summary(transport: VapixTransport) -> CameraSummary:
    groups = await user_groups(transport)  # the cheapest call that proves the credentials
    param_api = ParamApi(transport)
    values = await param_api.list(*CAPABILITY_GROUPS)
    try:
        info = await BasicDeviceInfo(transport).all_properties()
    except NotFound:  # firmware before basicdeviceinfo: the same facts are parameters
        info = _info_from_params(await param_api.list("Brand", "Properties.Firmware", "Properties.System"))
    return CameraSummary(info, groups.role, StorageCapabilities.from_params(values))


async def _looks_like_axis(endpoint: Endpoint, timeout: float) -> bool:
    async with VapixTransport(endpoint, None, None, timeout=timeout) as anonymous:
        try:
            info = await BasicDeviceInfo(anonymous).unrestricted_properties()
            if info.brand or info.serial:
                return True
        except (Unauthorized, NotFound):
            pass  # older firmware: no unauthenticated basicdeviceinfo; param.cgi below tells instead
        except ConnectionFailed:
            raise
        except VapixError:
            return False
        response = await anonymous.request(
            "GET", params_api.PATH, params={"action": "list", "group": "root.Brand"}, check=False
        )
        if response.status_code == 401:
            challenges = parse_challenges(response.headers.get_list("www-authenticate"))
            realms = [c.params.get("realm", "") for c in challenges]
            return any(realm.startswith("AXIS") for realm in realms)
        return response.status_code == 200 and "root.Brand" in response.text


def _info_from_params(values: dict[str, str]) -> DeviceInfo:
    return DeviceInfo(
        values.get("Brand.Brand", ""),
        values.get("Brand.ProdNbr", ""),
        values.get("Brand.ProdFullName", ""),
        values.get("Properties.System.SerialNumber", ""),
        values.get("Properties.Firmware.Version", ""),
        values.get("Brand.ProdType", ""),
    )
