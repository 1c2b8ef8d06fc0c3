"""Tests for sgd_utils.viz.plots: figures draw with Agg and hold the expected artists."""

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.contour import ContourSet  # noqa: E402

from sgd_utils.descent import Trace, run  # noqa: E402
from sgd_utils.optim import GD, SGD  # noqa: E402
from sgd_utils.viz import style  # noqa: E402
from sgd_utils.viz.plots import plot_contours, plot_losses, plot_trajectory  # noqa: E402
from sgd_utils.problems import (Himmelblau, LeastSquares, LogisticRegression,  # noqa: E402
                                Quadratic, Rosenbrock, Saddle)


@pytest.fixture
def ax():
    fig, ax = plt.subplots(figsize=(3, 2.5))
    yield ax
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=60)  # the whole figure renders
    assert buffer.getvalue().startswith(b"\x89PNG")
    plt.close(fig)


def contour_sets(ax):
    return [artist for artist in ax.collections if isinstance(artist, ContourSet)]


def crosses_of(ax):
    return [line for line in ax.lines if line.get_marker() == "x"]


def diverged_trace():
    """A hand-made Trace whose last point is no longer finite: run() stops while everything is
    still finite, so only such a trace reaches the 'last finite point' branches of the plots.
    Its gaps are 4, 0.5, 2, inf: the last finite one (2.0) is neither the first nor the least."""
    params = np.array([[1.0, 2.0], [0.5, -1.0], [3.0, 4.0], [np.inf, np.nan]])
    return Trace(params=params, losses=np.array([5.0, 1.5, 3.0, np.inf]),
                 lrs=np.full(3, 0.1), states=[None] * 4, diverged_at=3, min_loss=1.0,
                 label="hand-made")


def test_contours_are_log_spaced_and_mark_every_minimizer(ax):
    problem = Himmelblau()
    contours = plot_contours(problem, ax, num_levels=12)
    assert contour_sets(ax) == [contours]
    assert len(contours.levels) == 12
    ratios = contours.levels[1:] / contours.levels[:-1]
    np.testing.assert_allclose(ratios, ratios[0])
    stars = [line for line in ax.lines if line.get_marker() == "*"]
    assert len(stars) == 1
    np.testing.assert_allclose(np.column_stack(stars[0].get_data()), problem.minimizers)
    assert ax.get_xlim() == (-5.0, 5.0) and ax.get_ylim() == (-5.0, 5.0)


def test_contour_levels_span_six_decades_below_the_largest_gap(ax):
    # The docstring: log-spaced levels "over at most six decades below the largest gap". On
    # a 40 x 40 grid of Rosenbrock the gaps run from about 7e-4 to 2509, more than six decades,
    # so the cap decides the lowest level.
    problem, resolution = Rosenbrock(), 40
    contours = plot_contours(problem, ax, resolution=resolution, num_levels=15)
    x_min, x_max, y_min, y_max = problem.bounds
    xs, ys = np.meshgrid(np.linspace(x_min, x_max, resolution),
                         np.linspace(y_min, y_max, resolution))
    gaps = problem.loss_grid(xs, ys) - problem.min_loss
    assert gaps[gaps > 0].min() < 1e-6 * gaps.max()  # the cap, not the data, binds
    assert contours.levels[-1] == pytest.approx(gaps.max(), rel=1e-12)
    assert contours.levels[0] == pytest.approx(1e-6 * gaps.max(), rel=1e-12)


def test_saddle_contours_fall_back_to_linear_levels(ax):
    contours = plot_contours(Saddle(), ax, num_levels=10)
    assert contours.levels.min() < 0 < contours.levels.max()


def test_contours_of_a_two_dimensional_stochastic_problem(ax):
    problem = LogisticRegression(num_samples=100, dim=2, seed=0)
    plot_contours(problem, ax, resolution=30)
    assert len(contour_sets(ax)) == 1


def test_contours_refuse_problems_that_are_not_2d(ax):
    with pytest.raises(ValueError, match="dim=5"):
        plot_contours(LeastSquares(num_samples=20, dim=5), ax)


def test_trajectory_draws_every_point_and_keeps_the_limits(ax):
    problem = Rosenbrock()
    trace = run(problem, SGD([np.array([-1.5, 2.0])], lr=1e-3, momentum=0.9), 50)
    plot_contours(problem, ax)
    line = plot_trajectory(trace, ax, label="momentum")
    np.testing.assert_array_equal(np.column_stack(line.get_data()), trace.params)
    assert line.get_label() == "momentum"
    start = [other for other in ax.lines if other.get_label() == "_start"]
    assert len(start) == 1 and tuple(start[0].get_xydata()[0]) == tuple(trace.params[0])
    assert ax.get_xlim() == problem.bounds[:2]


def test_diverged_trajectory_ends_with_a_cross(ax):
    trace = run(Quadratic([1.0, 10.0]), GD([np.array([1.0, 1.0])], lr=0.3), 100)
    plot_trajectory(trace, ax)
    crosses = [line for line in ax.lines if line.get_marker() == "x"]
    assert len(crosses) == 1
    np.testing.assert_array_equal(crosses[0].get_xydata()[0], trace.params[-1])


