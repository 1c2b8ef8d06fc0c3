r"""Figures for a phone's text column: the same drawing, laid out narrow.

A figure drawn for a laptop's text column (5-8 inches, :data:`~.style.CSS_PX_PER_INCH` CSS
pixels each) shrinks to a phone's 358 px, and its text with it: to 40-60% of the body text. The
book therefore stores a second rendition of each figure, :data:`PHONE_WIDTH_IN` wide with the same
font sizes, so that on a phone the smallest text is again :math:`12 \cdot 80 / 72 = 13.3` px, 83%
of the 16 px body text; the page shows it on screens narrower than the wide rendition
(``<picture>``, in ``book/_ext/book_html.py`` and :mod:`.widgets`).

:func:`phone_layout` re-lays a drawn figure: a row (or a small grid) of panels becomes a column of
full-width panels, titles wrap, and tick labels that a shared axis hid on inner panels come back,
since in a column every panel stands on its own. Other layouts (spanning or nested grids, large
grids such as a table of digits) only narrow.

A slider figure re-lays each position's drawing for a phone once its wide image is made
(:mod:`.widgets`).
When the book is built (static sliders), a static figure, drawn once by the chapter's code, is
copied (:func:`phone_copy`) and its phone rendition travels inside its PNG, in a private ancillary
chunk (:data:`PHONE_CHUNK`), so that the notebook keeps one image per figure, which GitHub and
JupyterLab show as before (they skip unknown ancillary chunks, as the PNG standard requires); the
book's build takes it out into a file of its own.
"""

from __future__ import annotations

import pickle
import struct
import sys
import zlib

import numpy as np
from matplotlib.figure import Figure
from matplotlib.gridspec import GridSpec

from .style import CSS_PX_PER_INCH, css_size, figure_png

# 336 CSS px: within the text column of a 360 px phone (328 px shown: the text still 81% of the
# body) and of a 390 px one (358 px).
PHONE_WIDTH_IN = 4.2
# A panel of a restacked figure is this tall, whatever its height in the wide figure.
PANEL_HEIGHT_IN = (2.4, 3.2)
# Grids wider than this are pictures (e.g. rows of digits), not panels to stack.
MAX_STACKED_COLUMNS = 3
# PNG chunk type: ancillary (p), private (h), reserved bit clear (O), safe to copy (n).
PHONE_CHUNK = b"phOn"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _cells(fig: Figure):
    """``{(row, col): [axes]}`` of the figure's one grid of single-cell panels and the grid, or
    None when the layout is anything else (twin axes share their parent's cell; colorbars of a
    constrained layout have no cell and follow their parent)."""
    cells, grid = {}, None
    for ax in fig.axes:
        spec = ax.get_subplotspec()
        if spec is None:
            continue
        if grid is None:
            grid = spec.get_gridspec()
        if spec.get_gridspec() is not grid or not isinstance(grid, GridSpec):
            return None
        rows, cols = spec.rowspan, spec.colspan
        if len(rows) != 1 or len(cols) != 1:
            return None
        cells.setdefault((rows.start, cols.start), []).append(ax)
    if grid is None:
        return None
    return cells, grid


def phone_layout(fig: Figure, width_in: float = PHONE_WIDTH_IN) -> Figure:
    """Re-lay the drawn ``fig`` in place for a column ``width_in`` inches wide; returns ``fig``.

    A grid of up to :data:`MAX_STACKED_COLUMNS` columns becomes one column, row by row, each
    panel :data:`PANEL_HEIGHT_IN` tall (its wide height, clipped to that range). Any other figure
    keeps its layout and height and only narrows. Legends wider than their axes then go below the
    figure (:func:`_legends_below_if_too_wide`).
    """
    _narrow(fig, width_in)
    _legends_below_if_too_wide(fig)
    return fig


def phone_layout_png(fig: Figure, css_px_per_inch: float, optimize: bool = True) -> bytes:
    """:func:`figure_png` of ``phone_layout(fig)`` (which ``fig`` becomes), in less time.

    Whether a legend is too wide is known only once the figure is laid out; phone_layout lays
    it out for that, and the image lays it out again. Here the image's own layout answers: the
    legends move, and the figure is drawn again, only when one is too wide. Most figures have no
    such legend, and their image costs one layout less: 34-60 ms, a quarter of a phone image with
    a legend (chapters 5 and 10). The image is that of ``figure_png(phone_layout(fig))`` up to
    shifts of a pixel at most: constrained layout is iterative, and here starts from the wide
    layout rather than from a layout already run at the phone's width. Compared on 3-8
    positions of every slider figure of chapters 1, 2, 5, 6, 9, 10 and 11 (62 images): the same
    size and legends; 31 images identical, the others differing in at most 5% of their pixels,
    at edges a pixel apart (checked by eye on the most different).
    """
    _narrow(fig, PHONE_WIDTH_IN)
    png = figure_png(fig, css_px_per_inch, optimize=optimize)
    if _legends_below_if_too_wide(fig, laid_out=True):
        png = figure_png(fig, css_px_per_inch, optimize=optimize)
    return png


