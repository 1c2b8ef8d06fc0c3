"""Tests of sgd_utils.experiments.grids: single runs against fit, grids over seeds and their
summary."""
import functools

import numpy as np
import pytest

from sgd_utils.experiments.grids import sweep, train_mlp
from sgd_utils.nn.data import MNIST
from sgd_utils.nn.mlp import MLP
from sgd_utils.nn.train import History, fit
from sgd_utils.optim import SGD, Adam
from sgd_utils.optim.schedules import ExponentialLR
from sgd_utils.threads import blas_threads


def tiny_data(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((96, 784), dtype=np.float32)
    y = rng.integers(0, 10, 96)
    X[np.arange(96), y] += 4.0  # a learnable signal: pixel y lights up for class y
    return MNIST(X[:64], y[:64], X[64:], y[64:])


@pytest.mark.parametrize("settings", [
    dict(hidden=8, momentum=0.9),
    # every other setting train_mlp passes on: two hidden layers, weight decay and a schedule
    dict(hidden=(8, 4), momentum=0.9, weight_decay=1e-3, schedule=ExponentialLR(0.05, 0.9)),
])
def test_train_mlp_equals_fit_with_the_same_model_and_optimizer(settings):
    data = tiny_data()
    history = train_mlp(data, lr=0.05, batch_size=16, epochs=3, seed=3, **settings)
    widths = settings["hidden"] if isinstance(settings["hidden"], tuple) else (settings["hidden"],)
    model = MLP([784, *widths, 10], "relu", init="he", seed=3)
    optimizer = SGD(model.params, lr=0.05, momentum=0.9,
                    weight_decay=settings.get("weight_decay", 0.0))
    reference = fit(model, optimizer, data.X_train, data.y_train, epochs=3, batch_size=16,
                    schedule=settings.get("schedule"), validation=(data.X_test, data.y_test),
                    seed=3, progress=False, eval_train=False)
    np.testing.assert_array_equal(history.losses, reference.losses)
    np.testing.assert_array_equal(history.val_accuracy, reference.val_accuracy)


@pytest.mark.parametrize("weight_decay", [0.0, 1e-2])
def test_train_mlp_adam_uses_momentum_as_beta1(weight_decay):
    data = tiny_data()
    history = train_mlp(data, hidden=8, lr=1e-2, optimizer="adam", momentum=0.5, epochs=1,
                        batch_size=32, weight_decay=weight_decay, seed=0)
    model = MLP([784, 8, 10], "relu", init="he", seed=0)
    optimizer = Adam(model.params, lr=1e-2, betas=(0.5, 0.999), weight_decay=weight_decay)
    reference = fit(model, optimizer, data.X_train, data.y_train, epochs=1, batch_size=32,
                    validation=(data.X_test, data.y_test), seed=0, progress=False,
                    eval_train=False)
    np.testing.assert_array_equal(history.losses, reference.losses)
    with pytest.raises(ValueError, match="optimizer"):
        train_mlp(data, optimizer="lbfgs")


def test_sweep_grid_order_seeds_and_summary():
    calls = []

    def fake(lr, batch_size, seed, epochs):
        calls.append((lr, batch_size, seed, epochs))
        diverged = lr > 1
        return History(np.zeros(1), np.zeros(1), 1, diverged_at=0 if diverged else None,
                       val_accuracy=np.empty(0) if diverged else np.array([0.5, lr + seed]))

    result = sweep(fake, {"lr": (0.1, 0.2, 5.0), "batch_size": (8, 16)}, seeds=(0, 1), epochs=2)
    assert result.histories.shape == (3, 2, 2)
    assert calls[:3] == [(0.1, 8, 0, 2), (0.1, 8, 1, 2), (0.1, 16, 0, 2)]
    final = result.final()
    assert final[1, 0, 1] == pytest.approx(1.2)
    np.testing.assert_array_equal(final[2], 0.1)  # diverged runs count as chance
    assert np.isnan(result.final("val_loss")).all()
    mean, error = result.mean_and_error()
    # the standard error of the mean of 0.1 and 1.1: their sample standard deviation / sqrt(2)
    assert mean[0, 0] == pytest.approx(0.6) and error[0, 0] == pytest.approx(0.5)
    with pytest.raises(ValueError):
        sweep(fake, {"lr": ()}, seeds=(0,))


def test_sweep_reports_its_progress_after_each_run():
    reports = []
    fake = lambda lr, seed: History(np.zeros(1), np.zeros(1), 1, val_accuracy=np.array([lr]))
    sweep(fake, {"lr": (0.1, 0.2, 0.3)}, seeds=(0, 1), progress=lambda *r: reports.append(r))
    assert reports == [(done, 6) for done in range(1, 7)]
    with pytest.raises(TypeError, match="progress"):
        sweep(fake, {"lr": (0.1,)}, seeds=(0,), progress="yes")


def test_sweep_is_reproducible_and_thread_limit_is_restored():
    train = functools.partial(train_mlp, tiny_data(), hidden=8, epochs=2)
    first = sweep(train, {"batch_size": (8, 32)}, seeds=(0, 1)).final()
    second = sweep(train, {"batch_size": (8, 32)}, seeds=(0, 1), num_threads=None).final()
    np.testing.assert_allclose(first, second)
    with blas_threads(1):
        pass  # entering and leaving must not raise, with or without OpenBLAS
