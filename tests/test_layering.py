"""The layers stay apart: `app` never imports `ui`, and the virtual camera imports neither."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def imported_packages(package: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [("app", {"ui", "PySide6", "qasync", "device"}), ("device", {"app", "ui", "PySide6", "qasync"})],
)
def test_a_layer_imports_nothing_above_it(package, forbidden):
    offenders = {path: names & forbidden for path, names in imported_packages(package).items() if names & forbidden}
    assert offenders == {}


def test_only_the_launcher_names_the_ui_package_in_app():
    mentions = [p for p in (ROOT / "app").rglob("*.py") if '"ui.' in p.read_text(encoding="utf-8")]
    assert [p.relative_to(ROOT).as_posix() for p in mentions] == ["app/__main__.py"]