def _narrow(fig: Figure, width_in: float) -> None:
    """phone_layout's new grid, wrapping texts and width: all but the legends."""
    width, height = fig.get_size_inches()
    found = _cells(fig)
    if found is not None and 1 < found[1].ncols <= MAX_STACKED_COLUMNS:
        cells, grid = found
        panel = float(np.clip(height / grid.nrows, *PANEL_HEIGHT_IN))
        column = GridSpec(len(cells), 1, figure=fig)
        for row, key in enumerate(sorted(cells)):
            for ax in cells[key]:
                ax.set_subplotspec(column[row, 0])
                # shared axes hide the tick labels of inner panels; in a column each shows its own
                if len(ax.get_shared_y_axes().get_siblings(ax)) > 1:
                    ax.yaxis.set_tick_params(which="both", labelleft=True)
                if len(ax.get_shared_x_axes().get_siblings(ax)) > 1:
                    ax.xaxis.set_tick_params(which="both", labelbottom=True)
        height = panel * len(cells)
    # titles and axis labels wrap at the figure's edges rather than widen it
    for text in [fig._suptitle, *(t for ax in fig.axes
                                  for t in (ax.title, ax.xaxis.label, ax.yaxis.label))]:
        if text is not None:
            text.set_wrap(True)
    fig.set_size_inches(width_in, height)


def _legends_below_if_too_wide(fig: Figure, laid_out: bool = False) -> bool:
    """Gather the legends wider than their axes (they would cover the data, or stick out of the
    figure), and the figure legends wider than the figure (a row of entries), into one legend of
    one column under the figure, which constrained layout makes room for. True if any moved.

    ``laid_out``: the figure is laid out as it stands (just drawn), so its sizes can be read."""
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    if not legends and not fig.legends:
        return False
    # Lay the figure out, so that the sizes below are those drawn. Only the layout engine: the
    # widths need the axes' places and the legends' own sizes, not a draw of every artist (half of
    # draw_without_rendering's time, which a figure with a legend paid once more per image).
    if not laid_out:
        engine = fig.get_layout_engine()
        if engine is None:
            fig.draw_without_rendering()
        else:
            engine.execute(fig)
    renderer = fig._get_renderer()   # the canvas's, or a throwaway one of the right dpi
    too_wide = [legend for legend in legends
                if legend.get_window_extent(renderer).width > legend.axes.bbox.width]
    too_wide += [legend for legend in fig.legends
                 if legend.get_window_extent(renderer).width > fig.bbox.width]
    entries = {}
    for legend in too_wide:
        for handle, text in zip(legend.legend_handles, legend.get_texts()):
            entries.setdefault(text.get_text(), handle)
        legend.remove()
    if entries:
        fig.legend(list(entries.values()), list(entries), loc="outside lower center",
                   frameon=False)
    return bool(too_wide)


def phone_copy(fig: Figure, width_in: float = PHONE_WIDTH_IN) -> Figure | None:
    """A copy of ``fig`` laid out by :func:`phone_layout`, leaving ``fig`` as it is; None for a
    figure that cannot be copied (one holding an artist that does not pickle)."""
    try:
        copy = pickle.loads(pickle.dumps(fig))
    except Exception:   # noqa: BLE001 - a figure without a phone rendition still shows
        return None
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None and copy.canvas.manager is not None:
        # unpickling a pyplot figure registers the copy with pyplot as a new open figure, which
        # IPython's inline backend would then show under the cell as a figure of its own
        pyplot.close(copy)
    copy.set_dpi(fig.dpi if fig.dpi else CSS_PX_PER_INCH)
    return phone_layout(copy, width_in)


def phone_png(fig: Figure) -> bytes | None:
    """The phone rendition of a static figure (cropped to its drawing, as the book's figures
    are), or None when ``fig`` cannot be copied: laid out :data:`PHONE_WIDTH_IN` wide, then, if
    what sticks out of it (a long tick label, a legend beside the axes) makes the cropped image
    wider, laid out again that much narrower (up to three times)."""
    target_px = PHONE_WIDTH_IN * CSS_PX_PER_INCH
    narrow = phone_copy(fig)
    if narrow is None:
        return None
    png = figure_png(narrow, bbox_inches="tight")
    for _ in range(3):   # the narrower layout may push something out again: at most 3 tries
        excess_px = css_size(png)[0] - target_px
        if excess_px <= 1:
            break
        width, height = narrow.get_size_inches()
        narrow.set_size_inches(width - excess_px / narrow.dpi, height)
        png = figure_png(narrow, bbox_inches="tight")
    return png


def _chunks(png: bytes):
    """``(type, data, start, end)`` of each chunk of ``png``."""
    if not png.startswith(PNG_SIGNATURE):
        raise ValueError("not a PNG")
    position = len(PNG_SIGNATURE)
    while position < len(png):
        (length,) = struct.unpack(">I", png[position:position + 4])
        kind = png[position + 4:position + 8]
        end = position + 12 + length
        yield kind, png[position + 8:position + 8 + length], position, end
        position = end


def with_phone_rendition(png: bytes, phone_png: bytes) -> bytes:
    """``png`` carrying ``phone_png`` in a :data:`PHONE_CHUNK` chunk just before its end."""
    iend = next(start for kind, _, start, _ in _chunks(png) if kind == b"IEND")
    chunk = (struct.pack(">I", len(phone_png)) + PHONE_CHUNK + phone_png
             + struct.pack(">I", zlib.crc32(PHONE_CHUNK + phone_png)))
    return png[:iend] + chunk + png[iend:]


def phone_rendition(png: bytes) -> bytes | None:
    """The phone rendition inside ``png``, or None."""
    return next((data for kind, data, _, _ in _chunks(png) if kind == PHONE_CHUNK), None)


def without_phone_rendition(png: bytes) -> bytes:
    """``png`` without its phone rendition: what a laptop's reader downloads."""
    return PNG_SIGNATURE + b"".join(png[start:end] for kind, _, start, end in _chunks(png)
                                    if kind != PHONE_CHUNK)
