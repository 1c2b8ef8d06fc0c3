r"""Numbers as the book prints them, so that every printed digit holds on every machine.

Floating-point results are exact only up to rounding, and rounding depends on the machine: the
BLAS library sums a matrix product in an order chosen for the CPU (OpenBLAS picks a kernel per
CPU model, Apple's Accelerate has its own), and NumPy's reductions and ``exp``/``log`` follow the
CPU's vector width. Most results do not notice. Two kinds do, and the book prints them so that a
reader's laptop reproduces the text:

- **Rounding noise**, such as an exact zero computed in floating point or the difference of two
  runs that are equal in exact arithmetic (``1e-16`` here, ``3e-16`` there). :func:`below`
  prints it as a bound, ``"< 1e-12"``, never as digits.
- **Chaotic runs**, such as training near the edge of stability, where a last-bit difference
  grows until the run collapses or not. Their digits are as random as a new seed's, so the book
  reports a statistic over seeds: :func:`mean_pm` prints the mean and its standard error
  :math:`s/\sqrt{n}` (sample standard deviation :math:`s` over :math:`n` seeds) to the precision
  the standard error supports, one significant digit of it: ``"0.86 ± 0.02"``.

The notebook checks (``make nbval``, ``make test-portable``) compare every other character of a
stored output exactly; a ``mean ± error`` pair they accept when another machine's mean is within
a stated number of the two standard errors (``tests/nbval_portable.py``).
"""
from __future__ import annotations

import math

import numpy as np

PLUS_MINUS = "±"
# A standard error this small relative to the mean is rounding error (equal results over the seeds
# average to a mean whose last bit wobbles), so it is printed as 0.
ROUNDING = 1e-12


def mean_and_error(values, axis=-1):
    r"""Mean and standard error of the mean of ``values`` along ``axis`` (the seeds).

    The standard error is :math:`s/\sqrt{n}` with the sample standard deviation :math:`s`
    (``ddof=1``) of the :math:`n` values; it is 0 for a single value.

    Examples
    --------
    >>> mean, error = mean_and_error([0.88, 0.90, 0.92])
    >>> round(float(mean), 6), round(float(error), 6)
    (0.9, 0.011547)
    """
    values = np.asarray(values, dtype=float)
    if values.ndim == 0 or values.shape[axis] == 0:
        raise ValueError(f"values must have at least one entry along axis {axis}, "
                         f"got shape {values.shape}")
    count = values.shape[axis]
    mean = values.mean(axis=axis)
    if count == 1:
        return mean, np.zeros_like(mean)
    return mean, values.std(axis=axis, ddof=1) / math.sqrt(count)


def error_decimals(error, *, fallback=3):
    r"""Decimals that show ``error`` to one significant digit.

    A standard error estimated from a handful of seeds is itself uncertain by tens of per cent
    (by about :math:`1/\sqrt{2(n - 1)}`, 24% for ten seeds), so one digit is all it supports.
    ``fallback`` is used when the error is 0 (all seeds agree) or not finite.

    Examples
    --------
    >>> error_decimals(0.0046), error_decimals(0.012), error_decimals(0.06), error_decimals(2.4)
    (3, 2, 2, 0)
    >>> error_decimals(0.0096), error_decimals(0.0)    # 0.0096 shows as 0.010
    (2, 3)
    """
    if not math.isfinite(error) or error <= 0:
        return fallback
    exponent = math.floor(math.log10(error))
    if round(error / 10.0 ** exponent) >= 10:        # 0.0096 rounds to 0.01
        exponent += 1
    return max(0, -exponent)


