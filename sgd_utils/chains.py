r"""Many independent SGD runs side by side, to measure the expectations that theorems bound.

Convergence theorems for SGD speak of expectations such as
:math:`\mathbb E \lVert x_t - x^\star \rVert^2`; one run is a single sample of that random quantity.
:func:`run_chains` runs :math:`K` independent copies ("chains") of plain SGD on a finite-sum problem
at once, in one array of shape ``(K, d)``,

.. math::
    x^{(k)}_{t+1} = x^{(k)}_t
    - \eta_t \, \frac1B \sum_{i \in S^{(k)}_t} \nabla \ell_i\bigl(x^{(k)}_t\bigr),
    \qquad k = 1, \dots, K,

where each mini-batch :math:`S^{(k)}_t` holds :math:`B` indices drawn uniformly *with replacement*,
independently across steps and chains: the sampling the theorems assume, so that every stochastic
gradient is unbiased given the past. (:func:`sgd_utils.descent.run` reshuffles once per epoch
instead, as training loops do.) The mean over chains then estimates the expectation, with a standard
error that shrinks like :math:`1/\sqrt K`.

Each chain also keeps its Polyak-Ruppert average from step :math:`s` (``average_from``),

.. math:: \bar x_t = \frac{1}{t - s + 1} \sum_{r = s}^{t} x_r, \qquad t \ge s,

updated online as :math:`\bar x_t = \bar x_{t-1} + (x_t - \bar x_{t-1}) / (t - s + 1)`.
"""

from dataclasses import dataclass
from numbers import Integral

import numpy as np

from .optim.sgd import sgd_init, sgd_update


@dataclass
class ChainTrace:
    """The recorded states of :math:`K` chains.

    Attributes
    ----------
    steps : ndarray of int, shape (R,)
        The recorded steps :math:`t` (0 is the start).
    params : ndarray, shape (R, K, d)
        ``params[r, k]`` is :math:`x_t` of chain ``k`` at ``t = steps[r]``.
    averages : ndarray, shape (R, K, d)
        The running averages :math:`\\bar x_t`; NaN where ``t < average_from``.
    lrs : ndarray, shape (num_steps,)
        The learning rate of each step.
    minimizer : ndarray, shape (d,)
        The problem's :math:`x^\\star`.
    """

    steps: np.ndarray
    params: np.ndarray
    averages: np.ndarray
    lrs: np.ndarray
    minimizer: np.ndarray

    def sq_errors(self, averaged=False):
        r""":math:`\lVert x_t - x^\star \rVert^2` (or of :math:`\bar x_t`) per recorded step and
        chain, shape ``(R, K)``."""
        points = self.averages if averaged else self.params
        return np.sum((points - self.minimizer) ** 2, axis=-1)

    def mean_sq_error(self, averaged=False):
        r"""The mean over chains of :meth:`sq_errors`, estimating
        :math:`\mathbb E \lVert x_t - x^\star \rVert^2`."""
        return self.sq_errors(averaged).mean(axis=1)


def log_steps(num_steps, num=40):
    """About ``num`` distinct steps from 0 to ``num_steps``, evenly spaced on a log scale
    (0 and 1 included).

    >>> log_steps(1000, 5).tolist()
    [0, 1, 6, 32, 178, 1000]
    """
    if not (isinstance(num_steps, Integral) and num_steps >= 1):
        raise ValueError(f"num_steps must be an integer >= 1, got num_steps={num_steps!r}")
    steps = np.rint(np.geomspace(1, num_steps, num)).astype(int)
    return np.unique(np.concatenate([[0], steps]))


def sample_grads(problem, points, idx):
    r"""Each chain's mini-batch gradient: the mean of :math:`\nabla \ell_i` at ``points[k]``
    over ``idx[k]``.

    Parameters
    ----------
    problem : FiniteSum
        :class:`~sgd_utils.problems.LeastSquares` or
        :class:`~sgd_utils.problems.LogisticRegression`.
    points : ndarray, shape (K, d)
    idx : ndarray of int, shape (K, B)

    Returns
    -------
    ndarray, shape (K, d)
        Row ``k`` equals ``problem.grad(points[k], idx[k])`` (a test checks it).
    """
    X, y = problem.X[idx], problem.y[idx]         # (K, B, d), (K, B)
    margins = np.einsum("kbd,kd->kb", X, points)  # x_i^T w for each sample of each chain
    dloss = problem._dloss_dz(margins, y)         # d loss_i / d margin, the problem's own rule
    return np.einsum("kbd,kb->kd", X, dloss) / idx.shape[1] + problem._penalty_grad(points)


