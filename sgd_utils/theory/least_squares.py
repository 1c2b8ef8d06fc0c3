r"""SGD on least squares, solved exactly: the moments of its error under any schedule.

For :math:`\ell_i(w) = \tfrac12 (x_i^\top w - y_i)^2` the error :math:`e_t = w_t - w^\star` of SGD
with learning rate :math:`\eta_t` and batch size :math:`B` obeys

.. math:: e_{t+1} = (I - \eta_t A_{\mathcal B_t}) e_t - \eta_t \xi^\star_{\mathcal B_t},

with :math:`A_i = x_i x_i^\top`, :math:`A_{\mathcal B} = \frac1B \sum_{i \in \mathcal B} A_i` and
the noise at the optimum :math:`\xi^\star_{\mathcal B} = \frac1B \sum_{i \in \mathcal B} r_i x_i`,
:math:`r_i = x_i^\top w^\star - y_i`. For a batch of :math:`B` distinct samples drawn uniformly
(:mod:`sgd_utils.theory.noise`) the first moment :math:`m_t = E e_t` and the second moment
:math:`C_t = E e_t e_t^\top` follow exactly the linear recursions

.. math::
    m_{t+1} &= (I - \eta_t H)\, m_t, \\
    C_{t+1} &= C_t - \eta_t (H C_t + C_t H) + \eta_t^2\, \mathcal K_B(C_t)
               + \eta_t^2 \phi_B \bigl(\Sigma_\star + K(m_t)\bigr),

where everything comes from one *kernel* of the data (:func:`moment_kernel`):

- :math:`H = \frac1n \sum_i A_i` and the fourth moment
  :math:`F = \frac1n \sum_i \operatorname{vec} A_i \operatorname{vec} A_i^\top`;
- :math:`\mathcal K_B(C) = E[A_{\mathcal B} C A_{\mathcal B}] = HCH + \phi_B
  \bigl(\frac1n \sum_i A_i C A_i - HCH\bigr)` (:func:`batch_fourth_moment`), with the
  finite-population factor :math:`\phi_B = \frac{n - B}{B(n - 1)}`;
- :math:`\Sigma_\star = \frac1n \sum_i r_i^2 A_i`, the gradient covariance at the optimum, and the
  cross term :math:`K(m) = \frac2n \sum_i r_i (x_i^\top m) A_i`, which vanishes once :math:`m = 0`.

Everything below is that recursion: its fixed point at a constant rate
(:func:`stationary_covariance`, :func:`sgd_noise_floor`), its whole course under a schedule
(:func:`expected_loss_gaps`), and the largest rate at which it stays bounded
(:func:`mean_square_stability_limit`). The expected loss gap is
:math:`E f(w_t) - f^\star = \tfrac12 \operatorname{tr}(H C_t)`.

The recursion treats successive batches as independent (each drawn afresh), and matches the mean of
such runs (tests). An epoch of shuffled batches, as :func:`sgd_utils.descent.run` draws them, uses
each sample once, so the noise of an epoch partly cancels: its loss is lower, by little while the
error forgets its past within an epoch (:math:`\eta\mu \gg B/n`) and by more once the learning rate
has decayed.
"""

from typing import NamedTuple

import numpy as np

from ..checks import check_batch_size
from ..problems import LeastSquares
from .noise import finite_population_factor


class MomentKernel(NamedTuple):
    r"""The data's moments that drive SGD's error on least squares (module docstring).

    Matrices act on :math:`\operatorname{vec} C` in row-major order.
    """

    hessian: np.ndarray     # H, (d, d)
    fourth: np.ndarray      # F = (1/n) sum_i vec(A_i) vec(A_i)^T, (d^2, d^2)
    cross: np.ndarray       # G: vec K(m) = 2 G m, (d^2, d)
    sigma_star: np.ndarray  # vec Sigma_star, (d^2,)
    num_samples: int        # n


