r"""The mini-batch training loop and the history it returns.

One step of :func:`fit` is, with the batch :math:`\mathcal B_t` of ``batch_size`` rows drawn
without replacement from this epoch's shuffle,

.. math::

    \gamma_t \leftarrow \mathrm{schedule}(t), \qquad
    g_t \leftarrow \nabla_\theta \tfrac{1}{|\mathcal B_t|} \textstyle\sum_{i \in \mathcal B_t}
        c(\theta; x_i, y_i), \qquad
    \theta \leftarrow \mathrm{optimizer.step}(g_t) \text{ with learning rate } \gamma_t,

where :math:`\theta` is ``model.params``, :math:`c` the model's per-example cost and
:math:`t` the 0-based step counted across epochs.

Default recipe (the bundled sample: 8,000 training and 2,000 test digits; about 4 s on one
core, the same numbers on every run with the same BLAS kernel; another kernel rounds
differently and can move the last digits, which is why the book reports chaotic runs as means
over seeds, ``sgd_utils.report``)::

    from sgd_utils.nn.data import load_sample
    from sgd_utils.nn.mlp import MLP
    from sgd_utils.optim import SGD
    from sgd_utils.nn.train import fit

    data = load_sample()
    model = MLP([784, 256, 128, 10], activation="relu", init="he", seed=0)
    optimizer = SGD(model.params, lr=0.05, momentum=0.9)
    history = fit(model, optimizer, data.X_train, data.y_train, epochs=20, batch_size=32,
                  validation=(data.X_test, data.y_test), seed=0)
    history.val_accuracy[-1]  # 0.9645 (OpenBLAS's Haswell kernel; 0.969 with SkylakeX)

Seeds 1, 2, 3 give 0.9575, 0.962, 0.96 (Haswell) and 0.9585, 0.964, 0.964 (SkylakeX): a
spread of about one binomial standard error of a 2,000-digit test set (0.44% at 96%).

The smaller ``MLP([784, 128, 10])`` with the same settings reaches 0.952 (seed 0) and 0.959
(seed 1), against 0.9645 and 0.9575 for the default: about the same, within one binomial
standard error. With only 8,000 training digits both nets fit the training set exactly
(training accuracy 1.0 from epoch 10-16 of the 20, Haswell kernel, seeds 0 and 1).

Full-MNIST recipe (:func:`full_mnist_recipe`): ``MLP([784, 256, 128, 10], "relu", init="he")``,
``SGD(lr=0.05, momentum=0.9, weight_decay=1e-4)``, ``batch_size=64``, 30 epochs with a cosine
decay of the learning rate from 0.05 to 0. On the official 60,000 / 10,000 split it reaches
0.9843 test accuracy (seed 0, Haswell kernel, 29 s on one core; 0.9847 with SkylakeX), above
Nielsen's best MLP (98.04%); ``tests/test_full_mnist.py`` checks the 98% on the real files in
CI. On the bundled sample the same recipe reaches 0.962 and 0.961 (seeds 0 and 1), no better
than the default: with 8,000 digits the data, not the optimisation, limits the accuracy.
"""
from __future__ import annotations

import contextlib
import itertools
import math
import signal
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from ..checks import check_flag
from ..descent import epoch_batches
from ..optim import SGD
from ..threads import blas_threads as limit_blas_threads
from .mlp import MLP


