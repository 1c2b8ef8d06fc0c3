"""Tests for sgd_utils.bisection: thresholds known in closed form, the bracket kept, bad input."""

import math

import pytest

from sgd_utils.bisection import bisect_threshold


def test_finds_square_roots_to_the_bracket_width():
    for target in (0.3, 2.0, 7.5):
        found = bisect_threshold(lambda x: x * x < target, 0.0, 10.0, iterations=40)
        assert found <= math.sqrt(target) <= found + 10.0 / 2**40


def test_geometric_bisection_finds_thresholds_across_decades():
    for threshold in (3e-6, 4e-3, 0.7):
        found = bisect_threshold(lambda lr: lr < threshold, 1e-7, 1.0, rtol=1e-6, geometric=True)
        assert threshold * (1 - 1e-6) <= found < threshold


def test_tests_only_midpoints_and_counts_its_halvings():
    tested = []
    bisect_threshold(lambda x: tested.append(x) or x < 0.3, 0.0, 1.0, iterations=5)
    assert tested == [0.5, 0.25, 0.375, 0.3125, 0.28125]


def test_returns_low_when_nothing_passes_and_stops_at_the_tolerance():
    assert bisect_threshold(lambda x: False, 1.0, 2.0, iterations=10) == 1.0
    calls = []
    bisect_threshold(lambda x: calls.append(x) or True, 0.0, 1.0, rtol=1e-3)
    assert len(calls) == 10     # 2^-10 < 1e-3 < 2^-9: the tenth halving reaches the tolerance


@pytest.mark.parametrize("kwargs, match", [
    (dict(), "exactly one of iterations and rtol"),
    (dict(iterations=3, rtol=1e-3), "exactly one of iterations and rtol"),
    (dict(iterations=-1), "iterations"),
    (dict(rtol=0.0), "rtol"),
    (dict(iterations=3, low=2.0), "low < high"),
    (dict(iterations=3, low=0.0, geometric=True), "low > 0"),
])
def test_bad_arguments_are_named(kwargs, match):
    arguments = dict(low=0.5, high=1.0) | kwargs
    with pytest.raises(ValueError, match=match):
        bisect_threshold(lambda x: True, arguments.pop("low"), arguments.pop("high"), **arguments)
