"""The figures stored in the notebooks follow the book's style, say what they show, and code
that only draws is folded.

Checked on the stored outputs (what GitHub, Colab and the book's build start from):

- every notebook that draws calls ``use_book_style()`` in its first code cell and nowhere sets
  ``rcParams`` or a font size of its own: the style decides, in one place;
- every static figure is a :func:`~sgd_utils.viz.style.figure_png` image: twice the pixel
  density, displayed at CSS size, smallest text at least 80% of the body text;
- every static figure has alt text (cell metadata ``mystnb.image.alt``, which myst-nb writes
  into the ``<img>``); slider figures get theirs from ``slider_figure(alt=...)``;
- a cell that builds a figure and does nothing else (no ``print``, no optimizer run at top
  level) is tagged ``hide-input``, so the book folds it.

The same properties on the rendered pages are checked in tests/browser.
"""

import ast
import base64
import io
from pathlib import Path

import nbformat
import pytest
from PIL import Image

from sgd_utils.viz import style

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted([*ROOT.glob("chapters/*.ipynb"), *ROOT.glob("book/*.ipynb")])
WIDGET = "application/vnd.jupyter.widget-view+json"


def code_cells(path):
    return [(index, cell) for index, cell in enumerate(nbformat.read(path, as_version=4).cells)
            if cell.cell_type == "code"]


def static_images(path):
    """``(cell index, cell, output)`` of every PNG output that is not a slider's fallback."""
    return [(index, cell, output) for index, cell in code_cells(path)
            for output in cell.get("outputs", [])
            if "image/png" in output.get("data", {}) and WIDGET not in output["data"]]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_the_style_is_set_once_by_the_package(path):
    cells = code_cells(path)
    draws = any("plt." in cell.source or "slider_figure(" in cell.source for _, cell in cells)
    if draws:
        assert "use_book_style()" in cells[0][1].source, "first code cell must set the style"
    for index, cell in cells:
        for name in ("rcParams", "fontsize=", "labelsize="):
            assert name not in cell.source, f"cell {index} sets {name} itself"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_static_figures_are_sharp_and_legible(path):
    for index, _, output in static_images(path):
        png = base64.b64decode(output["data"]["image/png"])
        image = Image.open(io.BytesIO(png))
        assert image.text.get(style.DENSITY_KEY) == str(style.PIXEL_DENSITY), f"cell {index}"
        shown = output.get("metadata", {}).get("image/png", {})
        assert (shown.get("width"), shown.get("height")) == style.css_size(png), f"cell {index}"
        smallest = float(image.text[style.SMALLEST_TEXT_KEY])
        assert smallest >= 0.8 * style.BODY_TEXT_PX, f"cell {index}: text of {smallest} px"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_static_figures_have_alt_text(path):
    for index, cell, _ in static_images(path):
        alt = cell.metadata.get("mystnb", {}).get("image", {}).get("alt", "")
        assert len(alt) >= 40, f"cell {index} has no alt text that says what it shows"


def only_draws(source):
    """True for code that builds a figure and nothing a reader needs to see: no print, no
    top-level call other than matplotlib's and slider_figure."""
    tree = ast.parse(source)
    drawing = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            if name == "print":
                return False
            drawing |= name in ("subplots", "figure", "slider_figure")
    return drawing


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_cells_that_only_draw_are_folded(path):
    for index, cell in code_cells(path)[1:]:
        if only_draws(cell.source) and "how_to_use" not in path.name:
            assert "hide-input" in cell.metadata.get("tags", []), f"cell {index} only draws"