def moment_kernel(problem):
    r"""The :class:`MomentKernel` of a :class:`~sgd_utils.problems.LeastSquares` problem.

    :math:`O(n d^4)` time: meant for a small ``dim``.
    """
    if not isinstance(problem, LeastSquares):
        raise TypeError(f"the moment kernel needs a LeastSquares problem, got {problem!r}")
    X, n, d = problem.X, problem.num_samples, problem.dim
    residuals = X @ problem.minimizer - problem.y                # r_i, (n,)
    pairs = np.einsum("ia,ib->iab", X, X).reshape(n, d * d)      # rows vec(A_i), (n, d^2)
    return MomentKernel(hessian=X.T @ X / n, fourth=pairs.T @ pairs / n,
                        cross=pairs.T @ (residuals[:, None] * X) / n,
                        sigma_star=pairs.T @ residuals**2 / n, num_samples=n)


def batch_fourth_moment(kernel, batch_size):
    r"""The matrix of :math:`\mathcal K_B(C) = E[A_{\mathcal B} C A_{\mathcal B}]` on
    :math:`\operatorname{vec} C`, ``(d^2, d^2)``.

    :math:`H \otimes H + \phi_B (F - H \otimes H)`: the batch mean :math:`A_{\mathcal B}` has
    mean :math:`H`, and its fluctuation the covariance of one sample's :math:`A_i` times
    :math:`\phi_B`.
    """
    outer = np.kron(kernel.hessian, kernel.hessian)
    factor = finite_population_factor(kernel.num_samples, batch_size) / batch_size
    return outer + factor * (kernel.fourth - outer)


def _sum_operator(hessian):
    r""":math:`H \oplus H = H \otimes I + I \otimes H`, the matrix of :math:`C \mapsto HC + CH`."""
    eye = np.eye(len(hessian))
    return np.kron(hessian, eye) + np.kron(eye, hessian)


def stationary_covariance(problem, lr, batch_size):
    r""":math:`C = E[(w - w^\star)(w - w^\star)^\top]` at the fixed point of constant-``lr`` SGD on
    least squares.

    Solves :math:`0 = -\eta (HC + CH) + \eta^2 \mathcal K_B(C) + \eta^2 \phi_B \Sigma_\star` (the
    recursion of the module docstring at its fixed point, where :math:`m = 0`) as a
    :math:`d^2 \times d^2` system. Raises ``ValueError`` when no finite fixed point exists
    (``lr`` too large for this batch size: the second moment diverges).
    """
    check_batch_size(batch_size, problem.num_samples)
    if not lr > 0:
        raise ValueError(f"lr must be > 0, got lr={lr!r}")
    kernel = moment_kernel(problem)
    d = problem.dim
    factor = finite_population_factor(kernel.num_samples, batch_size) / batch_size
    operator = (np.eye(d * d) - lr * _sum_operator(kernel.hessian)
                + lr**2 * batch_fourth_moment(kernel, batch_size))
    if np.max(np.abs(np.linalg.eigvals(operator))) >= 1:
        raise ValueError(f"SGD with lr={lr} and batch_size={batch_size} has no finite noise floor "
                         "on this problem: the second moment of the error diverges")
    noise = lr**2 * factor * kernel.sigma_star
    moment = np.linalg.solve(np.eye(d * d) - operator, noise).reshape(d, d)
    return (moment + moment.T) / 2


