r"""The one runner: an optimizer on a test problem, one run or many independent runs at once.

:func:`run` is the loop every experiment of the package and every chapter of Parts I and III uses,

.. math:: \eta_t = \mathrm{schedule}(t), \qquad
          g_t = \frac{1}{|B_t|} \sum_{i \in B_t} \nabla \ell_i(x_{t - \tau_t}), \qquad
          x_{t+1} = \mathrm{optimizer.step}(x_t, g_t; \eta_t)

(full batch: :math:`g_t = \nabla f(x_{t-\tau_t})`; :math:`\tau_t = 0` unless the gradients are
stale, :math:`x_s = x_0` for :math:`s < 0`). What varies between experiments are its parts:

- **the sampler** of the mini-batches :math:`B_t`: shuffled epochs, as training loops do
  (:func:`epoch_batches`, also used by :func:`sgd_utils.nn.train.fit`), with or without the
  remainder of each epoch; or a fresh draw every step, with or without replacement, as
  convergence theorems assume (:func:`random_batches`);
- **how many runs**: a start of shape ``(K, d)`` runs :math:`K` independent copies ("chains")
  in one array, whose mean over chains estimates the expectations theorems bound, with a standard
  error shrinking like :math:`1/\sqrt K`;
- **the delay** :math:`\tau_t` of stale gradients (chapter 11's asynchronous workers), and the
  ``gradient`` itself (e.g. the all-reduce of data-parallel workers);
- **what is recorded**: everything at every step (point, full-batch loss, optimizer state), or
  only the points at chosen steps, for long runs.

A run that records every step stops at the first step whose loss breaks the divergence rule
(:func:`run`'s Notes); the same rule marks ``diverged_at`` in every other mode.
"""

import math
from collections import deque
from dataclasses import dataclass
from numbers import Integral

import numpy as np

from .checks import check_batch_size, check_count

SAMPLERS = ("epochs", "epochs_drop_last", "with_replacement", "without_replacement")


@dataclass
class Trace:
    """What happened in one run, or in :math:`K` independent chains, at the recorded steps.

    Attributes
    ----------
    params : ndarray, shape (R, dim) or (R, K, dim)
        ``params[r]`` is the point (of each chain) at step ``steps[r]``; ``params[0]`` the start
        when step 0 is recorded.
    losses : ndarray, shape (R,) or (R, K)
        The full-batch loss at each recorded point.
    lrs : ndarray, shape (num_steps,)
        The learning rate used by each step taken.
    states : list or None
        With every step recorded: copies of the optimizer state, ``states[t]`` going with
        ``params[t]`` (``states[0]`` is the state before the first step). None otherwise.
    diverged_at : int or None
        The first recorded step whose loss (of any chain) broke the divergence rule (see
        :func:`run`). A single run recording every step stops there.
    min_loss : float
        The problem's optimal loss, to plot loss gaps.
    label : str
        A short description for legends, e.g. ``"SGD on Rosenbrock"``.
    steps : ndarray of int, shape (R,)
        The recorded steps; ``0, 1, ..., num_steps`` when every step is recorded (the default).
    averages : ndarray or None
        Like ``params``: the Polyak-Ruppert averages :math:`\\bar x_t` from ``average_from`` on
        (NaN before), when :func:`run` was asked for them.
    minimizer : ndarray or None
        The problem's :math:`x^\\star`, for :meth:`sq_errors`.
    """

    params: np.ndarray
    losses: np.ndarray
    lrs: np.ndarray
    states: list | None
    diverged_at: int | None
    min_loss: float
    label: str
    steps: np.ndarray | None = None
    averages: np.ndarray | None = None
    minimizer: np.ndarray | None = None

    def __post_init__(self):
        if self.steps is None:
            self.steps = np.arange(len(self.params))

    @property
    def num_steps(self):
        """The number of steps actually taken."""
        return len(self.lrs)

    @property
    def loss_gaps(self):
        r""":math:`f(x_t) - f^\star` at every recorded step."""
        return self.losses - self.min_loss

    @property
    def status(self):
        """One line for a slider figure: ``'diverged at step 17'`` or
        ``'loss gap 1.2e-08 after 200 steps'`` (the mean over chains, for chains)."""
        if self.diverged_at is not None:
            return f"diverged at step {self.diverged_at}"
        return f"loss gap {np.mean(self.loss_gaps[-1]):.1e} after {self.num_steps} steps"

    def sq_errors(self, averaged=False):
        r""":math:`\lVert x_t - x^\star \rVert^2` (or of :math:`\bar x_t`) at every recorded step
        (and chain), shape ``(R,)`` or ``(R, K)``."""
        points = self.averages if averaged else self.params
        if points is None:
            raise ValueError("this trace has no averages: pass average_from to run")
        return np.sum((points - self.minimizer) ** 2, axis=-1)

    def mean_sq_error(self, averaged=False):
        r"""The mean over chains of :meth:`sq_errors`, estimating
        :math:`\mathbb E \lVert x_t - x^\star \rVert^2`, shape ``(R,)``."""
        errors = self.sq_errors(averaged)
        return errors.mean(axis=1) if errors.ndim == 2 else errors


