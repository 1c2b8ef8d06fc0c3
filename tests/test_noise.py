"""Tests of sgd_utils.noise against independent oracles: enumeration of every mini-batch, long
simulations of independent mini-batch steps, the first-order formula, and the runner itself."""

import itertools

import numpy as np
import pytest

from sgd_utils.descent import run
from sgd_utils.noise import (gradient_covariance, minibatch_noise, sgd_noise_floor, sgd_path,
                             stationary_covariance)
from sgd_utils.optim import SGD
from sgd_utils.problems import LeastSquares, LogisticRegression
from sgd_utils.schedules import InverseTime


@pytest.fixture
def tiny():
    return LeastSquares(num_samples=7, dim=2, noise=0.8, seed=3)


def test_gradient_covariance_is_the_sample_covariance(tiny):
    w = np.array([0.3, -1.0])
    grads = np.array([tiny.grad(w, [i]) for i in range(tiny.num_samples)])
    assert np.allclose(gradient_covariance(tiny, w), np.cov(grads.T, bias=True))


@pytest.mark.parametrize("problem", [LeastSquares(num_samples=7, dim=2, noise=0.8, seed=3),
                                     LogisticRegression(num_samples=6, dim=3, seed=2)],
                         ids=["least_squares", "logistic"])
@pytest.mark.parametrize("batch_size", [1, 2, 3, 6])
def test_minibatch_noise_equals_the_mean_over_every_batch(problem, batch_size):
    w = np.linspace(-1, 1, problem.dim)
    full = problem.grad(w)
    batches = list(itertools.combinations(range(problem.num_samples), batch_size))
    errors = [np.sum((problem.grad(w, list(b)) - full) ** 2) for b in batches]
    assert minibatch_noise(problem, w, batch_size) == pytest.approx(np.mean(errors), rel=1e-10)


def test_full_batch_has_no_noise(tiny):
    assert minibatch_noise(tiny, np.ones(2), tiny.num_samples) == 0.0


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


def test_sgd_path_equals_the_runner_bit_for_bit(tiny):
    start = np.array([2.0, -1.0])
    for batch_size, schedule in ((1, None), (3, None), (2, InverseTime(a=1.0, b=5.0))):
        path = sgd_path(tiny, start, 0.1, batch_size, 40, schedule=schedule, seed=7)
        trace = run(tiny, SGD([start.copy()], lr=0.1), 40, batch_size=batch_size, schedule=schedule,
                    seed=7)
        assert np.array_equal(path, trace.params)


@pytest.mark.parametrize("call, match", [
    (lambda p: minibatch_noise(p, np.zeros(2), 0), "batch_size"),
    (lambda p: minibatch_noise(p, np.zeros(2), 8), "batch_size"),
    (lambda p: minibatch_noise(p, np.zeros(2), 2.0), "batch_size"),
    (lambda p: sgd_noise_floor(p, 0.0, 1), "lr"),
    (lambda p: sgd_noise_floor(p, 50.0, 1), "no finite noise floor"),
    (lambda p: sgd_path(p, np.zeros(2), 0.1, 9, 3), "batch_size"),
])
def test_errors(tiny, call, match):
    with pytest.raises(ValueError, match=match):
        call(tiny)
