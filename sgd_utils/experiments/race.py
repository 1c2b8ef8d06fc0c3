r"""A fair race between optimizers: each gets its best learning rate from the same grid.

Comparing optimizers at one shared learning rate measures mostly whose default suits that rate.
:func:`race` instead tunes every optimizer on every problem over the same grid of learning rates
and reports what each achieves with its own best rate,

.. math::

    \eta^\star = \arg\min_{\eta \in \text{grid}} \; T_\text{tol}(\eta), \qquad
    T_\text{tol} = \min \{\, t : f(x_s) - f^\star < \text{tol for every } s \ge t \,\},

the number of steps after which the loss gap stays below ``tol`` (runs that never get there are
ranked by their final loss gap; diverged runs come last). "Stays" matters: a method that
oscillates around the minimum, as RMSprop does at a constant learning rate, can touch the
tolerance long before it settles.

:math:`T_\text{tol}` is :func:`sgd_utils.experiments.measure.steps_to_tolerance`.

- :func:`tune_lr`: the best rate of one optimizer on one problem, and its trace.
- :func:`race`: every optimizer on every problem, as a list of :class:`RaceResult`.
- :func:`race_table`: the steps, tuned rates or final gaps as a plain-text table.
"""

import math
from dataclasses import dataclass

import numpy as np

from ..descent import Trace, run
from ..report import order_of_magnitude
from .measure import steps_to_tolerance

# Loss gaps below this print as "<1e-25": near a minimum at coordinates of order 1, float64 resolves
# a gap only down to about L eps^2 / 2 (1e-29 for Rosenbrock's L of 1000), so smaller digits are
# rounding error and change with the machine.
GAP_FLOOR = 1e-25


def _rank(trace, tol):
    """Sort key: fewer steps to tolerance first, then smaller final gap; diverged runs last."""
    steps = steps_to_tolerance(trace, tol)
    if trace.diverged_at is not None or not math.isfinite(trace.loss_gaps[-1]):
        return (2, math.inf, math.inf)
    if steps is None:
        return (1, math.inf, float(trace.loss_gaps[-1]))
    return (0, steps, float(trace.loss_gaps[-1]))


def tune_lr(problem, make_optimizer, start, lrs, num_steps, tol):
    r"""Run ``make_optimizer`` from ``start`` at every rate of ``lrs`` and return the best
    ``(lr, trace)``.

    Parameters
    ----------
    problem : Problem
        A deterministic problem of :mod:`sgd_utils.problems`.
    make_optimizer : callable
        ``make_optimizer(x, lr)`` returns an optimizer holding the array ``x``, e.g.
        ``lambda x, lr: Adam([x], lr=lr)``.
    start : array_like, shape (problem.dim,)
        The start point; each run starts from a fresh float64 copy.
    lrs : sequence of float
        The grid of learning rates, all > 0.
    num_steps : int
        Steps per run.
    tol : float
        The tolerance of :func:`steps_to_tolerance`.

    Returns
    -------
    lr : float
        The best rate: fewest steps to tolerance, ties and misses broken by the final loss gap;
        the first such rate in ``lrs`` when several tie exactly.
    trace : Trace
        Its run.
    """
    lrs = [float(lr) for lr in lrs]
    if not lrs or not all(lr > 0 for lr in lrs):
        raise ValueError(f"lrs must be a non-empty sequence of positive rates, got {lrs!r}")
    best = None
    for lr in lrs:
        trace = run(problem, make_optimizer(np.array(start, dtype=np.float64), lr), num_steps)
        key = _rank(trace, tol)
        if best is None or key < best[0]:
            best = (key, lr, trace)
    return best[1], best[2]


@dataclass
class RaceResult:
    """One optimizer on one problem at its tuned learning rate.

    Attributes
    ----------
    problem, optimizer : str
        The names given to :func:`race`.
    lr : float
        The tuned learning rate.
    steps : int or None
        :func:`steps_to_tolerance` of its run (``None``: not within the run).
    final_gap : float
        The loss gap after the last step.
    trace : Trace
    """

    problem: str
    optimizer: str
    lr: float
    steps: int | None
    final_gap: float
    trace: Trace


def race(problems, optimizers, lrs, num_steps, tol):
    """Tune every optimizer on every problem over the grid ``lrs`` (see :func:`tune_lr`).

    Parameters
    ----------
    problems : dict
        ``name -> (problem, start)``.
    optimizers : dict
        ``name -> make_optimizer(x, lr)``.
    lrs, num_steps, tol
        As in :func:`tune_lr`, the same for every entry.

    Returns
    -------
    list of RaceResult
        Problem by problem, in the order of the dicts.

    Examples
    --------
    >>> from sgd_utils.optim import GD, Adam
    >>> from sgd_utils.problems import Quadratic
    >>> results = race({"bowl": (Quadratic([1.0, 4.0]), [1.0, 1.0])},
    ...                {"GD": lambda x, lr: GD([x], lr=lr), "Adam": lambda x, lr: Adam([x], lr=lr)},
    ...                lrs=[0.1, 0.3], num_steps=100, tol=1e-8)
    >>> [(r.optimizer, r.lr, r.steps) for r in results]
    [('GD', 0.3, 25), ('Adam', 0.3, None)]
    """
    if not problems or not optimizers:
        raise ValueError("race needs at least one problem and one optimizer")
    results = []
    for problem_name, (problem, start) in problems.items():
        for optimizer_name, make_optimizer in optimizers.items():
            lr, trace = tune_lr(problem, make_optimizer, start, lrs, num_steps, tol)
            results.append(RaceResult(problem_name, optimizer_name, lr,
                                      steps_to_tolerance(trace, tol), float(trace.loss_gaps[-1]),
                                      trace))
    return results


def race_table(results, *, value="steps", num_steps=None):
    """The results as a compact text table: one row per problem, one column per optimizer.

    Parameters
    ----------
    results : list of RaceResult
        From :func:`race`.
    value : {"steps", "lr", "final_gap"}
        What each cell shows: the steps to tolerance (``>N`` when the run did not get there, ``N``
        its number of steps or ``num_steps``), the tuned learning rate, or the final loss gap
        rounded down to a power of ten (``"<1e-25"`` below :data:`GAP_FLOOR`): the power of ten
        holds on every machine, while the next digit of a run that is thrown out of its minimum
        and back does not.
    num_steps : int, optional
        The ``N`` of ``>N``; default each run's own number of steps.

    Returns
    -------
    str
    """
    formats = {
        "steps": lambda r: (str(r.steps) if r.steps is not None
                            else f">{num_steps or r.trace.num_steps}"),
        "lr": lambda r: f"{r.lr:.2g}",
        "final_gap": lambda r: order_of_magnitude(r.final_gap, floor=GAP_FLOOR),
    }
    if value not in formats:
        raise ValueError(f"value must be one of {sorted(formats)}, got value={value!r}")
    problems = list(dict.fromkeys(r.problem for r in results))
    optimizers = list(dict.fromkeys(r.optimizer for r in results))
    cells = {(r.problem, r.optimizer): formats[value](r) for r in results}
    width = max(10, *(len(name) + 2 for name in optimizers),
                *(len(cell) + 2 for cell in cells.values()))
    label_width = max(len(name) for name in problems) + 2
    lines = ["".ljust(label_width) + "".join(name.rjust(width) for name in optimizers)]
    for problem in problems:
        lines.append(problem.ljust(label_width)
                     + "".join(cells.get((problem, optimizer), "-").rjust(width)
                               for optimizer in optimizers))
    return "\n".join(lines)
