r"""Slider figures that work in the static web book (no kernel) and in a live kernel.

ipywidgets' saved state carries no Python callbacks, so an ``interact`` figure is inert once the
notebook is rendered to HTML. :func:`slider_figure` therefore has two modes:

``static``
    Every slider position is drawn in advance. The images sit in nested ``ipywidgets.Stack``s and
    each slider's ``index`` is linked to its stacks' ``selected_index`` with ``jslink``, a link the
    browser keeps without a kernel. This is what the published book uses.
``live``
    One image is drawn for the current position and redrawn when a slider is released, as in
    ``make lab``; nothing is precomputed, and every image drawn is kept for a return visit. A
    slider declared ``continuous`` ("log", "linear" or "integer") then takes any value of its
    range, not only its listed positions: any learning rate on a log scale, any momentum in
    [0, 0.999), any batch size. The same ``draw`` serves both modes.

The mode comes from the ``mode`` argument, else from the environment variable
``SGD_UTILS_SLIDERS`` (``make book`` sets ``static``), else ``live``.

A ``draw`` that takes seconds (it trains networks) may call :func:`report_progress` as it goes:
in a live kernel the line under the sliders then says how far it has got ("12 of 60 runs").

Example
-------
>>> import numpy as np
>>> def draw(fig, lr):
...     ax = fig.subplots()
...     t = np.arange(20)
...     ax.semilogy(t, np.abs(1 - lr) ** t)
>>> figure = slider_figure(draw, Slider("lr", log_values(0.1, 1.0, 3), label="learning rate"),
...                        alt="Distance to the minimum against step", mode="static")
>>> figure
<SliderFigure static: learning rate (3), 3 images>
"""

from __future__ import annotations

import base64
import gc
import html
import itertools
import math
import multiprocessing
import os
import sys
from dataclasses import dataclass, field
from numbers import Real
from typing import Any, Callable, Sequence

import ipywidgets
import numpy as np
from matplotlib.figure import Figure

from .phone import phone_layout_png
from .style import CSS_PX_PER_INCH, css_size, figure_png

MODES = ("static", "live")
CONTINUOUS = ("log", "linear", "integer")
ENV_MODE = "SGD_UTILS_SLIDERS"
# CSS class of every slider figure's image widget (the book's stylesheet and tests find it by it)
IMAGE_CLASS = "slider-image"
# Widget state is stored as base64 text in the page: 4 characters for every 3 bytes.
BASE64_INFLATION = 4 / 3


@dataclass(frozen=True)
class Slider:
    """One slider: the keyword ``name`` passed to the drawing function and its positions.

    Parameters
    ----------
    name : str
        Keyword argument of the drawing function that receives the value.
    values : sequence
        The positions, in slider order (e.g. :func:`log_values` for learning rates).
    label : str, optional
        Text left of the slider, e.g. ``"learning rate η"``; defaults to ``name``.
    unit : str, optional
        Appended to each value's readout, e.g. ``"samples"``.
    default : optional
        Initial position; the value closest to it is chosen. Defaults to the middle position.
    fmt : str
        Format of each value's readout, applied as ``format(value, fmt)``.
    continuous : {None, "log", "linear", "integer"}
        In a live kernel, let the slider take any value of ``span`` on that scale ("integer":
        any whole number) instead of only ``values``; the static book keeps ``values``.
    span : (low, high), optional
        The live slider's range; defaults to the smallest and largest of ``values``.
    """

    name: str
    values: Sequence[Any]
    label: str | None = None
    unit: str = ""
    default: Any = None
    fmt: str = ".3g"
    continuous: str | None = None
    span: tuple | None = None

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise ValueError(f"Slider name must be a Python identifier, got {self.name!r}")
        values = tuple(self.values)
        if len(values) < 2:
            raise ValueError(f"Slider {self.name!r} needs at least 2 values, got {len(values)}")
        object.__setattr__(self, "values", values)
        if self.continuous is None:
            if self.span is not None:
                raise ValueError(f"Slider {self.name!r}: span needs continuous=...")
            return
        if self.continuous not in CONTINUOUS:
            raise ValueError(f"Slider {self.name!r}: continuous must be None or one of "
                             f"{CONTINUOUS}, got {self.continuous!r}")
        if not all(_is_number(v) for v in values):
            raise ValueError(f"Slider {self.name!r}: a continuous slider needs numeric values")
        span = (min(values), max(values)) if self.span is None else self.span
        if (isinstance(span, (str, bytes)) or not hasattr(span, "__len__") or len(span) != 2
                or not all(_is_number(end) for end in span) or not span[0] < span[1]):
            raise ValueError(f"Slider {self.name!r}: span must be (low, high) with low < high, "
                             f"got {self.span!r}")
        if self.continuous == "log" and span[0] <= 0:
            raise ValueError(f"Slider {self.name!r}: a log-scale span must be positive, "
                             f"got {span!r}")
        object.__setattr__(self, "span", (float(span[0]), float(span[1])))

    def live_value(self, control) -> Any:
        """The value a live control stands for: an option of ``values``, or (continuous) the
        control's own value, whole for an "integer" slider."""
        if self.continuous is None:
            return self.values[control.index]
        return int(round(control.value)) if self.continuous == "integer" else float(control.value)

    @property
    def default_index(self) -> int:
        """Position of ``default`` (the closest value when numeric), else the middle one."""
        if self.default is None:
            return (len(self.values) - 1) // 2
        if self.default in self.values:
            return self.values.index(self.default)
        try:
            return int(np.argmin([abs(math.log(v / self.default)) if v > 0 and self.default > 0
                                  else abs(v - self.default) for v in self.values]))
        except TypeError as error:
            raise ValueError(f"Slider {self.name!r}: default {self.default!r} is not one of "
                             f"its values") from error

    def readout(self, value) -> str:
        """The label shown for ``value``, e.g. ``"0.03"`` or ``"32 samples"``."""
        text = format(value, self.fmt) if isinstance(value, (int, float, np.number)) else str(value)
        return f"{text} {self.unit}".strip()


