r"""A sparse least-squares problem, the test bed of lock-free (Hogwild!) SGD in chapter 11."""

import math
from typing import NamedTuple

import numpy as np

from ..checks import check_count


class SparseLeastSquares(NamedTuple):
    r"""A sparse least-squares problem :math:`f(x) = \frac1{2n}\sum_i (a_i^\top x - y_i)^2`.

    Row :math:`a_i` has ``nnz`` non-zeros at ``indices[i]`` with values ``values[i]``; ``targets``
    are the :math:`y_i`; ``minimizer`` solves the normal equations.
    """

    indices: np.ndarray  # (n, nnz) coordinates of each sample's support
    values: np.ndarray   # (n, nnz)
    targets: np.ndarray  # (n,)
    dim: int
    minimizer: np.ndarray

    def loss(self, x):
        """The full loss at ``x``."""
        residuals = np.sum(self.values * x[self.indices], axis=1) - self.targets
        return float(0.5 * np.mean(residuals**2))


def sparse_least_squares(num_samples, dim, nnz, noise=0.1, *, seed=0):
    r"""Samples with ``nnz`` random coordinates out of ``dim``, each a random sign times
    :math:`1/\sqrt{\rm nnz}`.

    Targets are :math:`y_i = a_i^\top x_\star + \sigma\varepsilon_i` with
    :math:`x_\star \sim \mathcal N(0, I)` and :math:`\sigma` = ``noise``. Every row has
    :math:`\lVert a_i \rVert = 1` whatever the sparsity, so one learning rate suits every ``nnz``: a
    serial step on one sample multiplies its residual by :math:`1 - \eta`, and is stable for
    :math:`0 < \eta < 2`.
    """
    for name, value, low in (("num_samples", num_samples, 1), ("dim", dim, 1), ("nnz", nnz, 1)):
        check_count(name, value, low)
    if nnz > dim:
        raise ValueError(f"nnz must be <= dim, got nnz={nnz}, dim={dim}")
    rng = np.random.default_rng(seed)
    indices = np.argsort(rng.random((num_samples, dim)), axis=1)[:, :nnz]
    values = rng.choice([-1.0, 1.0], size=(num_samples, nnz)) / math.sqrt(nnz)
    dense = np.zeros((num_samples, dim))
    np.put_along_axis(dense, indices, values, axis=1)
    true = rng.standard_normal(dim)
    targets = dense @ true + noise * rng.standard_normal(num_samples)
    minimizer = np.linalg.lstsq(dense, targets, rcond=None)[0]
    return SparseLeastSquares(indices, values, targets, dim, minimizer)
