r"""What the theory of SGD predicts near the optimum of a finite-sum problem, and how to fit a rate.

Near :math:`x^\star` two matrices decide everything: the Hessian :math:`H = \nabla^2 f(x^\star)` and
the covariance of one sample's gradient there,

.. math:: \Sigma = \frac1n \sum_{i=1}^n \nabla \ell_i(x^\star) \nabla \ell_i(x^\star)^\top

(the mean gradient vanishes at :math:`x^\star`, so this is a covariance). A mini-batch of :math:`B`
samples drawn with replacement has gradient covariance :math:`\Sigma / B` at :math:`x^\star`.

- :func:`first_order_covariance`: the small-step stationary
  :math:`\mathbb E[(x - x^\star)(x - x^\star)^\top]` of constant-step SGD (the "noise ball";
  :func:`sgd_utils.noise.stationary_covariance` is exact for least squares), and
  :func:`mean_square_stability_limit`, the step beyond which no ball exists.
- :func:`inverse_time_constant`, :func:`averaging_constant`: the constants :math:`C` in
  :math:`\mathbb E \lVert x_T - x^\star \rVert^2 \approx C / T` for the step :math:`\theta / t` and
  for Polyak-Juditsky averaging.
- :func:`loglog_slope`: the measured exponent of a power law.
"""

import numpy as np

from .noise import _without_replacement
from .problems import LeastSquares


def _mixed_moment(problem, batch_size):
    r"""The symmetric matrix of :math:`M \mapsto \mathbb E[AMA]` on :math:`\mathrm{vec}(M)`.

    :math:`A = \frac1B \sum_j a_j a_j^\top` over a batch of :math:`B` distinct samples, as in
    :mod:`sgd_utils.noise`, so
    :math:`\mathbb E[AMA] = HMH + s\,(\mathbb E[a a^\top M a a^\top] - HMH)` with
    :math:`s = \frac{n - B}{B (n - 1)}`.
    """
    if not isinstance(problem, LeastSquares):
        raise TypeError(f"the exact noise ball needs a LeastSquares problem, got {problem!r}")
    X, H = problem.X, problem.hessian
    pairs = np.einsum("ni,nj->nij", X, X).reshape(problem.num_samples, -1)  # rows vec(a a^T)
    fourth = pairs.T @ pairs / problem.num_samples  # E[vec(aa^T) vec(aa^T)^T]
    scale = _without_replacement(problem.num_samples, batch_size) / batch_size
    return np.kron(H, H) + scale * (fourth - np.kron(H, H))


def first_order_covariance(hessian, covariance, lr):
    r"""The small-step noise ball: the solution of :math:`HM + MH = \eta\,\Sigma_B` (a
    Lyapunov equation).

    In the eigenbasis of :math:`H`, :math:`M_{ij} = \eta\,\Sigma_{ij} / (\lambda_i + \lambda_j)`;
    hence :math:`\operatorname{tr} M = \tfrac{\eta}{2}\operatorname{tr}(H^{-1}\Sigma_B)` and
    :math:`\tfrac12 \operatorname{tr}(HM) = \tfrac{\eta}{4}\operatorname{tr}\Sigma_B`.
    ``covariance`` is the mini-batch covariance :math:`\Sigma_B` (for :math:`B = 1`,
    :func:`sgd_utils.noise.gradient_covariance` at :math:`x^\star`).
    """
    eigenvalues, vectors = np.linalg.eigh(hessian)
    rotated = vectors.T @ covariance @ vectors
    moment = lr * rotated / (eigenvalues[:, None] + eigenvalues[None, :])
    return vectors @ moment @ vectors.T


def mean_square_stability_limit(problem, batch_size=1):
    r"""The largest constant step for which :math:`\mathbb E[e_t e_t^\top]` of SGD on least squares
    stays bounded.

    The second moment evolves by the linear map
    :math:`M \mapsto \mathbb E[(I - \eta A) M (I - \eta A)]
    = M - \eta\,(\mathcal L - \eta \mathcal K)(M)`, with :math:`\mathcal L(M) = HM + MH` and
    :math:`\mathcal K(M) = \mathbb E[AMA]`. The map is positive (it sends positive semidefinite
    matrices to positive semidefinite ones), so as :math:`\eta` grows its spectral radius first
    reaches 1 through the eigenvalue 1, where :math:`\mathcal L - \eta\mathcal K` is singular: at
    :math:`\eta = 1 / \lambda_{\max}(\mathcal L^{-1/2}\mathcal K\mathcal L^{-1/2})`. In the
    eigenbasis of :math:`H`, :math:`\mathcal L` is diagonal, :math:`\lambda_i + \lambda_j`. The
    limit lies below :math:`2/L`, the limit of full-batch gradient descent.
    """
    mixed = _mixed_moment(problem, batch_size)
    eigenvalues, vectors = np.linalg.eigh(problem.hessian)
    rotation = np.kron(vectors, vectors)  # vec(Q^T M Q) = rotation^T vec(M)
    # L in that basis: lambda_i + lambda_j
    sums = np.add.outer(eigenvalues, eigenvalues).reshape(-1)
    scaled = rotation.T @ mixed @ rotation / np.sqrt(np.outer(sums, sums))
    return float(1 / np.linalg.eigvalsh(scaled)[-1])


def inverse_time_constant(hessian, covariance, theta):
    r"""The constant :math:`C` of :math:`\mathbb E\lVert x_t - x^\star\rVert^2 \approx C/t` for
    steps :math:`\eta_t = \theta/t`.

    The linearised recursion :math:`M_{t+1} = M_t - \eta_t (HM_t + M_tH) + \eta_t^2 \Sigma` has
    :math:`M_t \approx \Theta/t` with :math:`\theta(H\Theta + \Theta H) - \Theta = \theta^2 \Sigma`,
    so in the eigenbasis of :math:`H`

    .. math:: C = \operatorname{tr}\Theta
              = \sum_i \frac{\theta^2 \Sigma_{ii}}{2\theta\lambda_i - 1},

    finite only when :math:`\theta > 1 / (2\mu)`; returns ``inf`` otherwise (the rate is then slower
    than :math:`1/t`).
    """
    eigenvalues, vectors = np.linalg.eigh(hessian)
    if 2 * theta * eigenvalues[0] <= 1:
        return np.inf
    diagonal = np.diag(vectors.T @ covariance @ vectors)
    return float(np.sum(theta**2 * diagonal / (2 * theta * eigenvalues - 1)))


def averaging_constant(hessian, covariance):
    r""":math:`\operatorname{tr}(H^{-1}\Sigma H^{-1})`, the limit of
    :math:`T\,\mathbb E\lVert \bar x_T - x^\star\rVert^2` (Polyak-Juditsky).

    :math:`\sqrt T (\bar x_T - x^\star)` tends to :math:`\mathcal N(0, H^{-1}\Sigma H^{-1})`, the
    smallest covariance any estimator built from :math:`T` samples can have (Cramér-Rao).
    """
    inverse = np.linalg.inv(hessian)
    return float(np.trace(inverse @ covariance @ inverse))


def loglog_slope(x, y):
    r"""The least-squares slope of :math:`\log y` against :math:`\log x`: the exponent :math:`p` of
    :math:`y \approx c\,x^p`.

    >>> round(loglog_slope([1, 10, 100], [3.0, 0.3, 0.03]), 12)
    -1.0
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.size < 2 or np.any(x <= 0) or np.any(y <= 0):
        raise ValueError("loglog_slope needs two or more positive x and y values of the same shape")
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])
