"""Tests for sgd_utils.viz.phone: figures laid out for a phone's text column.

The oracle for legibility is the rendered image: its CSS width, read from the PNG, and the
smallest text matplotlib drew, which together give the text size on a 358 px phone column.
That the page serves these renditions to phones is checked in tests/browser/test_reading.py.
"""

import base64
import io
import struct
import zlib

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from sgd_utils.viz import phone, style

PHONE_COLUMN_PX = 358   # the text column of a 390 px wide phone (measured in Chromium)


@pytest.fixture(autouse=True)
def book_style():
    with matplotlib.rc_context(style.BOOK_RC):
        yield


def row_of_panels(ncols=3, sharey=True):
    fig = Figure(figsize=(9, 3.2), layout="constrained")
    axes = fig.subplots(1, ncols, sharey=sharey)
    for i, ax in enumerate(axes):
        ax.plot(np.arange(10), np.arange(10) ** (i + 1))
        ax.set_title(f"A long panel title, number {i}")
        ax.set_xlabel("step")
    axes[0].set_ylabel("loss")
    fig.suptitle("A figure title longer than a phone's column is wide, by far")
    return fig, axes


def different_pixels(png, other):
    """The fraction of the pixels of two images of the same size that differ."""
    a, b = (np.asarray(Image.open(io.BytesIO(p)).convert("RGB")) for p in (png, other))
    return (a != b).any(axis=2).mean()


def text_ratio_on_phone(png):
    """Smallest text of ``png`` on a phone's column, as a fraction of the 16 px body text."""
    width, _ = style.css_size(png)
    shown = min(width, PHONE_COLUMN_PX)
    smallest = float(Image.open(io.BytesIO(png)).text[style.SMALLEST_TEXT_KEY])
    return smallest * shown / width / style.BODY_TEXT_PX


def test_a_row_of_panels_becomes_a_column_of_legible_panels():
    fig, axes = row_of_panels()
    wide = style.figure_png(fig, bbox_inches="tight")
    assert text_ratio_on_phone(wide) < 0.6   # the problem: a 9 inch figure shrunk to a phone
    phone.phone_layout(fig)
    png = style.figure_png(fig, bbox_inches="tight")
    assert text_ratio_on_phone(png) >= 0.8
    assert style.css_size(png)[0] <= PHONE_COLUMN_PX
    positions = [ax.get_position() for ax in axes]
    assert all(a.y0 > b.y1 for a, b in zip(positions, positions[1:]))   # top to bottom, in order
    assert all(abs(p.x0 - positions[0].x0) < 0.02 for p in positions)   # one column
    # the y tick labels that sharey hid on the inner panels are back: each panel stands alone
    assert all(any(t.get_visible() and t.get_text() for t in ax.get_yticklabels())
               for ax in axes)
    assert fig._suptitle.get_wrap() and all(ax.title.get_wrap() for ax in axes)


def test_each_stacked_panel_keeps_a_readable_height():
    fig, _ = row_of_panels(ncols=2)
    phone.phone_layout(fig)
    assert fig.get_size_inches()[0] == pytest.approx(phone.PHONE_WIDTH_IN)
    assert fig.get_size_inches()[1] == pytest.approx(2 * 3.2)


def test_a_twin_axis_follows_its_panel():
    fig = Figure(figsize=(8, 3), layout="constrained")
    left, right = fig.subplots(1, 2)
    twin = right.twinx()
    phone.phone_layout(fig)
    assert twin.get_subplotspec().rowspan == right.get_subplotspec().rowspan == range(1, 2)
    assert left.get_subplotspec().rowspan == range(0, 1)


@pytest.mark.parametrize("make", [
    lambda fig: fig.subplots(2, 8),                                  # a table of digits
    lambda fig: fig.add_gridspec(2, 2)[0, :] and [fig.add_subplot(fig.add_gridspec(2, 2)[0, :]),
                                                  fig.add_subplot(fig.add_gridspec(2, 2)[1, 0])],
])
def test_other_layouts_only_narrow(make):
    fig = Figure(figsize=(8, 3), layout="constrained")
    make(fig)
    specs = [ax.get_subplotspec() for ax in fig.axes]
    phone.phone_layout(fig)
    assert [ax.get_subplotspec() for ax in fig.axes] == specs
    assert tuple(fig.get_size_inches()) == pytest.approx((phone.PHONE_WIDTH_IN, 3))


