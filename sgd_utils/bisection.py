r"""Bisection for a threshold: the largest learning rate (or any value) that still passes a test.

Many questions of the book have this shape: the largest learning rate at which a run converges,
the noise floor stays finite, or a root modulus stays below one. When the values that pass form an
interval :math:`[\mathrm{low}, \theta)`, halving the bracket :math:`[\mathrm{low}, \mathrm{high}]`
while keeping ``low`` passing and ``high`` failing pins :math:`\theta` down to a factor
:math:`2^{-k}` of the bracket after :math:`k` tests.
"""
import math

from .checks import check_count


def bisect_threshold(passes, low, high, *, iterations=None, rtol=None, geometric=False):
    r"""The largest value found to pass ``passes``, by bisection of ``[low, high]``.

    Parameters
    ----------
    passes : callable
        ``passes(value) -> bool``. Assumed true at ``low`` and false at ``high`` (neither end is
        tested), and true exactly below some threshold in between.
    low, high : float
        The bracket, ``low < high``.
    iterations : int, optional
        Stop after this many halvings.
    rtol : float, optional
        Or stop once ``high - low <= rtol * high``. Give exactly one of the two.
    geometric : bool
        Halve on a log scale (midpoint :math:`\sqrt{\mathrm{low} \cdot \mathrm{high}}`, for
        ``low > 0``), when the threshold may lie anywhere over several decades.

    Returns
    -------
    float
        The final ``low``: the largest value tested that passed (or the initial ``low``). The
        threshold lies in ``[low, high]`` of the final bracket.

    Examples
    --------
    >>> bisect_threshold(lambda x: x * x < 2, 0.0, 2.0, iterations=30)
    1.4142135605216026
    >>> found = bisect_threshold(lambda lr: lr < 3e-4, 1e-6, 1.0, rtol=1e-3, geometric=True)
    >>> bool(0.999 * 3e-4 <= found < 3e-4)
    True
    """
    if (iterations is None) == (rtol is None):
        raise ValueError(f"give exactly one of iterations and rtol, got iterations={iterations!r} "
                         f"and rtol={rtol!r}")
    if iterations is not None:
        check_count("iterations", iterations, 0)
    elif not rtol > 0:
        raise ValueError(f"rtol must be > 0, got rtol={rtol!r}")
    if not low < high or (geometric and not low > 0):
        raise ValueError(f"need low < high{' and low > 0 (geometric)' if geometric else ''}, "
                         f"got low={low!r}, high={high!r}")
    done = 0
    while (done < iterations) if iterations is not None else (high - low > rtol * high):
        middle = math.sqrt(low * high) if geometric else (low + high) / 2
        low, high = (middle, high) if passes(middle) else (low, middle)
        done += 1
    return low
