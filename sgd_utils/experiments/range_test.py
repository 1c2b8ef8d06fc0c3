r"""The learning-rate range test: one short run whose learning rate grows, to bracket good ones.

:func:`lr_range_test` is the test in the form common today (fast.ai's "LR finder"): one run whose
learning rate grows geometrically every step, recording the smoothed loss, to see where training
starts and stops working. Smith (2017), who proposed the test, raised the rate linearly over a few
epochs and read the bounds off the accuracy. :class:`RangeTest` holds the curve and its two usual
readings.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..checks import check_batch_size
from ..descent import epoch_batches
from ..threads import blas_threads


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
    >>> from sgd_utils.nn.mlp import MLP
    >>> from sgd_utils.optim import SGD
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
    # full batches only, reshuffled after each pass: the runner's "epochs_drop_last" sampler
    batches = epoch_batches(len(y), check_batch_size(batch_size, len(y)),
                            np.random.default_rng(seed), drop_last=True)
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
