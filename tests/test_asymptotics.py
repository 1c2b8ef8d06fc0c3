"""Tests for sgd_utils.theory.asymptotics against independent computations: runs, brute force,
closed forms."""

import numpy as np
import pytest

from sgd_utils.descent import run
from sgd_utils.optim import SGD
from sgd_utils.problems import LeastSquares
from sgd_utils.theory.asymptotics import (averaging_constant, first_order_covariance,
                                          inverse_time_constant)
from sgd_utils.theory.least_squares import stationary_covariance
from sgd_utils.theory.noise import gradient_covariance

PROBLEM = LeastSquares(num_samples=200, dim=3, noise=1.0, seed=0)
SIGMA = gradient_covariance(PROBLEM, PROBLEM.minimizer)


def test_first_order_covariance_solves_the_lyapunov_equation_and_is_the_small_step_limit():
    H = PROBLEM.hessian
    moment = first_order_covariance(H, SIGMA, 0.01)
    np.testing.assert_allclose(H @ moment + moment @ H, 0.01 * SIGMA, atol=1e-15)
    np.testing.assert_allclose(np.trace(moment), 0.005 * np.trace(np.linalg.solve(H, SIGMA)),
                               rtol=1e-12)
    exact = stationary_covariance(PROBLEM, 1e-4, 1)
    np.testing.assert_allclose(first_order_covariance(H, SIGMA, 1e-4), exact, rtol=0,
                               atol=1e-3 * np.abs(exact).max())


def test_inverse_time_constant_in_one_dimension_and_its_threshold():
    H, S = np.array([[2.0]]), np.array([[3.0]])
    assert inverse_time_constant(H, S, 1.0) == pytest.approx(1.0 * 3.0 / (2 * 2.0 - 1))
    assert inverse_time_constant(H, S, 0.25) == np.inf   # 2 theta lambda = 1: slower than 1/t


def test_inverse_time_constant_matches_the_linearised_recursion():
    rng = np.random.default_rng(0)
    Q = np.linalg.qr(rng.standard_normal((3, 3)))[0]
    H = Q @ np.diag([0.5, 1.0, 2.0]) @ Q.T
    S = np.cov(rng.standard_normal((3, 50)))
    theta, moment = 3.0, np.zeros((3, 3))
    for t in range(1, 200_001):  # M <- M - eta (HM + MH) + eta^2 S with eta = theta / t (t >= 1)
        eta = theta / (t + 10)
        moment = moment - eta * (H @ moment + moment @ H) + eta**2 * S
    assert (np.trace(moment) * (200_000 + 10)
            == pytest.approx(inverse_time_constant(H, S, theta), rel=2e-2))


def test_averaging_constant_and_measured_averaged_iterates():
    assert averaging_constant(np.diag([1.0, 2.0]), np.diag([3.0, 4.0])) == pytest.approx(3.0 + 1.0)
    # A rotated H and a non-diagonal Sigma, where H^-1 is not diag(1 / diag H). By hand: H = Q
    # diag(1, 4) Q^T with Q = [[3, -4], [4, 3]] / 5, so tr(H^-1 Sigma H^-1) = tr(H^-2 Sigma)
    # = q1' Sigma q1 / 1 + q2' Sigma q2 / 16 = 90/25 + (35/25) / 16 = 3.6875.
    H = np.array([[73.0, -36.0], [-36.0, 52.0]]) / 25
    S = np.array([[2.0, 1.0], [1.0, 3.0]])
    assert averaging_constant(H, S) == pytest.approx(3.6875, rel=1e-12)
    assert averaging_constant(H, S) == pytest.approx(
        np.trace(np.linalg.solve(H, np.linalg.solve(H, S).T)), rel=1e-12)
    chains = SGD([np.tile(PROBLEM.minimizer, (64, 1))], lr=0.02)    # 64 runs from x*
    trace = run(PROBLEM, chains, 4000, batch_size=1, sampler="with_replacement", seed=1,
                record_steps=[4000], average_from=0)
    measured = 4000 * trace.mean_sq_error(averaged=True)[-1]
    assert measured == pytest.approx(averaging_constant(PROBLEM.hessian, SIGMA), rel=0.3)
