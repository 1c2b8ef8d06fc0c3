r"""Run an optimizer on a test problem and record the whole trajectory.

:func:`run` is the loop every chapter of Part I uses,

.. math:: \eta_t = \mathrm{schedule}(t), \qquad
          g_t = \frac{1}{|B_t|} \sum_{i \in B_t} \nabla \ell_i(x_t), \qquad
          x_{t+1} = \mathrm{optimizer.step}(x_t, g_t; \eta_t)

(full batch: :math:`g_t = \nabla f(x_t)`), and returns a :class:`Trace`
with the point, the full-batch loss, the learning rate and the optimizer
state at every step, ready for :mod:`sgd_utils.plots`.
"""

import math
from dataclasses import dataclass
from numbers import Integral

import numpy as np


@dataclass
class Trace:
    """What happened in one run, step by step.

    Attributes
    ----------
    params : ndarray, shape (num_steps + 1, dim)
        ``params[t]`` is the point before step ``t``; ``params[0]`` the start.
    losses : ndarray, shape (num_steps + 1,)
        The full-batch loss at each ``params[t]``.
    lrs : ndarray, shape (num_steps,)
        The learning rate used by step ``t``.
    states : list, length num_steps + 1
        Copies of the optimizer state for the point; ``states[t]`` goes with
        ``params[t]`` (``states[0]`` is the state before the first step).
    diverged_at : int or None
        The step whose loss was non-finite or exploded (see :func:`run`); the
        arrays stop there, so ``num_steps`` is then ``diverged_at``.
    min_loss : float
        The problem's optimal loss, to plot loss gaps.
    label : str
        A short description for legends, e.g. ``"SGD on Rosenbrock"``.
    """

    params: np.ndarray
    losses: np.ndarray
    lrs: np.ndarray
    states: list
    diverged_at: int | None
    min_loss: float
    label: str

    @property
    def num_steps(self):
        """The number of steps actually taken."""
        return len(self.lrs)

    @property
    def loss_gaps(self):
        r""":math:`f(x_t) - f^\star` at every step."""
        return self.losses - self.min_loss

    @property
    def status(self):
        """One line for a slider figure: ``'diverged at step 17'`` or
        ``'loss gap 1.2e-08 after 200 steps'``."""
        if self.diverged_at is not None:
            return f"diverged at step {self.diverged_at}"
        return f"loss gap {self.loss_gaps[-1]:.1e} after {self.num_steps} steps"


def epoch_batches(num_samples, batch_size, rng):
    """Yield index arrays forever: each epoch a fresh ``rng.permutation`` cut into batches.

    The last batch of an epoch is smaller when ``batch_size`` does not divide
    ``num_samples`` (like ``torch.utils.data.DataLoader``'s default
    ``drop_last=False``), so every sample is used exactly once per epoch.
    """
    while True:
        order = rng.permutation(num_samples)
        for start in range(0, num_samples, batch_size):
            yield order[start:start + batch_size]


def _copy_state(state):
    """A snapshot of a NamedTuple state: arrays copied, scalars kept."""
    return type(state)(*(np.array(field) if isinstance(field, np.ndarray) else field
                         for field in state))


def _check_run_arguments(problem, optimizer, num_steps, batch_size, schedule, divergence_factor):
    params = getattr(optimizer, "params", None)
    if not isinstance(params, list) or len(params) != 1 or np.shape(params[0]) != (problem.dim,):
        raise ValueError(f"optimizer must hold exactly one array of shape ({problem.dim},) "
                         f"(the point), got optimizer.params={params!r}")
    if not isinstance(num_steps, Integral) or num_steps < 0:
        raise ValueError(f"num_steps must be an integer >= 0, got num_steps={num_steps!r}")
    if batch_size is not None:
        num_samples = getattr(problem, "num_samples", None)
        if num_samples is None:
            raise ValueError(f"batch_size={batch_size!r} needs a problem with samples; "
                             f"{problem.name} has none")
        if not isinstance(batch_size, Integral) or not 1 <= batch_size <= num_samples:
            raise ValueError(f"batch_size must be an integer in [1, {num_samples}], "
                             f"got batch_size={batch_size!r}")
    if schedule is not None and not callable(schedule):
        raise TypeError("schedule must be callable (step -> lr) or None, "
                        f"got schedule={schedule!r}")
    if not divergence_factor > 0:
        raise ValueError("divergence_factor must be > 0, "
                         f"got divergence_factor={divergence_factor!r}")


