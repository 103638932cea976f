"""Icons and the style sheet, shipped inside the package so the frozen app finds them.

Importing this module needs no QApplication (the launcher reads the style sheet before creating one); only
icon() does, because pixmaps cannot exist without a QGuiApplication.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable

from PySide6.QtCore import QByteArray, QCoreApplication, QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer

__all__ = ["ICON_SIZES", "clear_icon_cache", "icon", "icon_names", "style_sheet"]

# Toolbars, buttons and list rows ask for these; rendering each exactly keeps the strokes crisp instead of scaled.
ICON_SIZES: tuple[int, ...] = (16, 24, 32, 48)

# edgestore.qss holds shared rules first, then one section of colours per scheme, each opened by its marker.
_LIGHT_MARKER = "/* @light */"
_DARK_MARKER = "/* @dark */"

_icons: dict[tuple[str, int], QIcon] = {}


def style_sheet(dark: bool = False) -> str:
    """The application style sheet for a light or a dark palette.

    Native styles draw their own colours, so only the few tinted widgets (banners, results) need two variants;
    both live in one file so a selector added to one scheme is hard to forget in the other.
    """
    text = files(__name__).joinpath("edgestore.qss").read_text(encoding="utf-8")
    shared, _, schemes = text.partition(_LIGHT_MARKER)
    light, _, dark_rules = schemes.partition(_DARK_MARKER)
    return shared + (dark_rules if dark else light)


def _icon_dir() -> Traversable:
    return files(__name__).joinpath("icons")


def icon_names() -> list[str]:
    """Every icon shipped, so callers and tests can check a name before a user ever sees a blank button."""
    return list(_shipped_names())


@cache
def _shipped_names() -> tuple[str, ...]:
    """Listed once: the shipped files cannot change while the app runs, and icon() checks every name."""
    return tuple(sorted(e.name.removesuffix(".svg") for e in _icon_dir().iterdir() if e.name.endswith(".svg")))


def icon(name: str, color: QColor | None = None) -> QIcon:
    """A crisp icon tinted to contrast with the current palette.

    The SVGs draw with currentColor, which Qt's renderer does not resolve against a widget, so the colour is
    substituted into the source before rendering. Without a colour the palette's text colour is used, which
    keeps icons legible after a switch between light and dark (call clear_icon_cache() then, or ask again:
    the cache key includes the colour).

    Raises KeyError for a name that is not shipped: a silent empty icon would only show up as a blank button.
    """
    if name not in _shipped_names():
        raise KeyError(f"no icon named {name!r} in resources/icons; known icons: {', '.join(icon_names())}")
    app = QCoreApplication.instance()
    if not isinstance(app, QGuiApplication):
        raise RuntimeError("resources.icon() needs a QGuiApplication: pixmaps cannot be made before one exists")
    tint = QColor(color) if color is not None else QGuiApplication.palette().color(QPalette.ColorRole.WindowText)
    key = (name, tint.rgba())
    if key not in _icons:
        _icons[key] = _render(name, tint, app.devicePixelRatio())
    return QIcon(_icons[key])


def clear_icon_cache() -> None:
    """Forget rendered icons, so the next icon() call after a theme change renders in the new text colour."""
    _icons.clear()


def _render(name: str, tint: QColor, device_pixel_ratio: float) -> QIcon:
    source = _icon_dir().joinpath(f"{name}.svg").read_text(encoding="utf-8")
    renderer = QSvgRenderer(QByteArray(source.replace("currentColor", tint.name()).encode("utf-8")))
    if not renderer.isValid():
        raise ValueError(f"resources/icons/{name}.svg is not an SVG Qt can render")
    result = QIcon()
    # High-DPI screens get their own pixmaps so QIcon never upscales a 1x one into a blur.
    for ratio in sorted({1.0, device_pixel_ratio}):
        for size in ICON_SIZES:
            pixels = round(size * ratio)
            pixmap = QPixmap(pixels, pixels)
            pixmap.fill(Qt.GlobalColor.transparent)
            painter = QPainter(pixmap)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setOpacity(tint.alphaF())  # SVG colours carry no alpha; a translucent tint still works
            renderer.render(painter, QRectF(0, 0, pixels, pixels))
            painter.end()
            pixmap.setDevicePixelRatio(ratio)
            result.addPixmap(pixmap)
    return result
