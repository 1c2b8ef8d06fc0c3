"""Test problems: objectives with analytic gradients and known minimisers.

Every problem has ``dim``, ``loss(x) -> float``, ``grad(x)`` (same shape and
dtype as ``x``), ``minimizer``, ``minimizers`` (all known ones, ``(k, dim)``),
``min_loss`` and ``name``; 2-D problems add ``bounds``, the plot extent
``(x_min, x_max, y_min, y_max)``, and ``loss_grid(xs, ys)`` for contours.
The stochastic problems (:class:`LeastSquares`, :class:`LogisticRegression`)
add ``num_samples``, ``loss(x, idx=None)``, ``grad(x, idx=None)`` and
``per_sample_grads(x, idx=None)``, means over the samples ``idx``. For many independent runs
at once (chains, in :func:`sgd_utils.descent.run`) every problem also has ``losses(points)`` and
``grads(points)`` (finite sums: ``grads(points, idx)``, one batch per chain).

- :mod:`.toy`: :class:`Quadratic`, :class:`Rosenbrock`, :class:`Beale`,
  :class:`Himmelblau`, :class:`Saddle`.
- :mod:`.stochastic`: :class:`LeastSquares`, :class:`LogisticRegression`.
- :mod:`.sparse`: :class:`~sgd_utils.problems.sparse.SparseLeastSquares`, the test bed of
  lock-free SGD.
"""

from .base import Problem
from .stochastic import FiniteSum, LeastSquares, LogisticRegression
from .toy import Beale, Himmelblau, Quadratic, Rosenbrock, Saddle, random_rotation

__all__ = [
    "Problem", "FiniteSum", "Quadratic", "Rosenbrock", "Beale", "Himmelblau", "Saddle",
    "LeastSquares", "LogisticRegression", "random_rotation",
]
