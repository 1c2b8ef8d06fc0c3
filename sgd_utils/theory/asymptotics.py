r"""What the theory of SGD predicts near the optimum of a finite-sum problem, for small steps.

Near :math:`x^\star` two matrices decide everything: the Hessian :math:`H = \nabla^2 f(x^\star)` and
the covariance of one sample's gradient there,

.. math:: \Sigma = \frac1n \sum_{i=1}^n \nabla \ell_i(x^\star) \nabla \ell_i(x^\star)^\top

(the mean gradient vanishes at :math:`x^\star`, so this is a covariance). A mini-batch of :math:`B`
samples drawn with replacement has gradient covariance :math:`\Sigma / B` at :math:`x^\star`.

- :func:`first_order_covariance`: the small-step stationary
  :math:`\mathbb E[(x - x^\star)(x - x^\star)^\top]` of constant-step SGD (the "noise ball";
  :func:`sgd_utils.theory.least_squares.stationary_covariance` is exact for least squares, and
  :func:`~sgd_utils.theory.least_squares.mean_square_stability_limit` gives the step beyond which
  no ball exists).
- :func:`inverse_time_constant`, :func:`averaging_constant`: the constants :math:`C` in
  :math:`\mathbb E \lVert x_T - x^\star \rVert^2 \approx C / T` for the step :math:`\theta / t` and
  for Polyak-Juditsky averaging.
"""

import numpy as np


def first_order_covariance(hessian, covariance, lr):
    r"""The small-step noise ball: the solution of :math:`HM + MH = \eta\,\Sigma_B` (a
    Lyapunov equation).

    In the eigenbasis of :math:`H`, :math:`M_{ij} = \eta\,\Sigma_{ij} / (\lambda_i + \lambda_j)`;
    hence :math:`\operatorname{tr} M = \tfrac{\eta}{2}\operatorname{tr}(H^{-1}\Sigma_B)` and
    :math:`\tfrac12 \operatorname{tr}(HM) = \tfrac{\eta}{4}\operatorname{tr}\Sigma_B`.
    ``covariance`` is the mini-batch covariance :math:`\Sigma_B` (for :math:`B = 1`,
    :func:`sgd_utils.theory.noise.gradient_covariance` at :math:`x^\star`).
    """
    eigenvalues, vectors = np.linalg.eigh(hessian)
    rotated = vectors.T @ covariance @ vectors
    moment = lr * rotated / (eigenvalues[:, None] + eigenvalues[None, :])
    return vectors @ moment @ vectors.T


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