# --- samplers -----------------------------------------------------------------------------------

def epoch_batches(num_samples, batch_size, rng, *, drop_last=False, num_chains=None):
    """Yield index arrays forever: each epoch a fresh ``rng.permutation`` cut into batches.

    The last batch of an epoch is smaller when ``batch_size`` does not divide
    ``num_samples`` (like ``torch.utils.data.DataLoader``'s default
    ``drop_last=False``), so every sample is used exactly once per epoch;
    ``drop_last=True`` skips that remainder. With ``num_chains`` each chain
    shuffles on its own and the arrays have shape ``(num_chains, batch)``.
    """
    stop = num_samples - batch_size + 1 if drop_last else num_samples
    while True:
        if num_chains is None:
            order = rng.permutation(num_samples)
        else:
            order = rng.permuted(np.tile(np.arange(num_samples), (num_chains, 1)), axis=1)
        for start in range(0, stop, batch_size):
            yield order[..., start:start + batch_size]


def random_batches(num_samples, batch_size, rng, *, replace=True, num_chains=None):
    """Yield index arrays forever, each step a fresh independent draw of ``batch_size`` samples.

    With replacement (``replace=True``, as the convergence theorems assume: every stochastic
    gradient is unbiased given the past, independently of the earlier steps) the draw is
    ``rng.integers(num_samples, size=(num_chains, batch_size))``; without, ``batch_size``
    distinct samples per step and chain (``rng.choice(..., replace=False)``).
    """
    while True:
        if replace:
            yield rng.integers(num_samples,
                               size=batch_size if num_chains is None else (num_chains, batch_size))
        elif num_chains is None:
            yield rng.choice(num_samples, batch_size, replace=False)
        else:
            yield np.array([rng.choice(num_samples, batch_size, replace=False)
                            for _ in range(num_chains)])


def make_batches(sampler, num_samples, batch_size, rng, num_chains=None):
    """The batches of ``sampler`` (one of :data:`SAMPLERS`), as :func:`run` draws them."""
    if sampler in ("epochs", "epochs_drop_last"):
        return epoch_batches(num_samples, batch_size, rng, drop_last=sampler == "epochs_drop_last",
                             num_chains=num_chains)
    if sampler in ("with_replacement", "without_replacement"):
        return random_batches(num_samples, batch_size, rng,
                              replace=sampler == "with_replacement", num_chains=num_chains)
    raise ValueError(f"sampler must be one of {SAMPLERS}, got sampler={sampler!r}")


def as_generator(seed):
    """``seed`` if it is a ``np.random.Generator`` (to continue its stream), else
    ``np.random.default_rng(seed)``."""
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


