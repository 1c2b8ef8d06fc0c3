r"""Theory of many workers: how staleness limits the learning rate, and how fast gossip mixes.

**Stale gradients.** A parameter server that applies at step :math:`t` a gradient computed at the
parameters of :math:`\tau` steps ago (:math:`x_s = x_0` for :math:`s < 0`), with heavy-ball momentum
:math:`\beta`,

.. math:: b_{t+1} = \beta b_t + g(x_{t-\tau}), \qquad x_{t+1} = x_t - \eta\, b_{t+1},

on :math:`f(x) = \tfrac\lambda2 x^2` makes the error obey a linear recursion whose characteristic
polynomial (:func:`delay_polynomial`) is, with :math:`a = \eta\lambda` and
:math:`D = \max(\tau,1)+1`,

.. math:: p(z) = z^{D} - (1+\beta) z^{D-1} + \beta z^{D-2} + a z^{D-1-\tau};

the iterates contract like :math:`\rho^t`, :math:`\rho` the largest root modulus
(:func:`delayed_rate`). Without momentum they converge iff
:math:`0 < a < 2\sin\bigl(\pi / (2(2\tau+1))\bigr)` (:func:`critical_lr`; Levin & May 1976).

**Hogwild!** With supports of :math:`s` random coordinates out of :math:`d`, a lock-free update
reads about :math:`(W-1)s^2/(2d)` coordinates that another worker wrote meanwhile
(:func:`expected_stale_reads`).

**Gossip.** Workers on a graph replace their value by a weighted average of their neighbours',
:math:`X \leftarrow M X` with :math:`M` symmetric and doubly stochastic. The distance to the average
contracts by at most :math:`\lambda_2 = \max_{i \ge 2} |\lambda_i(M)|` per step
(:func:`mixing_rate`); :math:`1 - \lambda_2` is the spectral gap.

The simulations these predict are in :mod:`sgd_utils.experiments.simulated_workers`.
"""

import math

import numpy as np

from ..bisection import bisect_threshold
from ..checks import check_count


def delay_polynomial(lr_times_curvature, delay, momentum=0.0):
    r"""Coefficients (highest power first) of :math:`p(z)` in the module docstring, for
    ``np.roots``."""
    check_count("delay", delay, 0)
    degree = max(delay, 1) + 1
    coeffs = np.zeros(degree + 1)
    coeffs[0], coeffs[1], coeffs[2] = 1.0, -(1.0 + momentum), momentum
    coeffs[1 + delay] += lr_times_curvature  # the term a z^(D-1-tau)
    return coeffs


def delayed_rate(lr, eigenvalues, delay, momentum=0.0):
    r"""The predicted rate :math:`\max_\lambda \rho` of :func:`async_sgd` on a quadratic.

    For each Hessian eigenvalue :math:`\lambda`, :math:`\rho` is the largest modulus of a root of
    :func:`delay_polynomial` with :math:`a = \eta\lambda`: the distance to the optimum shrinks (or
    grows, if :math:`\rho > 1`) by about :math:`\rho` per step.
    """
    return max(float(np.abs(np.roots(delay_polynomial(lr * lam, delay, momentum))).max())
               for lam in np.atleast_1d(eigenvalues))


def critical_lr(eigenvalue, delay, momentum=0.0, *, tol=1e-10):
    r"""The largest stable learning rate of :func:`async_sgd` on curvature ``eigenvalue``.

    Without momentum the closed form :math:`2\sin(\pi / (2(2\tau+1))) / \lambda`; with momentum,
    bisection on :func:`delayed_rate` between 0 and the delay-free (tau = 0) heavy-ball bound
    :math:`2(1+\beta)/\lambda` (the rate is below 1 for small :math:`\eta` and first reaches 1 at
    the returned value).
    """
    check_count("delay", delay, 0)
    if not eigenvalue > 0 or not 0 <= momentum < 1:
        raise ValueError("need eigenvalue > 0 and 0 <= momentum < 1, "
                         f"got {eigenvalue!r}, {momentum!r}")
    if momentum == 0:
        return 2 * math.sin(math.pi / (2 * (2 * delay + 1))) / eigenvalue
    low, high = 0.0, 2 * (1 + momentum) / eigenvalue
    step = high / 500  # scan up first: the rate may dip below 1 again only past the first crossing
    while low + step < high and delayed_rate(low + step, eigenvalue, delay, momentum) < 1:
        low += step
    return bisect_threshold(lambda lr: delayed_rate(lr, eigenvalue, delay, momentum) < 1,
                            low, min(low + step, high), rtol=tol)


def expected_stale_reads(nnz, dim, num_workers):
    r""":math:`(W-1)s^2/(2d)`: between reading and writing a coordinate a worker makes :math:`s`
    more steps, the others :math:`(W-1)s` in expectation, half of them writes, each on that
    coordinate with probability :math:`1/d`; times the :math:`s` coordinates of the update."""
    return (num_workers - 1) * nnz**2 / (2 * dim)


def mixing_rate(mixing):
    r""":math:`\lambda_2 = \max_{i\ge2} |\lambda_i(M)|` of a symmetric doubly stochastic :math:`M`
    (the spectral gap is :math:`1 - \lambda_2`)."""
    mixing = np.asarray(mixing, dtype=np.float64)
    if not (np.allclose(mixing, mixing.T) and np.allclose(mixing.sum(axis=1), 1)):
        raise ValueError("mixing must be symmetric with rows summing to 1")
    moduli = np.sort(np.abs(np.linalg.eigvalsh(mixing)))
    return float(moduli[-2]) if len(moduli) > 1 else 0.0
