"""Tests for sgd_utils.threads: the BLAS thread limit is applied inside the block and restored."""

import pytest
from threadpoolctl import threadpool_info

from sgd_utils.threads import blas_threads


def blas_thread_counts():
    return {info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"}


def test_limit_applies_inside_and_is_restored():
    before = blas_thread_counts()
    assert before, "NumPy should load a BLAS threadpoolctl can see"
    with blas_threads(1):
        assert blas_thread_counts() == {1}
    assert blas_thread_counts() == before


def test_none_leaves_the_setting_alone():
    before = blas_thread_counts()
    with blas_threads(None):
        assert blas_thread_counts() == before


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_rejects_bad_counts(bad):
    with pytest.raises(ValueError, match="blas_threads must be an integer >= 1 or None"):
        blas_threads(bad)
