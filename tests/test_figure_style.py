"""Tests for sgd_utils.viz.style: text sizes, colours under colour-vision deficiencies, sharp PNGs.

That the text and density hold on the built pages is checked in tests/browser.
"""

import base64
import io
import itertools
import multiprocessing

import matplotlib
import numpy as np
import pytest
from colorspacious import cspace_convert, deltaE
from matplotlib import mathtext
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from PIL import Image

from sgd_utils.viz import formulas, style

TEXT_SIZE_KEYS = ("font.size", "axes.titlesize", "figure.titlesize", "axes.labelsize",
                  "xtick.labelsize", "ytick.labelsize", "legend.fontsize",
                  "legend.title_fontsize")


def test_every_text_of_the_style_is_at_least_80_percent_of_the_body_text():
    with matplotlib.rc_context(style.BOOK_RC):
        sizes = {key: FontProperties(size=matplotlib.rcParams[key]).get_size_in_points()
                 for key in TEXT_SIZE_KEYS}
    assert min(sizes.values()) >= style.SMALLEST_TEXT_PT, sizes
    # points to CSS pixels: 1 pt = 1/72 inch, and a figure inch is CSS_PX_PER_INCH pixels
    assert style.SMALLEST_TEXT_PT * style.CSS_PX_PER_INCH / 72 >= 0.8 * style.BODY_TEXT_PX


def smallest_cvd_distance(colours, cvd_type):
    """Smallest CAM02-UCS distance between two of ``colours`` as a viewer with the full form of
    ``cvd_type`` sees them (Machado et al. 2009, as implemented by colorspacious)."""
    space = {"name": "sRGB1+CVD", "cvd_type": cvd_type, "severity": 100}
    seen = [np.clip(cspace_convert(to_rgb(c), space, "sRGB1"), 0, 1) for c in colours]
    return min(deltaE(a, b, input_space="sRGB1") for a, b in itertools.combinations(seen, 2))


@pytest.mark.parametrize("cvd_type", ["deuteranomaly", "protanomaly", "tritanomaly"])
def test_the_colour_cycle_stays_distinct_under_colour_vision_deficiencies(cvd_type):
    cycle = style.BOOK_RC["axes.prop_cycle"].by_key()["color"]
    # 10 units of CAM02-UCS: clearly different at a glance. matplotlib's default cycle falls to
    # 1.6 for protanopes (its blue and purple), so this test can fail.
    assert smallest_cvd_distance(cycle, cvd_type) > 10
    default = matplotlib.rcParamsDefault["axes.prop_cycle"].by_key()["color"]
    assert smallest_cvd_distance(default, "protanomaly") < 10


def dash_pattern(linestyle):
    """On/off pixels along one horizontal line drawn in black with ``linestyle`` and the style's
    line width, as the reader sees it (rendered by Agg, not read from the settings)."""
    with matplotlib.rc_context(style.BOOK_RC):
        fig = Figure(figsize=(4, 0.5), dpi=style.CSS_PX_PER_INCH * style.PIXEL_DENSITY)
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_axis_off()
        ax.plot([0, 1], [0.5, 0.5], color="black", linestyle=linestyle)
        ax.set(xlim=(0, 1), ylim=(0, 1))
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        pixels = np.asarray(canvas.buffer_rgba())[..., 0]
    row = pixels[:, 10:-10].min(axis=1).argmin()  # the darkest row: the line's centre
    return tuple(pixels[row, 10:-10] < 128)


def test_lines_are_told_apart_without_colour():
    """Each colour of the cycle has its own dash pattern, so in greyscale (or to a reader who
    sees no colour) the first eight lines of an axes still differ."""
    cycle = style.BOOK_RC["axes.prop_cycle"].by_key()
    assert len(cycle["linestyle"]) == len(cycle["color"])
    patterns = [dash_pattern(linestyle) for linestyle in cycle["linestyle"]]
    assert all(any(pattern) and not all(pattern) for pattern in patterns[1:])  # dashed, visible
    assert all(patterns[0])  # the first line is solid
    assert len(set(patterns)) == len(patterns), "two line styles render alike"


def drawn_figure(fontsize=None):
    with matplotlib.rc_context(style.BOOK_RC):
        fig = Figure(figsize=(4, 3))
        ax = fig.subplots()
        ax.plot([0, 1], [0, 1], label="a line")
        ax.legend(fontsize=fontsize)
        ax.set_title("a title")
        return fig, style.figure_png(fig)


def test_figure_png_records_density_and_smallest_text():
    fig, png = drawn_figure(fontsize=9)
    image = Image.open(io.BytesIO(png))
    assert image.mode == "P" and image.size == (2 * 4 * 80, 2 * 3 * 80)
    assert style.css_size(png) == (320, 240)
    # the legend's 9 pt is the smallest text: 9 / 72 inch at 80 CSS pixels per inch
    assert float(image.text[style.SMALLEST_TEXT_KEY]) == pytest.approx(9 * 80 / 72, abs=0.01)


