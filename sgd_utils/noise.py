r"""Mini-batch gradient noise: its size, and the loss it leaves SGD at with a constant
learning rate.

A finite-sum objective :math:`f(w) = \frac1n \sum_i \ell_i(w)` has per-sample gradients
:math:`g_i(w) = \nabla \ell_i(w)` with mean :math:`\nabla f(w)` and covariance

.. math:: \Sigma(w) = \frac1n \sum_{i=1}^n g_i g_i^\top - \nabla f \, \nabla f^\top .

A mini-batch gradient :math:`g_B` averages :math:`B` *distinct* samples drawn uniformly (as one
batch of a shuffled epoch). It is unbiased, and its covariance is that of a sample mean drawn
without replacement from a finite population,

.. math:: \operatorname{Cov}[g_B] = \frac{\Sigma(w)}{B} \cdot \frac{n - B}{n - 1},

so :math:`E\lVert g_B - \nabla f \rVert^2 = \operatorname{tr}\Sigma(w) \, (n - B) / (B (n - 1))`
(:func:`minibatch_noise`): it falls as :math:`1/B`, and vanishes at :math:`B = n`.

For least squares, :math:`\ell_i(w) = \tfrac12 (x_i^\top w - y_i)^2`, SGD with a constant learning
rate :math:`\eta` does not converge but settles where the pull of :math:`I - \eta H` balances the
noise. With :math:`e_t = w_t - w^\star`, :math:`A_i = x_i x_i^\top`, :math:`H = \frac1n\sum_i A_i`
and :math:`\Sigma_\star = \Sigma(w^\star)`, the second moment :math:`C = E[e_t e_t^\top]` of
independent mini-batch steps has the fixed point

.. math:: C = (I - \eta H) C (I - \eta H) + \frac{\eta^2}{B}\frac{n - B}{n - 1}
          \Bigl(\Sigma_\star + \frac1n \sum_i A_i C A_i - H C H\Bigr),

exactly (the noise grows with the distance to :math:`w^\star`, the middle terms), and the *noise
floor* is :math:`E f(w_t) - f^\star = \tfrac12 \operatorname{tr}(H C)` (:func:`sgd_noise_floor`). To
first order in :math:`\eta` it is
:math:`\eta \operatorname{tr}\Sigma_\star (n - B) / (4 B (n - 1))`: proportional to the learning
rate, inversely proportional to the batch size.
"""

import numpy as np


def _check_batch_size(problem, batch_size):
    n = problem.num_samples
    if not (isinstance(batch_size, (int, np.integer)) and 1 <= batch_size <= n):
        raise ValueError(f"batch_size must be an integer in [1, {n}], "
                         f"got batch_size={batch_size!r}")


def _without_replacement(n, batch_size):
    """The finite-population factor (n - B) / (n - 1) (1 when n = 1)."""
    return (n - batch_size) / (n - 1) if n > 1 else 1.0


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
    _check_batch_size(problem, batch_size)
    trace = float(np.trace(gradient_covariance(problem, params)))
    return trace / batch_size * _without_replacement(problem.num_samples, batch_size)


def stationary_covariance(problem, lr, batch_size):
    r""":math:`C = E[(w - w^\star)(w - w^\star)^\top]` at the fixed point of constant-``lr`` SGD on
    least squares.

    Solves the linear fixed-point equation of the module docstring as a :math:`d^2 \times d^2`
    system, with the fourth moments :math:`\frac1n \sum_i A_i \otimes A_i` computed in
    :math:`O(n d^4)`: meant for small ``dim``. Raises ``ValueError`` when no finite fixed point
    exists (``lr`` too large for this batch size: the second moment diverges).
    """
    _check_batch_size(problem, batch_size)
    if not lr > 0:
        raise ValueError(f"lr must be > 0, got lr={lr!r}")
    X, n, d = problem.X, problem.num_samples, problem.dim
    hessian = X.T @ X / n
    scale = lr**2 / batch_size * _without_replacement(n, batch_size)
    contraction = np.eye(d) - lr * hessian
    pairs = np.einsum("ia,ib->iab", X, X).reshape(n, d * d)  # rows vec(A_i)
    fourth = pairs.T @ pairs / n                              # (1/n) sum_i A_i (x) A_i
    operator = (np.kron(contraction, contraction)
                + scale * (fourth - np.kron(hessian, hessian)))
    if np.max(np.abs(np.linalg.eigvals(operator))) >= 1:
        raise ValueError(f"SGD with lr={lr} and batch_size={batch_size} has no finite noise floor "
                         "on this problem: the second moment of the error diverges")
    noise = scale * gradient_covariance(problem, problem.minimizer).reshape(d * d)
    moment = np.linalg.solve(np.eye(d * d) - operator, noise).reshape(d, d)
    return (moment + moment.T) / 2


def sgd_noise_floor(problem, lr, batch_size):
    r"""The stationary loss gap :math:`E f(w_t) - f^\star = \tfrac12 \operatorname{tr}(H C)` of
    constant-``lr`` SGD.

    For :class:`~sgd_utils.problems.LeastSquares` (see :func:`stationary_covariance`).

    >>> from sgd_utils.problems import LeastSquares
    >>> problem = LeastSquares(num_samples=500, dim=2, noise=1.0, seed=0)
    >>> small = sgd_noise_floor(problem, 1e-3, 10)
    >>> first_order = (1e-3 * np.trace(gradient_covariance(problem, problem.minimizer))
    ...                / 40 * 490 / 499)
    >>> bool(abs(small / first_order - 1) < 1e-2)
    True
    """
    hessian = problem.X.T @ problem.X / problem.num_samples
    return 0.5 * float(np.trace(hessian @ stationary_covariance(problem, lr, batch_size)))


def sgd_path(problem, start, lr, batch_size, num_steps, *, schedule=None, seed=0):
    r"""The iterates of mini-batch SGD, as fast as the package's optimizer allows, shape
    ``(num_steps + 1, dim)``.

    The same points as ``run(problem, SGD([start.copy()], lr=lr), num_steps, batch_size=batch_size,
    schedule=schedule, seed=seed).params`` (:func:`sgd_utils.descent.run`; same optimizer, same
    shuffled batches, bit for bit), but without evaluating the full-batch loss or copying the state
    at every step: for the long runs that measure a noise floor, whose losses are then computed in
    bulk (for least squares, :math:`f(w) - f^\star = \tfrac12 (w - w^\star)^\top H (w - w^\star)`).
    No divergence check: a diverging run fills with ``inf`` and ``nan``.
    """
    from .descent import epoch_batches
    from .optim import SGD

    _check_batch_size(problem, batch_size)
    point = np.array(start, dtype=np.float64)
    optimizer = SGD([point], lr=lr)
    batches = epoch_batches(problem.num_samples, batch_size, np.random.default_rng(seed))
    path = np.empty((num_steps + 1, problem.dim))
    path[0] = point
    with np.errstate(all="ignore"):
        for t in range(num_steps):
            if schedule is not None:
                optimizer.lr = schedule(t)
            optimizer.step([problem.grad(point, next(batches))])
            path[t + 1] = point
    return path
