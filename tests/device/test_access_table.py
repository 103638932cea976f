"""Every CGI refuses, with the camera's 401, a user whose role is below the CGI's level."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from device.http.access import CGI_ACCESS
from tests.support.device_process import CREDENTIALS

pytestmark = pytest.mark.functional

ROLES = ["viewer", "operator", "admin"]


def _cases() -> list[tuple[str, str | None, str, bool]]:
    cases = []
    for path, access in CGI_ACCESS.items():
        levels = [(None, access.role), *access.by_action.items()]
        for action, needed in levels:
            if needed is None:
                continue
            for role in ROLES:
                cases.append((path, action, role, ROLES.index(role) + 1 >= int(needed)))
    return cases


@pytest.mark.parametrize(
    ("path", "action", "role", "allowed"), _cases(), ids=lambda v: str(v).replace("/axis-cgi/", "")
)
def test_role_below_the_cgi_level_gets_401(shared_device, path, action, role, allowed):
    params = {"action": action} if action else {}
    response = httpx.get(shared_device.http_url + path, params=params, auth=httpx.DigestAuth(*CREDENTIALS[role]))
    if allowed:
        assert response.status_code != 401, response.text
    else:
        assert response.status_code == 401
        assert response.headers.get("www-authenticate", "").startswith("Digest")


SPEC = Path(__file__).resolve().parents[2].parent / "shared" / "spec" / "endpoints.yaml"


@pytest.mark.skipif(not SPEC.exists(), reason="shared/spec sits beside the checkout")
def test_the_table_covers_every_cgi_of_the_spec_with_its_documented_roles():
    text = SPEC.read_text(encoding="utf-8")
    documented = dict(re.findall(r"\n    path: (/axis-cgi/\S+)\n(?:.*\n)*?    roles: \[([^\]]*)\]", text))
    assert len(documented) == 44
    for path, roles in documented.items():
        lowest = min(ROLES.index(r.strip()) for r in roles.split(","))
        assert int(CGI_ACCESS[path].role) == lowest + 1, path