# --- the runner ---------------------------------------------------------------------------------

def _copy_state(state):
    """A snapshot of a NamedTuple state: arrays copied, scalars kept."""
    return type(state)(*(np.array(field) if isinstance(field, np.ndarray) else field
                         for field in state))


def _check_run_arguments(problem, optimizer, num_steps, batch_size, schedule, divergence_factor):
    params = getattr(optimizer, "params", None)
    if (not isinstance(params, list) or len(params) != 1
            or np.shape(params[0])[-1:] != (problem.dim,) or np.ndim(params[0]) not in (1, 2)):
        raise ValueError(f"optimizer must hold exactly one array of shape ({problem.dim},) "
                         f"(the point) or (K, {problem.dim}) (K chains), "
                         f"got optimizer.params={params!r}")
    check_count("num_steps", num_steps, 0)
    if batch_size is not None:
        num_samples = getattr(problem, "num_samples", None)
        if num_samples is None:
            raise ValueError(f"batch_size={batch_size!r} needs a problem with samples; "
                             f"{problem.name} has none")
        check_batch_size(batch_size, num_samples)
    if schedule is not None and not callable(schedule):
        raise TypeError("schedule must be callable (step -> lr) or None, "
                        f"got schedule={schedule!r}")
    if not divergence_factor > 0:
        raise ValueError("divergence_factor must be > 0, "
                         f"got divergence_factor={divergence_factor!r}")


def _delays(delay, num_steps):
    """The delay of every step, as a list of ints, or None when there is none."""
    if isinstance(delay, Integral) and not isinstance(delay, bool):
        check_count("delay", delay, 0)
        return None if delay == 0 else [int(delay)] * num_steps
    delays = np.asarray(delay)
    if (delays.shape != (num_steps,) or delays.dtype.kind not in "iu"
            or (num_steps and delays.min() < 0)):
        raise ValueError(f"delay must be an integer >= 0 or {num_steps} of them (one per step), "
                         f"got delay={delay!r}")
    return delays.tolist()


def _recorded_steps(record_steps, num_steps):
    steps = np.unique(np.asarray(list(record_steps), dtype=int))
    if steps.size and (steps[0] < 0 or steps[-1] > num_steps):
        raise ValueError(f"record_steps must lie in [0, {num_steps}], got {record_steps!r}")
    return steps


