"""Tests of sgd_utils.experiments.range_test: the geometric sweep and its stop, a written-out loop,
the readings of a hand-made curve, and the errors."""

import numpy as np
import pytest

from sgd_utils.experiments.range_test import RangeTest, lr_range_test
from sgd_utils.nn.mlp import MLP
from sgd_utils.optim import SGD
from test_grids import tiny_data


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