def log_values(start: float, stop: float, num: int, digits: int = 2) -> tuple[float, ...]:
    """``num`` log-spaced values from ``start`` to ``stop``, rounded to ``digits``
    significant digits.

    Rounding keeps readouts short (``0.0032`` rather than ``0.0031622776``); values that rounding
    makes equal are kept once.

    >>> log_values(0.001, 1.0, 4)
    (0.001, 0.01, 0.1, 1.0)
    """
    if not (start > 0 and stop > 0):
        raise ValueError(f"log_values needs start > 0 and stop > 0, got start={start}, stop={stop}")
    if num < 2:
        raise ValueError(f"log_values needs num >= 2, got num={num}")
    raw = np.geomspace(start, stop, num)
    rounded = [float(f"{v:.{digits}g}") for v in raw]
    return tuple(dict.fromkeys(rounded))


def render_png(fig: Figure, dpi: float, optimize: bool = True) -> bytes:
    """A compact, sharp PNG of ``fig``: ``dpi`` CSS pixels per inch at twice the pixel density,
    in a palette of 256 colours (see :func:`~sgd_utils.viz.style.figure_png`); ``optimize=False``
    for speed over the last 10% of bytes."""
    return figure_png(fig, css_px_per_inch=dpi, optimize=optimize)


def _data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def image_html(png: bytes, alt: str, phone_png: bytes | None = None) -> str:
    """An ``<img>`` of a :func:`render_png` image at its CSS size, shrinking to narrow screens,
    with ``alt`` text for readers who cannot see it. With ``phone_png`` (the figure laid out by
    :func:`~.phone.phone_layout`), a ``<picture>`` that shows it instead on a screen too narrow
    for ``png``: about its CSS width plus the page's margins."""
    width, height = css_size(png)
    image = (f'<img src="{_data_url(png)}" width="{width}" height="{height}" '
             f'alt="{html.escape(alt)}" style="max-width: 100%; height: auto">')
    if phone_png is None:
        return image
    phone_width, phone_height = css_size(phone_png)
    return (f'<picture><source media="(max-width: {width + 32}px)" '
            f'srcset="{_data_url(phone_png)}" width="{phone_width}" height="{phone_height}">'
            f"{image}</picture>")


def resolve_mode(mode: str | None) -> str:
    """The explicit ``mode``, else ``$SGD_UTILS_SLIDERS``, else ``"live"``."""
    chosen = mode if mode is not None else os.environ.get(ENV_MODE, "live")
    if not isinstance(chosen, str) or chosen not in MODES:
        source = "mode" if mode is not None else f"${ENV_MODE}"
        raise ValueError(f"{source} must be one of {MODES}, got {chosen!r}")
    return chosen


