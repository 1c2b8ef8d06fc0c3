"""Tests for sgd_utils.theory.rates: predicted rates against eigenvalues, brute force and steps
of the package's SGD (the rates measured from runs are tested in test_measure)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sgd_utils.theory import rates
from sgd_utils.optim import SGD


@settings(max_examples=200, deadline=None)
@given(lr=st.floats(0.0, 5.0), momentum=st.floats(0.0, 0.999), eigenvalue=st.floats(0.01, 10.0))
def test_closed_form_rate_is_the_spectral_radius(lr, momentum, eigenvalue):
    radius = np.abs(np.linalg.eigvals(rates.heavy_ball_matrix(lr, momentum, eigenvalue))).max()
    assert (rates.heavy_ball_rate(lr, momentum, [eigenvalue])
            == pytest.approx(radius, rel=1e-6, abs=1e-6))


@settings(max_examples=200, deadline=None)
@given(product=st.floats(0.01, 4.5), momentum=st.floats(0.0, 0.95))
def test_stable_exactly_inside_the_region(product, momentum):
    boundary = 2 + 2 * momentum
    if abs(product - boundary) > 1e-6:
        assert (rates.heavy_ball_rate(product, momentum, [1.0]) < 1) == (product < boundary)


def test_matrix_is_one_step_of_the_sgd_rule():
    lr, momentum, eigenvalue = 0.3, 0.7, 2.0
    x = np.array([1.5])
    opt = SGD([x], lr=lr, momentum=momentum)
    opt.step([eigenvalue * x])  # first step: buffer = gradient, as with b_0 = 0
    state = np.array([opt.state[0].momentum_buffer[0], x[0]])
    opt.step([eigenvalue * x])
    expected = rates.heavy_ball_matrix(lr, momentum, eigenvalue) @ state
    np.testing.assert_allclose([opt.state[0].momentum_buffer[0], x[0]], expected, rtol=1e-14)


def test_rate_broadcasts_over_grids():
    lr = np.linspace(0.01, 0.2, 5)[:, None]
    momentum = np.linspace(0, 0.9, 4)[None, :]
    grid = rates.heavy_ball_rate(lr, momentum, [1.0, 10.0])
    assert grid.shape == (5, 4)
    assert grid[2, 3] == pytest.approx(rates.heavy_ball_rate(lr[2, 0], momentum[0, 3], [1.0, 10.0]))


def test_optimal_heavy_ball_beats_a_brute_force_grid():
    mu, L = 1.0, 100.0
    lr, momentum, rate = rates.optimal_heavy_ball(mu, L)
    assert rates.heavy_ball_rate(lr, momentum, [mu, L]) == pytest.approx(rate, rel=1e-6)
    lrs = np.linspace(0.001, 0.06, 300)[:, None]
    momenta = np.linspace(0, 0.99, 300)[None, :]
    assert rates.heavy_ball_rate(lrs, momenta, [mu, L]).min() >= rate - 1e-9
    assert rate == pytest.approx(9 / 11)


def test_optimal_gd_beats_a_brute_force_grid():
    lr, rate = rates.optimal_gd(2.0, 20.0)
    assert rates.gd_rate(lr, [2.0, 20.0]) == pytest.approx(rate)
    assert (min(rates.gd_rate(a, [2.0, 20.0]) for a in np.linspace(0.001, 0.099, 500))
            >= rate - 1e-12)


def test_critical_momentum_is_the_fastest_momentum_and_a_double_root():
    lr, eigenvalue = 0.09, 1.0
    critical = rates.critical_momentum(lr, eigenvalue)
    assert critical == pytest.approx(0.49)
    big, small = rates.heavy_ball_root_moduli(lr, critical, eigenvalue)
    assert big == pytest.approx(small) == pytest.approx(0.7)
    momenta = np.linspace(0, 0.99, 1000)
    best = momenta[np.argmin(rates.heavy_ball_rate(lr, momenta, [eigenvalue]))]
    assert best == pytest.approx(critical, abs=2e-3)


@pytest.mark.parametrize("call", [
    lambda: rates.optimal_heavy_ball(0.0, 1.0),
    lambda: rates.optimal_gd(2.0, 1.0),
    lambda: rates.critical_momentum(2.0, 1.0),
    lambda: rates.critical_momentum(0.0, 1.0),
])
def test_bad_arguments_raise(call):
    with pytest.raises(ValueError):
        call()


@settings(max_examples=200, deadline=None)
@given(lr=st.floats(0.0, 5.0), momentum=st.floats(0.0, 0.999), eigenvalue=st.floats(0.01, 10.0))
def test_nesterov_rate_is_the_spectral_radius(lr, momentum, eigenvalue):
    radius = np.abs(np.linalg.eigvals(rates.nesterov_matrix(lr, momentum, eigenvalue))).max()
    assert (rates.nesterov_rate(lr, momentum, [eigenvalue])
            == pytest.approx(radius, rel=1e-6, abs=1e-6))


def test_nesterov_matrix_is_one_step_of_the_sgd_rule():
    lr, momentum, eigenvalue = 0.3, 0.7, 2.0
    x = np.array([1.5])
    opt = SGD([x], lr=lr, momentum=momentum, nesterov=True)
    opt.step([eigenvalue * x])
    state = np.array([opt.state[0].momentum_buffer[0], x[0]])
    opt.step([eigenvalue * x])
    expected = rates.nesterov_matrix(lr, momentum, eigenvalue) @ state
    np.testing.assert_allclose([opt.state[0].momentum_buffer[0], x[0]], expected, rtol=1e-14)


@pytest.mark.parametrize("momentum", [0.0, 0.5, 0.9])
def test_nesterov_stability_boundary(momentum):
    boundary = (2 + 2 * momentum) / (1 + 2 * momentum)
    assert (rates.nesterov_rate(boundary * 0.999, momentum, [1.0]) < 1
            < rates.nesterov_rate(boundary * 1.001, momentum, [1.0]))
