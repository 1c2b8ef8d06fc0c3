"""Tests for the nbval plugin tests/nbval_portable.py: which output lines it accepts as the same
statistic, and, through a real nbval run on a small notebook, that it is what `make nbval` uses."""

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from nbval_portable import K_ERRORS, lines_match, texts_match

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("ref, test", [
    ("0.86 ± 0.02", "0.86 ± 0.02"),                   # identical
    ("0.86 ± 0.02", "0.84 ± 0.03"),                   # 0.02 apart, allowed 4 * 0.036 + 0.01
    ("lr 0.8: 0.23 ± 0.02 | B=8", "lr 0.8: 0.29 ± 0.02 | B=8"),   # 0.06 <= 4 * 0.028 + 0.01
    ("0.097 ± 0.000", "0.101 ± 0.001"),               # 0.004 <= 4 * 0.001 + 0.001
    ("77% ± 9%", "80% ± 8%"),
    ("  0.892 ± 0.002    0.66 ± 0.01", "  0.892 ± 0.002  0.655 ± 0.008"),   # columns shift
    ("+0.02 ± 0.04 tied", "-0.03 ± 0.04 tied"),
])
def test_statistics_within_the_tolerance_match(ref, test):
    assert lines_match(ref, test)


@pytest.mark.parametrize("ref, test", [
    ("0.86 ± 0.02", "0.70 ± 0.02"),                   # 0.16 > 4 * 0.028 + 0.01: a real change
    ("0.097 ± 0.000", "0.110 ± 0.000"),               # no error printed: one unit of slack only
    ("0.86 ± 0.02 tied", "0.86 ± 0.02 differ"),      # words must not change
    ("lr 0.8: 0.23 ± 0.02", "lr 0.4: 0.23 ± 0.02"),   # numbers outside statistics must not
    ("0.86 ± 0.02", "86% ± 2%"),                      # nor the unit
    ("0.86 ± 0.02  0.5 ± 0.1", "0.86 ± 0.02"),         # nor the number of statistics
    ("loss 0.8612", "loss 0.8613"),                   # plain digits are compared exactly
])
def test_everything_else_must_be_equal(ref, test):
    assert not lines_match(ref, test)


def test_the_tolerance_is_k_errors_plus_one_printed_unit():
    # |m1 - m2| <= K sqrt(s1^2 + s2^2) + u, u = 0.01 here: K = 4 allows 4 * 0.05 + 0.01 = 0.21
    assert K_ERRORS == 4.0
    assert lines_match("0.50 ± 0.03", "0.71 ± 0.04")
    assert not lines_match("0.50 ± 0.03", "0.72 ± 0.04")


def test_texts_match_line_by_line():
    assert texts_match("a 0.5 ± 0.1\nb 3", "a 0.6 ± 0.1\nb 3")
    assert not texts_match("a 0.5 ± 0.1\nb 3", "a 0.6 ± 0.1\nb 4")
    assert not texts_match("a 0.5 ± 0.1\n", "a 0.6 ± 0.1\nb 3\n")


def notebook_printing(path, stored, printed):
    """A one-cell notebook whose stored output is ``stored`` and whose code prints ``printed``."""
    cell = nbformat.v4.new_code_cell(f"print({printed!r})", execution_count=1,
                                     outputs=[nbformat.v4.new_output("stream", name="stdout",
                                                                     text=stored + "\n")])
    notebook = nbformat.v4.new_notebook(cells=[cell])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    nbformat.write(notebook, path)


def run_nbval(path):
    environment = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "-p", "tests.nbval_portable", "--nbval", "--nbval-current-env",
                           "--rootdir", str(path.parent), str(path)], cwd=ROOT,
                          env=environment, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("printed, passes", [("accuracy 0.84 ± 0.03", True),
                                             ("accuracy 0.70 ± 0.02", False)])
def test_nbval_with_the_plugin_accepts_a_statistic_within_tolerance(tmp_path, printed, passes):
    path = tmp_path / "statistic.ipynb"
    notebook_printing(path, "accuracy 0.86 ± 0.02", printed)
    result = run_nbval(path)
    assert (result.returncode == 0) == passes, result.stdout[-2000:]