def _check_chains(problem, start, num_steps, num_chains, batch_size, average_from):
    if np.shape(start) != (problem.dim,):
        raise ValueError(f"start must have shape ({problem.dim},), got shape {np.shape(start)}")
    for name, value, low in (("num_steps", num_steps, 0), ("num_chains", num_chains, 1),
                             ("batch_size", batch_size, 1), ("average_from", average_from, 0)):
        if not (isinstance(value, Integral) and value >= low):
            raise ValueError(f"{name} must be an integer >= {low}, got {name}={value!r}")
    if batch_size > problem.num_samples:
        raise ValueError(f"batch_size must be <= num_samples={problem.num_samples}, "
                         f"got batch_size={batch_size}")


def run_chains(problem, start, lr, num_steps, *, num_chains=16, batch_size=1, seed=0,
               record_steps=None, average_from=0):
    r"""Run ``num_chains`` independent SGD chains from ``start`` and record them at
    ``record_steps``.

    Parameters
    ----------
    problem : FiniteSum
        A stochastic problem of :mod:`sgd_utils.problems` (it has ``X``, ``y``, ``minimizer``).
    start : array_like, shape (d,)
        :math:`x_0`, the same for every chain.
    lr : float or callable
        A constant learning rate, or a schedule ``lr(t) -> float`` (:mod:`sgd_utils.schedules`)
        giving :math:`\eta_t` for step ``t`` (counted from 0).
    num_steps : int
    num_chains : int
        :math:`K`.
    batch_size : int
        :math:`B`, samples per step, drawn with replacement.
    seed : int
        Seeds ``np.random.default_rng``, which draws every chain's samples.
    record_steps : iterable of int, optional
        Steps to record, in ``[0, num_steps]``; default :func:`log_steps` ``(num_steps)``.
    average_from : int
        :math:`s`, the first step included in the running average.

    Returns
    -------
    ChainTrace

    Examples
    --------
    >>> from sgd_utils.problems import LeastSquares
    >>> problem = LeastSquares(num_samples=200, dim=3, noise=0.5, seed=0)
    >>> trace = run_chains(problem, np.zeros(3), 0.01, 2000, num_chains=8, record_steps=[0, 2000])
    >>> trace.params.shape, bool(trace.mean_sq_error()[-1] < 0.01 * trace.mean_sq_error()[0])
    ((2, 8, 3), True)
    """
    _check_chains(problem, start, num_steps, num_chains, batch_size, average_from)
    steps = (log_steps(num_steps) if record_steps is None
             else np.unique(np.asarray(record_steps, dtype=int)))
    if steps.size == 0 or steps[0] < 0 or steps[-1] > num_steps:
        raise ValueError(f"record_steps must lie in [0, {num_steps}], got {record_steps!r}")
    schedule = lr if callable(lr) else (lambda t: lr)
    rng = np.random.default_rng(seed)
    points = np.tile(np.asarray(start, dtype=np.float64), (num_chains, 1))    # (K, d)
    average = np.full_like(points, np.nan)
    state = sgd_init(points)
    params = np.empty((len(steps), num_chains, problem.dim))
    averages = np.empty_like(params)
    lrs = np.empty(num_steps)
    slot = 0
    # a diverging chain turns inf/NaN and is kept, so that the caller sees it
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(num_steps + 1):
            if t >= average_from:
                average = (points.copy() if t == average_from
                           else average + (points - average) / (t - average_from + 1))
            if slot < len(steps) and t == steps[slot]:
                params[slot], averages[slot] = points, average
                slot += 1
            if t == num_steps:
                break
            lrs[t] = schedule(t)
            grads = sample_grads(problem, points,
                                 rng.integers(problem.num_samples, size=(num_chains, batch_size)))
            points, state = sgd_update(points, grads, state, lr=lrs[t])
    return ChainTrace(steps, params, averages, lrs, np.asarray(problem.minimizer, dtype=np.float64))
