r"""Grids of short training runs on MNIST, the noise scale of SGD, and the learning-rate range test.

Three tools for the chapters that tune hyperparameters by experiment:

- :func:`train_mlp` trains one small MLP with SGD or Adam from a flat set of keyword arguments
  (the seed fixes both the initial weights and the batch order), and :func:`sweep` runs it over a
  grid of hyperparameters and seeds, keeping every :class:`~sgd_utils.train.History`.
- :func:`noise_scale` is the noise scale of Smith and Le (2018). With learning rate
  :math:`\epsilon`, :math:`N` training samples, batch size :math:`B` and momentum :math:`m`,

  .. math::

      g = \frac{\epsilon}{1 - m}\left(\frac{N}{B} - 1\right) \approx \frac{\epsilon N}{B (1 - m)},

  the variance of the mini-batch gradient noise, :math:`(1/B - 1/N)\,C` for per-sample gradient
  covariance :math:`C`, times the step :math:`\epsilon/(1 - m)`, in units of the full-data
  covariance :math:`C/N`.
- :func:`lr_range_test` is the learning-rate range test in the form common today (fast.ai's
  "LR finder"): one run whose learning rate grows geometrically every step, recording the
  smoothed loss, to see where training starts and stops working. Smith (2017), who proposed the
  test, raised the rate linearly over a few epochs and read the bounds off the accuracy.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from .mlp import MLP
from .optim import SGD, Adam
from .report import mean_and_error
from .threads import blas_threads  # also importable from here, as chapters 6-9 do
from .train import fit

OPTIMIZERS = ("sgd", "adam")


def noise_scale(lr, num_samples, batch_size, momentum=0.0, *, exact=False):
    r"""The SGD noise scale :math:`g = \epsilon N / (B (1 - m))` of Smith and Le (2018).

    Parameters
    ----------
    lr, num_samples, batch_size, momentum : float or ndarray
        :math:`\epsilon, N, B, m`; arrays broadcast.
    exact : bool
        Use :math:`N/B - 1` (sampling without replacement: zero noise at :math:`B = N`)
        instead of :math:`N/B`.

    Examples
    --------
    >>> noise_scale(0.1, 8000, 32), noise_scale(0.1, 8000, 32, momentum=0.9)
    (25.0, 250.00000000000006)
    >>> float(noise_scale(0.1, 8000, 8000, exact=True))
    0.0
    """
    lr, num_samples, batch_size, momentum = (np.asarray(v, dtype=float) for v in
                                             (lr, num_samples, batch_size, momentum))
    if np.any(lr < 0) or np.any(batch_size < 1) or np.any(num_samples < batch_size):
        raise ValueError("need lr >= 0 and 1 <= batch_size <= num_samples")
    if np.any(momentum < 0) or np.any(momentum >= 1):
        raise ValueError(f"momentum must be in [0, 1), got {momentum}")
    ratio = num_samples / batch_size - (1 if exact else 0)
    g = lr * ratio / (1 - momentum)
    return float(g) if g.ndim == 0 else g


def train_mlp(data, *, hidden=32, lr=0.1, batch_size=32, epochs=5, momentum=None,
              optimizer="sgd", weight_decay=0.0, schedule=None, seed=0, eval_train=False):
    """Train ``MLP([784, hidden, 10])`` (ReLU, He init) on ``data``; return the History.

    Parameters
    ----------
    data : sgd_utils.data.MNIST
        Trains on ``X_train, y_train``, validates on ``X_test, y_test`` after each epoch.
    hidden : int or tuple of int
        Width(s) of the hidden layer(s).
    lr, batch_size, epochs, momentum, weight_decay
        As for :class:`~sgd_utils.optim.SGD` and :func:`~sgd_utils.train.fit`. With
        ``optimizer="adam"``, ``momentum`` is Adam's :math:`\\beta_1`. None means SGD's 0
        and Adam's 0.9, each library's default.
    optimizer : {"sgd", "adam"}
    schedule : callable or None
        ``schedule(step) -> lr``, overriding ``lr`` (see ``sgd_utils.schedules``).
    seed : int
        Seeds both the initial weights and the epoch shuffles.
    eval_train : bool
        Also evaluate the whole training set after each epoch (slower).

    Examples
    --------
    >>> from sgd_utils.data import MNIST
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((64, 784), dtype=np.float32); y = rng.integers(0, 10, 64)
    >>> history = train_mlp(MNIST(X, y, X[:16], y[:16]), hidden=8, epochs=2, batch_size=16)
    >>> len(history.losses), len(history.val_accuracy)
    (8, 2)
    """
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
    widths = (hidden,) if isinstance(hidden, (int, np.integer)) else tuple(hidden)
    model = MLP([data.X_train.shape[1], *widths, 10], activation="relu", init="he", seed=seed)
    if optimizer == "sgd":
        opt = SGD(model.params, lr=lr, momentum=momentum or 0.0, weight_decay=weight_decay)
    else:
        betas = (0.9 if momentum is None else momentum, 0.999)
        opt = Adam(model.params, lr=lr, betas=betas, weight_decay=weight_decay)
    return fit(model, opt, data.X_train, data.y_train, epochs=epochs, batch_size=batch_size,
               schedule=schedule, validation=(data.X_test, data.y_test), seed=seed,
               progress=False, eval_train=eval_train)


@dataclass
class Sweep:
    """The runs of :func:`sweep`: ``histories[i, j, ..., s]`` for ``axes`` values
    ``i, j, ...``, seed ``s``.

    Attributes
    ----------
    axes : dict of str to tuple
        The swept argument names and their values, in grid order.
    seeds : tuple of int
    histories : ndarray of object, shape (len(values_1), ..., len(seeds))
    """

    axes: dict
    seeds: tuple
    histories: np.ndarray

    def final(self, metric="val_accuracy"):
        """The last epoch's ``metric`` of every run, shape ``histories.shape``; NaN if diverged.

        A run that diverged counts as chance for accuracy (0.1) rather than NaN when
        ``metric`` is an accuracy, so that means over seeds stay defined.
        """
        out = np.full(self.histories.shape, np.nan)
        for index, history in np.ndenumerate(self.histories):
            values = getattr(history, metric)
            if history.diverged_at is None and len(values):
                out[index] = values[-1]
            elif metric.endswith("accuracy"):
                out[index] = 0.1
        return out

    def mean_and_error(self, metric="val_accuracy"):
        """Mean and standard error of the mean over seeds (the last axis) of :meth:`final`.

        The standard error is the sample standard deviation over the seeds divided by the square
        root of their number (``sgd_utils.report.mean_and_error``): the uncertainty of the mean,
        which is what a comparison of two settings needs.
        """
        return mean_and_error(self.final(metric), axis=-1)


def within_noise(mean_a, error_a, mean_b, error_b, num_errors=2.0):
    r"""Whether two means differ by at most ``num_errors`` standard errors of their difference.

    For independent means with standard errors :math:`e_a, e_b` (e.g. from
    :meth:`Sweep.mean_and_error`) the difference has the standard error
    :math:`\sqrt{e_a^2 + e_b^2}`. Two standard errors is a loose test for a handful of seeds (a
    Student :math:`t` test with 2 degrees of freedom needs 4.3 at 95%), so "not within noise" is
    evidence, not proof, of a difference. Arguments broadcast.

    Examples
    --------
    >>> within_noise(0.90, 0.006, 0.89, 0.006), within_noise(0.90, 0.006, 0.85, 0.006)
    (True, False)
    """
    if num_errors < 0:
        raise ValueError(f"num_errors must be >= 0, got {num_errors}")
    if np.any(np.less(error_a, 0)) or np.any(np.less(error_b, 0)):
        raise ValueError(f"standard errors must be >= 0, got {error_a} and {error_b}")
    standard_error = np.hypot(error_a, error_b)
    tied = np.abs(np.subtract(mean_a, mean_b)) <= num_errors * standard_error
    return bool(tied) if np.ndim(tied) == 0 else tied


def sweep(train, axes, seeds, *, num_threads=1, **fixed):
    """Call ``train(**fixed, **point, seed=s)`` for every grid point and seed; return a Sweep.

    Parameters
    ----------
    train : callable
        Returns a History, e.g. ``functools.partial(train_mlp, data)``.
    axes : dict of str to sequence
        Argument names and the values each takes; the grid is their Cartesian product.
    seeds : sequence of int
    num_threads : int or None
        BLAS threads during the runs (see :func:`blas_threads`); None leaves them alone.
    **fixed
        Arguments passed unchanged to every run.

    Examples
    --------
    >>> from sgd_utils.train import History
    >>> fake = lambda lr, batch_size, seed: History(np.zeros(1), np.zeros(1), 1,
    ...                                              val_accuracy=np.array([lr * batch_size]))
    >>> result = sweep(fake, {"lr": (0.1, 0.2), "batch_size": (1, 2, 4)}, seeds=(0, 1))
    >>> result.histories.shape, result.final()[1, 2, 0]
    ((2, 3, 2), np.float64(0.8))
    """
    axes = {name: tuple(values) for name, values in axes.items()}
    seeds = tuple(seeds)
    if not seeds or any(len(values) == 0 for values in axes.values()):
        raise ValueError("sweep needs at least one seed and one value per axis")
    shape = tuple(len(values) for values in axes.values()) + (len(seeds),)
    histories = np.empty(shape, dtype=object)
    limit = blas_threads(num_threads or None)
    with limit:
        for index in itertools.product(*(range(n) for n in shape)):
            point = {name: values[i] for (name, values), i in zip(axes.items(), index)}
            histories[index] = train(**fixed, **point, seed=seeds[index[-1]])
    return Sweep(axes, seeds, histories)


def _batches(num_rows, batch_size, rng):
    """Endless row indices of full batches, reshuffling after each pass over the data."""
    if not 1 <= batch_size <= num_rows:
        raise ValueError(f"batch_size must be in [1, {num_rows}], got {batch_size}")
    while True:
        order = rng.permutation(num_rows)
        for start in range(0, num_rows - batch_size + 1, batch_size):
            yield order[start:start + batch_size]


@dataclass
class RangeTest:
    """What :func:`lr_range_test` measured: per step, the learning rate and the mini-batch loss.

    ``smoothed`` is the bias-corrected exponential moving average of ``losses``
    (``smoothing`` is its decay), the curve one reads the test from.
    """

    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray

    def steepest(self, window=0.1):
        """The learning rate where the smoothed loss falls fastest per factor of lr.

        Slopes are secants over ``window`` (a fraction of the steps taken, at least 2 steps),
        which keeps the noise of single steps out; the lr returned is the secant's midpoint.
        """
        width = max(2, int(window * len(self.lrs)))
        if len(self.lrs) <= width:
            raise ValueError(f"the test took {len(self.lrs)} steps, "
                             f"too few for a window of {width}")
        log_lrs = np.log(self.lrs)
        slopes = ((self.smoothed[width:] - self.smoothed[:-width])
                  / (log_lrs[width:] - log_lrs[:-width]))
        start = int(np.argmin(slopes))
        return float(np.exp((log_lrs[start] + log_lrs[start + width]) / 2))

    def minimum(self):
        """The learning rate of the lowest smoothed loss."""
        return float(self.lrs[int(np.argmin(self.smoothed))])


def lr_range_test(model, optimizer, X, y, *, lr_min=1e-4, lr_max=10.0, num_steps=200,
                  batch_size=32, seed=0, smoothing=0.9, stop_factor=4.0):
    r"""The learning-rate range test (after Smith, 2017): lr grows from ``lr_min`` to ``lr_max``
    geometrically.

    Step :math:`t` of ``num_steps`` uses :math:`\epsilon_t = \epsilon_{\min}
    (\epsilon_{\max}/\epsilon_{\min})^{t/(T-1)}` on the next mini-batch of a seeded shuffle
    (full batches only, reshuffled after each pass over the data); the test stops early
    once the smoothed loss exceeds ``stop_factor`` times its minimum so far, or is not finite.
    ``model`` and ``optimizer`` are modified (use fresh ones afterwards).

    Returns
    -------
    RangeTest

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((256, 4), dtype=np.float32); y = (X[:, 0] > 0).astype(int)
    >>> model = MLP([4, 8, 2], seed=0)
    >>> test = lr_range_test(model, SGD(model.params), X, y, lr_min=1e-3, lr_max=1e3)
    >>> len(test.lrs) < 200, 1e-2 < test.steepest() < 1e2  # it stopped when the loss blew up
    (True, True)
    """
    if not 0 < lr_min < lr_max or num_steps < 2:
        raise ValueError(f"need 0 < lr_min < lr_max and num_steps >= 2, got {lr_min}, {lr_max}, "
                         f"{num_steps}")
    if not 0 <= smoothing < 1:
        raise ValueError(f"smoothing must be in [0, 1), got {smoothing}")
    lrs = lr_min * (lr_max / lr_min) ** (np.arange(num_steps) / (num_steps - 1))
    X, y = model.check_batch(X, y)  # checked and converted once, as fit does
    batches = _batches(len(y), batch_size, np.random.default_rng(seed))
    grads = [np.empty_like(p) for p in model.params]
    losses, smoothed, average, best = [], [], 0.0, math.inf
    with np.errstate(all="ignore"), blas_threads(1):
        for step, lr in enumerate(lrs):
            rows = next(batches)
            loss = model.loss_and_grads_unchecked(X[rows], y[rows], grads)
            average = smoothing * average + (1 - smoothing) * loss
            value = average / (1 - smoothing ** (step + 1))
            if not math.isfinite(value) or value > stop_factor * best:
                break
            losses.append(loss)
            smoothed.append(value)
            best = min(best, value)
            optimizer.lr = float(lr)
            optimizer.step(grads)
    n = len(losses)
    return RangeTest(lrs[:n], np.array(losses), np.array(smoothed))
