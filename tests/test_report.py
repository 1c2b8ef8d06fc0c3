"""Tests for sgd_utils.report: standard errors against their formula, the printed precision, bounds,
powers of ten, and every error a caller can hit."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sgd_utils.report import (below, error_decimals, mean_and_error, mean_pm, order_of_magnitude,
                              within_noise)


def test_mean_and_error_is_the_sample_standard_deviation_over_root_n():
    values = np.array([0.81, 0.86, 0.84, 0.90])
    mean, error = mean_and_error(values)
    deviations = values - values.mean()
    expected = math.sqrt(np.sum(deviations ** 2) / 3) / math.sqrt(4)    # s / sqrt(n), ddof = 1
    assert mean == pytest.approx(0.8525) and error == pytest.approx(expected, rel=1e-12)


def test_mean_and_error_along_an_axis_and_of_one_value():
    grid = np.array([[1.0, 3.0], [2.0, 2.0]])               # two settings, two seeds
    mean, error = mean_and_error(grid, axis=-1)
    np.testing.assert_allclose(mean, [2.0, 2.0])
    np.testing.assert_allclose(error, [1.0, 0.0])           # s = sqrt(2), over sqrt(2)
    assert mean_and_error([0.7]) == (0.7, 0.0)


@pytest.mark.parametrize("values", [[], 0.5, np.empty((3, 0))])
def test_mean_and_error_needs_values(values):
    with pytest.raises(ValueError, match="at least one entry"):
        mean_and_error(values)


@pytest.mark.parametrize("error, decimals", [(0.0046, 3), (0.0096, 2), (0.012, 2), (0.06, 2),
                                             (0.94, 1), (0.96, 0), (2.4, 0)])
def test_error_decimals_keep_one_significant_digit(error, decimals):
    assert error_decimals(error) == decimals
    shown = f"{error:.{decimals}f}"                     # e.g. "0.01" for 0.0096
    assert len(shown.replace("0", "").replace(".", "")) == 1


def test_error_decimals_of_large_errors_stop_at_the_units():
    assert error_decimals(35.0) == 0 and error_decimals(1234.5) == 0


@pytest.mark.parametrize("error", [0.0, math.inf, math.nan])
def test_error_decimals_fall_back_when_the_error_says_nothing(error):
    assert error_decimals(error, fallback=4) == 4


def test_mean_pm_rounds_the_mean_where_the_error_is():
    assert mean_pm(mean=0.77432, error=0.087) == "0.77 ± 0.09"
    assert mean_pm(mean=0.89216, error=0.0018) == "0.892 ± 0.002"
    assert mean_pm(mean=12.34, error=3.1) == "12 ± 3"
    assert mean_pm(mean=0.77432, error=0.087, percent=True) == "77% ± 9%"
    assert mean_pm(mean=-0.0283, error=0.0052, sign=True) == "-0.028 ± 0.005"
    assert mean_pm(mean=0.0283, error=0.0052, sign=True) == "+0.028 ± 0.005"
    assert mean_pm([0.097, 0.097, 0.097]) == "0.097 ± 0.000"   # its error is 1e-17: rounding
    assert mean_pm(mean=0.5, error=1e-13) == "0.500 ± 0.000"
    assert mean_pm([31.0, 32.0, 32.0], fallback=1) == "31.7 ± 0.3"


@given(st.lists(st.floats(0, 1), min_size=2, max_size=12)
       | st.builds(lambda v, n: [v] * n, st.floats(0, 1), st.integers(2, 12)))
def test_mean_pm_prints_the_mean_and_error_it_computes(values):
    mean, error = mean_and_error(values)
    text_mean, text_error = mean_pm(values).split(" ± ")
    decimals = len(text_error.partition(".")[2])
    assert decimals == len(text_mean.partition(".")[2])          # both to the same digit
    unit = 10.0 ** -decimals
    assert abs(float(text_mean) - mean) <= unit / 2 + 1e-12
    assert abs(float(text_error) - error) <= unit / 2 + 1e-12
    if error > 1e-12 * abs(mean):                                 # not rounding error
        assert decimals == error_decimals(float(error))


@pytest.mark.parametrize("kwargs, match", [
    (dict(), "give values, or both"),
    (dict(mean=0.5), "give values, or both"),
    (dict(values=[1.0, 2.0], mean=0.5, error=0.1), "not both"),
    (dict(values=[[1.0, 2.0]]), "one result per seed"),
    (dict(mean=0.5, error=-0.1), "error must be >= 0"),
    (dict(mean=0.5, error=math.nan), "error must be >= 0"),
])
def test_mean_pm_rejects_what_it_cannot_print(kwargs, match):
    values = kwargs.pop("values", None)
    with pytest.raises(ValueError, match=match):
        mean_pm(values, **kwargs)


def test_below_prints_the_bound_or_flags_the_value():
    assert below(2.2e-16, 1e-12) == "< 1e-12"
    assert below(-3e-13, 1e-12) == "< 1e-12"
    assert below(0.0, 1e-300) == "< 1e-300"
    assert below(3.5e-9, 1e-12) == "3.5e-09 (NOT below 1e-12)"
    assert below(1e-12, 1e-12) == "1.0e-12 (NOT below 1e-12)"     # the bound is strict
    assert below(math.nan, 1e-12) == "nan (NOT below 1e-12)"
    with pytest.raises(ValueError, match="bound must be positive"):
        below(0.0, 0.0)


@pytest.mark.parametrize("value, text", [(4.2e-6, "1e-6"), (9.99e-6, "1e-6"), (1e-5, "1e-5"),
                                         (350.0, "1e+2"), (1000.0, "1e+3"), (-0.03, "1e-2"),
                                         (0.0, "0"), (math.inf, "inf")])
def test_order_of_magnitude_rounds_down_to_a_power_of_ten(value, text):
    assert order_of_magnitude(value) == text


def test_order_of_magnitude_is_exact_at_every_power_of_ten():
    # log10 of a power of ten can round below the integer: the result must still be that power
    for exponent in range(-300, 300):
        assert order_of_magnitude(10.0 ** exponent) == f"1e{exponent:+d}"


def test_order_of_magnitude_below_a_floor():
    assert order_of_magnitude(3e-31, floor=1e-25) == "<1e-25"
    assert order_of_magnitude(0.0, floor=1e-25) == "<1e-25"
    assert order_of_magnitude(2e-25, floor=1e-25) == "1e-25"


def test_within_noise_at_its_two_standard_error_boundary():
    # standard errors 0.015 and 0.02: the difference has sqrt(0.015^2 + 0.02^2) = 0.025, so two
    # standard errors are 0.05.
    assert within_noise(0.9, 0.015, 0.851, 0.02)                    # 0.049 apart: tied
    assert not within_noise(0.9, 0.015, 0.849, 0.02)                # 0.051 apart: not
    assert not within_noise(0.851, 0.015, 0.9, 0.02, num_errors=1.0)   # 0.049 > 0.025
    assert within_noise(0.876, 0.02, 0.9, 0.015, num_errors=1.0)       # 0.024
    np.testing.assert_array_equal(within_noise(0.9, 0.015, np.array([0.851, 0.849]), 0.02),
                                  [True, False])
    with pytest.raises(ValueError, match="num_errors"):
        within_noise(0.9, 0.015, 0.85, 0.02, num_errors=-1)
    with pytest.raises(ValueError, match="standard errors"):
        within_noise(0.9, -0.015, 0.85, 0.02)
