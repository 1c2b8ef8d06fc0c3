"""Tests for sgd_utils.chains: chains against a loop written out here, averaging, errors."""

import numpy as np
import pytest

from sgd_utils.chains import log_steps, run_chains, sample_grads
from sgd_utils.problems import LeastSquares, LogisticRegression
from sgd_utils.schedules import InverseTime

LEAST_SQUARES = LeastSquares(num_samples=40, dim=3, noise=0.5, seed=0)
LOGISTIC = LogisticRegression(num_samples=40, dim=3, seed=1)


@pytest.mark.parametrize("problem", [LEAST_SQUARES, LOGISTIC])
def test_sample_grads_equal_the_problems_minibatch_gradients(problem):
    rng = np.random.default_rng(0)
    points = rng.standard_normal((6, problem.dim))
    idx = rng.integers(problem.num_samples, size=(6, 4))
    expected = [problem.grad(points[k], idx[k]) for k in range(6)]
    np.testing.assert_allclose(sample_grads(problem, points, idx), expected, rtol=1e-12, atol=1e-14)


def test_chains_equal_a_written_out_loop_with_the_same_samples():
    schedule = InverseTime(a=0.5, b=10.0)
    start = np.array([1.0, -1.0, 0.5])
    trace = run_chains(LEAST_SQUARES, start, schedule, 30, num_chains=3, batch_size=2, seed=7,
                       record_steps=range(31), average_from=5)
    rng = np.random.default_rng(7)  # the same draws, in the same order
    points = np.tile(start, (3, 1))
    path = [points]
    for t in range(30):
        idx = rng.integers(LEAST_SQUARES.num_samples, size=(3, 2))
        grads = np.array([LEAST_SQUARES.grad(points[k], idx[k]) for k in range(3)])
        points = points - schedule(t) * grads
        path.append(points)
    path = np.array(path)
    np.testing.assert_allclose(trace.params, path, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(trace.averages[5:],
                               [path[5:t + 1].mean(axis=0) for t in range(5, 31)],
                               rtol=1e-12, atol=1e-14)
    assert np.isnan(trace.averages[:5]).all()
    np.testing.assert_array_equal(trace.lrs, [schedule(t) for t in range(30)])
    np.testing.assert_allclose(trace.sq_errors()[:, 1],
                               np.sum((path[:, 1] - LEAST_SQUARES.minimizer) ** 2, axis=1))
    np.testing.assert_allclose(trace.mean_sq_error(), trace.sq_errors().mean(axis=1))


def test_chains_are_independent_and_reproducible():
    a = run_chains(LEAST_SQUARES, np.zeros(3), 0.05, 50, num_chains=4, seed=3)
    b = run_chains(LEAST_SQUARES, np.zeros(3), 0.05, 50, num_chains=4, seed=3)
    np.testing.assert_array_equal(a.params, b.params)
    assert len({tuple(p) for p in a.params[-1]}) == 4  # different samples, different endpoints


def test_constant_step_sgd_settles_near_the_optimum():
    trace = run_chains(LEAST_SQUARES, np.zeros(3), 0.01, 3000, num_chains=16)
    errors = trace.mean_sq_error()
    assert errors[-1] < 0.02 * errors[0]
    assert trace.mean_sq_error(averaged=True)[-1] < errors[0]


def test_log_steps():
    steps = log_steps(10_000, 20)
    assert steps[0] == 0 and steps[1] == 1 and steps[-1] == 10_000
    assert np.all(np.diff(steps) > 0)


@pytest.mark.parametrize("kwargs, match", [
    (dict(start=np.zeros(2)), "start must have shape"),
    (dict(num_steps=-1), "num_steps"),
    (dict(num_chains=0), "num_chains"),
    (dict(batch_size=0), "batch_size"),
    (dict(batch_size=41), "batch_size must be <="),
    (dict(average_from=1.5), "average_from"),
    (dict(record_steps=[0, 11]), "record_steps"),
])
def test_errors(kwargs, match):
    arguments = dict(start=np.zeros(3), num_steps=10) | kwargs
    start, num_steps = arguments.pop("start"), arguments.pop("num_steps")
    with pytest.raises(ValueError, match=match):
        run_chains(LEAST_SQUARES, start, 0.1, num_steps, **arguments)
    with pytest.raises(ValueError, match="num_steps"):
        log_steps(0)