def test_an_empty_figure_has_no_smallest_text():
    fig = Figure(figsize=(2, 2))
    image = Image.open(io.BytesIO(style.figure_png(fig)))
    assert style.smallest_text_pt(fig) is None and style.SMALLEST_TEXT_KEY not in image.text


def test_use_book_style_shows_figures_in_ipython_at_css_size():
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    saved = matplotlib.rcParams.copy()
    try:
        style.use_book_style()
        assert matplotlib.rcParams["font.size"] == style.SMALLEST_TEXT_PT
        fig, _ = drawn_figure()
        data, metadata = shell.display_formatter.format(fig)
        png = base64.b64decode(data["image/png"])
        width, height = Image.open(io.BytesIO(png)).size
        # displayed at half its pixel size (bbox_inches="tight" trims the margins)
        assert metadata["image/png"] == {"width": round(width / 2), "height": round(height / 2)}
    finally:
        shell.display_formatter.formatters["image/png"].pop(Figure, None)
        matplotlib.rcParams.update(saved)


@pytest.mark.parametrize("size", [(6.4, 3.6), (4.2, 2.9), (6.37, 2.91)])
def test_figure_png_without_cropping_is_the_image_savefig_writes(size):
    # Oracle: matplotlib's own PNG of the same figure, quantized the same way. figure_png skips
    # that PNG for speed and reads the raw pixels, and lays the figure out once instead of
    # savefig's twice; the pixels must not change, at any size. Each path gets a figure of its
    # own, never laid out before.
    def drawn():
        fig = Figure(figsize=size, layout="constrained")
        left, right = fig.subplots(1, 2)
        left.plot([0, 1, 0.5], label="a line")
        left.legend()
        right.semilogy([1, 2, 3], [1e-3, 1e2, 1e4])
        right.set_title("a title over a log axis")
        fig.suptitle("a figure title")
        return fig

    buffer = io.BytesIO()
    drawn().savefig(buffer, format="png", dpi=style.CSS_PX_PER_INCH * style.PIXEL_DENSITY)
    expected = Image.open(buffer).convert("RGB").quantize(
        colors=256, method=Image.Quantize.FASTOCTREE).convert("RGB")
    fig = drawn()
    engine, dpi = fig.get_layout_engine(), fig.dpi
    got = Image.open(io.BytesIO(style.figure_png(fig, css_px_per_inch=style.CSS_PX_PER_INCH)))
    assert (fig.get_layout_engine(), fig.dpi) == (engine, dpi)   # the figure as it was
    assert got.size == expected.size
    assert np.array_equal(np.asarray(got.convert("RGB")), np.asarray(expected))


def formula_figure():
    """Two panels with formulas: log-axis tick labels ($10^{k}$) and a label in TeX."""
    fig = Figure(figsize=(6.4, 3.2), layout="constrained")
    left, right = fig.subplots(1, 2)
    left.semilogy([1, 2, 3], [1e-3, 1e2, 1e4])
    right.plot([0, 1], [0, 1])
    right.set_xlabel(r"noise scale $g = \epsilon N / B$")
    return fig


def test_shared_formulas_give_the_same_images_and_parse_each_formula_once(monkeypatch):
    # Oracle: matplotlib's own cache (one per renderer). The shared cache must change no pixel,
    # and a second figure must parse no formula again.
    monkeypatch.setattr(mathtext.MathTextParser, "_parse_cached", formulas.MATPLOTLIB_PARSE)
    expected = style.figure_png(formula_figure())
    assert formulas.share_parsed_formulas()
    formulas._parse_shared.cache_clear()
    first = style.figure_png(formula_figure())
    parsed = formulas._parse_shared.cache_info().misses
    second = style.figure_png(formula_figure())
    info = formulas._parse_shared.cache_info()
    assert first == expected and second == expected
    assert parsed >= 4 and info.misses == parsed and info.hits >= parsed


def test_use_book_style_shares_parsed_formulas(monkeypatch):
    monkeypatch.setattr(mathtext.MathTextParser, "_parse_cached", formulas.MATPLOTLIB_PARSE)
    saved = matplotlib.rcParams.copy()
    try:
        style.use_book_style()
        assert mathtext.MathTextParser._parse_cached is formulas._parse_cached
    finally:
        matplotlib.rcParams.update(saved)


def _formula_png(_):
    return style.figure_png(formula_figure())


def test_forked_workers_draw_formulas_after_the_parent_has_parsed_them():
    # slider_figure(workers=2) forks after the chapter has drawn figures. FreeType's objects do not
    # survive fork(), so a child must not reuse the parent's parsed formulas (it failed in
    # FT_Load_Glyph with "invalid outline"); oracle: the image drawn in the parent.
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork() on this platform")
    formulas.share_parsed_formulas()
    expected = style.figure_png(formula_figure())   # the parent parses (and caches) the formulas
    with multiprocessing.get_context("fork").Pool(2) as pool:
        assert pool.map(_formula_png, range(4)) == [expected] * 4
