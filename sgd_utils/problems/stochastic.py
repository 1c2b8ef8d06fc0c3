r"""Finite-sum problems whose mini-batch gradients are genuinely noisy.

Both objectives are means over seeded synthetic samples,
:math:`f(w) = \frac1n \sum_{i=1}^n \ell_i(w)`, and ``loss(w, idx)``,
``grad(w, idx)`` are the means over the samples ``idx`` (all when ``None``):
a mini-batch gradient is exactly the mean of the per-sample gradients
(``per_sample_grads``), an unbiased estimate of the full gradient. The
full-batch optimum is computed exactly at construction.
"""

import numpy as np

from .base import as_point, as_points


def _make_rng(seed, rng):
    if seed is not None and rng is not None:
        raise ValueError(f"pass seed or rng, not both: got seed={seed!r} and rng={rng!r}")
    return rng if rng is not None else np.random.default_rng(0 if seed is None else seed)


def _check_sizes(num_samples, dim, noise):
    for name, value in (("num_samples", num_samples), ("dim", dim)):
        if not (isinstance(value, (int, np.integer)) and value >= 1):
            raise ValueError(f"{name} must be a positive integer, got {name}={value!r}")
    if not noise >= 0:
        raise ValueError(f"noise must be >= 0, got noise={noise!r}")