@dataclass
class SliderFigure:
    """A figure with 1 to 3 sliders; display it in a notebook. Built by :func:`slider_figure`.

    ``images`` maps a tuple of slider values (in slider order) to PNG bytes: every position in
    static mode, the values visited so far in live mode. ``phone_images`` holds the same
    positions laid out for a phone (:mod:`.phone`), in static mode only: the web book's readers
    on phones see them; a live kernel serves a laptop. ``widget`` is the ipywidgets container;
    ``links`` are the browser-side links from each slider to its stacks (static mode).
    """

    draw: Callable[..., Any]
    sliders: tuple[Slider, ...]
    mode: str
    figsize: tuple[float, float]
    dpi: float
    alt: str
    images: dict[tuple, bytes] = field(default_factory=dict)
    phone_images: dict[tuple, bytes] = field(default_factory=dict)
    controls: list[ipywidgets.ValueWidget] = field(default_factory=list)
    links: list[ipywidgets.widgets.widget_link.Link] = field(default_factory=list)
    widget: ipywidgets.VBox | None = None

    def values_at(self, indices: tuple[int, ...]) -> tuple:
        """The sliders' values at positions ``indices``."""
        return tuple(s.values[i] for s, i in zip(self.sliders, indices))

    def image(self, values: tuple) -> bytes:
        """PNG of the figure for the sliders' ``values`` (drawn once, then cached). In static mode
        the drawn figure is then laid out again at a phone's width
        (:func:`~.phone.phone_layout_png`) into ``phone_images``.

        The phone image re-lays the figure already drawn rather than drawing it again at the
        phone's width: re-laid, it is the same image as drawn afresh (bytes compared for every
        slider figure of the book), in 10-15% less time for the pair, since the artists, and the
        tick marks and labels that the wide image's layout made, are made once. (Copying the
        drawn figure before re-laying it took up to 15 times longer: pickling contours.)"""
        if values not in self.images:
            keywords = {s.name: v for s, v in zip(self.sliders, values)}
            fig = Figure(figsize=self.figsize, layout="constrained")
            self.draw(fig, **keywords)
            # The smallest encoding (optimize) costs 8 times the time for 5% fewer bytes: worth
            # it for the image every visitor loads first, the default position's; not for the
            # other positions, fetched one at a time by a reader who moves a slider (the book
            # has 700 of them), nor for a live image, which the reader waits for.
            optimize = self.mode == "static" and values == self.default_values
            self.images[values] = render_png(fig, self.dpi, optimize=optimize)
            if self.mode == "static":   # the wide image is made: the figure may change now
                self.phone_images[values] = phone_layout_png(fig, self.dpi, optimize=optimize)
        return self.images[values]

    def renditions(self, values: tuple) -> tuple[bytes, bytes | None]:
        """The images the page shows for ``values``: the figure and, in static mode, its phone
        layout."""
        png = self.image(values)
        return png, self.phone_images.get(values)

    def describe(self, values: tuple) -> str:
        """The sliders' values in words: ``"learning rate η = 0.04, momentum μ = 0.9"``."""
        return ", ".join(f"{s.label or s.name} = {s.readout(v)}"
                         for s, v in zip(self.sliders, values))

    def alt_text(self, values: tuple) -> str:
        """What the image for ``values`` shows: ``alt`` and the sliders' values."""
        return f"{self.alt.rstrip('.')}, for {self.describe(values)}."

    def image_widget(self, values: tuple) -> ipywidgets.HTML:
        """The image for ``values`` with its alt text, as a widget."""
        png, phone_png = self.renditions(values)
        widget = ipywidgets.HTML(image_html(png, self.alt_text(values), phone_png),
                                 layout=ipywidgets.Layout(max_width="100%"))
        widget.add_class(IMAGE_CLASS)
        return widget

    @property
    def default_indices(self) -> tuple[int, ...]:
        return tuple(s.default_index for s in self.sliders)

    @property
    def default_values(self) -> tuple:
        return self.values_at(self.default_indices)

    @property
    def state_bytes(self) -> int:
        """Approximate size of the images in the page's widget state (base64)."""
        return int(sum(len(png) for images in (self.images, self.phone_images)
                       for png in images.values()) * BASE64_INFLATION)

    @property
    def screen_bytes(self) -> int:
        """Approximate size (base64) of the images one screen shows: the wide ones or the phone
        renditions, whichever weigh more. A reader who visits every position fetches these."""
        return int(max(sum(len(png) for png in images.values())
                       for images in (self.images, self.phone_images)) * BASE64_INFLATION)

    def __repr__(self) -> str:
        shape = " x ".join(f"{s.label or s.name} ({len(s.values)})" for s in self.sliders)
        return f"<SliderFigure {self.mode}: {shape}, {len(self.images)} images>"

    def _repr_mimebundle_(self, include=None, exclude=None):
        # The widget view for front ends with a widget manager (the book, JupyterLab), and a PNG of
        # the default position for those without (GitHub, nbviewer); text/plain stays the same
        # from run to run so nbval can compare it.
        bundle = self.widget._repr_mimebundle_(include=include, exclude=exclude)
        bundle["image/png"] = base64.b64encode(self.image(self.default_values)).decode("ascii")
        bundle["text/plain"] = repr(self)
        return bundle


