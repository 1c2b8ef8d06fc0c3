"""Tests for sgd_utils.viz.widgets: slider figures in static (precomputed) and live modes.

That the static figures really switch in a browser without a kernel is checked in tests/browser.
"""

import base64
import functools
import gc
import io
import sys
import weakref

import ipywidgets
import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from sgd_utils.viz import widgets
from sgd_utils.viz.phone import PHONE_WIDTH_IN, phone_layout
from sgd_utils.viz.style import BOOK_RC, DENSITY_KEY, SMALLEST_TEXT_KEY, css_size
from sgd_utils.viz.widgets import Slider, log_values, render_png, resolve_mode

# Every figure needs its alt text; the tests that are not about it share one.
slider_figure = functools.partial(widgets.slider_figure, alt="A test figure")


def shown_png(image_widget):
    """The PNG bytes inside an image widget's <img src="data:...">."""
    source = image_widget.value.split('src="data:image/png;base64,', 1)[1].split('"', 1)[0]
    return base64.b64decode(source)


class Recorder:
    """A drawing function that records the values it was called with and draws them as a title."""

    def __init__(self):
        self.calls = []

    def __call__(self, fig, **values):
        self.calls.append(values)
        ax = fig.subplots()
        ax.plot(np.arange(5), np.arange(5) * sum(float(v) for v in values.values()))
        ax.set_title(repr(sorted(values.items())))


def png_title_pixels(png):
    return np.asarray(Image.open(io.BytesIO(png)).convert("L"))


def test_log_values_are_geometric_and_rounded():
    assert log_values(0.001, 1.0, 4) == (0.001, 0.01, 0.1, 1.0)
    values = log_values(0.01, 3.0, 9)
    ratios = np.diff(np.log(values))
    assert np.allclose(ratios, ratios.mean(), rtol=0.15)  # even on a log scale, up to rounding
    assert all(v == float(f"{v:.2g}") for v in values)  # two significant digits


def test_log_values_drops_duplicates_after_rounding():
    assert log_values(1.0, 1.01, 5, digits=2) == (1.0,)


@pytest.mark.parametrize("args, message", [((0.0, 1.0, 3), "start > 0"), ((1.0, -1.0, 3), "stop"),
                                           ((0.1, 1.0, 1), "num >= 2")])
def test_log_values_rejects_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        log_values(*args)


def test_slider_validates_its_arguments():
    with pytest.raises(ValueError, match="identifier"):
        Slider("learning rate", [0.1, 0.2])
    with pytest.raises(ValueError, match="at least 2 values"):
        Slider("lr", [0.1])
    assert Slider("lr", [0.1, 0.3, 1.0]).default_index == 1
    assert Slider("lr", [0.001, 0.01, 0.1, 1.0], default=0.05).default_index == 2  # nearest in log
    assert Slider("batch_size", [1, 10, 100], unit="samples").readout(10) == "10 samples"


def test_static_mode_draws_every_position_once_for_both_screens():
    draw = Recorder()
    figure = slider_figure(draw, Slider("lr", [0.1, 0.2, 0.3]), Slider("momentum", [0.0, 0.9]),
                           mode="static")
    positions = {(a, b) for a in (0.1, 0.2, 0.3) for b in (0.0, 0.9)}
    assert len(draw.calls) == 6   # the phone image re-lays the wide image's drawing
    assert sorted((c["lr"], c["momentum"]) for c in draw.calls) == sorted(positions)
    assert set(figure.images) == set(figure.phone_images) == positions
    assert len({png for png in figure.images.values()}) == 6  # every position looks different
    assert all(css_size(figure.phone_images[v])[0] < css_size(figure.images[v])[0]
               for v in positions)


def draw_two_panels(fig, lr):
    """Two panels with shared y axes, a legend and a log axis: what phone_layout restacks."""
    left, right = fig.subplots(1, 2, sharey=True)
    steps = np.arange(50)
    for momentum in (0.0, 0.5, 0.9):
        left.semilogy(steps, (1 - lr) ** (steps / (1 - momentum)) + 1e-6, label=f"μ = {momentum}")
    right.plot(steps, np.cos(lr * steps) + 1.5)
    left.legend()
    left.set(xlabel="step", ylabel="loss", title="loss against step, one line per momentum")
    right.set(xlabel="step")


