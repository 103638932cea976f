"""Icons render in any colour and light/dark really changes the palette, style sheet and icon tints."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from PySide6.QtGui import QColor, QImage, QPalette
from PySide6.QtWidgets import QLabel

from resources import ICON_SIZES, icon, icon_names, style_sheet
from ui.theme import Theme, apply_theme, current_is_dark, save_theme, saved_theme

pytestmark = pytest.mark.gui

LISTED = [
    "add",
    "remove",
    "edit",
    "refresh",
    "restart",
    "reset",
    "camera",
    "camera-virtual",
    "disk",
    "share",
    "format",
    "mount",
    "eject",
    "lock",
    "unlock",
    "check",
    "repair",
    "encryption",
    "key",
    "cleanup",
    "alert",
    "limit",
    "test",
    "bind",
    "unbind",
    "split",
    "ok",
    "warning",
    "error",
    "recording",
    "settings",
    "theme",
]


@pytest.fixture
def themed(qapp) -> Iterator[object]:
    """Put the application back as other tests expect it: the system's scheme and the style sheet it had."""
    sheet = qapp.styleSheet()
    yield qapp
    apply_theme(qapp, Theme.SYSTEM)
    qapp.setStyleSheet(sheet)


def pixels(image: QImage) -> list[QColor]:
    return [image.pixelColor(x, y) for y in range(image.height()) for x in range(image.width())]


def opaque_pixels(image: QImage) -> list[QColor]:
    return [colour for colour in pixels(image) if colour.alpha() == 255]


def rendered(name: str, colour: QColor | None = None) -> QImage:
    return icon(name, colour).pixmap(24, 24).toImage()


def test_every_listed_icon_is_shipped():
    assert sorted(set(LISTED) - set(icon_names())) == []


@pytest.mark.parametrize("name", LISTED)
def test_an_icon_renders_something_at_24_px(qapp, name):
    pixmap = icon(name).pixmap(24, 24)
    assert not pixmap.isNull()
    assert pixmap.toImage().size().width() == 24
    assert len([colour for colour in pixels(pixmap.toImage()) if colour.alpha() > 0]) > 20


def test_an_icon_offers_every_size(qapp):
    sizes = {size.width() for size in icon("add").availableSizes()}
    assert sizes >= set(ICON_SIZES)


def test_a_white_icon_is_white(qapp):
    pixels = opaque_pixels(rendered("ok", QColor("white")))
    assert QColor("white") in pixels
    assert [p.name() for p in pixels if p.lightness() < 128] == []


def test_a_black_icon_is_black(qapp):
    pixels = opaque_pixels(rendered("ok", QColor("black")))
    assert QColor("black") in pixels
    assert [p.name() for p in pixels if p.lightness() >= 128] == []


def test_an_unknown_icon_is_an_error_not_a_blank(qapp):
    with pytest.raises(KeyError, match="no icon named 'no-such-icon'"):
        icon("no-such-icon")


def test_dark_makes_the_window_dark(themed):
    apply_theme(themed, Theme.DARK)
    assert themed.palette().color(QPalette.ColorRole.Window).lightness() < 128
    assert current_is_dark(themed)


def test_light_makes_the_window_light(themed):
    apply_theme(themed, Theme.DARK)
    apply_theme(themed, Theme.LIGHT)
    assert themed.palette().color(QPalette.ColorRole.Window).lightness() >= 128
    assert not current_is_dark(themed)


def test_system_after_dark_drops_the_dark_palette(themed):
    apply_theme(themed, Theme.DARK)
    apply_theme(themed, Theme.SYSTEM)
    assert themed.palette() == themed.style().standardPalette()


def test_icons_follow_the_theme_without_an_explicit_colour(themed):
    apply_theme(themed, Theme.DARK)
    on_dark = opaque_pixels(rendered("add"))
    apply_theme(themed, Theme.LIGHT)
    on_light = opaque_pixels(rendered("add"))
    assert min(p.lightness() for p in on_dark) >= 128
    assert max(p.lightness() for p in on_light) < 128


@pytest.mark.parametrize(("theme", "dark"), [(Theme.DARK, True), (Theme.LIGHT, False)])
def test_the_banner_matches_the_theme(themed, qtbot, theme, dark):
    apply_theme(themed, theme)
    banner = QLabel("Card not formatted")
    banner.setObjectName("banner")
    qtbot.addWidget(banner)
    banner.resize(240, 40)
    background = banner.grab().toImage().pixelColor(120, 3)
    assert background != themed.palette().color(QPalette.ColorRole.Window)
    assert (background.lightness() < 128) is dark


def test_the_dark_sheet_keeps_the_shared_rules_and_drops_the_light_colours():
    dark = style_sheet(dark=True)
    assert "QLabel#detailsHeading" in dark
    assert "#fff4e5" not in dark
    assert "#fff4e5" in style_sheet()


@pytest.mark.parametrize("theme", list(Theme))
def test_the_choice_round_trips(tmp_path, theme):
    save_theme(tmp_path / "settings", theme)
    assert saved_theme(tmp_path / "settings") is theme


def test_no_choice_means_system(tmp_path):
    assert saved_theme(tmp_path) is Theme.SYSTEM


@pytest.mark.parametrize("content", ["{not json", json.dumps({"theme": "sepia"}), json.dumps(["dark"])])
def test_a_broken_file_means_system(tmp_path, content):
    (tmp_path / "theme.json").write_text(content, encoding="utf-8")
    assert saved_theme(tmp_path) is Theme.SYSTEM


def test_a_system_scheme_change_restyles_under_system(themed, qtbot):
    apply_theme(themed, Theme.SYSTEM)
    themed.setStyleSheet("")
    themed.styleHints().colorSchemeChanged.emit(themed.styleHints().colorScheme())
    qtbot.waitUntil(lambda: themed.styleSheet() == style_sheet(dark=current_is_dark(themed)))