def make_controls(sliders: Sequence[Slider], mode: str) -> list[ipywidgets.ValueWidget]:
    """One control per slider, starting at its default: a ``SelectionSlider`` over its values
    (the static book drags through them continuously), or in live mode for a ``continuous``
    slider one over its whole span, which redraws when released."""
    # One label width for all the figure's sliders, so that their tracks start at the same x.
    label_width = f"{max(len(s.label or s.name) for s in sliders) + 1}ch"
    common = dict(style={"description_width": label_width},
                  layout=ipywidgets.Layout(width="min(32rem, 100%)"))
    controls = []
    for slider in sliders:
        description = slider.label or slider.name
        default = slider.values[slider.default_index]
        if mode == "live" and slider.continuous is not None:
            low, high = slider.span
            if slider.continuous == "log":
                decades = math.log10(high) - math.log10(low)
                control = ipywidgets.FloatLogSlider(
                    value=default, base=10, min=math.log10(low), max=math.log10(high),
                    step=decades / 240, readout_format=".3g", continuous_update=False,
                    description=description, **common)
            elif slider.continuous == "linear":
                control = ipywidgets.FloatSlider(
                    value=default, min=low, max=high, step=(high - low) / 1000,
                    readout_format=".3g", continuous_update=False, description=description,
                    **common)
            else:
                control = ipywidgets.IntSlider(
                    value=int(round(default)), min=math.ceil(low), max=math.floor(high),
                    continuous_update=False, description=description, **common)
        else:
            options = [(slider.readout(v), i) for i, v in enumerate(slider.values)]
            control = ipywidgets.SelectionSlider(
                options=options, value=slider.default_index, description=description,
                continuous_update=mode == "static", **common)
        controls.append(control)
    return controls


def build_stack(figure: SliderFigure, prefix: tuple[int, ...] = ()) -> ipywidgets.Widget:
    """Nested stacks: level ``k`` chooses slider ``k``'s position; its ``index`` drives it
    by jslink."""
    level = len(prefix)
    if level == len(figure.sliders):
        return figure.image_widget(figure.values_at(prefix))
    children = [build_stack(figure, prefix + (i,))
                for i in range(len(figure.sliders[level].values))]
    stack = ipywidgets.Stack(children=children, selected_index=figure.default_indices[level])
    figure.links.append(
        ipywidgets.jslink((figure.controls[level], "index"), (stack, "selected_index")))
    return stack


# The figure whose images forked workers draw (see precompute): inherited by the fork, so that
# only slider values and PNG bytes cross between processes, never the figure and its widgets.
_FORKED_FIGURE: SliderFigure | None = None


def _draw_in_fork(values: tuple) -> tuple[bytes, bytes | None]:
    return _FORKED_FIGURE.renditions(values)


