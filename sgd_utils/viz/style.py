r"""One figure style for the whole book: legible text, sharp images, colours for every reader.

Every chapter calls :func:`use_book_style` once, in its first cell, instead of setting
``rcParams`` itself. It sets three things:

Size
    A figure inch is :data:`CSS_PX_PER_INCH` CSS pixels on the page, and every text in a figure
    is at least :data:`SMALLEST_TEXT_PT` points, so that at the page's content width a figure's
    smallest text is at least 80% of the body text (16 px): :math:`12 \cdot 80 / 72 = 13.3` px.
Sharpness
    Images are stored with :data:`PIXEL_DENSITY` image pixels per CSS pixel and displayed at
    CSS size, so lines and text stay crisp on high-density screens. Their colours are reduced to a
    palette of 256, which plots survive intact at a third of the bytes.
Colour and dashes
    The colour cycle is Okabe and Ito's palette, designed to stay distinct under the common
    colour-vision deficiencies [1]_; colour maps stay perceptually uniform (viridis). Each colour
    of the cycle comes with its own dash pattern (:data:`LINE_STYLES`), so that lines are told
    apart without colour too: in greyscale print, and by readers who see no colour at all.

:func:`figure_png` renders any figure this way; the book's static figures (through IPython's
display formatter, which :func:`use_book_style` registers) and every slider image
(:mod:`.widgets`) go through it, and record their smallest text in the PNG itself so that the
browser tests can check it on the page.

References
----------
.. [1] M. Okabe and K. Ito, "Color Universal Design (CUD): how to make figures and presentations
   that are friendly to colorblind people", J*FLY, 2008. https://jfly.uni-koeln.de/color/
"""

from __future__ import annotations

import base64
import io

import matplotlib
from cycler import cycler
from matplotlib.figure import Figure
from matplotlib.text import Text
from PIL import Image as PILImage
from PIL.PngImagePlugin import PngInfo

from .formulas import share_parsed_formulas

# Okabe-Ito, in an order whose first four are the most distinct from each other; yellow is last
# because it is faint on white.
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000",
             "#F0E442")
# One dash pattern per colour, solid first: the n-th line of an axes differs from the others in
# colour and in pattern. Patterns are (offset, (on, off, ...)) in multiples of the line width.
LINE_STYLES = ("-", (0, (4, 1.5)), (0, (1, 1.2)), (0, (6, 1.5, 1, 1.5)), (0, (2.5, 1.5)),
               (0, (6, 1.5, 1, 1.5, 1, 1.5)), (0, (8, 2)), (0, (1, 2.5)))
CSS_PX_PER_INCH = 80
PIXEL_DENSITY = 2
BODY_TEXT_PX = 16
SMALLEST_TEXT_PT = 12
# PNG text keys under which figure_png records its measurements (read by the browser tests).
SMALLEST_TEXT_KEY = "sgd_utils:smallest-text-css-px"
DENSITY_KEY = "sgd_utils:pixel-density"

BOOK_RC = {
    "figure.dpi": CSS_PX_PER_INCH,
    "figure.facecolor": "white",  # a light panel in the dark theme too
    "savefig.facecolor": "white",
    "font.size": SMALLEST_TEXT_PT,
    "axes.titlesize": SMALLEST_TEXT_PT + 1,
    "figure.titlesize": SMALLEST_TEXT_PT + 1,
    "axes.labelsize": SMALLEST_TEXT_PT,
    "xtick.labelsize": SMALLEST_TEXT_PT,
    "ytick.labelsize": SMALLEST_TEXT_PT,
    "legend.fontsize": SMALLEST_TEXT_PT,
    "legend.title_fontsize": SMALLEST_TEXT_PT,
    "legend.framealpha": 0.9,
    "axes.prop_cycle": cycler(color=OKABE_ITO) + cycler(linestyle=LINE_STYLES),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "lines.linewidth": 1.8,
    "image.cmap": "viridis",
}


def smallest_text_pt(fig: Figure) -> float | None:
    """Size in points of the smallest visible, non-empty text of a drawn ``fig``, or None."""
    sizes = [text.get_fontsize() for text in fig.findobj(Text)
             if text.get_visible() and text.get_text().strip()]
    return min(sizes, default=None)


