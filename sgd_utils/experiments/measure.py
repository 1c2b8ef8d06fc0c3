r"""Measurements read off runs: rates of convergence, power-law exponents, steps to a tolerance.

Each chapter compares a run with a theorem through one of these, so they live in one place, each
with the one meaning the book gives it:

- :func:`measured_rate`: the contraction per step of the distance to the optimum, over a window.
- :func:`loglog_slope`: the exponent :math:`p` of :math:`y \approx c\,x^p`.
- :func:`steps_below`, :func:`steps_to_tolerance`: the first step after which a sequence, or a
  run's loss gap, *stays* below a tolerance.
"""

import numpy as np

from ..descent import Trace


def measured_rate(distances, start=None, stop=None, window=1):
    r"""The geometric-mean contraction per step of a sequence of distances to the optimum.

    .. math:: \hat\rho = \left(\frac{\max_{\rm last\ window} d}{\max_{\rm first\ window} d}\right)
              ^{1/({\rm stop} - {\rm start} - w + 1)}

    where the first window is steps ``start .. start + w - 1`` and the last ``stop - w + 1 .. stop``
    (:math:`w` is ``window``; with the default 1 this is
    :math:`(d_{\rm stop}/d_{\rm start})^{1/({\rm stop}-{\rm start})}`). ``distances`` is e.g.
    ``np.linalg.norm(trace.params - x_star, axis=1)``, or an array whose first axis is the step (one
    rate per remaining index, e.g. per coordinate). Defaults: the second half of the run, where
    transients have died out.

    A spiralling iterate passes near zero now and then, so a single step can say little; a window
    longer than the spiral's period measures its envelope instead. A repeated root (critical
    damping) adds a factor :math:`t` to the envelope, which biases :math:`\hat\rho` upward by a
    factor of about :math:`({\rm stop}/{\rm start})^{1/({\rm stop} - {\rm start})}`.

    >>> measured_rate(0.5 ** np.arange(11))
    0.5
    >>> t = np.arange(200)
    >>> round(measured_rate(0.9 ** t * np.abs(np.cos(0.5 * t)), 50, 199, window=20), 2)
    0.9
    """
    distances = np.abs(np.asarray(distances, dtype=np.float64))
    num = distances.shape[0]
    start = num // 2 if start is None else start
    stop = num - 1 if stop is None else stop
    if not (isinstance(window, (int, np.integer)) and window >= 1):
        raise ValueError(f"window must be an integer >= 1, got window={window!r}")
    if not 0 <= start < stop < num or stop - start < window:
        raise ValueError(f"need 0 <= start < stop < len(distances) = {num} and "
                         f"stop - start >= window, got start={start}, stop={stop}, window={window}")
    first = distances[start:start + window].max(axis=0)
    last = distances[stop - window + 1:stop + 1].max(axis=0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        rate = (last / first) ** (1.0 / (stop - start - window + 1))
    return float(rate) if np.ndim(rate) == 0 else rate


def loglog_slope(x, y):
    r"""The least-squares slope of :math:`\log y` against :math:`\log x`: the exponent :math:`p` of
    :math:`y \approx c\,x^p`.

    >>> round(loglog_slope([1, 10, 100], [3.0, 0.3, 0.03]), 12)
    -1.0
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.size < 2 or np.any(x <= 0) or np.any(y <= 0):
        raise ValueError("loglog_slope needs two or more positive x and y values of the same shape")
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def steps_below(values, tol):
    """The first index after which every entry of ``values`` is below ``tol``, or ``None``.

    ``None`` when the last entry is not below ``tol``; NaN counts as not below. Use it for
    distances to the minimiser, ``steps_below(np.linalg.norm(trace.params - x_star, axis=1), tol)``,
    where the loss gap would weight the coordinates by their curvature.

    Examples
    --------
    >>> steps_below([1.0, 1e-3, 1.0, 1e-3, 1e-4], 1e-2)
    3
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"values must be a non-empty 1-D sequence, got shape {values.shape}")
    if not tol > 0:
        raise ValueError(f"tol must be > 0, got tol={tol!r}")
    above = np.flatnonzero(~(values < tol))  # NaN counts as above
    if above.size == 0:
        return 0
    last_above = int(above[-1])
    return None if last_above == values.size - 1 else last_above + 1


def steps_to_tolerance(trace, tol):
    r"""The first step :math:`t` after which the loss gap stays below ``tol``, or ``None``.

    Parameters
    ----------
    trace : Trace
        From :func:`sgd_utils.descent.run`.
    tol : float
        The tolerance on :math:`f(x_t) - f^\star`, > 0.

    Returns
    -------
    int or None
        ``None`` when the run diverged or its last loss gap is not below ``tol``.

    Examples
    --------
    >>> from sgd_utils.descent import run
    >>> from sgd_utils.optim import GD
    >>> from sgd_utils.problems import Quadratic
    >>> steps_to_tolerance(run(Quadratic([1.0]), GD([np.array([1.0])], lr=0.5), 20), 1e-6)
    10
    """
    if not isinstance(trace, Trace):
        raise TypeError("trace must be a Trace from sgd_utils.descent.run, "
                        f"got {type(trace).__name__}")
    if not tol > 0:
        raise ValueError(f"tol must be > 0, got tol={tol!r}")
    if trace.diverged_at is not None:
        return None
    return steps_below(trace.loss_gaps, tol)
