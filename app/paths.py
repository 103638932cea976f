"""Where the app keeps its settings and data: the platform's folders unless the user names others."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_config_dir, user_data_dir

APP_NAME = "Edgestore"


@dataclass(frozen=True)
class AppPaths:
    config_dir: Path
    data_dir: Path

    @classmethod
    def default(cls, config_dir: Path | None = None, data_dir: Path | None = None) -> AppPaths:
        return cls(
            config_dir or Path(user_config_dir(APP_NAME, appauthor=False)),
            data_dir or Path(user_data_dir(APP_NAME, appauthor=False)),
        )

    @property
    def embedded_camera_dir(self) -> Path:
        return self.data_dir / "virtual-camera"