def test_static_phone_image_is_the_figure_drawn_at_a_phone_s_width():
    # the phone image re-lays the drawing of the wide one; a reader must get the image that
    # drawing afresh at the phone's width gives
    figure = slider_figure(draw_two_panels, Slider("lr", [0.05, 0.2]), mode="static")
    for lr in (0.05, 0.2):
        fresh = Figure(figsize=(PHONE_WIDTH_IN, figure.figsize[1]), layout="constrained")
        draw_two_panels(fresh, lr)
        optimize = (lr,) == figure.default_values   # the smallest encoding for the default
        assert figure.phone_images[(lr,)] == render_png(phone_layout(fresh), figure.dpi,
                                                        optimize=optimize)


def test_static_images_offer_the_phone_layout_to_narrow_screens():
    figure = slider_figure(Recorder(), Slider("lr", [0.1, 0.2]), mode="static")
    leaf = figure.widget.children[1].children[0]   # the first position, lr = 0.1
    width, _ = css_size(figure.images[(0.1,)])
    phone = base64.b64decode(leaf.value.split('srcset="data:image/png;base64,', 1)[1]
                             .split('"', 1)[0])
    assert phone == figure.phone_images[(0.1,)]
    assert leaf.value.startswith(f'<picture><source media="(max-width: {width + 32}px)"')
    assert shown_png(leaf) == figure.images[(0.1,)]   # the <img>: every other screen


def test_live_mode_draws_no_phone_layout():
    draw = Recorder()
    figure = slider_figure(draw, Slider("lr", [0.1, 0.2]), mode="live")
    assert len(draw.calls) == 1 and not figure.phone_images
    assert "<picture>" not in figure.widget.children[-2].value


def test_static_mode_nests_one_stack_level_per_slider():
    figure = slider_figure(Recorder(), Slider("a", [1, 2, 3]), Slider("b", [1, 2]),
                           Slider("c", [1, 2]), mode="static", figsize=(2, 1.5), dpi=40)
    controls, outer = figure.widget.children[:3], figure.widget.children[3]
    assert [c.index for c in controls] == [1, 0, 0]  # the middle positions
    assert isinstance(outer, ipywidgets.Stack) and len(outer.children) == 3
    assert outer.selected_index == 1
    middle = outer.children[0]
    assert isinstance(middle, ipywidgets.Stack) and len(middle.children) == 2
    leaf = middle.children[1].children[0]
    assert isinstance(leaf, ipywidgets.HTML) and shown_png(leaf) == figure.images[(1, 2, 1)]
    assert 'alt="A test figure, for a = 1, b = 2, c = 1."' in leaf.value


def test_static_mode_links_each_slider_to_its_stacks_in_the_browser():
    figure = slider_figure(Recorder(), Slider("a", [1, 2, 3]), Slider("b", [1, 2]), mode="static",
                           figsize=(2, 1.5), dpi=40)
    outer = figure.widget.children[2]
    targets = {(link.source[0].model_id, link.target[0].model_id) for link in figure.links}
    assert all(link.source[1] == "index" and link.target[1] == "selected_index"
               for link in figure.links)
    assert len(figure.links) == 1 + 3  # one for the outer stack, one per inner stack
    assert (figure.controls[0].model_id, outer.model_id) in targets
    for inner in outer.children:
        assert (figure.controls[1].model_id, inner.model_id) in targets


def test_live_mode_draws_on_demand():
    draw = Recorder()
    figure = slider_figure(draw, Slider("lr", [0.1, 0.2, 0.3]), mode="live")
    assert len(draw.calls) == 1 and draw.calls[0] == {"lr": 0.2}
    status, image = figure.widget.children[1:3]
    figure.controls[0].index = 2
    assert draw.calls[-1] == {"lr": 0.3}
    assert shown_png(image) == figure.images[(0.3,)] != figure.images[(0.2,)]
    assert 'alt="A test figure, for lr = 0.3."' in image.value
    assert "Drawing the figure for lr = 0.3" in status.value and status.layout.display == "none"
    figure.controls[0].index = 1  # back to a cached position: no new drawing
    assert len(draw.calls) == 2 and shown_png(image) == figure.images[(0.2,)]


