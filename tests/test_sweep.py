"""Tests of sgd_utils.sweep: the noise scale, single runs, grids over seeds, the range test."""
import functools

import numpy as np
import pytest

from sgd_utils.data import MNIST
from sgd_utils.mlp import MLP
from sgd_utils.optim import SGD, Adam
from sgd_utils.schedules import ExponentialLR
from sgd_utils.sweep import (RangeTest, blas_threads, lr_range_test, noise_scale, sweep,
                            train_mlp, within_noise)
from sgd_utils.train import History, fit


def tiny_data(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((96, 784), dtype=np.float32)
    y = rng.integers(0, 10, 96)
    X[np.arange(96), y] += 4.0  # a learnable signal: pixel y lights up for class y
    return MNIST(X[:64], y[:64], X[64:], y[64:])


def test_noise_scale_formula_and_momentum_form():
    assert noise_scale(0.1, 1000, 10) == pytest.approx(0.1 * 1000 / 10)
    assert noise_scale(0.1, 1000, 10, momentum=0.75) == pytest.approx(0.1 * 100 / 0.25)
    assert noise_scale(0.1, 1000, 10, exact=True) == pytest.approx(0.1 * 99)
    grid = noise_scale(np.array([0.1, 0.2])[:, None], 1000, np.array([10, 20]))
    np.testing.assert_allclose(grid, [[10, 5], [20, 10]])


@pytest.mark.parametrize("kwargs", [dict(lr=-1.0), dict(batch_size=0), dict(batch_size=2000),
                                    dict(momentum=1.0), dict(momentum=-0.1)])
def test_noise_scale_rejects_bad_arguments(kwargs):
    arguments = dict(lr=0.1, num_samples=1000, batch_size=10) | kwargs
    with pytest.raises(ValueError):
        noise_scale(**arguments)


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


def test_within_noise_at_its_two_standard_error_boundary():
    # standard errors 0.015 and 0.02: the difference has sqrt(0.015^2 + 0.02^2) = 0.025, so two
    # standard errors are 0.05.
    assert within_noise(0.9, 0.015, 0.851, 0.02)                    # 0.049 apart: tied
    assert not within_noise(0.9, 0.015, 0.849, 0.02)                # 0.051 apart: not
    assert not within_noise(0.851, 0.015, 0.9, 0.02, num_errors=1.0)   # 0.049 > 0.025
    assert within_noise(0.876, 0.02, 0.9, 0.015, num_errors=1.0)       # 0.024
    np.testing.assert_array_equal(within_noise(0.9, 0.015, np.array([0.851, 0.849]), 0.02),
                                  [True, False])
    with pytest.raises(ValueError, match="num_errors"):
        within_noise(0.9, 0.015, 0.85, 0.02, num_errors=-1)
    with pytest.raises(ValueError, match="standard errors"):
        within_noise(0.9, -0.015, 0.85, 0.02)


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


def test_sweep_is_reproducible_and_thread_limit_is_restored():
    train = functools.partial(train_mlp, tiny_data(), hidden=8, epochs=2)
    first = sweep(train, {"batch_size": (8, 32)}, seeds=(0, 1)).final()
    second = sweep(train, {"batch_size": (8, 32)}, seeds=(0, 1), num_threads=None).final()
    np.testing.assert_allclose(first, second)
    with blas_threads(1):
        pass  # entering and leaving must not raise, with or without OpenBLAS


def test_lr_range_test_sweeps_geometrically_and_stops_on_blow_up():
    data = tiny_data()
    model = MLP([784, 16, 10], seed=0)
    test = lr_range_test(model, SGD(model.params), data.X_train, data.y_train, lr_min=1e-3,
                         lr_max=1e3, num_steps=120, batch_size=16)
    ratios = test.lrs[1:] / test.lrs[:-1]
    np.testing.assert_allclose(ratios, (1e6) ** (1 / 119))
    assert len(test.lrs) < 120  # lr = 1000 blows the loss up before the end
    assert test.lrs[0] == pytest.approx(1e-3)
    # Oracle, written out from the docstring: full batches of 16 from a fresh permutation of the
    # 64 rows each pass (seed 0), the bias-corrected moving average of the losses, lr_t applied
    # at step t, and a stop before recording the first smoothed loss above 4 times the lowest.
    reference = MLP([784, 16, 10], seed=0)
    optimizer = SGD(reference.params)
    rng = np.random.default_rng(0)
    lrs = [1e-3 * (1e3 / 1e-3) ** (t / 119) for t in range(120)]
    losses, smoothed, average = [], [], 0.0
    for t in range(120):
        if t % 4 == 0:
            order = rng.permutation(64)
        rows = order[16 * (t % 4):16 * (t % 4 + 1)]
        loss, grads = reference.loss_and_grads(data.X_train[rows], data.y_train[rows])
        average = 0.9 * average + 0.1 * loss
        value = average / (1 - 0.9 ** (t + 1))
        if not np.isfinite(value) or value > 4 * min(smoothed, default=np.inf):
            break
        losses.append(loss)
        smoothed.append(value)
        optimizer.lr = lrs[t]
        optimizer.step(grads)
    np.testing.assert_allclose(test.losses, losses, rtol=1e-12)
    np.testing.assert_allclose(test.smoothed, smoothed, rtol=1e-12)
    np.testing.assert_allclose(test.lrs, lrs[:len(losses)], rtol=1e-12)
    with pytest.raises(ValueError):
        lr_range_test(model, SGD(model.params), data.X_train, data.y_train, lr_min=1.0, lr_max=0.1)
    with pytest.raises(ValueError):
        lr_range_test(model, SGD(model.params), data.X_train, data.y_train, smoothing=1.0)


def test_range_test_steepest_and_minimum_of_a_hand_made_curve():
    # lr = 10^(k/2), k = 0..9; window 0.2 of 10 steps = secants over 2 steps. The changes
    # s[k+2] - s[k] are 0, 0, 0, -2, -4, -1.5, 1, 4.5 over the same log-lr width each, so the
    # steepest secant runs from k = 4 to 6, midpoint k = 5; the curve's lowest point is k = 6.
    lrs = 10.0 ** (np.arange(10) / 2)
    smoothed = np.array([5.0, 5.0, 5.0, 5.0, 5.0, 3.0, 1.0, 1.5, 2.0, 6.0])
    test = RangeTest(lrs, np.zeros(10), smoothed)
    assert test.steepest(0.2) == pytest.approx(10.0**2.5, rel=1e-12)
    assert test.minimum() == 10.0**3
    # a window below 2 steps still uses 2: the same answer
    assert test.steepest(0.05) == pytest.approx(10.0**2.5, rel=1e-12)


def test_range_test_error_paths_for_windows_and_batches():
    data = tiny_data()
    model = MLP([784, 8, 10], seed=0)
    with pytest.raises(ValueError, match="batch_size"):
        lr_range_test(model, SGD(model.params), data.X_train, data.y_train, batch_size=1000)
    test = lr_range_test(model, SGD(model.params), data.X_train, data.y_train, lr_min=1e-3,
                         lr_max=1e-2, num_steps=2, batch_size=16)
    with pytest.raises(ValueError, match="too few"):
        test.steepest()
