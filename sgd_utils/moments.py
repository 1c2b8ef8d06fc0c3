r"""The expected loss of mini-batch SGD on least squares under any learning-rate schedule.

For :math:`\ell_i(w) = \tfrac12 (x_i^\top w - y_i)^2` the error :math:`e_t = w_t - w^\star` of SGD
with learning rate :math:`\eta_t` and batch size :math:`B` obeys

.. math:: e_{t+1} = (I - \eta_t H) e_t - \eta_t \xi_t,

where :math:`\xi_t = g_{B_t}(w_t) - \nabla f(w_t)` is the mini-batch noise. The per-sample gradient is
:math:`g_i(w) = A_i e + x_i r_i` with :math:`A_i = x_i x_i^\top` and residual
:math:`r_i = x_i^\top w^\star - y_i`, so, for a batch of :math:`B` distinct samples drawn uniformly
(see :mod:`sgd_utils.noise`), the first moment :math:`m_t = E e_t` and the second moment
:math:`C_t = E e_t e_t^\top` follow exactly the linear recursions

.. math::
    m_{t+1} &= (I - \eta_t H)\, m_t, \\
    C_{t+1} &= (I - \eta_t H) C_t (I - \eta_t H)
               + \eta_t^2 \, \frac{n - B}{B(n - 1)} \Bigl(\Sigma_\star + K(m_t) + \frac1n \sum_i A_i C_t A_i
               - H C_t H\Bigr),

with :math:`\Sigma_\star = \frac1n \sum_i r_i^2 A_i` (the gradient covariance at the optimum) and the
cross term :math:`K(m) = \frac1n \sum_i r_i (x_i^\top m) A_i` (twice its symmetric part), which vanishes
once :math:`m = 0`. The expected loss gap is :math:`E f(w_t) - f^\star = \tfrac12 \operatorname{tr}(H C_t)`.
With a constant rate :math:`C_t` tends to the fixed point of :func:`sgd_utils.noise.stationary_covariance`.

The recursion treats successive batches as independent (each drawn afresh), and matches the mean of
such runs (tests). An epoch of shuffled batches, as :func:`sgd_utils.descent.run` draws them, uses each
sample once, so the noise of an epoch partly cancels: its loss is lower, by little while the error
forgets its past within an epoch (:math:`\eta\mu \gg B/n`) and by more once the learning rate has decayed.
"""

import numpy as np


def expected_loss_gaps(problem, start, lrs, batch_size):
    r""":math:`E f(w_t) - f^\star` for :math:`t = 0, \dots, T` of SGD on ``problem`` (least squares).

    Parameters
    ----------
    problem : LeastSquares
        From :mod:`sgd_utils.problems` (``X``, ``y``, ``minimizer``, ``hessian``).
    start : array_like, shape (dim,)
        :math:`w_0`, deterministic.
    lrs : sequence of float, length T
        :math:`\eta_0, \dots, \eta_{T-1}`, e.g. ``[schedule(t) for t in range(T)]``.
    batch_size : int
        :math:`B`, between 1 and ``problem.num_samples`` (full batch: the noise term vanishes and the
        result is the loss of gradient descent).

    Returns
    -------
    ndarray, shape (T + 1,)

    Examples
    --------
    >>> from sgd_utils.problems import LeastSquares
    >>> problem = LeastSquares(num_samples=200, dim=2, noise=0.5, seed=0)
    >>> start = problem.minimizer + 1.0
    >>> gaps = expected_loss_gaps(problem, start, [0.1] * 50, batch_size=200)  # full batch: GD
    >>> error = np.linalg.matrix_power(np.eye(2) - 0.1 * problem.hessian, 50) @ (start - problem.minimizer)
    >>> bool(np.isclose(gaps[-1], 0.5 * error @ problem.hessian @ error))
    True
    """
    n, d = problem.num_samples, problem.dim
    if not (isinstance(batch_size, (int, np.integer)) and 1 <= batch_size <= n):
        raise ValueError(f"batch_size must be an integer in [1, {n}], got batch_size={batch_size!r}")
    lrs = np.asarray(lrs, dtype=np.float64)
    if lrs.ndim != 1 or not np.all(np.isfinite(lrs) & (lrs >= 0)):
        raise ValueError("lrs must be a 1-D sequence of finite learning rates >= 0")
    X = problem.X
    hessian = X.T @ X / n
    residuals = X @ problem.minimizer - problem.y                    # r_i, (n,)
    sigma_star = (X.T * residuals**2) @ X / n                        # (d, d)
    factor = (n - batch_size) / (batch_size * (n - 1)) if n > 1 else 0.0
    mean = np.asarray(start, dtype=np.float64) - problem.minimizer   # m_0 = e_0
    if mean.shape != (d,):
        raise ValueError(f"start must have shape ({d},), got {np.shape(start)}")
    moment = np.outer(mean, mean)                                    # C_0
    gaps = [0.5 * np.sum(hessian * moment)]
    for lr in lrs:
        contraction = np.eye(d) - lr * hessian
        quartic = (X.T * np.einsum("ia,ab,ib->i", X, moment, X)) @ X / n   # (1/n) sum_i A_i C A_i
        cross = (X.T * (residuals * (X @ mean))) @ X / n                    # half of K(m)
        noise = sigma_star + 2 * cross + quartic - hessian @ moment @ hessian
        moment = contraction @ moment @ contraction + lr**2 * factor * noise
        moment = (moment + moment.T) / 2
        mean = contraction @ mean
        gaps.append(0.5 * np.sum(hessian * moment))
    return np.array(gaps)