def test_a_live_redraw_reports_the_progress_of_a_slow_draw():
    # What the reader sees under the sliders while a figure trains its networks: the status
    # widget's value at each report (each change is a comm message sent at once).
    shown = []

    def draw(fig, lr):
        for done in range(1, 4):
            widgets.report_progress(done, 3)
        fig.subplots().plot([0, lr])

    figure = slider_figure(draw, Slider("lr", [0.1, 0.2, 0.3]), mode="live")
    status = figure.widget.children[1]
    status.observe(lambda change: shown.append(change["new"]), names="value")
    figure.controls[0].index = 2
    assert [line for line in shown if " of 3" in line] == [
        f'<p role="status">Drawing the figure for lr = 0.3: {done} of 3…</p>' for done in (1, 2, 3)]
    assert status.layout.display == "none"
    shown.clear()
    widgets.report_progress(1, 3)   # no figure being drawn: nothing to tell, nothing raised
    assert not shown


def test_mode_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv("SGD_UTILS_SLIDERS", raising=False)
    assert resolve_mode(None) == "live"
    monkeypatch.setenv("SGD_UTILS_SLIDERS", "static")
    assert resolve_mode(None) == "static"
    assert resolve_mode("live") == "live"
    monkeypatch.setenv("SGD_UTILS_SLIDERS", "fast")
    with pytest.raises(ValueError, match=r"\$SGD_UTILS_SLIDERS .* 'fast'"):
        resolve_mode(None)
    with pytest.raises(ValueError, match="mode must be one of"):
        resolve_mode("kernel")


def test_oversized_grid_is_refused_before_drawing_it():
    draw = Recorder()
    sliders = [Slider(name, list(range(10))) for name in ("a", "b", "c")]
    with pytest.raises(ValueError, match=r"1000 positions .* max_state_mb=0.5"):
        slider_figure(draw, *sliders, mode="static", max_state_mb=0.5)
    assert len(draw.calls) == 1  # refused from the first position's images, not after 1000


def test_state_bytes_is_the_size_of_the_images_in_base64():
    # Oracle: the images really encoded, 4 characters per 3 bytes rounded up to a whole group of
    # 4, which the estimate sum(len) * 4/3 misses by less than 4 characters per image.
    figure = slider_figure(Recorder(), Slider("a", [1, 2, 3]), Slider("b", [1, 2]), mode="static",
                           figsize=(2, 1.5), dpi=40)
    images = [*figure.images.values(), *figure.phone_images.values()]
    assert len(images) == 12   # each position wide and for a phone
    encoded = sum(len(base64.b64encode(png)) for png in images)
    assert 0 <= encoded - figure.state_bytes < 4 * len(images)
    wide = sum(len(base64.b64encode(png)) for png in figure.images.values())
    phone = sum(len(base64.b64encode(png)) for png in figure.phone_images.values())
    assert 0 <= max(wide, phone) - figure.screen_bytes < 4 * len(figure.images)


def test_grid_over_budget_is_refused_after_drawing_when_the_first_image_looked_small_enough():
    sliders = Slider("a", [1, 2, 3, 4]), Slider("b", [1, 2])
    options = dict(mode="static", figsize=(2, 1.5), dpi=40)
    needed = slider_figure(Recorder(), *sliders, **options).screen_bytes
    # 5% under what the grid needs: the estimate from the first image passes (it allows 20% over
    # the budget, for images of uneven size), so only the check after drawing everything refuses.
    budget_mb = needed / 1.05 / 1e6
    draw = Recorder()
    with pytest.raises(ValueError, match=r"8 positions needs .* over max_state_mb="):
        slider_figure(draw, *sliders, max_state_mb=budget_mb, **options)
    assert len(draw.calls) == 8  # refused after drawing every position, not at the first
    assert len(slider_figure(Recorder(), *sliders, max_state_mb=1.05 * needed / 1e6,
                             **options).images) == 8  # 5% over: accepted


@pytest.mark.parametrize("max_state_mb", [0, -1.0, float("nan"), float("inf"), "2", True])
def test_slider_figure_rejects_a_budget_that_is_not_positive(max_state_mb):
    # Live mode draws no grid, so without the check nothing else would object; NaN compares
    # False with everything, so a check written as `<= 0` let it switch the budget off.
    with pytest.raises(ValueError, match=f"max_state_mb must be positive and finite, got "
                                         f"{max_state_mb}"):
        slider_figure(Recorder(), Slider("lr", [0.1, 0.2]), mode="live", max_state_mb=max_state_mb)


class Cycle:
    """An object in a reference cycle: only the cycle collector frees it."""

    def __init__(self):
        self.me = self


