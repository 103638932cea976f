"""The cameras the user added, kept in a JSON file in the config dir. Passwords are never in it."""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from app.vapix.tls import TlsTrust, TrustMode
from app.vapix.transport import Endpoint

EMBEDDED_ID = "embedded"


@dataclass(frozen=True)
class CameraConfig:
    name: str
    host: str
    port: int
    username: str
    https: bool = False
    trust: TlsTrust = field(default_factory=TlsTrust)
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint(self.host, self.port, self.https, self.trust)

    @property
    def embedded(self) -> bool:
        return self.id == EMBEDDED_ID

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["trust"] = {**asdict(self.trust), "mode": self.trust.mode.value}
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CameraConfig:
        trust = data.get("trust") or {}
        return cls(
            name=str(data["name"]),
            host=str(data["host"]),
            port=int(data["port"]),
            username=str(data["username"]),
            https=bool(data.get("https", False)),
            trust=TlsTrust(
                TrustMode(trust.get("mode", "system")),
                trust.get("ca_file"),
                trust.get("pinned_pem"),
                trust.get("fingerprint"),
            ),
            id=str(data["id"]),
        )

    def with_changes(self, **changes: Any) -> CameraConfig:
        return replace(self, **changes)


@dataclass
class Settings:
    cameras: list[CameraConfig] = field(default_factory=list)
    embedded_enabled: bool | None = None  # None: never decided, i.e. a fresh install


class SettingsStore:
    def __init__(self, config_dir: Path) -> None:
        self.path = config_dir / "settings.json"

    def load(self) -> Settings:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return Settings()
        return Settings([CameraConfig.from_json(c) for c in raw.get("cameras", [])], raw.get("embedded_enabled"))

    def save(self, settings: Settings) -> None:
        raw = {
            "version": 1,
            "embedded_enabled": settings.embedded_enabled,
            "cameras": [c.to_json() for c in settings.cameras],
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".settings.", dir=self.path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(raw, f, indent=2)
        os.replace(tmp, self.path)