def test_trajectory_of_a_non_finite_run_crosses_its_last_finite_point(ax):
    trace = diverged_trace()
    plot_trajectory(trace, ax)
    (cross,) = crosses_of(ax)
    np.testing.assert_array_equal(cross.get_xydata()[0], [3.0, 4.0])  # params[2], not params[-1]


def test_trajectory_draws_the_chosen_coordinates_of_a_3d_run(ax):
    trace = run(Quadratic([1.0, 2.0, 3.0]), GD([np.array([1.0, -2.0, 3.0])], lr=0.1), 10)
    line = plot_trajectory(trace, ax, coordinates=(2, 0), color="tab:red")
    np.testing.assert_array_equal(line.get_xdata(), trace.params[:, 2])
    np.testing.assert_array_equal(line.get_ydata(), trace.params[:, 0])
    (start,) = [other for other in ax.lines if other.get_label() == "_start"]
    np.testing.assert_array_equal(start.get_xydata()[0], [3.0, 1.0])
    assert line.get_color() == start.get_color() == "tab:red"


def test_loss_curve_of_a_non_finite_run_crosses_at_its_last_finite_gap(ax):
    trace = diverged_trace()
    (line,) = plot_losses(trace, ax)
    np.testing.assert_array_equal(line.get_xdata(), [0, 1, 2, 3])  # step t at x = t
    np.testing.assert_array_equal(line.get_ydata(), [4.0, 0.5, 2.0, np.nan])
    (cross,) = crosses_of(ax)
    assert tuple(cross.get_xydata()[0]) == (3.0, 2.0)  # at diverged_at, the last finite gap


def test_loss_curves_take_one_colour_per_trace(ax):
    problem = Quadratic([1.0, 10.0])
    traces = [run(problem, GD([np.array([1.0, 1.0])], lr=lr), 20) for lr in (0.1, 0.3)]
    lines = plot_losses(traces, ax, colors=["tab:green", "black"])
    assert [line.get_color() for line in lines] == ["tab:green", "black"]
    (cross,) = crosses_of(ax)  # the diverging run's cross takes its line's colour
    assert cross.get_color() == "black"


def test_loss_curves_are_log_scale_gaps_with_divergence_marked(ax):
    problem = Quadratic([1.0, 10.0])
    converging = run(problem, GD([np.array([1.0, 1.0])], lr=0.1), 40)
    diverging = run(problem, GD([np.array([1.0, 1.0])], lr=0.3), 100)
    lines = plot_losses([converging, diverging], ax, labels=["lr 0.1", "lr 0.3"])
    assert ax.get_yscale() == "log" and len(lines) == 2
    np.testing.assert_allclose(lines[0].get_ydata(), converging.loss_gaps)
    np.testing.assert_array_equal(lines[1].get_xdata(), np.arange(diverging.num_steps + 1))
    crosses = crosses_of(ax)
    assert len(crosses) == 1 and crosses[0].get_xdata()[0] == diverging.diverged_at
    assert crosses[0].get_ydata()[0] == diverging.loss_gaps[-1]  # its last, largest gap
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["lr 0.1", "lr 0.3"]


@pytest.mark.parametrize("plot", [plot_losses, plot_trajectory])
def test_a_line_keeps_its_dash_pattern_whether_or_not_an_earlier_run_diverged(plot):
    # The book's cycle pairs each colour with a dash pattern (style.LINE_STYLES); a diverged
    # run's cross must not take a turn of it, or the next optimizer's line changes its pattern
    # between slider positions (chapter 5's race: Adam solid at 8 x its tuned rate, dash-dot at 1).
    problem = Quadratic([1.0, 10.0])
    converging = run(problem, GD([np.array([1.0, 1.0])], lr=0.1), 40)
    diverging = run(problem, GD([np.array([1.0, 1.0])], lr=0.3), 100)
    styles = []
    with matplotlib.rc_context(style.BOOK_RC):
        for first in (converging, diverging):
            fig, ax = plt.subplots()
            lines = [plot(trace, ax) for trace in (first, converging)]
            lines = [line[0] if isinstance(line, list) else line for line in lines]
            styles.append([(line.get_color(), line.get_linestyle()) for line in lines])
            plt.close(fig)
    assert styles[0] == styles[1]
    assert styles[0][0][1] != styles[0][1][1]   # two lines, two patterns


def test_loss_curve_leaves_out_zero_gaps(ax):
    # GD with lr = 1/L on a 1-eigenvalue quadratic lands exactly on the minimum after one step.
    trace = run(Quadratic([2.0, 2.0]), GD([np.array([1.0, 1.0])], lr=0.5), 5)
    (line,) = plot_losses(trace, ax)
    ydata = line.get_ydata()
    assert ydata[0] == pytest.approx(2.0) and np.all(np.isnan(ydata[1:]))
    assert line.get_label() == trace.label