@pytest.mark.parametrize("raises", [False, True])
def test_the_cycle_collector_waits_for_a_live_redraw_then_frees_the_figure(raises):
    # A full collection of a kernel's objects in the middle of a redraw delays the image; the
    # collector is off while drawing, back on after, and the draw's garbage is then freed.
    seen, garbage = [], []

    def draw(fig, lr):
        seen.append(gc.isenabled())
        cycle = Cycle()
        garbage.append(weakref.ref(cycle))
        fig.subplots().plot([0, lr])
        if raises and lr > 0.25:
            raise ValueError("no figure here")

    figure = slider_figure(draw, Slider("lr", [0.1, 0.2, 0.3]), mode="live")
    assert gc.isenabled()
    figure.controls[0].index = 2
    assert seen[-1] is False and gc.isenabled()
    assert garbage[-1]() is None   # collected as soon as the image went out


def test_a_live_draw_that_raises_shows_the_error_instead_of_a_stale_image():
    def draw(fig, lr):
        if lr > 0.25:
            raise ValueError(f"diverged at lr={lr}")
        fig.add_subplot().plot([0, 1], [0, lr])

    figure = slider_figure(draw, Slider("lr", [0.1, 0.2, 0.3]), mode="live")
    status, image, message = figure.widget.children[1:]
    good = image.value
    figure.controls[0].index = 2
    assert image.layout.display == "none" and message.layout.display is None
    assert "Could not draw the figure for lr = 0.3" in message.value
    assert "ValueError: diverged at lr=0.3" in message.value and 'role="alert"' in message.value
    figure.controls[0].index = 1                 # a position that draws: the image comes back
    assert image.layout.display is None and message.layout.display == "none"
    assert image.value == good


def test_slider_figure_rejects_a_draw_that_is_not_callable():
    # Without the check, calling the string later raises a TypeError that does not name draw.
    with pytest.raises(TypeError, match="draw must be callable, got str"):
        slider_figure("plot", Slider("lr", [0.1, 0.2]), mode="live")


@pytest.mark.parametrize("environment, continuous", [("static", True), ("live", False)])
def test_sliders_update_continuously_only_in_static_mode(monkeypatch, environment, continuous):
    # Static: switching precomputed images costs nothing, so follow the drag. Live: each position
    # is drawn by the kernel, so redraw only where the slider is released.
    monkeypatch.setenv("SGD_UTILS_SLIDERS", environment)
    figure = slider_figure(Recorder(), Slider("a", [1, 2]), Slider("b", [1, 2]),
                           figsize=(2, 1.5), dpi=40)
    assert figure.mode == environment
    assert [control.continuous_update for control in figure.controls] == [continuous] * 2


@pytest.mark.parametrize("sliders, error, match", [
    ((), ValueError, "1 to 3 sliders, got 0"),
    (tuple(Slider(n, [1, 2]) for n in "abcd"), ValueError, "1 to 3 sliders, got 4"),
    ((Slider("a", [1, 2]), Slider("a", [3, 4])), ValueError,
     r"slider names must differ, got \['a', 'a'\]"),
    (("lr",), TypeError, "sliders must be Slider instances")])
def test_slider_figure_rejects_bad_sliders(sliders, error, match):
    with pytest.raises(error, match=match):
        slider_figure(Recorder(), *sliders, mode="live")


def test_mimebundle_has_widget_png_fallback_and_stable_text():
    figure = slider_figure(Recorder(), Slider("lr", [0.1, 0.2], label="learning rate"), mode="live")
    bundle = figure._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert base64.b64decode(bundle["image/png"]) == figure.images[(0.1,)]
    assert bundle["text/plain"] == "<SliderFigure live: learning rate (2), 1 images>"


def test_images_are_compact_palette_pngs_at_twice_the_density():
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(BOOK_RC):
        fig = Figure(figsize=(6.4, 3.6))
        Recorder()(fig, lr=0.5)
        png = render_png(fig, dpi=80)
    image = Image.open(io.BytesIO(png))
    assert image.mode == "P" and image.size == (1024, 576)
    assert image.text[DENSITY_KEY] == "2" and css_size(png) == (512, 288)
    # the smallest text, the tick labels, is 12 pt in the book's style: 12 / 72 inch at 80 CSS
    # pixels per inch
    assert float(image.text[SMALLEST_TEXT_KEY]) == pytest.approx(12 * 80 / 72, abs=0.01)
    assert len(png) < 60_000


