r"""Figures for traces: contour plots of a 2-D problem, trajectories, loss curves.

Each helper draws on a matplotlib ``ax`` it is given and returns the artists
it added, so a chapter composes figures freely and a slider renders one small
PNG per position:

>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import matplotlib.pyplot as plt
>>> from sgd_utils.descent import run
>>> from sgd_utils.optim import SGD
>>> from sgd_utils.problems import Rosenbrock
>>> problem = Rosenbrock()
>>> trace = run(problem, SGD([np.array([-1.5, 2.0])], lr=1e-3, momentum=0.9), 200)
>>> fig, (left, right) = plt.subplots(1, 2, figsize=(6, 2.6), layout="constrained")
>>> contours = plot_contours(problem, left)
>>> line = plot_trajectory(trace, left, label="momentum 0.9")
>>> lines = plot_losses([trace], right)
>>> plt.close(fig)
"""

import numpy as np
from matplotlib.colors import LogNorm

from ..descent import Trace

MINIMUM_STYLE = dict(marker="*", markersize=10, color="crimson", linestyle="none", zorder=4)


def _contour_levels(gaps, num_levels):
    """Log-spaced levels over the positive loss gaps, or ``None`` when gaps go negative."""
    finite = gaps[np.isfinite(gaps)]
    if finite.size == 0 or finite.min() < 0:
        return None
    highest = finite.max()
    lowest = max(finite[finite > 0].min(initial=highest), highest * 1e-6)  # 6 decades at most
    return np.geomspace(lowest, highest, num_levels) if highest > lowest else None


def plot_contours(problem, ax, *, bounds=None, num_levels=15, resolution=150, cmap="viridis",
                  mark_minimizers=True):
    r"""Contour lines of the loss gap :math:`f(x) - f^\star` of a 2-D ``problem`` on ``ax``.

    Parameters
    ----------
    problem : Problem
        Any 2-D problem of :mod:`sgd_utils.problems` (it has ``loss_grid``).
    ax : matplotlib.axes.Axes
    bounds : tuple, optional
        ``(x_min, x_max, y_min, y_max)``, default ``problem.bounds``; they
        also become the axes' limits, so trajectories drawn later cannot
        rescale the plot.
    num_levels : int
        Number of contour lines, evenly spaced on a log scale (a valley floor
        and its walls both show) over at most six decades below the largest
        gap; linear where the loss goes below ``min_loss`` (the saddle).
    resolution : int
        Grid points per side.
    cmap : str
    mark_minimizers : bool
        Put a red star on every point of ``problem.minimizers``.

    Returns
    -------
    matplotlib.contour.ContourSet
    """
    if problem.dim != 2:
        raise ValueError("plot_contours needs a 2-D problem, "
                         f"got dim={problem.dim} ({problem.name})")
    x_min, x_max, y_min, y_max = bounds if bounds is not None else problem.bounds
    xs, ys = np.meshgrid(np.linspace(x_min, x_max, resolution),
                         np.linspace(y_min, y_max, resolution))
    with np.errstate(all="ignore"):
        gaps = problem.loss_grid(xs, ys) - problem.min_loss
    levels = _contour_levels(gaps, num_levels)
    if levels is None:
        contours = ax.contour(xs, ys, gaps, levels=num_levels, cmap=cmap, linewidths=0.7)
    else:
        contours = ax.contour(xs, ys, gaps, levels=levels, cmap=cmap, linewidths=0.7,
                              norm=LogNorm(levels[0], levels[-1]))
    if mark_minimizers:
        minimizers = np.asarray(problem.minimizers)
        ax.plot(minimizers[:, 0], minimizers[:, 1], label="_minimizers", **MINIMUM_STYLE)
    ax.set_xlim(x_min, x_max)
    ax.set_ylim(y_min, y_max)
    return contours


def plot_trajectory(trace, ax, *, label=None, color=None, markersize=2.5, coordinates=(0, 1)):
    """The path of ``trace.params`` on ``ax``: a dot per step, an open circle at the start.

    Parameters
    ----------
    trace : Trace
        From :func:`sgd_utils.descent.run`; a diverged run ends with a cross
        at its last finite point.
    ax : matplotlib.axes.Axes
    label : str, optional
        Legend entry, default ``trace.label``.
    color : optional
        Any matplotlib colour, default the next of the colour cycle.
    markersize : float
    coordinates : pair of int
        The two coordinates to draw, for problems of more than two dimensions.

    Returns
    -------
    matplotlib.lines.Line2D
        The path.
    """
    path = trace.params[:, list(coordinates)]
    (line,) = ax.plot(path[:, 0], path[:, 1], marker="o", markersize=markersize, linewidth=1.0,
                      color=color, label=trace.label if label is None else label, zorder=3)
    color = line.get_color()
    ax.plot(path[0, 0], path[0, 1], marker="o", markersize=2.5 * markersize,
            markerfacecolor="white", color=color, linestyle="none", label="_start", zorder=3)
    if trace.diverged_at is not None:
        finite = np.flatnonzero(np.all(np.isfinite(path), axis=1))
        # linestyle given, like colour: the colour-and-dash cycle then stays where it was, and
        # the next line's dash pattern does not depend on whether this run diverged
        ax.plot(*path[finite[-1]], marker="x", markersize=8, color=color, linestyle="none",
                label="_diverged", zorder=5)
    return line


def plot_losses(traces, ax, *, labels=None, colors=None):
    r"""Loss gaps :math:`f(x_t) - f^\star` against the step, log scale, one line per trace.

    Parameters
    ----------
    traces : Trace or list of Trace
    ax : matplotlib.axes.Axes
    labels : list of str, optional
        Legend entries, default each ``trace.label``.
    colors : list, optional
        One matplotlib colour per trace, default the colour cycle.

    Returns
    -------
    list of matplotlib.lines.Line2D

    Notes
    -----
    Gaps that are 0, negative or not finite cannot be drawn on a log scale
    and are left out. A diverged run ends with a cross at step
    ``diverged_at``, at its last drawable value.
    """
    traces = [traces] if isinstance(traces, Trace) else list(traces)
    labels = labels if labels is not None else [trace.label for trace in traces]
    colors = colors if colors is not None else [None] * len(traces)
    lines = []
    for trace, label, color in zip(traces, labels, colors, strict=True):
        gaps = trace.loss_gaps
        gaps = np.where(np.isfinite(gaps) & (gaps > 0), gaps, np.nan)
        (line,) = ax.plot(np.arange(len(gaps)), gaps, label=label, color=color, linewidth=1.2)
        drawable = np.flatnonzero(np.isfinite(gaps))
        if trace.diverged_at is not None and drawable.size:
            # linestyle given, like colour: the colour-and-dash cycle stays where it was (see
            # plot_trajectory)
            ax.plot(trace.diverged_at, gaps[drawable[-1]], marker="x", markersize=8,
                    color=line.get_color(), linestyle="none", label="_diverged", zorder=5)
        lines.append(line)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel(r"$f(x_t) - f^\star$")
    if any(not str(label).startswith("_") for label in labels):
        ax.legend(frameon=False)
    return lines