@dataclass
class History:
    """What :func:`fit` records: per step, per epoch, and where training diverged.

    Attributes
    ----------
    losses, lrs : ndarray, shape (num_steps,)
        Mini-batch loss and learning rate of every step taken.
    train_loss, train_accuracy, val_loss, val_accuracy, epoch_times : ndarray, (num_epochs,)
        Metrics at the end of each completed epoch (the ``val_*`` are empty without
        validation data) and the wall time of each epoch in seconds, evaluation included.
    steps_per_epoch : int
    diverged_at : int or None
        Where training diverged (see :func:`fit`): the step whose loss was not finite, which
        did not update, or the step whose update made the parameters non-finite, which was
        undone. The model holds the parameters from before that step.
    diverged_because : {"loss", "update"} or None
        Which of the two.
    interrupted : bool
        Training was stopped by Ctrl-C (``KeyboardInterrupt``): the arrays hold the steps and
        epochs completed before it, and the model the parameters after the last step taken.
    """

    losses: np.ndarray
    lrs: np.ndarray
    steps_per_epoch: int
    train_loss: np.ndarray = field(default_factory=lambda: np.empty(0))
    train_accuracy: np.ndarray = field(default_factory=lambda: np.empty(0))
    val_loss: np.ndarray = field(default_factory=lambda: np.empty(0))
    val_accuracy: np.ndarray = field(default_factory=lambda: np.empty(0))
    epoch_times: np.ndarray = field(default_factory=lambda: np.empty(0))
    diverged_at: int | None = None
    diverged_because: str | None = None
    interrupted: bool = False

    def plot(self, ax=None):
        """Loss per step (left) and accuracy per epoch (right); returns the two axes.

        ``ax`` is None (a new figure), a pair of axes, or one axes (accuracy then goes on
        a twin y axis).
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(8, 3), layout="constrained")
        elif isinstance(ax, (list, tuple, np.ndarray)):
            ax_loss, ax_acc = ax
        else:
            ax_loss, ax_acc = ax, ax.twinx()
        steps = np.arange(len(self.losses))
        ax_loss.plot(steps, self.losses, lw=0.5, alpha=0.5, label="mini-batch loss")
        epoch_ends = self.steps_per_epoch * np.arange(1, len(self.train_loss) + 1)
        ax_loss.plot(epoch_ends, self.train_loss, "o-", label="train loss")
        if len(self.val_loss):
            ax_loss.plot(epoch_ends, self.val_loss, "s-", label="validation loss")
        if self.diverged_at is not None:
            ax_loss.axvline(self.diverged_at, color="red", ls=":", label="diverged")
        ax_loss.set(xlabel="step", ylabel="loss", yscale="log")
        ax_loss.legend()
        epochs = np.arange(1, len(self.train_accuracy) + 1)
        ax_acc.plot(epochs, self.train_accuracy, "o-", color="C1", label="train accuracy")
        if len(self.val_accuracy):
            ax_acc.plot(epochs, self.val_accuracy, "s-", color="C2",
                        label="validation accuracy")
        ax_acc.set(xlabel="epoch", ylabel="accuracy")
        ax_acc.legend(loc="lower right")
        return ax_loss, ax_acc


def fit(model, optimizer, X, y, epochs, batch_size, schedule=None, validation=None, seed=0,
        progress=True, eval_train=True, blas_threads=1, *, on_divergence="stop"):
    r"""Train ``model`` with ``optimizer`` on mini-batches of ``(X, y)``; return a History.

    Parameters
    ----------
    model : sgd_utils.nn.mlp.MLP
    optimizer : a facade of ``sgd_utils.optim`` holding ``model.params``
        Its ``train_step(model, X_batch, y_batch)`` backpropagates and updates ``model.params``
        in place (an ``SGD`` with plain momentum fuses the two, see its ``fused``).
    X : ndarray, shape (N, model.sizes[0])
        Training inputs, converted once to the model's dtype.
    y : ndarray of int, shape (N,)
        Training labels in ``[0, model.sizes[-1])``.
    epochs : int
        Passes over the data; each shuffles the rows anew.
    batch_size : int
        Rows per step; the last batch of an epoch holds the remainder (``drop_last=False``).
    schedule : callable or None
        ``schedule(step) -> lr`` for the 0-based global step, set as ``optimizer.lr``
        before each step (see ``sgd_utils.optim.schedules``); None keeps ``optimizer.lr``.
        Steps count from 0 in every call; the optimizer's state carries over between calls.
    validation : (X_val, y_val) or None
        Evaluated at the end of every epoch.
    seed : int
        Seed of ``np.random.default_rng`` drawing the epoch permutations; the same seed,
        model and optimizer give bit-identical parameters and history.
    progress : bool
        Show a ``tqdm.auto`` progress bar (a widget in notebooks, text in terminals).
    eval_train : bool
        Evaluate loss and accuracy on the whole training set after each epoch (one extra
        forward pass). False records the mean mini-batch loss of the epoch and NaN accuracy.
    blas_threads : int or None
        BLAS threads during training (None leaves the process-wide setting alone). One
        thread is fastest for matrices this small, and several threads on a busy machine can
        be 10x slower: each product waits for a descheduled worker thread. Set through
        :func:`sgd_utils.threads.blas_threads` (``threadpoolctl``).
    on_divergence : {"stop", "raise"}
        What a divergence does (Notes): ``"stop"`` returns the history, ``"raise"`` raises
        ``FloatingPointError`` naming the step and the cause, with the history as its
        ``history`` attribute. Either way the model keeps the last finite parameters.
        Keyword-only.

    Returns
    -------
    History

    Notes
    -----
    Divergence, of two kinds, stops training with the last finite parameters, recorded in
    ``History.diverged_at`` and ``History.diverged_because``, and without floating-point
    warnings (``np.errstate``):

    - ``"loss"``: the loss of a step is not finite; that step does not update.
    - ``"update"``: a step with a finite loss made the parameters non-finite (a gradient that
      overflowed, or a step too large for the dtype); with momentum, it would poison every
      later step. Checking every step would cost a pass over the parameters, so ``fit``
      notices it at the next step's loss or at the end of the epoch, rewinds to the start of
      the epoch (:meth:`~sgd_utils.optim.base.Optimizer.snapshot`) and replays the epoch's
      batches up to that step.

    Ctrl-C (in the main thread) lets the current step finish and returns the history so far,
    marked ``interrupted``; the model and optimizer can go on training from there. A second
    Ctrl-C raises ``KeyboardInterrupt`` at once, with the history so far as its ``history``
    attribute. Unlike a
    ``torch.utils.data.DataLoader`` loop, a batch is one ``np.take`` gather and the model
    reuses its buffers, so a step allocates little more than the batch itself.

    Examples
    --------
    >>> import numpy as np
    >>> from sgd_utils.nn.mlp import MLP
    >>> from sgd_utils.optim import SGD
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((64, 4), dtype=np.float32); y = (X[:, 0] > 0).astype(int)
    >>> model = MLP([4, 16, 2], seed=0)
    >>> history = fit(model, SGD(model.params, lr=0.1, momentum=0.9), X, y, epochs=5,
    ...               batch_size=8, progress=False)
    >>> len(history.losses), bool(history.train_accuracy[-1] > 0.9)
    (40, True)
    """
    _check_optimizer_holds(optimizer, model)
    X, y = model.check_batch(X, y)
    if validation is not None:
        if not isinstance(validation, (tuple, list)) or len(validation) != 2:
            raise TypeError(f"validation must be a pair (X_val, y_val), got {type(validation)}")
        validation = model.check_batch(*validation, names=("validation[0]", "validation[1]"))
    epochs, batch_size = _checked_count("epochs", epochs, 0), _checked_count(
        "batch_size", batch_size, 1)
    if not isinstance(on_divergence, str) or on_divergence not in ("stop", "raise"):
        raise ValueError(f'on_divergence must be "stop" or "raise", got {on_divergence!r}')
    if schedule is not None and not callable(schedule):
        raise TypeError(f"schedule must be callable (step -> lr) or None, got {schedule!r}")
    progress, eval_train = check_flag("progress", progress), check_flag("eval_train", eval_train)
    _checked_count("seed", seed, 0)
    if blas_threads is not None:
        _checked_count("blas_threads", blas_threads, 1)
    steps_per_epoch = -(-len(y) // batch_size)
    history = History(losses=np.full(epochs * steps_per_epoch, np.nan),
                      lrs=np.full(epochs * steps_per_epoch, np.nan),
                      steps_per_epoch=steps_per_epoch)
    metrics = {name: [] for name in ("train_loss", "train_accuracy", "val_loss",
                                     "val_accuracy", "epoch_times")}
    # the runner's "epochs" sampler: a fresh permutation each epoch, cut into batches
    batches = epoch_batches(len(y), batch_size, np.random.default_rng(seed))
    from tqdm.auto import tqdm

    taken = 0  # steps completed
    # Divergence is detected from the loss below; errstate keeps it from flooding warnings.
    try:
        with np.errstate(all="ignore"), _limited_blas_threads(blas_threads), tqdm(
                total=len(history.losses), disable=not progress, unit="step") as bar, \
                _DeferredInterrupt() as interrupt:
            for epoch in range(epochs):
                start, first = time.perf_counter(), epoch * steps_per_epoch
                checkpoint, rows_taken = optimizer.snapshot(), []   # to rewind this epoch
                epoch_batches_ = _recorded(
                    interrupt.stop_early(itertools.islice(batches, steps_per_epoch)), rows_taken)
                losses, lrs = train_epoch(model, optimizer, X, y, epoch_batches_,
                                          schedule=schedule, first_step=first)
                history.losses[first:first + len(losses)] = losses
                history.lrs[first:first + len(lrs)] = lrs
                taken = first + len(losses)
                bar.update(len(losses))
                stopped = bool(losses) and not math.isfinite(losses[-1])
                if (stopped or not interrupt.requested) and not _all_finite(model.params):
                    # the last step with a finite loss made the parameters non-finite
                    bad = taken - 2 if stopped else taken - 1
                    optimizer.restore(checkpoint)
                    train_epoch(model, optimizer, X, y, rows_taken[:bad - first],
                                schedule=schedule, first_step=first)
                    history.diverged_at, history.diverged_because = bad, "update"
                    taken = bad + 1
                    break
                if stopped:
                    history.diverged_at, history.diverged_because = taken - 1, "loss"
                    break
                if interrupt.requested:
                    history.interrupted = True
                    break
                _record_epoch(metrics, model, float(np.mean(losses)), X, y, validation,
                              eval_train)
                metrics["epoch_times"].append(time.perf_counter() - start)
                bar.set_postfix(_postfix(metrics), refresh=False)
    except KeyboardInterrupt as error:   # a second Ctrl-C, or one outside the main thread
        history.interrupted = True
        error.history = _finished(history, metrics, taken)
        raise
    history = _finished(history, metrics, taken)
    if history.diverged_at is not None and on_divergence == "raise":
        error = FloatingPointError(
            f"training diverged at step {history.diverged_at}: "
            + ("its loss is not finite" if history.diverged_because == "loss" else
               "its update made the parameters non-finite (an overflowing gradient or step)")
            + "; the model keeps the last finite parameters")
        error.history = history
        raise error
    return history


def _check_optimizer_holds(optimizer, model):
    """The optimizer must update this model's own arrays, else training changes nothing."""
    held = getattr(optimizer, "params", None)
    if not isinstance(held, list) or not hasattr(optimizer, "train_step"):
        raise TypeError("optimizer must be an optimizer of sgd_utils.optim, got "
                        f"{type(optimizer).__name__}")
    if len(held) == len(model.params) and all(p is q for p, q in zip(held, model.params)):
        return
    same_shapes = [p.shape for p in held] == [p.shape for p in model.params]
    raise ValueError(
        "optimizer must hold this model's params, in order (build it as "
        f"SGD(model.params, ...)); it holds {len(held)} arrays of shapes "
        f"{[p.shape for p in held]}"
        + (", the model's shapes but other arrays (another model's, or copies)" if same_shapes
           else f", while the model's are {[p.shape for p in model.params]}"))