def run(problem, optimizer, num_steps, *, batch_size=None, sampler="epochs", schedule=None,
        seed=0, delay=0, gradient=None, record_steps=None, average_from=None,
        divergence_factor=1e6):
    r"""Run ``optimizer`` on ``problem`` for ``num_steps`` steps and return the :class:`Trace`.

    Parameters
    ----------
    problem : Problem or FiniteSum
        From :mod:`sgd_utils.problems`: ``loss``, ``grad``, ``dim``, ``min_loss``.
    optimizer : Optimizer
        A facade from :mod:`sgd_utils.optim` holding a single array, the start point,
        e.g. ``SGD([x], lr=1e-3)``: shape ``(dim,)`` for one run, ``(K, dim)`` for :math:`K`
        independent chains (every update rule acts elementwise). It is updated in place: after
        the run ``x`` is the last point, and the optimizer keeps its state, so a second ``run``
        continues the first.
    num_steps : int
        The number of steps, unless a single run that records every step diverges first.
    batch_size : int, optional
        Stochastic problems only: each step uses the mean gradient over one mini-batch of the
        ``sampler``. ``None`` (default): full-batch gradients.
    sampler : str
        How mini-batches are drawn, with ``np.random.default_rng(seed)``: ``"epochs"`` (default;
        reshuffled every epoch, the last batch smaller if ``batch_size`` does not divide
        ``num_samples``, as a ``torch.utils.data.DataLoader`` with ``shuffle=True``),
        ``"epochs_drop_last"`` (full batches only), ``"with_replacement"`` or
        ``"without_replacement"`` (a fresh independent draw every step; see
        :func:`epoch_batches`, :func:`random_batches`). Chains draw independently of each other.
    schedule : callable, optional
        ``schedule(t) -> lr`` (see :mod:`sgd_utils.optim.schedules`); before step
        ``t`` the runner sets ``optimizer.lr = schedule(t)``. ``None`` keeps
        ``optimizer.lr``.
    seed : int or numpy.random.Generator
        Seeds the mini-batches; a generator is used as it is, continuing its stream.
    delay : int or sequence of int
        :math:`\tau`, or one :math:`\tau_t` per step: step ``t`` evaluates the gradient at
        :math:`x_{t - \tau_t}` (stale gradients; :math:`x_0` before the start). 0: none.
    gradient : callable, optional
        Computes the step's gradient, called as ``problem.grad`` is (``gradient(x)``, or
        ``gradient(x, batch)`` with mini-batches); default ``problem.grad`` for one run and
        ``problem.grads`` for chains.
    record_steps : iterable of int, optional
        ``None`` (default) records every step: point, full-batch loss and a copy of the optimizer
        state. Otherwise only the points at these steps in ``[0, num_steps]``, whose losses are
        computed in one call at the end (``problem.losses``): for long runs.
    average_from : int, optional
        Also keep the Polyak-Ruppert average :math:`\bar x_t = \frac{1}{t-s+1}\sum_{r=s}^t x_r`
        from step :math:`s` = ``average_from``, updated online as
        :math:`\bar x_t = \bar x_{t-1} + (x_t - \bar x_{t-1}) / (t - s + 1)`.
    divergence_factor : float
        See below.

    Returns
    -------
    Trace

    Notes
    -----
    The divergence rule: a run has diverged at the first recorded step whose loss is not finite
    or whose loss gap exceeds

    .. math:: \mathrm{divergence\_factor} \times \max\left(f(x_0) - f^\star, 1\right),

    and the trace records that step as ``diverged_at`` (for chains: the first step at which any
    chain has). A single run recording every step stops there, without exception or NumPy
    warning; chains, and runs recording only some steps, go on to ``num_steps`` (a diverged
    chain fills with ``inf`` and ``nan``, and the others are still valid samples). A loss
    falling without bound (the saddle) only breaks the rule once it is infinite.

    Examples
    --------
    >>> from sgd_utils.optim import GD, SGD
    >>> from sgd_utils.problems import LeastSquares, Quadratic
    >>> x = np.array([1.0, 1.0])
    >>> trace = run(Quadratic([1.0, 10.0]), GD([x], lr=0.1), 50)
    >>> trace.status, trace.params.shape
    ('loss gap 1.3e-05 after 50 steps', (51, 2))
    >>> run(Quadratic([1.0, 10.0]), GD([np.array([1.0, 1.0])], lr=0.3), 50).status
    'diverged at step 11'

    Eight chains of SGD with batches of one sample drawn with replacement, recorded at the start
    and the end:

    >>> problem = LeastSquares(num_samples=200, dim=3, noise=0.5, seed=0)
    >>> chains = run(problem, SGD([np.zeros((8, 3))], lr=0.01), 2000, batch_size=1,
    ...              sampler="with_replacement", record_steps=[0, 2000])
    >>> chains.params.shape, bool(chains.mean_sq_error()[-1] < 0.01 * chains.mean_sq_error()[0])
    ((2, 8, 3), True)
    """
    _check_run_arguments(problem, optimizer, num_steps, batch_size, schedule, divergence_factor)
    delays = _delays(delay, num_steps)
    if average_from is not None:
        check_count("average_from", average_from, 0)
    point = optimizer.params[0]
    num_chains = len(point) if point.ndim == 2 else None
    if gradient is None:
        gradient = problem.grad if num_chains is None else problem.grads
    batches = None if batch_size is None else make_batches(
        sampler, problem.num_samples, batch_size, as_generator(seed), num_chains)
    full = record_steps is None
    steps = np.arange(num_steps + 1) if full else _recorded_steps(record_steps, num_steps)
    loss_of = problem.loss if num_chains is None else problem.losses

    record_at = steps.tolist()     # Python ints: compared at every step, faster than NumPy's
    params = np.empty((len(steps), *point.shape), dtype=point.dtype)
    averages = None if average_from is None else np.full(params.shape, np.nan)
    average = None
    losses, lrs = [], []
    states = [] if full else None
    # x_{t - tau}, ..., x_t for the largest delay tau (points before the start count as x_0)
    recent = None if delays is None else deque([point.copy()], maxlen=max(delays, default=0) + 1)
    start_gap = (problem.losses(point) if num_chains else problem.loss(point)) - problem.min_loss
    limit = divergence_factor * np.maximum(start_gap, 1.0)
    if num_chains is None:
        limit = float(limit)
    diverged_at, slot, taken = None, 0, num_steps
    # overflow is expected when a run diverges; it is reported by the divergence rule
    with np.errstate(all="ignore"):
        for t in range(num_steps + 1):
            if average_from is not None and t >= average_from:
                average = (point.copy() if t == average_from
                           else average + (point - average) / (t - average_from + 1))
            if slot < len(record_at) and t == record_at[slot]:
                params[slot] = point
                if averages is not None and average is not None:
                    averages[slot] = average
                if full:
                    losses.append(loss_of(point))
                    states.append(_copy_state(optimizer.state[0]))
                    if _breaks_rule(losses[-1], problem.min_loss, limit):
                        diverged_at = diverged_at if diverged_at is not None else t
                        if num_chains is None:
                            taken, slot = t, slot + 1
                            break
                slot += 1
            if t == num_steps:
                break
            if schedule is not None:
                optimizer.lr = schedule(t)
            lrs.append(optimizer.lr)
            at = point if delays is None else recent[max(len(recent) - 1 - delays[t], 0)]
            grad = gradient(at) if batches is None else gradient(at, next(batches))
            optimizer.step([grad])
            if recent is not None:
                recent.append(point.copy())
    params, lrs = params[:slot], np.array(lrs[:taken], dtype=np.float64)
    if averages is not None:
        averages = averages[:slot]
    if full:
        losses = np.array(losses)
    else:
        with np.errstate(all="ignore"):
            losses = problem.losses(params)
        broken = [step for step, loss in zip(steps, losses)
                  if _breaks_rule(loss, problem.min_loss, limit)]
        diverged_at = int(broken[0]) if broken else None
    minimizer = getattr(problem, "minimizer", None)
    return Trace(params, losses, lrs, states, diverged_at, float(problem.min_loss),
                 f"{type(optimizer).__name__} on {problem.name}", steps[:slot], averages,
                 None if minimizer is None else np.asarray(minimizer, dtype=np.float64))


def _breaks_rule(loss, min_loss, limit):
    """The divergence rule: a loss (of any chain) not finite, or a gap beyond the limit."""
    if isinstance(loss, float):    # one run: plain floats, checked at every step, so fast
        return not math.isfinite(loss) or loss - min_loss > limit
    loss = np.asarray(loss)
    with np.errstate(invalid="ignore"):
        return bool(np.any(~np.isfinite(loss) | (loss - min_loss > limit)))


def log_steps(num_steps, num=40):
    """About ``num`` distinct steps from 0 to ``num_steps``, evenly spaced on a log scale
    (0 and 1 included): the default recording of long runs plotted on log axes.

    >>> log_steps(1000, 5).tolist()
    [0, 1, 6, 32, 178, 1000]
    """
    check_count("num_steps", num_steps, 1)
    steps = np.rint(np.geomspace(1, num_steps, num)).astype(int)
    return np.unique(np.concatenate([[0], steps]))
