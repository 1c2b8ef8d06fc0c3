"""Tests of sgd_utils.theory.noise against independent oracles: the sample covariance, enumeration
of every mini-batch, and the noise scale's formula."""

import itertools

import numpy as np
import pytest

from sgd_utils.problems import LeastSquares, LogisticRegression
from sgd_utils.theory.noise import (finite_population_factor, gradient_covariance, minibatch_noise,
                                    noise_scale)


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


@pytest.mark.parametrize("call, match", [
    (lambda p: minibatch_noise(p, np.zeros(2), 0), "batch_size"),
    (lambda p: minibatch_noise(p, np.zeros(2), 8), "batch_size"),
    (lambda p: minibatch_noise(p, np.zeros(2), 2.0), "batch_size"),
])
def test_errors(tiny, call, match):
    with pytest.raises(ValueError, match=match):
        call(tiny)


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


def test_finite_population_factor_counts_distinct_samples():
    # the variance of a mean of B of n values without replacement over that with replacement,
    # enumerated for n = 5 values: every subset of size B is equally likely
    values = np.array([0.3, -1.2, 2.0, 0.7, -0.4])
    for batch_size in range(1, 6):
        means = [np.mean(values[list(s)]) for s in itertools.combinations(range(5), batch_size)]
        with_replacement = values.var() / batch_size
        assert np.var(means) == pytest.approx(
            with_replacement * finite_population_factor(5, batch_size), abs=1e-15)
    assert finite_population_factor(1, 1) == 1.0
