"""Tests for sgd_utils.moments: the expected loss of SGD under a schedule, against runs and
fixed points."""

import numpy as np
import pytest

from sgd_utils.moments import expected_loss_gaps
from sgd_utils.noise import sgd_noise_floor, sgd_path
from sgd_utils.problems import LeastSquares
from sgd_utils.schedules import CosineAnnealingLR


@pytest.fixture(scope="module")
def problem():
    return LeastSquares(num_samples=400, dim=3, noise=1.0, seed=1)


def gaps_of(problem, path):
    errors = path - problem.minimizer
    return 0.5 * np.einsum("ta,ab,tb->t", errors, problem.hessian, errors)


def test_full_batch_is_gradient_descent(problem):
    start = problem.minimizer + np.array([1.0, -2.0, 0.5])
    lrs = np.linspace(0.3, 0.01, 40)
    expected = expected_loss_gaps(problem, start, lrs, batch_size=problem.num_samples)
    point, losses = start.copy(), [problem.loss(start) - problem.min_loss]
    for lr in lrs:  # gradient descent written out
        point = point - lr * problem.grad(point)
        losses.append(problem.loss(point) - problem.min_loss)
    np.testing.assert_allclose(expected, losses, rtol=1e-8, atol=1e-13)


def test_constant_rate_reaches_the_noise_floor(problem):
    gaps = expected_loss_gaps(problem, problem.minimizer + 1.0, [0.05] * 3000, batch_size=4)
    assert gaps[-1] == pytest.approx(sgd_noise_floor(problem, 0.05, 4), rel=1e-6)


def iid_sgd_losses(problem, start, lrs, batch_size, num_runs, seed):
    """Many SGD runs at once, each batch drawn afresh (with replacement: (n - B)/(n - 1) differs
    from 1 by B/n)."""
    rng = np.random.default_rng(seed)
    X, y = problem.X, problem.y
    points = np.tile(start, (num_runs, 1))                                  # (R, d)
    losses = [gaps_of(problem, points)]
    for lr in lrs:
        idx = rng.integers(0, problem.num_samples, (num_runs, batch_size))  # (R, B)
        residuals = np.einsum("rbd,rd->rb", X[idx], points) - y[idx]        # (R, B)
        grads = np.einsum("rbd,rb->rd", X[idx], residuals) / batch_size     # (R, d)
        points = points - lr * grads
        losses.append(gaps_of(problem, points))
    return np.array(losses).T                                               # (R, T + 1)


def test_matches_the_average_of_many_independent_batch_runs_under_a_schedule(problem):
    start = problem.minimizer + np.array([2.0, -1.0, 1.0])
    steps, batch_size = 300, 4
    schedule = CosineAnnealingLR(lr=0.2, T_max=steps)
    lrs = [schedule(t) for t in range(steps)]
    expected = expected_loss_gaps(problem, start, lrs, batch_size)
    runs = iid_sgd_losses(problem, start, lrs, batch_size, num_runs=2000, seed=0)
    measured = runs.mean(axis=0)
    standard_error = runs.std(axis=0) / np.sqrt(len(runs))
    for t in (5, 20, 50, 150, 250, 300):  # transient, floor, and the end of the decay
        assert abs(measured[t] - expected[t]) < 4 * standard_error[t] + 0.02 * expected[t], t


def test_shuffled_epochs_stay_below_the_independent_batch_prediction(problem):
    """Random reshuffling lowers the floor; the recursion is an upper estimate for
    shuffled epochs."""
    start = problem.minimizer
    gaps = np.array([gaps_of(problem, sgd_path(problem, start, 0.05, 4, 1500, seed=s))[300:].mean()
                     for s in range(10)])
    assert gaps.mean() < expected_loss_gaps(problem, start, [0.05] * 1500, 4)[-1]


def test_zero_rate_keeps_the_start(problem):
    start = problem.minimizer + 1.0
    gaps = expected_loss_gaps(problem, start, [0.0] * 5, batch_size=3)
    np.testing.assert_allclose(gaps, problem.loss(start) - problem.min_loss, rtol=1e-10)


@pytest.mark.parametrize("kwargs", [
    dict(batch_size=0), dict(batch_size=401), dict(batch_size=2.0),
    dict(lrs=[0.1, -0.1]), dict(lrs=[[[0.1]]]), dict(lrs=[np.nan]), dict(start=np.zeros(2)),
])
def test_bad_arguments_raise(problem, kwargs):
    arguments = dict(start=np.zeros(3), lrs=[0.1], batch_size=2) | kwargs
    with pytest.raises(ValueError):
        expected_loss_gaps(problem, **arguments)


def test_many_schedules_at_once_equal_one_at_a_time(problem):
    start = problem.minimizer + 1.0
    lrs = np.array([np.full(30, 0.1), np.linspace(0.2, 0.0, 30), np.zeros(30)])
    together = expected_loss_gaps(problem, start, lrs, batch_size=5)
    assert together.shape == (3, 31)
    for row, schedule in zip(together, lrs):
        np.testing.assert_allclose(row, expected_loss_gaps(problem, start, schedule, batch_size=5),
                                   rtol=1e-12)
