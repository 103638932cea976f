"""Icons and the style sheet, shipped inside the package so the frozen app finds them."""

from importlib.resources import files


def style_sheet() -> str:
    return files(__name__).joinpath("edgestore.qss").read_text(encoding="utf-8")