def precompute(figure: SliderFigure, max_state_mb: float, workers: int = 1) -> None:
    """Draw every position, refusing early a grid whose images would exceed ``max_state_mb``.

    With ``workers > 1``, where the operating system forks processes (Linux; not Windows, and
    not macOS, whose system libraries are not safe to fork), the positions are drawn by that
    many forked copies of this process, which inherit ``draw`` and everything it reads; the
    images are the same bytes as drawn one by one.
    """
    global _FORKED_FIGURE
    grid = [figure.values_at(indices)
            for indices in itertools.product(*(range(len(s.values)) for s in figure.sliders))]
    budget = max_state_mb * 1e6
    first = max(len(png) for png in figure.renditions(grid[0]) if png) * BASE64_INFLATION
    if first * len(grid) > 1.2 * budget:
        raise ValueError(
            f"slider grid of {len(grid)} positions would need about "
            f"{first * len(grid) / 1e6:.1f} MB of widget state ({first / 1e3:.0f} kB per image), "
            f"over max_state_mb={max_state_mb}: "
            "use fewer slider values, a smaller figsize or dpi, or raise max_state_mb")
    rest = [values for values in grid if values not in figure.images]
    if workers > 1 and len(rest) > 1 and sys.platform == "linux":
        _FORKED_FIGURE = figure
        try:
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                for values, (png, phone) in zip(rest,
                                                pool.imap(_draw_in_fork, rest, chunksize=2)):
                    figure.images[values] = png
                    if phone is not None:
                        figure.phone_images[values] = phone
        finally:
            _FORKED_FIGURE = None
    else:
        for values in rest:
            figure.renditions(values)
    if figure.screen_bytes > budget:
        raise ValueError(
            f"slider grid of {len(grid)} positions needs {figure.screen_bytes / 1e6:.1f} MB "
            f"of widget state, over max_state_mb={max_state_mb}: use fewer slider values, "
            "a smaller figsize or dpi, or raise max_state_mb")


# What report_progress tells while a live figure is being drawn; None otherwise (static mode, or
# no figure being drawn)
_progress_line: Callable[[int, int], None] | None = None


def report_progress(done: int, total: int) -> None:
    """Say that a figure being drawn has done ``done`` of its ``total`` steps (e.g. training runs).
    While a live slider figure redraws, its status line reads "Drawing the figure for ...: done of
    total"; anywhere else this does nothing, so ``draw`` functions can always call it (e.g. as
    ``sweep(..., progress=report_progress)``)."""
    if _progress_line is not None:
        _progress_line(done, total)


def connect_live(figure: SliderFigure) -> list[ipywidgets.Widget]:
    """One image, redrawn from the kernel whenever a slider is released at a new value; a line
    that says what is being drawn while it is, and how far it has got if ``draw`` calls
    :func:`report_progress` (a figure that trains networks takes seconds);
    and a message that takes the image's place when ``draw`` raises: the image of another
    position is never shown beside the sliders' new values."""
    image = figure.image_widget(figure.default_values)
    status = ipywidgets.HTML(layout=ipywidgets.Layout(display="none"))
    message = ipywidgets.HTML(layout=ipywidgets.Layout(display="none"))

    def redraw(change):
        # Python's cycle collector runs when enough objects have been allocated, and a figure
        # allocates tens of thousands: now and then a redraw paid for a full collection of the
        # whole kernel (108 ms in chapter 5, where a redraw is 170 ms). It waits until the image
        # has gone out; then the young objects are collected, the figure's among them (cheap).
        collecting = gc.isenabled()
        gc.disable()
        try:
            show(change)
        finally:
            if collecting:
                gc.enable()
                gc.collect(1)

    def show(_change):
        global _progress_line
        values = tuple(s.live_value(c) for s, c in zip(figure.sliders, figure.controls))
        drawing = f"Drawing the figure for {html.escape(figure.describe(values))}"

        def say(done, total):   # the comm message goes out at once, while the draw goes on
            status.value = f'<p role="status">{drawing}: {done} of {total}…</p>'

        if values not in figure.images:   # about to compute: say so until it is done
            status.value = f'<p role="status">{drawing}…</p>'
            status.layout.display = None
        _progress_line = say
        try:
            png = figure.image(values)
        except Exception as error:  # shown in place of the figure, not lost in a log
            message.value = (f'<pre role="alert">Could not draw the figure for '
                             f"{html.escape(figure.describe(values))}:\n"
                             f"{html.escape(type(error).__name__)}: {html.escape(str(error))}"
                             "</pre>")
            image.layout.display, message.layout.display = "none", None
            return
        finally:
            status.layout.display = "none"
            _progress_line = None
        image.value = image_html(png, figure.alt_text(values))
        image.layout.display, message.layout.display = None, "none"

    for slider, control in zip(figure.sliders, figure.controls):
        control.observe(redraw, names="value" if slider.continuous else "index")
    return [status, image, message]


