r"""Grids of short training runs on MNIST: one small network per hyperparameter setting and seed.

For the chapters that tune hyperparameters by experiment (8 and 9): :func:`train_mlp` trains one
small MLP with SGD or Adam from a flat set of keyword arguments (the seed fixes both the initial
weights and the batch order), and :func:`sweep` runs it over a grid of hyperparameters and seeds,
keeping every :class:`~sgd_utils.nn.train.History` in a :class:`Sweep`, whose
:meth:`~Sweep.mean_and_error` gives each setting's mean over the seeds and its standard error.
The noise scale that explains many of these grids is :func:`sgd_utils.theory.noise.noise_scale`;
the learning-rate range test is :mod:`sgd_utils.experiments.range_test`.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from ..nn.mlp import MLP
from ..nn.train import fit
from ..optim import SGD, Adam
from ..report import mean_and_error
from ..threads import blas_threads

OPTIMIZERS = ("sgd", "adam")


def train_mlp(data, *, hidden=32, lr=0.1, batch_size=32, epochs=5, momentum=None,
              optimizer="sgd", weight_decay=0.0, schedule=None, seed=0, eval_train=False):
    """Train ``MLP([784, hidden, 10])`` (ReLU, He init) on ``data``; return the History.

    Parameters
    ----------
    data : sgd_utils.nn.data.MNIST
        Trains on ``X_train, y_train``, validates on ``X_test, y_test`` after each epoch.
    hidden : int or tuple of int
        Width(s) of the hidden layer(s).
    lr, batch_size, epochs, momentum, weight_decay
        As for :class:`~sgd_utils.optim.SGD` and :func:`~sgd_utils.nn.train.fit`. With
        ``optimizer="adam"``, ``momentum`` is Adam's :math:`\\beta_1`. None means SGD's 0
        and Adam's 0.9, each library's default.
    optimizer : {"sgd", "adam"}
    schedule : callable or None
        ``schedule(step) -> lr``, overriding ``lr`` (see ``sgd_utils.optim.schedules``).
    seed : int
        Seeds both the initial weights and the epoch shuffles.
    eval_train : bool
        Also evaluate the whole training set after each epoch (slower).

    Examples
    --------
    >>> from sgd_utils.nn.data import MNIST
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


def sweep(train, axes, seeds, *, num_threads=1, progress=None, **fixed):
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
    progress : callable or None
        ``progress(done, total)`` after each run, e.g.
        :func:`sgd_utils.viz.widgets.report_progress` in a slider figure's ``draw``.
    **fixed
        Arguments passed unchanged to every run.

    Examples
    --------
    >>> from sgd_utils.nn.train import History
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
    if progress is not None and not callable(progress):
        raise TypeError(f"progress must be a callable (done, total) or None, got {progress!r}")
    limit = blas_threads(num_threads or None)
    with limit:
        for done, index in enumerate(itertools.product(*(range(n) for n in shape)), start=1):
            point = {name: values[i] for (name, values), i in zip(axes.items(), index)}
            histories[index] = train(**fixed, **point, seed=seeds[index[-1]])
            if progress is not None:
                progress(done, histories.size)
    return Sweep(axes, seeds, histories)
