r"""Mini-batch gradient noise: its size, and the noise scale through which it acts on SGD.

A finite-sum objective :math:`f(w) = \frac1n \sum_i \ell_i(w)` has per-sample gradients
:math:`g_i(w) = \nabla \ell_i(w)` with mean :math:`\nabla f(w)` and covariance

.. math:: \Sigma(w) = \frac1n \sum_{i=1}^n g_i g_i^\top - \nabla f \, \nabla f^\top

(:func:`gradient_covariance`). A mini-batch gradient :math:`g_B` averages :math:`B` *distinct*
samples drawn uniformly (as one batch of a shuffled epoch). It is unbiased, and its covariance is
that of a sample mean drawn without replacement from a finite population,

.. math:: \operatorname{Cov}[g_B] = \frac{\Sigma(w)}{B} \cdot \frac{n - B}{n - 1}

(:func:`finite_population_factor`), so :math:`E\lVert g_B - \nabla f \rVert^2 =
\operatorname{tr}\Sigma(w) \, (n - B) / (B (n - 1))` (:func:`minibatch_noise`): it falls as
:math:`1/B`, and vanishes at :math:`B = n`.

A step of size :math:`\epsilon` turns that noise into a kick of covariance :math:`\epsilon^2
\operatorname{Cov}[g_B]`; per unit of "time" :math:`\epsilon`, in units of the full-data
covariance :math:`\Sigma/n`, that is the *noise scale* of Smith and Le (2018),
:math:`g = \epsilon (n/B - 1)/(1 - m) \approx \epsilon n / (B(1 - m))` with momentum :math:`m`
(:func:`noise_scale`). What the noise does to SGD on least squares, exactly, is in
:mod:`sgd_utils.theory.least_squares`.
"""

import numpy as np

from ..checks import check_batch_size


def finite_population_factor(num_samples, batch_size):
    r"""The factor :math:`(n - B)/(n - 1)` by which sampling without replacement shrinks the
    variance of a mean of :math:`B` of :math:`n` samples (1 when :math:`n = 1`).

    >>> finite_population_factor(2000, 1), finite_population_factor(2000, 2000)
    (1.0, 0.0)
    """
    return (num_samples - batch_size) / (num_samples - 1) if num_samples > 1 else 1.0


def gradient_covariance(problem, params):
    r""":math:`\Sigma(w)`, the covariance of the per-sample gradients of ``problem`` at
    ``params``, (d, d).

    >>> from sgd_utils.problems import LeastSquares
    >>> problem = LeastSquares(num_samples=100, dim=3, noise=0.5, seed=0)
    >>> gradient_covariance(problem, problem.minimizer).shape
    (3, 3)
    """
    grads = problem.per_sample_grads(params)
    centered = grads - grads.mean(axis=0)
    return centered.T @ centered / len(grads)


def minibatch_noise(problem, params, batch_size):
    r""":math:`E\lVert g_B - \nabla f(w) \rVert^2`, the mean squared error of a mini-batch gradient.

    Exact for a batch of ``batch_size`` distinct samples drawn uniformly at random (module
    docstring): :math:`\operatorname{tr}\Sigma(w) (n - B) / (B (n - 1))`.
    """
    check_batch_size(batch_size, problem.num_samples)
    trace = float(np.trace(gradient_covariance(problem, params)))
    return trace / batch_size * finite_population_factor(problem.num_samples, batch_size)


def noise_scale(lr, num_samples, batch_size, momentum=0.0, *, exact=False):
    r"""The SGD noise scale :math:`g = \epsilon N / (B (1 - m))` of Smith and Le (2018).

    Parameters
    ----------
    lr, num_samples, batch_size, momentum : float or ndarray
        :math:`\epsilon, N, B, m`; arrays broadcast.
    exact : bool
        Use :math:`N/B - 1` (sampling without replacement: zero noise at :math:`B = N`)
        instead of :math:`N/B`.

    Examples
    --------
    >>> noise_scale(0.1, 8000, 32), noise_scale(0.1, 8000, 32, momentum=0.9)
    (25.0, 250.00000000000006)
    >>> float(noise_scale(0.1, 8000, 8000, exact=True))
    0.0
    """
    lr, num_samples, batch_size, momentum = (np.asarray(v, dtype=float) for v in
                                             (lr, num_samples, batch_size, momentum))
    if np.any(lr < 0) or np.any(batch_size < 1) or np.any(num_samples < batch_size):
        raise ValueError("need lr >= 0 and 1 <= batch_size <= num_samples")
    if np.any(momentum < 0) or np.any(momentum >= 1):
        raise ValueError(f"momentum must be in [0, 1), got {momentum}")
    ratio = num_samples / batch_size - (1 if exact else 0)
    g = lr * ratio / (1 - momentum)
    return float(g) if g.ndim == 0 else g
