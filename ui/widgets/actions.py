"""Panel actions that say why they are disabled: built from a table, tinted with the theme, enabled from reasons.

The Disks and Shares panels both show a row of actions whose availability comes from app.storage.availability
as "" (allowed) or a sentence; the sentence becomes the tooltip of the greyed action, so the installer always
learns why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

from resources import icon

BUSY = "An action is running; wait until it has ended."


@dataclass(frozen=True)
class ActionSpec:
    name: str
    label: str  # with its & mnemonic
    icon: str
    shortcut: str
    tip: str  # the tooltip while the action is allowed


def make_actions(owner: QWidget, specs: Sequence[ActionSpec], trigger: Callable[[str], None]) -> dict[str, QAction]:
    """One QAction per spec, its shortcut local to `owner` (two panels may use the same key)."""
    actions: dict[str, QAction] = {}
    for spec in specs:
        action = QAction(icon(spec.icon), spec.label, owner)
        action.setData(spec)
        if spec.shortcut:
            action.setShortcut(QKeySequence(spec.shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.triggered.connect(lambda _checked=False, name=spec.name: trigger(name))
        owner.addAction(action)
        actions[spec.name] = action
    return actions


def retint(actions: Mapping[str, QAction]) -> None:
    """Icons again in the palette's text colour, after a switch between light and dark."""
    for action in actions.values():
        action.setIcon(icon(action.data().icon))


def apply_reasons(actions: Mapping[str, QAction], reasons: Mapping[str, str], busy: bool) -> None:
    for name, action in actions.items():
        spec: ActionSpec = action.data()
        reason = BUSY if busy else reasons.get(name, "")
        action.setEnabled(not reason)
        label = spec.label.replace("&", "").rstrip("…")
        action.setToolTip(f"{label}: {reason}" if reason else spec.tip)
        action.setStatusTip(reason or spec.tip)
