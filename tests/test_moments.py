"""Tests for sgd_utils.moments: the expected loss of SGD under a schedule, against runs, exact
enumeration and fixed points."""

import itertools

import numpy as np
import pytest

from sgd_utils.moments import expected_loss_gaps
from sgd_utils.noise import sgd_noise_floor, sgd_path
from sgd_utils.problems import LeastSquares
from sgd_utils.schedules import CosineAnnealingLR


@pytest.fixture(scope="module")
def problem():
    return LeastSquares(num_samples=400, dim=3, noise=1.0, seed=1)


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
    losses = [problem.loss_gaps(points)]
    for lr in lrs:
        idx = rng.integers(0, problem.num_samples, (num_runs, batch_size))  # (R, B)
        residuals = np.einsum("rbd,rd->rb", X[idx], points) - y[idx]        # (R, B)
        grads = np.einsum("rbd,rb->rd", X[idx], residuals) / batch_size     # (R, d)
        points = points - lr * grads
        losses.append(problem.loss_gaps(points))
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


def test_equals_the_exact_average_over_every_sequence_of_batches():
    """Exact oracle: every one of the C(6, 2)^3 = 3375 sequences of batches of 3 steps, each batch
    a set of B = 2 distinct samples drawn afresh every step (as the recursion assumes), weighted
    equally. No sampling error, so it sees the terms the simulation above cannot: the cross term
    K(m) and the finite-population factor (n - B) / (B (n - 1)) = 1/3 (not 1/B = 1/2)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, 2))
    X[:, 0] = np.abs(X[:, 0]) + 0.3
    # A target the linear model cannot fit, so residuals correlate with x and the cross term
    # K(m) = (2/n) sum_i r_i (x_i . m) A_i is far from zero while the mean error m is.
    problem = LeastSquares.from_data(X, X[:, 0] ** 2 - X[:, 1])
    start, lrs, batch_size = problem.minimizer + np.array([1.0, -0.5]), [0.3, 0.2, 0.25], 2
    batches = [list(b) for b in itertools.combinations(range(problem.num_samples), batch_size)]
    points = [start]  # every point reachable after t steps, one per sequence of batches
    enumerated = [problem.loss_gaps(np.array(points)).mean()]
    for lr in lrs:
        points = [w - lr * problem.grad(w, b) for w in points for b in batches]
        enumerated.append(problem.loss_gaps(np.array(points)).mean())
    assert len(points) == 15**3
    expected = expected_loss_gaps(problem, start, lrs, batch_size)
    np.testing.assert_allclose(expected, enumerated, rtol=1e-10)


def test_shuffled_epochs_stay_below_the_independent_batch_prediction(problem):
    """Random reshuffling lowers the floor; the recursion is an upper estimate for
    shuffled epochs."""
    start = problem.minimizer
    gaps = np.array([problem.loss_gaps(sgd_path(problem, start, 0.05, 4, 1500, seed=s))[300:].mean()
                     for s in range(10)])
    assert gaps.mean() < expected_loss_gaps(problem, start, [0.05] * 1500, 4)[-1]


def test_zero_rate_keeps_the_start(problem):
    start = problem.minimizer + 1.0
    gaps = expected_loss_gaps(problem, start, [0.0] * 5, batch_size=3)
    np.testing.assert_allclose(gaps, problem.loss(start) - problem.min_loss, rtol=1e-10)


# match= names the argument, so that NumPy's own errors (e.g. a broadcasting ValueError from a
# start of the wrong shape) cannot stand in for a missing check.
@pytest.mark.parametrize("kwargs, match", [
    (dict(batch_size=0), r"batch_size must be an integer in \[1, 400\], got batch_size=0"),
    (dict(batch_size=401), r"batch_size must be .* got batch_size=401"),
    (dict(batch_size=2.0), r"batch_size must be .* got batch_size=2\.0"),
    (dict(lrs=[0.1, -0.1]), "lrs must be a 1-D or 2-D array of finite learning rates >= 0"),
    (dict(lrs=[[[0.1]]]), "lrs must be a 1-D or 2-D array"),
    (dict(lrs=[np.nan]), "lrs must be .* finite"),
    (dict(lrs=[0.1, np.inf]), "lrs must be .* finite"),  # inf >= 0: only the finiteness check
    (dict(start=np.zeros((3, 3))), r"start must have shape \(3,\), got \(3, 3\)"),
    # A start of the wrong length, or of length 1, which broadcasting would take as (s, s, s).
    (dict(start=np.zeros(2)), r"start must have shape \(3,\), got \(2,\)"),
    (dict(start=[0.0]), r"start must have shape \(3,\), got \(1,\)"),
    (dict(start=0.0), r"start must have shape \(3,\), got \(\)"),
])
def test_bad_arguments_raise(problem, kwargs, match):
    arguments = dict(start=np.zeros(3), lrs=[0.1], batch_size=2) | kwargs
    with pytest.raises(ValueError, match=match):
        expected_loss_gaps(problem, **arguments)


def test_many_schedules_at_once_equal_one_at_a_time(problem):
    start = problem.minimizer + 1.0
    lrs = np.array([np.full(30, 0.1), np.linspace(0.2, 0.0, 30), np.zeros(30)])
    together = expected_loss_gaps(problem, start, lrs, batch_size=5)
    assert together.shape == (3, 31)
    for row, schedule in zip(together, lrs):
        np.testing.assert_allclose(row, expected_loss_gaps(problem, start, schedule, batch_size=5),
                                   rtol=1e-12)
