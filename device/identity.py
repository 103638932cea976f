"""Who this camera is: serial number, product names, firmware version and time zone.

The serial is made once and kept in the data dir because real cameras never change theirs: the Digest realm
(`AXIS_<serial>`) and, later, every recording ID end in it.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from device import __version__
from device.persist import read_json, write_json_atomic

SERIAL_RE = re.compile(r"^[0-9A-F]{12}$")
# Axis' own OUI prefix, so the serial looks like a MAC address as on a real camera.
_SERIAL_PREFIX = "ACCC8E"


class IdentityError(ValueError):
    """A serial or time zone given on the command line is not valid."""


@dataclass(frozen=True)
class DeviceIdentity:
    serial: str
    timezone: str
    brand: str = "AXIS"
    prod_nbr: str = "Edgestore VC"
    prod_full_name: str = "Edgestore Virtual Camera"
    prod_short_name: str = "Edgestore VC"
    prod_type: str = "Network Camera"
    prod_variant: str = ""
    firmware_version: str = __version__
    architecture: str = "x86_64"
    web_url: str = "https://www.axis.com/"

    @property
    def realm(self) -> str:
        return f"AXIS_{self.serial}"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def normalise_serial(value: str) -> str:
    serial = value.replace(":", "").replace("-", "").upper()
    if not SERIAL_RE.match(serial):
        raise IdentityError(f"serial must be 12 hexadecimal digits, got {value!r}")
    return serial


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise IdentityError(f"unknown time zone {name!r} (use an IANA name such as Europe/Stockholm)") from exc
    return name


def load_identity(data_dir: Path, serial: str | None = None, timezone: str | None = None) -> DeviceIdentity:
    """Read the saved identity, apply command-line overrides, save it back."""
    path = data_dir / "identity.json"
    saved = read_json(path, {})
    chosen_serial = normalise_serial(serial) if serial else saved.get("serial")
    if not chosen_serial:
        chosen_serial = _SERIAL_PREFIX + secrets.token_hex(3).upper()
    chosen_tz = check_timezone(timezone) if timezone else saved.get("timezone", "UTC")
    identity = DeviceIdentity(serial=chosen_serial, timezone=chosen_tz)
    if saved != {"serial": identity.serial, "timezone": identity.timezone}:
        write_json_atomic(path, {"serial": identity.serial, "timezone": identity.timezone})
    return identity


def identity_summary(identity: DeviceIdentity) -> dict[str, str]:
    return {k: str(v) for k, v in asdict(identity).items()}