def _recorded(batches, into):
    """``batches``, each also appended to the list ``into`` (to replay them)."""
    for rows in batches:
        into.append(rows)
        yield rows


def _all_finite(arrays):
    """Whether every entry of every array is finite: one pass, done once per epoch."""
    return all(np.isfinite(array).all() for array in arrays)


def _finished(history, metrics, taken):
    """The history with its per-epoch metrics, and its per-step arrays cut to the steps taken."""
    for name, values in metrics.items():
        setattr(history, name, np.array(values, dtype=np.float64))
    history.losses, history.lrs = history.losses[:taken], history.lrs[:taken]
    return history


class _DeferredInterrupt:
    """Ctrl-C during :func:`fit`: the first one lets the current step finish and ends training
    there (parameters and optimizer state consistent, the history kept); a second one raises
    ``KeyboardInterrupt`` at once. Signal handlers can only be set in the main thread;
    elsewhere Ctrl-C raises at once."""

    def __init__(self):
        self.requested = False
        self._previous = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        self.requested = True
        signal.signal(signal.SIGINT, self._previous)  # the next Ctrl-C interrupts at once

    def __exit__(self, *exc_info):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        return False

    def stop_early(self, batches):
        """``batches``, ending as soon as an interrupt was requested."""
        for rows in batches:
            if self.requested:
                return
            yield rows