def figure_png(fig: Figure, css_px_per_inch: float | None = None,
               density: int = PIXEL_DENSITY, bbox_inches: str | None = None,
               optimize: bool = True) -> bytes:
    """PNG of ``fig`` with ``density`` image pixels per CSS pixel, in a palette of 256 colours.

    ``css_px_per_inch`` defaults to the figure's own dpi. The PNG records its density and its
    smallest text in CSS pixels (:data:`SMALLEST_TEXT_KEY`); its CSS width is
    ``image width / density``. ``optimize`` searches for the smallest encoding: about 5% fewer
    bytes for 20-45 ms more per image (8 times the encoding's time), worth it for the images
    every visitor of a page loads, not for a live redraw.
    """
    css_px_per_inch = fig.dpi if css_px_per_inch is None else css_px_per_inch
    dpi = css_px_per_inch * density
    buffer = io.BytesIO()
    if bbox_inches is None:
        # the raw pixels, as Agg draws them (int(size * dpi) of them a side): the same image as
        # through an intermediate PNG, without encoding and decoding one (a fifth of the time)
        _save_rgba_laid_out_once(fig, buffer, dpi)
        width, height = (int(side * dpi) for side in fig.get_size_inches())
        image = PILImage.frombuffer("RGBA", (width, height), buffer.getvalue(), "raw", "RGBA", 0, 1)
    else:
        fig.savefig(buffer, format="png", dpi=dpi, bbox_inches=bbox_inches)
        image = PILImage.open(buffer)
    smallest = smallest_text_pt(fig)  # after savefig: tick labels exist only once drawn
    image = image.convert("RGB").quantize(colors=256, method=PILImage.Quantize.FASTOCTREE)
    info = PngInfo()
    info.add_text(DENSITY_KEY, str(density))
    if smallest is not None:
        info.add_text(SMALLEST_TEXT_KEY, f"{smallest * css_px_per_inch / 72:.2f}")
    out = io.BytesIO()
    image.save(out, format="png", optimize=optimize, pnginfo=info)
    return out.getvalue()


def _save_rgba_laid_out_once(fig: Figure, buffer: io.BytesIO, dpi: float) -> None:
    """``fig.savefig(buffer, format="rgba", dpi=dpi)``, in 5-10% less time for a figure with a
    layout engine (the book's are constrained).

    savefig lays such a figure out by drawing all of it without output, then draws it again for
    the pixels. Running the engine at ``dpi`` and then saving with the engine switched off lays
    it out the same (the draw without output runs the same engine at the same dpi), and leaves
    out the first walk over every artist. The pixels are the same: compared on every slider
    figure of the book, wide and for phones.
    """
    engine = fig.get_layout_engine()
    if engine is None or not fig.axes:   # Figure.draw runs no engine without axes either
        fig.savefig(buffer, format="rgba", dpi=dpi)
        return
    original_dpi = fig.dpi
    try:
        fig.dpi = dpi   # as savefig sets it, so the engine measures text as it will be drawn
        engine.execute(fig)
        fig.set_layout_engine(None)
        fig.savefig(buffer, format="rgba", dpi=dpi)
    finally:
        fig.set_layout_engine(engine)
        fig.dpi = original_dpi


def css_size(png: bytes) -> tuple[int, int]:
    """``(width, height)`` in CSS pixels at which a :func:`figure_png` image is displayed."""
    image = PILImage.open(io.BytesIO(png))
    density = int(image.text.get(DENSITY_KEY, 1))
    return round(image.width / density), round(image.height / density)


def _inline_png(fig: Figure):
    """IPython's PNG formatter for a figure: the image and its CSS size, which myst-nb and
    JupyterLab use as the ``<img>`` width and height. When the web book is built (static
    sliders, :mod:`.widgets`), the image carries the figure's phone rendition (:mod:`.phone`),
    which the build serves to narrow screens; a live kernel shows it to no one, and skips it."""
    from .phone import phone_png, with_phone_rendition
    from .widgets import resolve_mode

    png = figure_png(fig, bbox_inches="tight")
    narrow = phone_png(fig) if resolve_mode(None) == "static" else None
    if narrow is not None:
        png = with_phone_rendition(png, narrow)
    width, height = css_size(png)
    return base64.b64encode(png).decode("ascii"), {"width": width, "height": height}


def use_book_style() -> None:
    """Apply :data:`BOOK_RC`, share parsed formulas between figures
    (:func:`~.formulas.share_parsed_formulas`), and in IPython show figures through
    :func:`figure_png`.

    The inline backend registers its own formatter when its module is first imported, which
    otherwise happens at the first figure and would undo this one; so it is imported here first.
    """
    matplotlib.rcParams.update(BOOK_RC)
    share_parsed_formulas()   # the book draws hundreds of figures with the same formulas
    try:
        from IPython import get_ipython
    except ImportError:  # plain Python: the rc settings are all there is to do
        return
    shell = get_ipython()
    if shell is not None:
        try:  # the inline backend registers its formatter when first imported: let it go first
            import matplotlib_inline.backend_inline  # noqa: F401
        except ImportError:
            pass
        formatter = shell.display_formatter.formatters["image/png"]
        formatter.for_type(Figure, _inline_png)
