r"""Convergence rates on a quadratic: what theory predicts, and how to measure it from a run.

On :math:`f(x) = \tfrac12 x^\top H x` every eigen-direction of :math:`H` (eigenvalue
:math:`\lambda`) evolves on its own. Gradient descent multiplies its coordinate by
:math:`1 - \alpha\lambda` per step; the heavy ball in PyTorch's form (velocity
:math:`b`, learning rate :math:`\alpha`, momentum :math:`\beta`),

.. math::
    b_{t+1} = \beta b_t + \lambda x_t, \qquad x_{t+1} = x_t - \alpha b_{t+1},

multiplies the pair :math:`(b_t, x_t)` by the matrix

.. math::
    R = \begin{pmatrix} \beta & \lambda \\ -\alpha\beta & 1 - \alpha\lambda \end{pmatrix},
    \qquad \operatorname{tr} R = 1 + \beta - \alpha\lambda, \quad \det R = \beta,

whose eigenvalues :math:`\sigma_{1,2}` solve
:math:`\sigma^2 - (1 + \beta - \alpha\lambda)\sigma + \beta = 0`. The rate of a direction is the
spectral radius :math:`\max(|\sigma_1|, |\sigma_2|)`; the rate on the whole quadratic is the largest
over its eigenvalues (Goh, "Why Momentum Really Works", 2017).

- :func:`gd_rate`, :func:`heavy_ball_rate`, :func:`nesterov_rate`: the predicted rates.
- :func:`heavy_ball_matrix`, :func:`nesterov_matrix`: the iteration matrices, to check the rates
  against ``numpy.linalg.eigvals``; :func:`root_moduli` solves any such 2x2 matrix.
- :func:`optimal_gd`, :func:`optimal_heavy_ball`: the best constant hyperparameters and their rates.
- :func:`critical_momentum`: the momentum :math:`(1 - \sqrt{\alpha\lambda})^2` of critical damping.
- :func:`measured_rate`: the mean contraction factor per step of a recorded run.
"""

import numpy as np


def gd_rate(lr, eigenvalues):
    r"""The rate :math:`\max_i |1 - \alpha\lambda_i|` of gradient descent with learning rate ``lr``.

    >>> gd_rate(0.1, [1.0, 10.0])
    0.9
    """
    return float(np.max(np.abs(1 - lr * np.asarray(eigenvalues, dtype=np.float64))))


def heavy_ball_matrix(lr, momentum, eigenvalue):
    r"""The iteration matrix :math:`R` of the heavy ball on the pair :math:`(b_t, x_t)` (module
    docstring)."""
    return np.array([[momentum, eigenvalue],
                     [-lr * momentum, 1 - lr * eigenvalue]], dtype=np.float64)


def root_moduli(trace, det):
    r"""The moduli :math:`|\sigma_1| \ge |\sigma_2|` of the roots of
    :math:`\sigma^2 - \tau\sigma + \delta = 0`.

    ``trace`` :math:`\tau` and ``det`` :math:`\delta` of a real 2x2 iteration matrix, broadcasting.
    With discriminant :math:`\Delta = \tau^2 - 4\delta`: for :math:`\Delta < 0` the roots are
    complex conjugates of modulus :math:`\sqrt\delta` (the iterates spiral, "underdamped");
    otherwise they are real, :math:`\tfrac12 (\tau \pm \sqrt\Delta)`.
    """
    trace, det = np.broadcast_arrays(np.asarray(trace, dtype=np.float64),
                                     np.asarray(det, dtype=np.float64))
    disc = trace**2 - 4 * det
    root = np.sqrt(np.abs(disc))
    big = np.maximum(np.abs(trace + root), np.abs(trace - root)) / 2
    small = np.minimum(np.abs(trace + root), np.abs(trace - root)) / 2
    spiral = np.sqrt(np.abs(det))
    return np.where(disc < 0, spiral, big), np.where(disc < 0, spiral, small)


def heavy_ball_root_moduli(lr, momentum, eigenvalue):
    r"""The root moduli of the heavy ball's :math:`R`: trace :math:`1 + \beta - \alpha\lambda`,
    determinant :math:`\beta`."""
    lr, momentum, eigenvalue = (np.asarray(v, dtype=np.float64) for v in (lr, momentum, eigenvalue))
    return root_moduli(1 + momentum - lr * eigenvalue, momentum * np.ones_like(eigenvalue))


def nesterov_matrix(lr, momentum, eigenvalue):
    r"""The iteration matrix of PyTorch's Nesterov momentum on :math:`(b_t, x_t)`.

    With :math:`b_{t+1} = \beta b_t + \lambda x_t` and
    :math:`x_{t+1} = x_t - \alpha(\lambda x_t + \beta b_{t+1})`,

    .. math::
        R_{\rm N} = \begin{pmatrix} \beta & \lambda \\
                     -\alpha\beta^2 & 1 - \alpha\lambda(1 + \beta) \end{pmatrix},
        \qquad \operatorname{tr} = (1 + \beta)(1 - \alpha\lambda),
        \quad \det = \beta (1 - \alpha\lambda).
    """
    return np.array([[momentum, eigenvalue],
                     [-lr * momentum**2, 1 - lr * eigenvalue * (1 + momentum)]], dtype=np.float64)