def train_epoch(model, optimizer, X, y, batches, *, schedule=None, first_step=0):
    r"""One epoch of mini-batch training: a step on the rows of ``(X, y)`` in each of ``batches``.

    ``batches`` are arrays of row indices, e.g. one epoch of
    :func:`sgd_utils.descent.epoch_batches` (as :func:`fit` draws them: every row once, the last
    batch smaller when the batch size does not divide the rows, as with ``drop_last=False``).
    Each step gathers its batch, sets the learning rate from ``schedule`` (at the step counted
    from ``first_step``), and lets the optimizer backpropagate and update
    (:meth:`~sgd_utils.optim.base.Optimizer.train_step`). After a step whose loss is not finite
    the epoch stops; that step did not update, so the parameters are the last good ones. ``X``
    and ``y`` must be checked already (:meth:`MLP.check_batch`), as :func:`fit` does once.

    Returns
    -------
    losses, lrs : list of float
        The mini-batch loss and the learning rate of every step taken.
    """
    losses, lrs = [], []
    step = first_step
    for rows in batches:
        # np.take gathers rows ~15% faster than X[rows], ~35% faster than with out= (numpy 2.4);
        # either way the scattered rows cost ~30-40 us per step at batch 128 (README).
        X_batch, y_batch = np.take(X, rows, axis=0), y[rows]  # (B, 784), (B,)
        if schedule is not None:
            optimizer.lr = schedule(step)
        lrs.append(optimizer.lr)
        losses.append(optimizer.train_step(model, X_batch, y_batch))
        if not math.isfinite(losses[-1]):
            break
        step += 1
    return losses, lrs