def test_the_image_widget_shows_its_css_size_and_alt_text():
    figure = widgets.slider_figure(Recorder(), Slider("lr", [0.1, 0.2], label="learning rate"),
                                   alt='Loss of "GD" & co.', mode="live", figsize=(2, 1.5), dpi=40)
    image = figure.widget.children[2]
    assert 'width="80" height="60"' in image.value
    assert 'alt="Loss of &quot;GD&quot; &amp; co, for learning rate = 0.1."' in image.value


def test_a_continuous_live_slider_draws_any_value_of_its_span():
    draw = Recorder()
    figure = slider_figure(draw, Slider("lr", [0.01, 0.1, 1.0], continuous="log"),
                           Slider("momentum", [0.0, 0.9], continuous="linear", span=(0, 0.999)),
                           Slider("batch_size", [8, 64, 512], continuous="integer"), mode="live")
    lr, momentum, batch = figure.controls
    assert isinstance(lr, ipywidgets.FloatLogSlider) and (lr.min, lr.max) == (-2, 0)
    assert isinstance(momentum, ipywidgets.FloatSlider) and momentum.max == 0.999
    assert isinstance(batch, ipywidgets.IntSlider) and (batch.min, batch.max) == (8, 512)
    assert draw.calls == [{"lr": 0.1, "momentum": 0.0, "batch_size": 64}]
    lr.value = 0.0371                        # not a listed position: drawn all the same
    batch.value = 100
    assert draw.calls[-1] == {"lr": pytest.approx(0.0371, rel=0.01), "momentum": 0.0,
                              "batch_size": 100}
    assert 'for lr = 0.0371' in figure.widget.children[4].value  # the image's alt text
    assert all(not c.continuous_update for c in figure.controls)  # redrawn where released


def test_continuous_sliders_keep_their_listed_values_in_the_static_book():
    figure = slider_figure(Recorder(), Slider("lr", [0.1, 1.0], continuous="log"),
                           mode="static", figsize=(2, 1.5), dpi=40)
    assert isinstance(figure.controls[0], ipywidgets.SelectionSlider)
    assert set(figure.images) == {(0.1,), (1.0,)}


@pytest.mark.parametrize("options, match", [
    (dict(continuous="cubic"), "continuous must be None or one of"),
    (dict(continuous="log", span=(0, 1)), "log-scale span must be positive"),
    (dict(continuous="linear", span=(1, 1)), r"span must be \(low, high\) with low < high"),
    (dict(continuous="linear", span="ab"), r"span must be \(low, high\)"),
    (dict(span=(0, 1)), "span needs continuous"),
])
def test_a_continuous_slider_refuses_a_bad_range(options, match):
    with pytest.raises(ValueError, match=match):
        Slider("lr", [0.1, 1.0], **options)


def test_a_continuous_slider_needs_numbers():
    with pytest.raises(ValueError, match="continuous slider needs numeric values"):
        Slider("name", ["GD", "Adam"], continuous="linear")


@pytest.mark.parametrize("alt", ["", "   ", None, 3])
def test_slider_figure_needs_alt_text(alt):
    with pytest.raises(ValueError, match="alt must say what the figure shows"):
        widgets.slider_figure(Recorder(), Slider("lr", [0.1, 0.2]), alt=alt, mode="live")


def test_a_figures_sliders_share_one_label_width_so_their_tracks_line_up():
    figure = slider_figure(Recorder(), Slider("lr", [0.1, 0.2], label="learning rate η"),
                           Slider("b", [1, 2], label="batch size B"), mode="live")
    widths = {control.style.description_width for control in figure.controls}
    assert widths == {f"{len('learning rate η') + 1}ch"}


@pytest.mark.skipif(sys.platform != "linux", reason="forked workers draw only on Linux")
def test_forked_workers_draw_the_same_images_as_one_process():
    def draw(fig, a, b):
        fig.add_subplot().plot([0, a], [b, 0])

    sliders = Slider("a", [1, 2, 3]), Slider("b", [1, 2])
    alone = slider_figure(draw, *sliders, mode="static", figsize=(2, 1.5), dpi=40)
    shared = slider_figure(draw, *sliders, mode="static", figsize=(2, 1.5), dpi=40, workers=2)
    assert shared.images == alone.images and len(shared.images) == 6


@pytest.mark.parametrize("workers", [0, -1, 1.5, "2", True, 65])
def test_slider_figure_refuses_workers_that_are_not_a_count_of_processes(workers):
    with pytest.raises(ValueError, match="workers must be a whole number"):
        slider_figure(Recorder(), Slider("a", [1, 2]), mode="static", workers=workers)
