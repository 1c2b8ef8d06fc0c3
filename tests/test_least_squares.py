"""Tests for sgd_utils.theory.least_squares: the expected loss of SGD under a schedule, the noise
floor and the stability limit, against runs, exact enumeration of every batch sequence and fixed
points."""

import itertools

import numpy as np
import pytest

from sgd_utils.descent import run
from sgd_utils.optim import SGD
from sgd_utils.optim.schedules import CosineAnnealingLR
from sgd_utils.problems import LeastSquares, LogisticRegression
from sgd_utils.theory.least_squares import (expected_loss_gaps, mean_square_stability_limit,
                                            sgd_noise_floor, stationary_covariance)
from sgd_utils.theory.noise import gradient_covariance

PROBLEM = LeastSquares(num_samples=200, dim=3, noise=1.0, seed=0)


@pytest.fixture(scope="module")
def problem():
    return LeastSquares(num_samples=400, dim=3, noise=1.0, seed=1)


@pytest.fixture
def tiny():
    return LeastSquares(num_samples=7, dim=2, noise=0.8, seed=3)


@pytest.mark.parametrize("call, match", [
    (lambda p: sgd_noise_floor(p, 0.0, 1), "lr"),
    (lambda p: sgd_noise_floor(p, 50.0, 1), "no finite noise floor"),
    (lambda p: stationary_covariance(p, 0.1, 8), "batch_size"),
])
def test_noise_floor_errors(tiny, call, match):
    with pytest.raises(ValueError, match=match):
        call(tiny)


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
    paths = [run(problem, SGD([start.copy()], lr=0.05), 1500, batch_size=4, seed=seed,
                 record_steps=range(300, 1501)).params for seed in range(10)]
    gaps = np.array([problem.loss_gaps(path).mean() for path in paths])
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


def test_noise_floor_matches_first_order_formula_at_small_lr():
    problem = LeastSquares(num_samples=200, dim=3, noise=1.0, seed=4)
    lr, batch_size = 1e-4, 5
    sigma = gradient_covariance(problem, problem.minimizer)
    first_order = lr * np.trace(sigma) / (4 * batch_size) * (200 - 5) / 199
    assert sgd_noise_floor(problem, lr, batch_size) == pytest.approx(first_order, rel=1e-3)


def test_noise_floor_matches_a_simulation_of_independent_batches():
    # Oracle: many independent chains of SGD with a fresh random batch (without replacement) per
    # step, vectorised over chains, averaged after the transient.
    problem = LeastSquares(num_samples=12, dim=2, noise=1.0, seed=5)
    lr, batch_size, chains, steps = 0.2, 3, 4000, 300
    rng = np.random.default_rng(0)
    w = np.tile(problem.minimizer, (chains, 1))
    X, y = problem.X, problem.y
    gaps = []
    for t in range(steps):
        idx = np.argsort(rng.random((chains, problem.num_samples)), axis=1)[:, :batch_size]
        residual = np.einsum("kbi,ki->kb", X[idx], w) - y[idx]
        w = w - lr * np.einsum("kbi,kb->ki", X[idx], residual) / batch_size
        if t >= 100:
            gaps.append(problem.loss_gaps(w).mean())
    assert sgd_noise_floor(problem, lr, batch_size) == pytest.approx(np.mean(gaps), rel=0.03)


def test_stationary_covariance_is_a_fixed_point(tiny):
    lr, batch_size = 0.1, 2
    c = stationary_covariance(tiny, lr, batch_size)
    n, h = tiny.num_samples, tiny.hessian
    a = [np.outer(x, x) for x in tiny.X]
    m = np.eye(2) - lr * h
    noise = (gradient_covariance(tiny, tiny.minimizer) + np.mean([ai @ c @ ai for ai in a], axis=0)
             - h @ c @ h)
    assert np.allclose(c, m @ c @ m + lr**2 / batch_size * (n - batch_size) / (n - 1) * noise)


def test_stationary_covariance_equals_the_limit_of_exactly_averaged_batch_steps():
    """Oracle, independent of the package's closed form: the exact second moment of the error,
    propagated step by step as the mean over every batch of B distinct samples, from the SGD
    step alone (no A_i, no fourth moments, no (n - B) / (n - 1)), until it stops changing. The
    whole matrix C is compared, off-diagonal entries included."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((6, 2))
    X[:, 1] = X[:, 0] + 0.5 * X[:, 1]  # correlated features: H, and so C, far from diagonal
    problem = LeastSquares.from_data(X, X[:, 0] ** 2 + rng.standard_normal(6))
    lr, batch_size, d = 1.0, 2, problem.dim  # half the mean-square stability limit (2.16)
    # One step with batch b is affine, w - w* -> L_b (w - w*) + c_b; read L_b and c_b off the step
    # itself. With z = (w - w*, 1), z -> M_b z and Z = E[z z^T] -> mean_b M_b Z M_b^T, which is
    # vec Z -> mean_b (M_b (x) M_b) vec Z for row-major vec.
    def step(w, batch):
        return w - lr * problem.grad(w, list(batch))

    maps = []
    for batch in itertools.combinations(range(problem.num_samples), batch_size):
        at_minimum = step(problem.minimizer, batch)
        affine = np.eye(d + 1)
        affine[:d, :d] = np.column_stack([step(problem.minimizer + unit, batch) - at_minimum
                                          for unit in np.eye(d)])
        affine[:d, d] = at_minimum - problem.minimizer
        maps.append(np.kron(affine, affine))
    one_step = np.mean(maps, axis=0)
    steps = np.linalg.matrix_power(one_step, 2**12)  # 4096 steps from w = w*: the transient,
    start = np.zeros((d + 1, d + 1))                  # at most 0.95^t, has died out
    start[d, d] = 1.0
    moment = (steps @ start.ravel()).reshape(d + 1, d + 1)
    np.testing.assert_allclose((steps @ steps @ start.ravel()).reshape(d + 1, d + 1), moment,
                               rtol=1e-12)  # converged: 4096 more steps change nothing
    covariance = stationary_covariance(problem, lr, batch_size)
    assert covariance[0, 1] > 0.4 * np.sqrt(covariance[0, 0] * covariance[1, 1])
    # Exact on both sides: the only tolerance is for rounding in the 12 squarings.
    np.testing.assert_allclose(covariance, moment[:d, :d], rtol=1e-10)


@pytest.mark.parametrize("batch_size", [1, 5, 200])
def test_stability_limit_is_where_the_second_moment_map_reaches_radius_one(batch_size):
    limit = mean_square_stability_limit(PROBLEM, batch_size)
    assert limit <= 2 / PROBLEM.L * (1 + 1e-12)
    # still a finite ball (noise's own check)
    stationary_covariance(PROBLEM, 0.999 * limit, batch_size)
    with pytest.raises(ValueError, match="no finite noise floor"):
        stationary_covariance(PROBLEM, 1.001 * limit, batch_size)
    if batch_size == 200:  # full batch: gradient descent's 2/L
        assert limit == pytest.approx(2 / PROBLEM.L, rel=1e-10)


def test_stability_limit_needs_least_squares():
    with pytest.raises(TypeError, match="LeastSquares"):
        mean_square_stability_limit(LogisticRegression(num_samples=20, dim=2))