def sgd_noise_floor(problem, lr, batch_size):
    r"""The stationary loss gap :math:`E f(w_t) - f^\star = \tfrac12 \operatorname{tr}(H C)` of
    constant-``lr`` SGD (:func:`stationary_covariance`).

    >>> from sgd_utils.problems import LeastSquares
    >>> from sgd_utils.theory.noise import gradient_covariance
    >>> problem = LeastSquares(num_samples=500, dim=2, noise=1.0, seed=0)
    >>> small = sgd_noise_floor(problem, 1e-3, 10)
    >>> first_order = (1e-3 * np.trace(gradient_covariance(problem, problem.minimizer))
    ...                / 40 * 490 / 499)
    >>> bool(abs(small / first_order - 1) < 1e-2)
    True
    """
    hessian = problem.X.T @ problem.X / problem.num_samples
    return 0.5 * float(np.trace(hessian @ stationary_covariance(problem, lr, batch_size)))


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
    With :math:`c = \operatorname{vec} C` the step is :math:`c \leftarrow c - \eta (H \oplus H) c
    + \eta^2 \mathcal K_B c + \eta^2 \phi_B (\operatorname{vec}\Sigma_\star + 2 G m)`, with
    :math:`H \oplus H = H \otimes I + I \otimes H`: :math:`O(d^4)` per step and schedule, after the
    :math:`O(n d^4)` kernel.

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
    d = problem.dim
    check_batch_size(batch_size, problem.num_samples)
    lrs = np.asarray(lrs, dtype=np.float64)
    if lrs.ndim not in (1, 2) or not np.all(np.isfinite(lrs) & (lrs >= 0)):
        raise ValueError("lrs must be a 1-D or 2-D array of finite learning rates >= 0")
    start = np.asarray(start, dtype=np.float64)
    if start.shape != (d,):  # before subtracting: broadcasting would take a scalar as (s, ..., s)
        raise ValueError(f"start must have shape ({d},), got {start.shape}")
    kernel = moment_kernel(problem)
    hessian = kernel.hessian
    factor = finite_population_factor(kernel.num_samples, batch_size) / batch_size
    sum_operator = _sum_operator(hessian)                                # H (+) H
    fourth = batch_fourth_moment(kernel, batch_size)                     # K_B
    schedules = lrs.reshape(-1, lrs.shape[-1])                           # (S, T)
    error = start - problem.minimizer
    mean = np.tile(error, (len(schedules), 1))                           # m, (S, d)
    moment = np.tile(np.outer(error, error).ravel(), (len(schedules), 1))  # c = vec C, (S, d^2)
    gaps = [0.5 * moment @ hessian.ravel()]
    # einsum rather than @ in the loop: these products are small, and a multithreaded BLAS spends
    # more time waking its threads than multiplying (10x slower on a busy 2-core machine).
    for lr in schedules.T:                                               # (S,) rates of step t
        lr = lr[:, None]
        noise = kernel.sigma_star + 2 * np.einsum("sj,ij->si", mean, kernel.cross)
        moment = (moment - lr * np.einsum("sj,ij->si", moment, sum_operator)
                  + lr**2 * (np.einsum("sj,ij->si", moment, fourth) + factor * noise))
        mean = mean - lr * np.einsum("sj,ij->si", mean, hessian)
        gaps.append(0.5 * np.einsum("sj,j->s", moment, hessian.ravel()))
    gaps = np.array(gaps).T                                              # (S, T + 1)
    return gaps[0] if lrs.ndim == 1 else gaps


def mean_square_stability_limit(problem, batch_size=1):
    r"""The largest constant step for which :math:`\mathbb E[e_t e_t^\top]` of SGD on least squares
    stays bounded.

    The second moment evolves by the linear map
    :math:`M \mapsto \mathbb E[(I - \eta A) M (I - \eta A)]
    = M - \eta\,(\mathcal L - \eta \mathcal K_B)(M)`, with :math:`\mathcal L(M) = HM + MH` and
    :math:`\mathcal K_B` of the module docstring. The map is positive (it sends positive
    semidefinite matrices to positive semidefinite ones), so as :math:`\eta` grows its spectral
    radius first reaches 1 through the eigenvalue 1, where :math:`\mathcal L - \eta\mathcal K_B` is
    singular: at :math:`\eta = 1 / \lambda_{\max}(\mathcal L^{-1/2}\mathcal K_B\mathcal L^{-1/2})`.
    In the eigenbasis of :math:`H`, :math:`\mathcal L` is diagonal, :math:`\lambda_i + \lambda_j`.
    The limit lies below :math:`2/L`, the limit of full-batch gradient descent.
    """
    check_batch_size(batch_size, problem.num_samples)
    kernel = moment_kernel(problem)
    fourth = batch_fourth_moment(kernel, batch_size)
    eigenvalues, vectors = np.linalg.eigh(kernel.hessian)
    rotation = np.kron(vectors, vectors)  # vec(Q^T M Q) = rotation^T vec(M)
    # L in that basis: lambda_i + lambda_j
    sums = np.add.outer(eigenvalues, eigenvalues).reshape(-1)
    scaled = rotation.T @ fourth @ rotation / np.sqrt(np.outer(sums, sums))
    return float(1 / np.linalg.eigvalsh(scaled)[-1])
