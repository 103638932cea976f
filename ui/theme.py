"""Light and dark on the platform's own style, chosen by the user and remembered between runs.

The native styles (windows11, macOS) draw dark controls themselves once Qt is asked for a dark colour scheme,
so the app never switches to Fusion to get a dark look. Where the platform cannot honour the request (Linux
without a platform theme, the offscreen platform, old Windows styles) an explicit palette stands in, so "dark"
is dark everywhere.
"""

from __future__ import annotations

import json
import logging
from enum import StrEnum
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from resources import clear_icon_cache, style_sheet

__all__ = ["Theme", "apply_theme", "current_is_dark", "dark_palette", "save_theme", "saved_theme"]

log = logging.getLogger(__name__)

THEME_FILE = "theme.json"


class Theme(StrEnum):
    SYSTEM = "system"
    LIGHT = "light"
    DARK = "dark"


_SCHEMES = {Theme.LIGHT: Qt.ColorScheme.Light, Theme.DARK: Qt.ColorScheme.Dark}

# Kept on the application itself, so the state dies with it: the theme last applied (a change of the system's
# scheme is only followed under SYSTEM) and whether that change is already being listened for.
_THEME_PROPERTY = "edgestoreTheme"
_FOLLOWING_PROPERTY = "edgestoreFollowsSystemScheme"


def apply_theme(app: QApplication, theme: Theme) -> None:
    """Switch the whole application to a theme now, including the style sheet and icon tints.

    Asks the platform first, because its own dark rendering is the most native; checks the resulting palette
    rather than trusting the request, because many platforms accept it silently and change nothing.
    """
    app.setPalette(QPalette())  # drop a stand-in palette from an earlier call so the platform's own shows again
    hints = app.styleHints()
    if theme is Theme.SYSTEM:
        hints.unsetColorScheme()
    else:
        hints.setColorScheme(_SCHEMES[theme])
    if theme is Theme.DARK and not current_is_dark(app):
        app.setPalette(dark_palette())
    elif theme is Theme.LIGHT and current_is_dark(app):
        app.setPalette(_light_palette(app))
    app.setProperty(_THEME_PROPERTY, theme.value)
    if not app.property(_FOLLOWING_PROPERTY):
        _follow_system_scheme(app)
    _restyle(app)


def current_is_dark(app: QGuiApplication) -> bool:
    """Whether the palette in effect is dark, whatever was asked for: the style sheet and icons must match it."""
    return app.palette().color(QPalette.ColorRole.Window).lightness() < 128


def _restyle(app: QApplication) -> None:
    app.setStyleSheet(style_sheet(dark=current_is_dark(app)))
    clear_icon_cache()


def _follow_system_scheme(app: QApplication) -> None:
    """Under SYSTEM, the OS can turn dark at dusk; Qt updates the palette but not our style sheet or icons.

    The signal arrives while the old palette is still in effect, so the restyle waits for the event loop.
    """

    def changed(_scheme: Qt.ColorScheme) -> None:
        if app.property(_THEME_PROPERTY) == Theme.SYSTEM.value:
            QTimer.singleShot(0, app, lambda: _restyle(app))

    app.styleHints().colorSchemeChanged.connect(changed)
    app.setProperty(_FOLLOWING_PROPERTY, True)


def dark_palette() -> QPalette:
    """A restrained dark palette for platforms whose style will not produce one itself."""
    palette = QPalette()
    colours = {
        QPalette.ColorRole.Window: "#2b2b2b",
        QPalette.ColorRole.WindowText: "#e6e6e6",
        QPalette.ColorRole.Base: "#1f1f1f",
        QPalette.ColorRole.AlternateBase: "#272727",
        QPalette.ColorRole.ToolTipBase: "#353535",
        QPalette.ColorRole.ToolTipText: "#e6e6e6",
        QPalette.ColorRole.PlaceholderText: "#8a8a8a",
        QPalette.ColorRole.Text: "#e6e6e6",
        QPalette.ColorRole.Button: "#353535",
        QPalette.ColorRole.ButtonText: "#e6e6e6",
        QPalette.ColorRole.BrightText: "#ff6b6b",
        QPalette.ColorRole.Light: "#4d4d4d",
        QPalette.ColorRole.Midlight: "#414141",
        QPalette.ColorRole.Mid: "#262626",
        QPalette.ColorRole.Dark: "#1a1a1a",
        QPalette.ColorRole.Shadow: "#000000",
        QPalette.ColorRole.Highlight: "#3874d8",
        QPalette.ColorRole.Accent: "#3874d8",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.Link: "#7aaefc",
        QPalette.ColorRole.LinkVisited: "#b79cf7",
    }
    for role, colour in colours.items():
        palette.setColor(role, QColor(colour))
    disabled = {
        QPalette.ColorRole.WindowText: "#7a7a7a",
        QPalette.ColorRole.Text: "#7a7a7a",
        QPalette.ColorRole.ButtonText: "#7a7a7a",
        QPalette.ColorRole.Highlight: "#454545",
        QPalette.ColorRole.HighlightedText: "#a0a0a0",
        QPalette.ColorRole.Base: "#2b2b2b",
    }
    for role, colour in disabled.items():
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(colour))
    return palette


def _light_palette(app: QApplication) -> QPalette:
    """The style's own light palette, unless the style derives that from a dark system too."""
    palette = app.style().standardPalette()
    if palette.color(QPalette.ColorRole.Window).lightness() >= 128:
        return palette
    light = QPalette(QColor("#efefef"), QColor("#efefef"))  # Qt's classic light palette from button and window
    light.setColor(QPalette.ColorRole.Base, QColor("#ffffff"))
    light.setColor(QPalette.ColorRole.Text, QColor("#000000"))
    light.setColor(QPalette.ColorRole.WindowText, QColor("#000000"))
    light.setColor(QPalette.ColorRole.ButtonText, QColor("#000000"))
    return light


def saved_theme(settings_dir: Path) -> Theme:
    """The user's last choice; SYSTEM when none was made or the file cannot be read, never an error at start-up."""
    path = settings_dir / THEME_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Theme.SYSTEM
    except (OSError, ValueError) as error:
        log.warning("ignoring unreadable %s: %s", path, error)
        return Theme.SYSTEM
    value = data.get("theme") if isinstance(data, dict) else None
    if not isinstance(value, str) or value not in {theme.value for theme in Theme}:
        log.warning("ignoring unknown theme %r in %s", value, path)
        return Theme.SYSTEM
    return Theme(value)


def save_theme(settings_dir: Path, theme: Theme) -> None:
    """Remember the choice; written to a temporary file first so a crash cannot leave a half-written one."""
    settings_dir.mkdir(parents=True, exist_ok=True)
    path = settings_dir / THEME_FILE
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps({"theme": theme.value}, indent=2) + "\n", encoding="utf-8")
    temporary.replace(path)
