"""Tests of sgd_utils.theory.workers against independent computations: companion-matrix eigenvalues,
bisection on the roots, runs of the simulated workers, and eigenvalues of mixing matrices."""

import math

import numpy as np
import pytest

from sgd_utils.experiments.measure import measured_rate
from sgd_utils.experiments.simulated_workers import async_sgd, ring_mixing
from sgd_utils.problems import Quadratic
from sgd_utils.theory.workers import critical_lr, delay_polynomial, delayed_rate, mixing_rate


@pytest.mark.parametrize("delay,momentum", [(0, 0.0), (2, 0.0), (4, 0.5), (1, 0.9)])
def test_delay_polynomial_roots_are_the_companion_matrix_eigenvalues(delay, momentum):
    """Oracle: the state (x_t, ..., x_{t-K}) evolves by a companion matrix built from the
    recursion."""
    a = 0.3
    size = max(delay, 1) + 1
    matrix = np.zeros((size, size))
    matrix[0, 0] += 1 + momentum           # x_{t+1} = (1 + m) x_t - m x_{t-1} - a x_{t-delay}
    matrix[0, 1] += -momentum
    matrix[0, delay] += -a
    matrix[1:, :-1] = np.eye(size - 1)
    expected = np.sort(np.abs(np.linalg.eigvals(matrix)))
    roots = np.sort(np.abs(np.roots(delay_polynomial(a, delay, momentum))))
    np.testing.assert_allclose(roots, expected, atol=1e-9)


@pytest.mark.parametrize("delay", [0, 1, 2, 3, 6, 10])
def test_critical_lr_closed_form_agrees_with_root_bisection_and_runs(delay):
    lam = 2.0
    crit = critical_lr(lam, delay)
    assert delayed_rate(0.99 * crit, [lam], delay) < 1 < delayed_rate(1.01 * crit, [lam], delay)
    low, high = 0.0, 2.0 / lam  # bisection on the roots, independent of the closed form
    for _ in range(60):
        mid = (low + high) / 2
        low, high = (mid, high) if delayed_rate(mid, [lam], delay) < 1 else (low, mid)
    assert math.isclose(low, crit, rel_tol=1e-9)
    problem = Quadratic([lam])
    stable = async_sgd(problem, np.array([1.0]), lr=0.95 * crit, delay=delay, num_steps=3000)
    unstable = async_sgd(problem, np.array([1.0]), lr=1.05 * crit, delay=delay, num_steps=3000)
    assert abs(stable.params[-1, 0]) < 1e-3 and unstable.diverged_at is not None


@pytest.mark.parametrize("delay,momentum", [(0, 0.5), (1, 0.5), (3, 0.9)])
def test_critical_lr_with_momentum(delay, momentum):
    crit = critical_lr(1.0, delay, momentum)
    assert (delayed_rate(0.999 * crit, [1.0], delay, momentum) < 1
            < delayed_rate(1.001 * crit, [1.0], delay, momentum))
    if delay == 0:   # heavy ball: stable iff lr * lambda < 2 (1 + momentum)
        assert math.isclose(crit, 2 * (1 + momentum), rel_tol=1e-8)
    if delay == 1:   # z^2 - (1 + m) z + m + a: the product of the roots m + a must stay below 1
        assert math.isclose(crit, 1 - momentum, rel_tol=1e-8)


def test_delayed_rate_predicts_the_measured_rate():
    problem = Quadratic([1.0])
    for delay in (1, 4):
        lr = 0.5 * critical_lr(1.0, delay)
        trace = async_sgd(problem, np.array([1.0]), lr=lr, delay=delay, num_steps=400)
        measured = measured_rate(np.abs(trace.params[:, 0]), 200, 400, window=20)  # the envelope
        assert math.isclose(measured, delayed_rate(lr, [1.0], delay), rel_tol=2e-3)


def test_delay_errors():
    with pytest.raises(ValueError, match="delay"):
        async_sgd(Quadratic([1.0]), np.array([1.0]), lr=0.1, delay=-1, num_steps=3)
    with pytest.raises(ValueError, match="momentum"):
        critical_lr(1.0, 2, momentum=1.0)
    with pytest.raises(ValueError, match="delay"):
        delay_polynomial(0.1, 1.5)


@pytest.mark.parametrize("num_nodes", [3, 4, 8, 25])
def test_ring_mixing_rate_is_its_second_eigenvalue(num_nodes):
    mixing = ring_mixing(num_nodes)
    np.testing.assert_allclose(mixing.sum(axis=0), 1)
    eigenvalues = np.linalg.eigvals(mixing)  # general eigensolver, not eigvalsh
    second = np.sort(np.abs(eigenvalues))[-2]
    closed_form = max(abs(1 / 3 + 2 / 3 * math.cos(2 * math.pi * k / num_nodes))
                      for k in range(1, num_nodes))
    assert math.isclose(mixing_rate(mixing), second, rel_tol=1e-9, abs_tol=1e-12)
    assert math.isclose(mixing_rate(mixing), closed_form, rel_tol=1e-9, abs_tol=1e-12)