def full_mnist_recipe(data, *, seed=0, progress=True):
    r"""Train the book's full-MNIST recipe on ``data``; return ``(model, history)``.

    The recipe: a 784-256-128-10 ReLU network with He initialisation, SGD with momentum 0.9
    and weight decay :math:`10^{-4}`, mini-batches of 64, and 30 epochs with the learning rate
    on a cosine from 0.05 to 0,

    .. math::

        \gamma_t = \tfrac{0.05}{2}\bigl(1 + \cos(\pi t / T)\bigr), \qquad
        T = 30 \lceil N / 64 \rceil \text{ steps}.

    Parameters
    ----------
    data : sgd_utils.nn.data.MNIST
        Typically ``sgd_utils.nn.data.load_mnist()``; the test split is the validation data.
    seed : int
        Seeds the initial weights and the shuffles.
    progress : bool
        Show a progress bar.

    Examples
    --------
    With a network (about 30 s of training on one core, Haswell kernel)::

        from sgd_utils.nn.data import load_mnist
        model, history = full_mnist_recipe(load_mnist())
        history.val_accuracy[-1]  # 0.9843
    """
    epochs, batch_size, peak_lr = 30, 64, 0.05
    model = MLP([784, 256, 128, 10], "relu", init="he", seed=seed)
    optimizer = SGD(model.params, lr=peak_lr, momentum=0.9, weight_decay=1e-4)
    total_steps = epochs * -(-len(data.y_train) // batch_size)
    history = fit(model, optimizer, data.X_train, data.y_train, epochs=epochs,
                  batch_size=batch_size, validation=(data.X_test, data.y_test), seed=seed,
                  progress=progress,
                  schedule=lambda t: 0.5 * peak_lr * (1 + math.cos(math.pi * t / total_steps)))
    return model, history


def _limited_blas_threads(num_threads):
    """A context running BLAS on ``num_threads`` threads (None: leave the setting alone)."""
    if num_threads is None:
        return contextlib.nullcontext()
    return limit_blas_threads(_checked_count("blas_threads", num_threads, 1))


def _record_epoch(metrics, model, epoch_loss, X, y, validation, eval_train):
    if eval_train:
        loss, accuracy = model.evaluate_unchecked(X, y)
    else:
        loss, accuracy = epoch_loss, math.nan
    metrics["train_loss"].append(loss)
    metrics["train_accuracy"].append(accuracy)
    if validation is not None:
        loss, accuracy = model.evaluate_unchecked(*validation)
        metrics["val_loss"].append(loss)
        metrics["val_accuracy"].append(accuracy)


def _postfix(metrics):
    shown = {"loss": metrics["train_loss"][-1], "acc": metrics["train_accuracy"][-1]}
    if metrics["val_accuracy"]:
        shown["val_acc"] = metrics["val_accuracy"][-1]
    return {name: f"{value:.4f}" for name, value in shown.items()}


def _checked_count(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)
