"""The parameter values, who may see them, and their persistence.

Client updates are all-or-nothing: every name and value in one param.cgi update is checked before any is
written, so a typo in the third parameter does not leave the first two changed.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from device.params.definitions import ParamDef
from device.persist import read_json, write_json_atomic
from device.users import Role

Listener = Callable[[str, str], None]
Pairs = list[tuple[str, str]]


class ParamUpdateError(Exception):
    """An update was refused; `name` and `value` are what the client sent, for the `# Error:` line."""

    def __init__(self, name: str, value: str, reason: str) -> None:
        super().__init__(f"{name}={value}: {reason}")
        self.name, self.value, self.reason = name, value, reason


class UnknownGroupError(Exception):
    def __init__(self, group: str) -> None:
        super().__init__(group)
        self.group = group


def strip_root(name: str) -> str:
    return name[5:] if name.lower().startswith("root.") else name


class ParamStore:
    def __init__(self, path: Path, definitions: Iterable[ParamDef]) -> None:
        self._path = path
        self._defs: dict[str, ParamDef] = {}
        self._by_lower: dict[str, str] = {}
        self._values: dict[str, str] = {}
        self._listeners: list[Listener] = []
        saved: dict[str, str] = read_json(path, {})
        for d in definitions:
            self.define(d, saved.get(d.name))

    def define(self, definition: ParamDef, saved: str | None = None) -> None:
        self._defs[definition.name] = definition
        self._by_lower[definition.name.lower()] = definition.name
        value = definition.default
        if isinstance(saved, str) and definition.persist:
            try:
                value = definition.validate(saved)
            except ValueError:
                value = definition.default  # a hand-edited file must not stop the camera from starting
        self._values[definition.name] = value

    def undefine_group(self, group: str) -> None:
        """Drop every parameter under `group` (a removed network share's ``NetworkShare.N#``)."""
        prefix = strip_root(group).rstrip(".") + "."
        for name in [n for n in self._defs if n.startswith(prefix)]:
            del self._defs[name], self._values[name], self._by_lower[name.lower()]

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def definition(self, name: str) -> ParamDef:
        return self._defs[self._canonical(name)]

    def get(self, name: str) -> str:
        return self._values[self._canonical(name)]

    def put(self, name: str, value: str) -> None:
        """Set a value from inside the device (lock.cgi, the bound port); no access check."""
        canonical = self._canonical(name)
        self._values[canonical] = value
        self._changed([(canonical, value)])

    def update(self, changes: Mapping[str, str], role: Role) -> None:
        checked: Pairs = []
        for sent_name, sent_value in changes.items():
            definition = self._writable(sent_name, role, sent_value)
            try:
                checked.append((definition.name, definition.validate(sent_value)))
            except ValueError as exc:
                raise ParamUpdateError(sent_name, sent_value, str(exc)) from None
        for name, value in checked:
            self._values[name] = value
        self._changed(checked)

    def list(self, groups: Iterable[str], role: Role) -> tuple[Pairs, builtins.list[str]]:
        """The readable (name, value) pairs under each group, and the groups that matched nothing."""
        found: Pairs = []
        missing: builtins.list[str] = []
        for group in groups:
            prefix = strip_root(group).lower().rstrip(".")
            matches = [
                (d.full_name, self._values[d.name])
                for d in self._defs.values()
                if role >= d.read
                and (prefix == "" or d.name.lower() == prefix or d.name.lower().startswith(prefix + "."))
            ]
            if matches:
                found.extend(m for m in matches if m not in found)
            else:
                missing.append(group)
        return found, missing

    def _writable(self, sent_name: str, role: Role, value: str) -> ParamDef:
        canonical = self._by_lower.get(strip_root(sent_name).lower())
        definition = self._defs.get(canonical) if canonical else None
        if definition is None or role < definition.read:
            raise ParamUpdateError(sent_name, value, "no such parameter")
        if definition.write is None:
            raise ParamUpdateError(sent_name, value, "read-only")
        if role < definition.write:
            raise ParamUpdateError(sent_name, value, "not writable with this user's role")
        return definition

    def _canonical(self, name: str) -> str:
        return self._by_lower[strip_root(name).lower()]

    def _changed(self, changes: Pairs) -> None:
        persisted = {n: v for n, v in self._values.items() if self._defs[n].persist}
        write_json_atomic(self._path, persisted)
        for name, value in changes:
            for listener in self._listeners:
                listener(name, value)