def nesterov_rate(lr, momentum, eigenvalues):
    r"""The rate of PyTorch's Nesterov momentum on a quadratic, broadcasting as
    :func:`heavy_ball_rate`.

    It converges iff :math:`0 < \alpha\lambda_i < (2 + 2\beta)/(1 + 2\beta)` for every :math:`i`.

    >>> round(nesterov_rate(0.5, 0.5, [1.0]), 12)  # tr = 0.75, det = 0.25: complex roots
    0.5
    """
    eigenvalues = np.asarray(eigenvalues, dtype=np.float64)
    lr = np.asarray(lr, dtype=np.float64)[..., None]
    momentum = np.asarray(momentum, dtype=np.float64)[..., None]
    product = lr * eigenvalues
    rate = root_moduli((1 + momentum) * (1 - product), momentum * (1 - product))[0].max(axis=-1)
    return float(rate) if rate.ndim == 0 else rate


def heavy_ball_rate(lr, momentum, eigenvalues):
    r"""The rate :math:`\max_i \rho(R(\alpha, \beta, \lambda_i))` of the heavy ball on a quadratic.

    ``lr`` and ``momentum`` may be arrays (they broadcast together); the maximum is taken over
    the last axis, that of ``eigenvalues``. The iterates converge iff the rate is below 1, which
    for :math:`0 \le \beta < 1` holds iff :math:`0 < \alpha\lambda_i < 2 + 2\beta` for
    every :math:`i`.

    >>> round(heavy_ball_rate(0.1, 0.0, [1.0, 10.0]), 12)  # no momentum: gradient descent
    0.9
    >>> heavy_ball_rate(1.0, 0.25, [1.0])  # complex roots: the rate is sqrt(momentum)
    0.5
    """
    eigenvalues = np.asarray(eigenvalues, dtype=np.float64)
    lr = np.asarray(lr, dtype=np.float64)[..., None]
    momentum = np.asarray(momentum, dtype=np.float64)[..., None]
    rate = heavy_ball_root_moduli(lr, momentum, eigenvalues)[0].max(axis=-1)
    return float(rate) if rate.ndim == 0 else rate


def optimal_gd(mu, L):
    r"""The best constant learning rate :math:`2/(\mu + L)` of gradient descent and its rate
    :math:`(\kappa - 1)/(\kappa + 1)`, :math:`\kappa = L/\mu`.

    >>> optimal_gd(1.0, 3.0)
    (0.5, 0.5)
    """
    _check_spectrum(mu, L)
    return 2 / (mu + L), (L - mu) / (L + mu)


def optimal_heavy_ball(mu, L):
    r"""Polyak's optimal heavy ball on a quadratic with curvatures in :math:`[\mu, L]`.

    .. math::
        \alpha^\star = \left(\frac{2}{\sqrt{L} + \sqrt{\mu}}\right)^2, \qquad
        \beta^\star = \left(\frac{\sqrt\kappa - 1}{\sqrt\kappa + 1}\right)^2, \qquad
        \rho^\star = \sqrt{\beta^\star} = \frac{\sqrt\kappa - 1}{\sqrt\kappa + 1}.

    Returns ``(lr, momentum, rate)``.

    >>> optimal_heavy_ball(1.0, 9.0)
    (0.25, 0.25, 0.5)
    """
    _check_spectrum(mu, L)
    rate = (np.sqrt(L) - np.sqrt(mu)) / (np.sqrt(L) + np.sqrt(mu))
    return float((2 / (np.sqrt(L) + np.sqrt(mu))) ** 2), float(rate**2), float(rate)


def critical_momentum(lr, eigenvalue):
    r"""The momentum :math:`(1 - \sqrt{\alpha\lambda})^2` of critical damping, for
    :math:`\alpha\lambda \le 1`.

    At this momentum the two roots of :math:`R` coincide (:math:`\Delta = 0`): it is the largest
    momentum at which the direction still converges without oscillating, and it gives the direction
    its fastest rate, :math:`1 - \sqrt{\alpha\lambda}`, for that learning rate.

    >>> critical_momentum(0.25, 1.0)
    0.25
    """
    product = np.asarray(lr, dtype=np.float64) * eigenvalue
    if np.any((product <= 0) | (product > 1)):
        raise ValueError(f"critical damping needs 0 < lr * eigenvalue <= 1, got {product!r}")
    value = (1 - np.sqrt(product)) ** 2
    return float(value) if np.ndim(value) == 0 else value


def _check_spectrum(mu, L):
    if not 0 < mu <= L:
        raise ValueError(f"need 0 < mu <= L, got mu={mu!r}, L={L!r}")