def run(problem, optimizer, num_steps, *, batch_size=None, schedule=None, seed=0,
        divergence_factor=1e6):
    r"""Run ``optimizer`` on ``problem`` for ``num_steps`` steps and return the :class:`Trace`.

    Parameters
    ----------
    problem : Problem or FiniteSum
        From :mod:`sgd_utils.problems`: ``loss``, ``grad``, ``dim``, ``min_loss``.
    optimizer : Optimizer
        A facade from :mod:`sgd_utils.optim` holding a single array, the start
        point, e.g. ``SGD([x], lr=1e-3)``. It is updated in place: after the
        run ``x`` is the last point (``params[0]`` keeps a copy of the start),
        and the optimizer keeps its state, so a second ``run`` continues the
        first.
    num_steps : int
        The number of steps, unless the run diverges first.
    batch_size : int, optional
        Stochastic problems only: each step uses the mean gradient over one
        mini-batch, from :func:`epoch_batches` with
        ``np.random.default_rng(seed)``: reshuffled every epoch, the last
        batch of an epoch smaller if ``batch_size`` does not divide
        ``num_samples``. ``None`` (default): full-batch gradients.
    schedule : callable, optional
        ``schedule(t) -> lr`` (see :mod:`sgd_utils.schedules`); before step
        ``t`` the runner sets ``optimizer.lr = schedule(t)``. ``None`` keeps
        ``optimizer.lr``.
    seed : int
        Seeds the mini-batch order.
    divergence_factor : float
        See below.

    Returns
    -------
    Trace
        Points, full-batch losses, learning rates and state copies at every step.

    Notes
    -----
    Divergence: the run stops, without exception or NumPy warning, after
    the first step whose loss is not finite or whose loss gap exceeds

    .. math:: \mathrm{divergence\_factor} \times \max\left(f(x_0) - f^\star, 1\right),

    and the trace records that step as ``diverged_at``. A loss falling
    without bound (the saddle) only stops the run once it is infinite.
    The mini-batch order is that of a ``torch.utils.data.DataLoader`` with
    ``shuffle=True, drop_last=False``, though not its random numbers.

    Examples
    --------
    >>> from sgd_utils.optim import GD
    >>> from sgd_utils.problems import Quadratic
    >>> x = np.array([1.0, 1.0])
    >>> trace = run(Quadratic([1.0, 10.0]), GD([x], lr=0.1), 50)
    >>> trace.status, trace.params.shape
    ('loss gap 1.3e-05 after 50 steps', (51, 2))
    >>> run(Quadratic([1.0, 10.0]), GD([np.array([1.0, 1.0])], lr=0.3), 50).status
    'diverged at step 11'
    """
    _check_run_arguments(problem, optimizer, num_steps, batch_size, schedule, divergence_factor)
    point = optimizer.params[0]
    params = np.empty((num_steps + 1, problem.dim), dtype=point.dtype)
    params[0] = point
    losses, lrs = [problem.loss(point)], []
    states = [_copy_state(optimizer.state[0])]
    min_loss = float(problem.min_loss)
    limit = divergence_factor * max(losses[0] - min_loss, 1.0)
    batches = None if batch_size is None else epoch_batches(problem.num_samples, batch_size,
                                                            np.random.default_rng(seed))
    diverged_at = None
    # overflow is expected when a run diverges; it is reported below
    with np.errstate(all="ignore"):
        for t in range(num_steps):
            if schedule is not None:
                optimizer.lr = schedule(t)
            lrs.append(optimizer.lr)
            grad = problem.grad(point) if batches is None else problem.grad(point, next(batches))
            optimizer.step([grad])
            params[t + 1] = point
            loss = problem.loss(point)
            losses.append(loss)
            states.append(_copy_state(optimizer.state[0]))
            if not math.isfinite(loss) or loss - min_loss > limit:
                diverged_at = t + 1
                params = params[: t + 2]
                break
    label = f"{type(optimizer).__name__} on {problem.name}"
    return Trace(params, np.array(losses), np.array(lrs, dtype=np.float64), states, diverged_at,
                 min_loss, label)