def _is_number(value) -> bool:
    return (not isinstance(value, bool) and isinstance(value, Real)
            and math.isfinite(value))


def _is_positive_number(value, largest=math.inf) -> bool:
    return _is_number(value) and 0 < value <= largest


# A slider image is a screen figure: beyond these, matplotlib fails on its fonts (dpi below about
# 10) or the page takes gigabytes, so such values are typing slips rather than requests.
DPI_RANGE = (20, 600)
LARGEST_FIGSIZE_INCHES = 50


def slider_figure(draw: Callable[..., Any], *sliders: Slider, alt: str, figsize=(6.4, 3.6),
                  dpi=CSS_PX_PER_INCH, mode: str | None = None,
                  max_state_mb: float = 8.0, workers: int = 1) -> SliderFigure:
    """Turn ``draw(fig, **values)`` into a figure with one to three sliders.

    Parameters
    ----------
    draw : callable
        ``draw(fig, **values)`` draws on the empty matplotlib ``Figure`` ``fig`` (constrained
        layout) for one position of the sliders; ``values`` maps each slider's ``name``
        to its value.
    *sliders : Slider
        One to three sliders. In static mode every combination is drawn, so the grid has
        ``len(s1.values) * len(s2.values) * ...`` images.
    alt : str
        What the figure shows, for readers who cannot see it, e.g. ``"Loss against step for
        three learning rates"``; each image's alt text adds the sliders' values.
    figsize, dpi
        Size of each image in inches and CSS pixels per inch; the defaults show a 512 x 288
        figure, stored at twice that density (roughly 30-60 kB per PNG).
    mode : {"static", "live"}, optional
        See the module docstring. Default: ``$SGD_UTILS_SLIDERS``, else ``"live"``.
    max_state_mb : float
        Largest widget state of a static figure for one screen (the base64 images of every
        position, wide or for a phone, whichever weigh more; the state holds both), in MB. The
        web book's build moves each image into a file of its own that a reader fetches only when
        shown, so this does not weigh on the page; it bounds what a notebook holds while it runs
        and what a reader fetches who visits every position. A larger grid raises
        ``ValueError`` (from its first image's size, before drawing the rest).
    workers : int
        Static mode: processes that draw the grid (see :func:`precompute`), e.g. 2 for a grid
        whose positions each train a network.
    """
    if not callable(draw):
        raise TypeError(f"draw must be callable, got {type(draw).__name__}")
    if not 1 <= len(sliders) <= 3:
        raise ValueError(f"slider_figure takes 1 to 3 sliders, got {len(sliders)}")
    if not all(isinstance(s, Slider) for s in sliders):
        raise TypeError("sliders must be Slider instances")
    names = [s.name for s in sliders]
    if len(set(names)) != len(names):
        raise ValueError(f"slider names must differ, got {names}")
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= 64:
        raise ValueError(f"workers must be a whole number of processes from 1 to 64, "
                         f"got workers={workers!r}")
    if not _is_positive_number(max_state_mb):  # NaN must not switch the budget off
        raise ValueError(f"max_state_mb must be positive and finite, got {max_state_mb}")
    if (isinstance(figsize, (str, bytes)) or not hasattr(figsize, "__len__") or len(figsize) != 2
            or not all(_is_positive_number(side, LARGEST_FIGSIZE_INCHES) for side in figsize)):
        raise ValueError(f"figsize must be a pair of inches (width, height), each in "
                         f"(0, {LARGEST_FIGSIZE_INCHES}], got figsize={figsize!r}")
    if not _is_positive_number(dpi, DPI_RANGE[1]) or dpi < DPI_RANGE[0]:
        raise ValueError(f"dpi must be a number in [{DPI_RANGE[0]}, {DPI_RANGE[1]}], "
                         f"got dpi={dpi!r}")
    if not isinstance(alt, str) or not alt.strip():
        raise ValueError(f"alt must say what the figure shows, got alt={alt!r}")
    figure = SliderFigure(draw, tuple(sliders), resolve_mode(mode),
                          tuple(float(side) for side in figsize), dpi, alt)
    figure.controls = make_controls(sliders, figure.mode)
    if figure.mode == "static":
        precompute(figure, max_state_mb, workers)
        display_area = [build_stack(figure)]
    else:
        display_area = connect_live(figure)
    figure.widget = ipywidgets.VBox([*figure.controls, *display_area])
    return figure