class FiniteSum:
    """Shared machinery: data cast once per dtype, sample selection, grids."""

    name: str
    X: np.ndarray  # (n, d) features
    y: np.ndarray  # (n,) targets

    def __init__(self, X, y):
        self.X, self.y = X, y
        self.num_samples, self.dim = X.shape
        self._by_dtype = {np.dtype(np.float64): (X, y)}

    def _batch(self, x, idx):
        """The point checked, and the samples ``idx`` in the dtype of the point."""
        x = as_point(x, self.dim)
        if x.dtype not in self._by_dtype:
            self._by_dtype[x.dtype] = (self.X.astype(x.dtype), self.y.astype(x.dtype))
        X, y = self._by_dtype[x.dtype]
        if idx is None:
            return x, X, y
        if len(y[idx]) == 0:  # a mean over no samples is undefined
            raise ValueError(f"idx must select at least one sample, got idx={idx!r}")
        return x, X[idx], y[idx]

    def loss(self, x, idx=None):
        """The mean loss over the samples ``idx`` (all when ``None``), a Python float."""
        x, X, y = self._batch(x, idx)
        return float(self._sample_losses(x, X @ x, y).mean() + self._penalty(x))

    def grad(self, x, idx=None):
        """The mean gradient over the samples ``idx``, in the dtype of ``x``."""
        x, X, y = self._batch(x, idx)
        return X.T @ self._dloss_dz(X @ x, y) / len(y) + self._penalty_grad(x)

    def losses(self, points):
        """The full-batch loss at many points at once: ``points`` of shape ``(..., dim)`` gives
        shape ``(...)``, float64."""
        points = as_points(points, self.dim)
        flat = points.reshape(-1, self.dim)
        chunks = [  # a (chunk, n) matrix of margins stays small
            self._sample_losses(chunk, chunk @ self.X.T, self.y).mean(axis=1) + self._penalty(chunk)
            for chunk in np.array_split(flat, max(1, len(flat) // 256))]
        return np.concatenate(chunks).reshape(points.shape[:-1]) if len(flat) else np.empty(
            points.shape[:-1])

    def grads(self, points, idx=None):
        r"""Mini-batch gradients of many independent runs ("chains") at once.

        Row :math:`k` is the mean of :math:`\nabla \ell_i` at ``points[k]`` over the samples
        ``idx[k]``, i.e. ``grad(points[k], idx[k])`` (to rounding: a test checks it), for
        ``points`` of shape ``(K, dim)`` and ``idx`` of shape ``(K, B)``; ``idx=None`` takes all
        samples for every chain.
        """
        points = as_points(points, self.dim)
        if idx is None:
            margins = points @ self.X.T                        # (K, n)
            return self._dloss_dz(margins, self.y) @ self.X / self.num_samples + \
                self._penalty_grad(points)
        idx = np.asarray(idx)
        if idx.shape[:-1] != points.shape[:-1] or idx.shape[-1] == 0:
            raise ValueError(f"idx must have shape {points.shape[:-1] + ('B',)} with B >= 1, "
                             f"got idx.shape={idx.shape}")
        X, y = self.X[idx], self.y[idx]                        # (K, B, d), (K, B)
        margins = np.einsum("kbd,kd->kb", X, points)          # x_i^T w, each sample of each chain
        dloss = self._dloss_dz(margins, y)                    # d loss_i / d margin
        return np.einsum("kbd,kb->kd", X, dloss) / idx.shape[-1] + self._penalty_grad(points)

    def per_sample_grads(self, x, idx=None):
        """The gradient of each sample's loss, shape ``(len(idx), dim)``; their mean is ``grad``."""
        x, X, y = self._batch(x, idx)
        return X * self._dloss_dz(X @ x, y)[:, None] + self._penalty_grad(x)

    @property
    def minimizers(self):
        return self.minimizer[None, :]

    @property
    def bounds(self):
        """A plot extent around the optimum, for 2-D problems only."""
        if self.dim != 2:
            return None
        (a, b) = self.minimizer
        return (a - 2, a + 2, b - 2, b + 2)

    def loss_grid(self, xs, ys):
        """The full-batch loss at every point of a 2-D grid (``xs``, ``ys`` from
        ``np.meshgrid``)."""
        if self.dim != 2:
            raise ValueError(f"loss_grid needs a 2-D problem, got dim={self.dim}")
        return FiniteSum.losses(self, np.stack([xs, ys], axis=-1))   # the means over samples

    def _penalty(self, x):
        return 0.0

    def _penalty_grad(self, x):
        return 0.0

    def __repr__(self):
        return f"<{type(self).__name__} {self.name!r}: {self.num_samples} samples, dim {self.dim}>"


class LeastSquares(FiniteSum):
    r"""Linear least squares on Gaussian data, :math:`\ell_i(w) = \tfrac12 (x_i^\top w - y_i)^2`.

    The data are drawn from ``seed`` (or the generator ``rng``): features
    :math:`x_i \sim \mathcal N(0, I_d)`, true parameters
    :math:`w_\star \sim \mathcal N(0, I_d)` (``true_params``) and targets
    :math:`y_i = x_i^\top w_\star + \sigma \varepsilon_i`, where :math:`n, d,
    \sigma` are ``num_samples``, ``dim``, ``noise``. ``minimizer`` solves the
    normal equations (by ``np.linalg.lstsq``); ``hessian`` :math:`= X^\top X / n`
    with extreme eigenvalues ``mu`` and ``L``.

    Parameters
    ----------
    num_samples, dim : int
        :math:`n` and :math:`d`.
    noise : float
        :math:`\sigma`, the standard deviation of the target noise.
    seed : int, optional
        Seed of the data (0 when neither ``seed`` nor ``rng`` is given).
    rng : numpy.random.Generator, optional
        Draw the data from this generator instead.

    Examples
    --------
    >>> problem = LeastSquares(num_samples=100, dim=3, noise=0.1, seed=0)
    >>> bool(np.abs(problem.grad(problem.minimizer)).max() < 1e-12)
    True
    """

    def __init__(self, num_samples=1000, dim=10, noise=0.1, *, seed=None, rng=None):
        _check_sizes(num_samples, dim, noise)
        rng = _make_rng(seed, rng)
        X = rng.standard_normal((num_samples, dim))
        self.true_params = rng.standard_normal(dim)
        super().__init__(X, X @ self.true_params + noise * rng.standard_normal(num_samples))
        self._solve(f"least squares, n={num_samples}, d={dim}")

    @classmethod
    def from_data(cls, X, y, *, name=None):
        r"""Least squares on given features ``X`` (n, d) and targets ``y`` (n,).

        For data the constructor cannot draw, e.g. features of different
        scales, whose Hessian :math:`X^\top X / n` is badly conditioned.
        ``true_params`` is ``None``; ``minimizer``, ``hessian``,
        ``eigenvalues``, ``mu`` and ``L`` are as for the constructor. ``X`` and
        ``y`` are copied as float64.

        Examples
        --------
        >>> X = np.array([[1.0, 0.0], [0.0, 0.1], [1.0, 0.1]])
        >>> problem = LeastSquares.from_data(X, X @ np.array([2.0, -1.0]))
        >>> problem.minimizer.round(12), problem.min_loss < 1e-20
        (array([ 2., -1.]), True)
        """
        X = np.array(X, dtype=np.float64)
        y = np.array(y, dtype=np.float64)
        if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
            raise ValueError("X must be a non-empty 2-D array (num_samples, dim), "
                             f"got X.shape={X.shape}")
        if y.shape != (X.shape[0],):
            raise ValueError(f"y must have shape ({X.shape[0]},) to match X, got y.shape={y.shape}")
        if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
            raise ValueError("X and y must be finite")
        problem = cls.__new__(cls)
        FiniteSum.__init__(problem, X, y)
        problem.true_params = None
        problem._solve(name or f"least squares on data, n={X.shape[0]}, d={X.shape[1]}")
        return problem

    def _solve(self, name):
        """Name, exact optimum (normal equations, by ``lstsq``) and Hessian spectrum."""
        self.name = name
        self.minimizer = np.linalg.lstsq(self.X, self.y, rcond=None)[0]
        self.min_loss = self.loss(self.minimizer)
        self.hessian = self.X.T @ self.X / self.num_samples
        self.eigenvalues = np.linalg.eigvalsh(self.hessian)
        self.mu, self.L = float(self.eigenvalues[0]), float(self.eigenvalues[-1])

    def loss_gaps(self, points):
        r"""The loss gaps :math:`f(w) - f^\star = \tfrac12 e^\top H e`, :math:`e = w - w^\star`, of
        many points at once: ``points`` of shape ``(..., dim)`` gives an array of shape ``(...)``.

        Exact for least squares (the gradient vanishes at :math:`w^\star` and the Hessian is
        constant). Unlike ``loss(w) - min_loss`` it does not subtract two numbers of the size of
        the noise, so it stays accurate at gaps far below ``min_loss``, and it takes a whole path
        or a stack of runs in one call.

        Examples
        --------
        >>> problem = LeastSquares(num_samples=50, dim=2, noise=0.5, seed=0)
        >>> gaps = problem.loss_gaps([problem.minimizer, problem.minimizer + 1.0])
        >>> gaps.shape, float(gaps[0]), bool(np.isclose(gaps[1],
        ...     problem.loss(problem.minimizer + 1.0) - problem.min_loss))
        ((2,), 0.0, True)
        """
        if np.shape(points)[-1:] != (self.dim,):  # checked first: broadcasting would accept more
            raise ValueError(f"points must have shape (..., {self.dim}), got {np.shape(points)}")
        errors = np.asarray(points, dtype=np.float64) - self.minimizer
        return 0.5 * np.einsum("...i,ij,...j->...", errors, self.hessian, errors)

    def losses(self, points):
        r"""The full-batch loss at many points at once, :math:`f^\star + \tfrac12 e^\top H e`
        (:meth:`loss_gaps`): exact for least squares, and :math:`O(d^2)` per point instead of
        :math:`O(nd)`, so that long runs can be recorded cheaply."""
        return self.min_loss + self.loss_gaps(points)

    def _sample_losses(self, x, z, y):
        return 0.5 * (z - y) ** 2

    def _dloss_dz(self, z, y):
        return z - y


def _sigmoid(z):
    return 0.5 + 0.5 * np.tanh(0.5 * z)  # never overflows, unlike 1 / (1 + exp(-z))


class LogisticRegression(FiniteSum):
    r"""L2-regularised logistic regression on synthetic labels.

    .. math::
        \ell_i(w) = \log\left(1 + e^{x_i^\top w}\right) - y_i \, x_i^\top w
                    + \tfrac{\lambda}{2} \lVert w \rVert^2

    where :math:`\lambda` is ``l2`` and :math:`y_i \in \{0, 1\}`. The
    regulariser sits in every sample's loss, so a mini-batch mean carries it
    once, as with ``weight_decay`` in an optimizer; it makes the loss
    :math:`\lambda`-strongly convex, so the optimum exists even for
    separable data. There is no intercept (append a column of ones to ``X``
    for one). Data from ``seed`` or ``rng``: :math:`x_i \sim \mathcal N(0, I_d)`,
    :math:`w_\star \sim \mathcal N(0, I_d)` (``true_params``) and
    :math:`y_i = [x_i^\top w_\star + \sigma \varepsilon_i > 0]` with
    :math:`\sigma` = ``noise`` (label noise). ``minimizer`` is found by
    Newton's method with backtracking, to machine precision.

    Parameters
    ----------
    num_samples, dim : int
        :math:`n` and :math:`d`.
    noise : float
        :math:`\sigma`, the label noise (0: linearly separable labels).
    l2 : float
        :math:`\lambda > 0`, the L2 regularisation strength.
    seed, rng :
        As for :class:`LeastSquares`.

    Examples
    --------
    >>> problem = LogisticRegression(num_samples=200, dim=2, seed=1)
    >>> bool(np.abs(problem.grad(problem.minimizer)).max() < 1e-14)
    True
    """

    def __init__(self, num_samples=1000, dim=10, noise=0.5, *, l2=1e-2, seed=None, rng=None):
        _check_sizes(num_samples, dim, noise)
        if not l2 > 0:
            raise ValueError(f"l2 must be > 0 (it makes the optimum unique), got l2={l2!r}")
        self.l2 = float(l2)
        rng = _make_rng(seed, rng)
        X = rng.standard_normal((num_samples, dim))
        self.true_params = rng.standard_normal(dim)
        latent = X @ self.true_params + noise * rng.standard_normal(num_samples)
        super().__init__(X, (latent > 0).astype(np.float64))
        self.name = f"logistic regression, n={num_samples}, d={dim}"
        self.minimizer = self._newton()
        self.min_loss = self.loss(self.minimizer)

    def _sample_losses(self, x, z, y):
        return np.logaddexp(0, z) - y * z

    def _dloss_dz(self, z, y):
        return _sigmoid(z) - y

    def _penalty(self, x):
        return 0.5 * self.l2 * np.sum(x * x, axis=-1)

    def _penalty_grad(self, x):
        return self.l2 * x

    def _newton(self, max_iter=100):
        w = np.zeros(self.dim)
        for _ in range(max_iter):
            p = _sigmoid(self.X @ w)
            hessian = ((self.X.T * (p * (1 - p))) @ self.X / self.num_samples
                       + self.l2 * np.eye(self.dim))
            step = np.linalg.solve(hessian, self.grad(w))
            t, loss = 1.0, self.loss(w)
            while self.loss(w - t * step) > loss and t > 1e-10:  # backtrack on overshoot
                t /= 2
            w = w - t * step
            if np.abs(t * step).max() <= 1e-15 * max(1.0, np.abs(w).max()):
                break
        return w
