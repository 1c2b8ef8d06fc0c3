r"""The expected loss of mini-batch SGD on least squares under any learning-rate schedule.

For :math:`\ell_i(w) = \tfrac12 (x_i^\top w - y_i)^2` the error :math:`e_t = w_t - w^\star` of SGD
with learning rate :math:`\eta_t` and batch size :math:`B` obeys

.. math:: e_{t+1} = (I - \eta_t H) e_t - \eta_t \xi_t,

where :math:`\xi_t = g_{B_t}(w_t) - \nabla f(w_t)` is the mini-batch noise. The per-sample gradient
is :math:`g_i(w) = A_i e + x_i r_i` with :math:`A_i = x_i x_i^\top` and residual
:math:`r_i = x_i^\top w^\star - y_i`, so, for a batch of :math:`B` distinct samples drawn uniformly
(see :mod:`sgd_utils.noise`), the first moment :math:`m_t = E e_t` and the second moment
:math:`C_t = E e_t e_t^\top` follow exactly the linear recursions

.. math::
    m_{t+1} &= (I - \eta_t H)\, m_t, \\
    C_{t+1} &= (I - \eta_t H) C_t (I - \eta_t H)
               + \eta_t^2 \, \frac{n - B}{B(n - 1)} \Bigl(\Sigma_\star + K(m_t)
               + \frac1n \sum_i A_i C_t A_i - H C_t H\Bigr),

with :math:`\Sigma_\star = \frac1n \sum_i r_i^2 A_i` (the gradient covariance at the optimum) and
the cross term :math:`K(m) = \frac2n \sum_i r_i (x_i^\top m) A_i` (the two cross products of
:math:`g_i = A_i e + r_i x_i`, each :math:`r_i (x_i^\top e) A_i`), which vanishes once
:math:`m = 0`. The expected loss gap is
:math:`E f(w_t) - f^\star = \tfrac12 \operatorname{tr}(H C_t)`. With a constant rate :math:`C_t`
tends to the fixed point of :func:`sgd_utils.noise.stationary_covariance`.

The recursion treats successive batches as independent (each drawn afresh), and matches the mean of
such runs (tests). An epoch of shuffled batches, as :func:`sgd_utils.descent.run` draws them, uses
each sample once, so the noise of an epoch partly cancels: its loss is lower, by little while the
error forgets its past within an epoch (:math:`\eta\mu \gg B/n`) and by more once the learning rate
has decayed.
"""

import numpy as np


def expected_loss_gaps(problem, start, lrs, batch_size):
    r""":math:`E f(w_t) - f^\star` for :math:`t = 0, \dots, T` of SGD on ``problem``
    (least squares).

    Parameters
    ----------
    problem : LeastSquares
        From :mod:`sgd_utils.problems` (``X``, ``y``, ``minimizer``).
    start : array_like, shape (dim,)
        :math:`w_0`, deterministic.
    lrs : array_like, shape (T,) or (S, T)
        :math:`\eta_0, \dots, \eta_{T-1}`, e.g. ``[schedule(t) for t in range(T)]``; a 2-D array
        holds ``S`` schedules, all propagated at once (one Python loop over the steps).
    batch_size : int
        :math:`B`, between 1 and ``problem.num_samples`` (full batch: the noise term vanishes and
        the result is the loss of gradient descent).

    Returns
    -------
    ndarray, shape (T + 1,) or (S, T + 1)

    Notes
    -----
    With :math:`c = \operatorname{vec} C` (row-major) the step is
    :math:`c \leftarrow c - \eta (H \oplus H) c + \eta^2 (H \otimes H) c + \eta^2 \phi
    \bigl(\operatorname{vec}\Sigma_\star + F c + 2 G m - (H \otimes H) c\bigr)` with
    :math:`H \oplus H = H \otimes I + I \otimes H`, :math:`F = \frac1n \sum_i \operatorname{vec} A_i
    \operatorname{vec} A_i^\top`, :math:`G m = \operatorname{vec} K(m) / 2` and
    :math:`\phi = (n - B)/(B(n - 1))`: :math:`O(d^4)` per step and schedule, after an
    :math:`O(n d^4)` set-up.

    Examples
    --------
    >>> from sgd_utils.problems import LeastSquares
    >>> problem = LeastSquares(num_samples=200, dim=2, noise=0.5, seed=0)
    >>> start = problem.minimizer + 1.0
    >>> gaps = expected_loss_gaps(problem, start, [0.1] * 50, batch_size=200)  # full batch: GD
    >>> error = (np.linalg.matrix_power(np.eye(2) - 0.1 * problem.hessian, 50)
    ...          @ (start - problem.minimizer))
    >>> bool(np.isclose(gaps[-1], 0.5 * error @ problem.hessian @ error))
    True
    """
    n, d = problem.num_samples, problem.dim
    if not (isinstance(batch_size, (int, np.integer)) and 1 <= batch_size <= n):
        raise ValueError(f"batch_size must be an integer in [1, {n}], "
                         f"got batch_size={batch_size!r}")
    lrs = np.asarray(lrs, dtype=np.float64)
    if lrs.ndim not in (1, 2) or not np.all(np.isfinite(lrs) & (lrs >= 0)):
        raise ValueError("lrs must be a 1-D or 2-D array of finite learning rates >= 0")
    start = np.asarray(start, dtype=np.float64)
    if start.shape != (d,):  # before subtracting: broadcasting would take a scalar as (s, ..., s)
        raise ValueError(f"start must have shape ({d},), got {start.shape}")
    error = start - problem.minimizer
    X = problem.X
    hessian = X.T @ X / n
    residuals = X @ problem.minimizer - problem.y                        # r_i, (n,)
    pairs = np.einsum("ia,ib->iab", X, X).reshape(n, d * d)              # rows vec(A_i), (n, d^2)
    fourth = pairs.T @ pairs / n                                         # F, (d^2, d^2)
    cross = pairs.T @ (residuals[:, None] * X) / n                       # G, (d^2, d)
    sigma_star = pairs.T @ residuals**2 / n                              # vec Sigma_star, (d^2,)
    factor = (n - batch_size) / (batch_size * (n - 1)) if n > 1 else 0.0
    eye = np.eye(d)
    ksum = np.kron(hessian, eye) + np.kron(eye, hessian)                 # H (+) H
    kprod = np.kron(hessian, hessian)                                    # H (x) H
    schedules = lrs.reshape(-1, lrs.shape[-1])                           # (S, T)
    mean = np.tile(error, (len(schedules), 1))                           # m, (S, d)
    moment = np.tile(np.outer(error, error).ravel(), (len(schedules), 1))  # c = vec C, (S, d^2)
    gaps = [0.5 * moment @ hessian.ravel()]
    # einsum rather than @ in the loop: these products are small, and a multithreaded BLAS spends
    # more time waking its threads than multiplying (10x slower on a busy 2-core machine).
    for lr in schedules.T:                                               # (S,) rates of step t
        lr = lr[:, None]
        square = np.einsum("sj,ij->si", moment, kprod)
        noise = (sigma_star + np.einsum("sj,ij->si", moment, fourth)
                 + 2 * np.einsum("sj,ij->si", mean, cross) - square)
        moment = (moment - lr * np.einsum("sj,ij->si", moment, ksum)
                  + lr**2 * (square + factor * noise))
        mean = mean - lr * np.einsum("sj,ij->si", mean, hessian)
        gaps.append(0.5 * np.einsum("sj,j->s", moment, hessian.ravel()))
    gaps = np.array(gaps).T                                              # (S, T + 1)
    return gaps[0] if lrs.ndim == 1 else gaps