def test_phone_copy_leaves_the_figure_as_it_was():
    fig, axes = row_of_panels()
    before = style.figure_png(fig, bbox_inches="tight")
    narrow = phone.phone_copy(fig)
    assert narrow is not fig and narrow.get_size_inches()[0] == pytest.approx(phone.PHONE_WIDTH_IN)
    assert tuple(fig.get_size_inches()) == (9, 3.2)
    assert style.figure_png(fig, bbox_inches="tight") == before
    plt.close("all")


def test_a_phone_rendition_travels_inside_the_png_and_comes_out_intact():
    fig, _ = row_of_panels()
    wide = style.figure_png(fig)
    narrow = style.figure_png(phone.phone_copy(fig))
    both = phone.with_phone_rendition(wide, narrow)
    image = Image.open(io.BytesIO(both))
    image.load()   # readers that do not know the chunk (PIL, browsers) still read the figure
    assert image.size == Image.open(io.BytesIO(wide)).size
    assert phone.phone_rendition(both) == narrow
    assert phone.without_phone_rendition(both) == wide
    assert phone.phone_rendition(wide) is None
    # the chunk is a valid one: its CRC covers its type and data, as the PNG standard says
    start = both.index(phone.PHONE_CHUNK) - 4
    (length,) = struct.unpack(">I", both[start:start + 4])
    (crc,) = struct.unpack(">I", both[start + 8 + length:start + 12 + length])
    assert crc == zlib.crc32(both[start + 4:start + 8 + length])


def test_not_a_png_is_refused():
    with pytest.raises(ValueError, match="not a PNG"):
        phone.phone_rendition(b"GIF89a")


def test_a_live_kernel_skips_the_phone_rendition(monkeypatch):
    monkeypatch.setenv("SGD_UTILS_SLIDERS", "live")
    data, _ = style._inline_png(row_of_panels()[0])
    assert phone.phone_rendition(base64.b64decode(data)) is None


def test_the_books_build_attaches_the_phone_rendition(monkeypatch):
    monkeypatch.setenv("SGD_UTILS_SLIDERS", "static")   # as make book sets it
    fig, _ = row_of_panels()
    data, metadata = style._inline_png(fig)
    png = base64.b64decode(data)
    narrow = phone.phone_rendition(png)
    assert narrow is not None and text_ratio_on_phone(narrow) >= 0.8
    assert (metadata["width"], metadata["height"]) == style.css_size(png)


def test_a_static_figure_with_a_legend_beside_it_still_fits_the_column():
    fig = Figure(figsize=(8, 3), layout="constrained")
    ax = fig.subplots()
    for k in range(3):
        ax.plot(np.arange(5), k * np.arange(5), label=f"a long legend entry {k}")
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1))   # beside the axes, outside
    ax.set_yticks([0, 4, 8], ["zero point zero", "four", "eight"])
    png = phone.phone_png(fig)
    assert style.css_size(png)[0] <= phone.PHONE_WIDTH_IN * style.CSS_PX_PER_INCH + 1
    assert text_ratio_on_phone(png) >= 0.8


def test_the_copy_of_a_pyplot_figure_is_not_left_open_in_pyplot():
    # IPython's inline backend shows every figure pyplot holds open at the end of a cell: a copy
    # left open would appear under the cell as a figure of its own
    plt.close("all")
    fig, _ = plt.subplots(1, 2)
    narrow = phone.phone_copy(fig)
    assert plt.get_fignums() == [fig.number]
    assert style.css_size(style.figure_png(narrow))[0] == round(phone.PHONE_WIDTH_IN
                                                                * style.CSS_PX_PER_INCH)
    plt.close("all")


