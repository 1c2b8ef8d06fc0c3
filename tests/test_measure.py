"""Tests of sgd_utils.experiments.measure: measured rates against theory and runs, slopes, steps to
a tolerance on hand-made traces and on gradient descent, and their errors."""

import math

import numpy as np
import pytest

from sgd_utils.descent import Trace, run
from sgd_utils.experiments.measure import (loglog_slope, measured_rate, steps_below,
                                           steps_to_tolerance)
from sgd_utils.optim import GD, SGD
from sgd_utils.problems import Quadratic
from sgd_utils.theory import rates


def test_measured_rate_of_a_run_matches_theory():
    problem = Quadratic([1.0, 10.0], rotation=0.3)
    lr, momentum = 0.1, 0.5
    trace = run(problem, SGD([np.array([1.0, -1.0])], lr=lr, momentum=momentum), 400)
    distances = np.linalg.norm(trace.params - problem.minimizer, axis=1)
    measured = measured_rate(distances, 200, 400)
    assert measured == pytest.approx(rates.heavy_ball_rate(lr, momentum, problem.eigenvalues),
                                     rel=5e-3)


def test_measured_rate_per_column():
    distances = np.stack([0.5 ** np.arange(9), 0.25 ** np.arange(9)], axis=1)
    np.testing.assert_allclose(measured_rate(distances, 0, 8), [0.5, 0.25])


def test_measured_rate_defaults_to_the_second_half_of_the_run():
    """21 distances: rate 0.5 up to step 10, then 0.8, times a factor 1.5 on odd steps. The
    default start 21 // 2 = 10 and stop 20 are both even, so the measured rate is exactly the
    second half's 0.8; starting at 0 would mix in the 0.5, stopping at 19 the factor 1.5."""
    steps = np.arange(21)
    distances = 0.5 ** np.minimum(steps, 10) * 0.8 ** np.maximum(steps - 10, 0)
    distances *= np.where(steps % 2 == 1, 1.5, 1.0)
    assert measured_rate(distances) == pytest.approx(0.8, rel=1e-12)


def test_measured_rate_window_exponent_counts_the_steps_between_the_windows():
    # windows of 3 at steps 0..2 and 8..10 of 0.5**t: maxima 1 and 0.5**8, eight steps apart
    assert measured_rate(0.5 ** np.arange(11), 0, 10, window=3) == pytest.approx(0.5)


def test_loglog_slope():
    x = np.geomspace(1, 1e4, 9)
    assert loglog_slope(x, 5 * x**-0.5) == pytest.approx(-0.5)
    with pytest.raises(ValueError, match="positive"):
        loglog_slope([1, 2], [1, -1])
    with pytest.raises(ValueError):
        loglog_slope([1], [1])


def make_trace(gaps, diverged_at=None):
    gaps = np.asarray(gaps, dtype=float)
    n = len(gaps) - 1
    return Trace(np.zeros((n + 1, 1)), gaps, np.ones(n), [None] * (n + 1), diverged_at, 0.0, "test")


@pytest.mark.parametrize("gaps, expected", [
    ([1.0, 0.1, 1e-3, 1e-7, 1e-8], 3),          # below from step 3 on
    ([1e-7, 1e-8], 0),                           # below from the start
    ([1.0, 1e-7, 1.0, 1e-7, 1e-9], 3),          # touching the tolerance early does not count
    ([1.0, 0.1, 1e-7, 1e-3], None),              # ends above
    ([1.0, np.nan, 1e-7], 2),                    # NaN counts as above
    ([1.0, 1e-6], None),                         # the tolerance is strict
])
def test_steps_to_tolerance(gaps, expected):
    assert steps_to_tolerance(make_trace(gaps), 1e-6) == expected


def test_steps_below_distances_and_errors():
    assert steps_below(np.array([3.0, 2.0, 0.5, 0.1]), 1.0) == 2
    assert steps_below([0.5], 1.0) == 0 and steps_below([0.5, 2.0], 1.0) is None
    with pytest.raises(ValueError, match="non-empty 1-D"):
        steps_below([], 1.0)
    with pytest.raises(ValueError, match="non-empty 1-D"):
        steps_below(np.zeros((2, 2)), 1.0)
    with pytest.raises(ValueError, match="tol must be > 0"):
        steps_below([1.0], float("nan"))


def test_diverged_trace_never_reaches_tolerance():
    assert steps_to_tolerance(make_trace([1.0, 1e-9], diverged_at=1), 1e-6) is None


def test_steps_to_tolerance_of_gradient_descent_matches_theory():
    # f = x^2 / 2 with lr 0.5: the gap is 0.5 * 0.25^t, below 1e-6 once 0.25^t < 2e-6.
    trace = run(Quadratic([1.0]), GD([np.array([1.0])], lr=0.5), 30)
    assert steps_to_tolerance(trace, 1e-6) == math.ceil(math.log(2e-6) / math.log(0.25))


def test_steps_to_tolerance_errors():
    with pytest.raises(TypeError, match="Trace"):
        steps_to_tolerance([1.0, 0.0], 1e-6)
    with pytest.raises(ValueError, match="tol must be > 0"):
        steps_to_tolerance(make_trace([1.0]), 0.0)


@pytest.mark.parametrize("call", [
    lambda: measured_rate(np.ones(5), 3, 3),
    lambda: measured_rate(np.ones(5), 0, 5),
    lambda: measured_rate(np.ones(5), 0, 3, window=4),
    lambda: measured_rate(np.ones(5), 0, 3, window=0),
])
def test_measured_rate_bad_arguments_raise(call):
    with pytest.raises(ValueError):
        call()