def mean_pm(values=None, *, mean=None, error=None, percent=False, sign=False, fallback=3):
    """``"mean ± standard error"`` of ``values`` (over seeds), to the precision the error supports.

    Give either ``values`` (a 1-D sequence of per-seed results) or ``mean`` and ``error``.

    Parameters
    ----------
    values : sequence of float, optional
        One result per seed.
    mean, error : float, optional
        A precomputed mean and standard error (e.g. of a difference).
    percent : bool
        Print both as percentages, ``"89% ± 2%"``.
    sign : bool
        Always print the mean's sign, for differences: ``"+0.054 ± 0.031"``.
    fallback : int
        Decimals (of the percentage, with ``percent``) when the error is 0, rounding error
        (below ``ROUNDING`` times the mean) or not finite.

    Examples
    --------
    >>> mean_pm([0.88, 0.90, 0.92])
    '0.90 ± 0.01'
    >>> mean_pm(mean=0.7743, error=0.087), mean_pm(mean=0.7743, error=0.087, percent=True)
    ('0.77 ± 0.09', '77% ± 9%')
    >>> mean_pm(mean=0.0125, error=0.031, sign=True), mean_pm([0.097, 0.097])
    ('+0.01 ± 0.03', '0.097 ± 0.000')
    """
    if values is not None:
        if mean is not None or error is not None:
            raise ValueError("give either values or mean and error, not both")
        values = np.asarray(values, dtype=float)
        if values.ndim != 1:
            raise ValueError(f"values must be one result per seed (1-D), got shape {values.shape}")
        mean, error = mean_and_error(values)
    elif mean is None or error is None:
        raise ValueError("give values, or both mean and error")
    mean, error = float(mean), float(error)
    if error < 0 or math.isnan(error):
        raise ValueError(f"error must be >= 0, got {error}")
    if error <= ROUNDING * abs(mean):     # seeds that agree, up to rounding: the machine's digits
        error = 0.0
    scale, unit = (100.0, "%") if percent else (1.0, "")
    decimals = error_decimals(scale * error, fallback=fallback)
    plus = "+" if sign else ""
    return (f"{scale * mean:{plus}.{decimals}f}{unit} {PLUS_MINUS} "
            f"{scale * error:.{decimals}f}{unit}")


def order_of_magnitude(value, floor=None):
    """``value`` rounded down to a power of ten, ``"1e-6"`` for 4.2e-6; ``"<floor"`` below it.

    For results known only to within a factor of a few, such as the loss of a run that keeps
    being thrown out of its minimum: the next digit would change from machine to machine, the
    power of ten does not, except very near one. ``floor`` marks where the digits are rounding
    error (e.g. a loss gap near a minimum at coordinates of order 1, below about 1e-25 in
    float64).

    Examples
    --------
    >>> order_of_magnitude(4.2e-6), order_of_magnitude(350.0), order_of_magnitude(1.0)
    ('1e-6', '1e+2', '1e+0')
    >>> order_of_magnitude(3e-31, floor=1e-25), order_of_magnitude(0.0, floor=1e-25)
    ('<1e-25', '<1e-25')
    >>> order_of_magnitude(float("inf")), order_of_magnitude(0.0)
    ('inf', '0')
    """
    value = abs(float(value))
    if floor is not None and value < floor:
        return f"<{floor:g}"
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    exponent = math.floor(math.log10(value))
    if 10.0 ** (exponent + 1) <= value:     # log10 rounded up just below a power of ten
        exponent += 1
    return f"1e{exponent:+d}"


def below(value, bound, *, fmt=".1e"):
    """``"< bound"`` if ``abs(value)`` is below ``bound``, else the value with a warning.

    For quantities that are rounding noise when all is well: the difference of two computations
    that agree in exact arithmetic, or an exact zero computed in floating point. Their digits
    change from machine to machine; the bound does not, and it fails visibly (the value is printed,
    marked) if something is genuinely wrong.

    Examples
    --------
    >>> below(2.2e-16, 1e-12), below(0.0, 1e-300)
    ('< 1e-12', '< 1e-300')
    >>> below(3.5e-9, 1e-12)
    '3.5e-09 (NOT below 1e-12)'
    """
    if not bound > 0:
        raise ValueError(f"bound must be positive, got {bound}")
    if abs(value) < bound:
        return f"< {bound:g}"
    return f"{value:{fmt}} (NOT below {bound:g})"


def within_noise(mean_a, error_a, mean_b, error_b, num_errors=2.0):
    r"""Whether two means differ by at most ``num_errors`` standard errors of their difference.

    For independent means with standard errors :math:`e_a, e_b` (e.g. from
    :meth:`Sweep.mean_and_error`) the difference has the standard error
    :math:`\sqrt{e_a^2 + e_b^2}`. Two standard errors is a loose test for a handful of seeds (a
    Student :math:`t` test with 2 degrees of freedom needs 4.3 at 95%), so "not within noise" is
    evidence, not proof, of a difference. Arguments broadcast.

    Examples
    --------
    >>> within_noise(0.90, 0.006, 0.89, 0.006), within_noise(0.90, 0.006, 0.85, 0.006)
    (True, False)
    """
    if num_errors < 0:
        raise ValueError(f"num_errors must be >= 0, got {num_errors}")
    if np.any(np.less(error_a, 0)) or np.any(np.less(error_b, 0)):
        raise ValueError(f"standard errors must be >= 0, got {error_a} and {error_b}")
    standard_error = np.hypot(error_a, error_b)
    tied = np.abs(np.subtract(mean_a, mean_b)) <= num_errors * standard_error
    return bool(tied) if np.ndim(tied) == 0 else tied