def test_a_legend_wider_than_its_panel_moves_under_the_figure():
    fig = Figure(figsize=(6.4, 3.0), layout="constrained")
    ax = fig.subplots()
    ax.barh(["learning rate x (1/10 .. 10)", "momentum, lr fixed", "weight decay"],
            [0.1, 0.05, 1e-3])
    ax.axvline(0.01, ls="--", label="two standard errors at the centre")
    ax.set(xscale="log", xlabel="swing of mean validation accuracy")
    ax.legend(loc="lower right")
    png = phone.phone_png(fig)
    narrow = phone.phone_copy(fig)
    narrow.draw_without_rendering()
    renderer = narrow._get_renderer()
    (axes,) = narrow.axes
    assert axes.get_legend() is None
    (legend,) = narrow.legends
    assert [t.get_text() for t in legend.get_texts()] == ["two standard errors at the centre"]
    box = legend.get_window_extent(renderer)
    assert box.y1 <= axes.xaxis.get_tightbbox(renderer).y0 + 1   # below the x label
    assert style.css_size(png)[0] <= phone.PHONE_WIDTH_IN * style.CSS_PX_PER_INCH + 1
    assert text_ratio_on_phone(png) >= 0.8


def test_the_phone_image_moves_a_legend_too_wide_for_its_panel_as_phone_layout_does():
    # phone_layout_png decides from the layout its own image made, not from a layout run first
    def drawn():
        fig = Figure(figsize=(6.4, 3.0), layout="constrained")
        ax = fig.subplots()
        ax.barh(["learning rate x (1/10 .. 10)", "momentum", "weight decay"], [0.1, 0.05, 1e-3])
        ax.axvline(0.01, ls="--", label="two standard errors at the centre")
        ax.set(xscale="log", xlabel="swing of mean validation accuracy")
        ax.legend(loc="lower right")
        return fig

    fig = drawn()
    png = phone.phone_layout_png(fig, style.CSS_PX_PER_INCH)
    assert fig.axes[0].get_legend() is None
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == ["two standard errors at the centre"]
    expected = style.figure_png(phone.phone_layout(drawn()), style.CSS_PX_PER_INCH)
    assert style.css_size(png) == style.css_size(expected)
    # the same picture but for edges a pixel apart: constrained layout is iterative, and each
    # starts from another layout (2.5% of the pixels differ; 17% with the legend left in place)
    assert different_pixels(png, expected) < 0.05


def test_the_phone_image_keeps_a_legend_that_fits():
    fig, axes = row_of_panels(ncols=2)
    axes[0].legend(["a"], loc="lower right")
    png = phone.phone_layout_png(fig, style.CSS_PX_PER_INCH)
    assert fig.axes[0].get_legend()._loc == 4 and not fig.legends   # lower right, as it was
    assert style.css_size(png) == (round(phone.PHONE_WIDTH_IN * style.CSS_PX_PER_INCH),
                                   round(fig.get_size_inches()[1] * style.CSS_PX_PER_INCH))
    assert text_ratio_on_phone(png) >= 0.8


def test_a_legend_that_fits_its_panel_stays_where_it_was():
    fig, axes = row_of_panels(ncols=2)
    axes[0].legend(["a"], loc="lower right")
    narrow = phone.phone_copy(fig)
    assert narrow.axes[0].get_legend()._loc == 4   # lower right


def test_a_row_of_legend_entries_wider_than_the_phone_becomes_a_column():
    fig = Figure(figsize=(6.4, 3.0), layout="constrained")
    ax = fig.subplots()
    bars = [ax.barh([0], [w], label=name) for w, name in ((3, "backprop"), (2, "all-reduce"),
                                                          (1, "update"))]
    fig.legend(handles=bars, loc="outside lower center", ncols=3)
    narrow = phone.phone_copy(fig)
    (legend,) = narrow.legends
    assert [t.get_text() for t in legend.get_texts()] == ["backprop", "all-reduce", "update"]
    assert legend._ncols == 1
    png = phone.phone_png(fig)
    assert style.css_size(png)[0] <= phone.PHONE_WIDTH_IN * style.CSS_PX_PER_INCH + 1
