r"""Deterministic test objectives: quadratics and the classical 2-D landscapes.

Each computes in the dtype of its input (float32 in, float32 out), and each
``_loss`` works on any array whose last axis holds the coordinates, so a
whole contour grid is evaluated in one call (:meth:`Problem.loss_grid`).
"""

import numpy as np

from .base import Problem


def random_rotation(dim, rng):
    """A uniformly random orthogonal ``(dim, dim)`` matrix (QR of a Gaussian matrix)."""
    rng = np.random.default_rng(rng)
    q, r = np.linalg.qr(rng.standard_normal((dim, dim)))
    return q * np.sign(np.diag(r))  # the sign fix makes the distribution uniform


def _rotation_matrix(rotation, dim):
    if rotation is None:
        return np.eye(dim)
    if np.ndim(rotation) == 0:
        if dim != 2:
            raise ValueError(f"an angle as rotation needs dim=2, got dim={dim}")
        c, s = np.cos(rotation), np.sin(rotation)
        return np.array([[c, -s], [s, c]])
    q = np.asarray(rotation, dtype=np.float64)
    if q.shape != (dim, dim) or not np.allclose(q.T @ q, np.eye(dim), atol=1e-10):
        raise ValueError(f"rotation must be an orthogonal ({dim}, {dim}) matrix or an angle, "
                         f"got {rotation!r}")
    return q


class Quadratic(Problem):
    r"""A strictly convex quadratic with chosen Hessian eigenvalues.

    .. math::
        f(x) = \tfrac12 (x - c)^\top H (x - c), \qquad
        H = Q \, \mathrm{diag}(\lambda_1, \dots, \lambda_d) \, Q^\top

    where :math:`\lambda_i, Q, c` are ``eigenvalues``, ``rotation`` and
    ``center``. ``rotation`` is ``None`` (axes aligned with the
    eigenvectors), an angle in radians (2-D only) or an orthogonal matrix
    whose column :math:`i` is the eigenvector of :math:`\lambda_i`. The
    minimiser is :math:`c`, with loss 0. ``mu`` and ``L`` are the smallest and
    largest eigenvalues: gradient descent converges for ``lr < 2 / L``, at a
    rate set by ``condition_number`` :math:`= L / \mu`.

    Parameters
    ----------
    eigenvalues : array_like, shape (dim,)
        Positive Hessian eigenvalues; their number sets ``dim``.
    rotation : float or ndarray, optional
        Angle (radians, 2-D only) or orthogonal ``(dim, dim)`` matrix;
        :func:`random_rotation` draws one.
    center : array_like, optional
        The minimiser, default the origin.
    name : str, optional
        Label for plots, default ``"quadratic, kappa=..."``.

    Examples
    --------
    >>> q = Quadratic.from_condition_number(10.0)
    >>> q.eigenvalues, q.L, q.condition_number
    (array([ 1., 10.]), 10.0, 10.0)
    >>> q.grad(np.array([1.0, 1.0], dtype=np.float32))
    array([ 1., 10.], dtype=float32)
    """

    def __init__(self, eigenvalues, rotation=None, center=None, name=None):
        eigenvalues = np.asarray(eigenvalues, dtype=np.float64)
        if (eigenvalues.ndim != 1 or eigenvalues.size == 0
                or not np.all(np.isfinite(eigenvalues) & (eigenvalues > 0))):
            raise ValueError("eigenvalues must be a non-empty 1-D array of positive numbers, "
                             f"got {eigenvalues!r}")
        self.dim = eigenvalues.size
        q = _rotation_matrix(rotation, self.dim)
        hessian = (q * eigenvalues) @ q.T
        self.hessian = (hessian + hessian.T) / 2  # exactly symmetric despite rounding
        self.eigenvalues = np.sort(eigenvalues)
        center = np.zeros(self.dim) if center is None else np.asarray(center, dtype=np.float64)
        if center.shape != (self.dim,):
            raise ValueError(f"center must have shape ({self.dim},), "
                             f"got center.shape={center.shape}")
        self.minimizers = center[None, :]
        self.min_loss = 0.0
        self.name = name or f"quadratic, kappa={self.condition_number:g}"
        if self.dim == 2:
            self.bounds = (center[0] - 2, center[0] + 2, center[1] - 2, center[1] + 2)
        self._by_dtype = {}

    @classmethod
    def from_condition_number(cls, condition_number, dim=2, *, mu=1.0, rotation=None, center=None):
        r"""Eigenvalues ``mu`` to ``condition_number * mu``, evenly spaced on a log scale."""
        if not condition_number >= 1:
            raise ValueError("condition_number must be >= 1, "
                             f"got condition_number={condition_number!r}")
        if not (isinstance(dim, (int, np.integer)) and dim >= 1):
            raise ValueError(f"dim must be a positive integer, got dim={dim!r}")
        if not mu > 0:
            raise ValueError(f"mu must be > 0, got mu={mu!r}")
        eigenvalues = mu * np.geomspace(1.0, condition_number, dim)
        return cls(eigenvalues, rotation=rotation, center=center)

    @property
    def mu(self):
        return float(self.eigenvalues[0])

    @property
    def L(self):
        return float(self.eigenvalues[-1])

    @property
    def condition_number(self):
        return self.L / self.mu

    def _constants(self, dtype):
        # Cast once per dtype: a float64 Hessian would upcast float32 points.
        if dtype not in self._by_dtype:
            self._by_dtype[dtype] = (self.hessian.astype(dtype), self.minimizer.astype(dtype))
        return self._by_dtype[dtype]

    def _loss(self, x):
        hessian, center = self._constants(x.dtype)
        d = x - center
        return 0.5 * np.einsum("...i,ij,...j->...", d, hessian, d)

    def _grad(self, x):
        hessian, center = self._constants(x.dtype)
        return hessian @ (x - center)


class Rosenbrock(Problem):
    r"""Rosenbrock's banana valley, :math:`f(x, y) = (a - x)^2 + b (y - x^2)^2`.

    ``a`` and ``b`` are the arguments; the minimiser is :math:`(a, a^2)` with
    loss 0, at the end of a long, curved, flat-bottomed valley.

    >>> Rosenbrock().grad(np.array([0.0, 0.0]))
    array([-2.,  0.])
    """

    dim = 2

    def __init__(self, a=1.0, b=100.0):
        if not b > 0:
            raise ValueError(f"b must be > 0 (else there is no minimum), got b={b!r}")
        self.a, self.b = float(a), float(b)
        self.minimizers = np.array([[self.a, self.a**2]])
        self.min_loss = 0.0
        self.name = "Rosenbrock"
        self.bounds = (self.a - 3, self.a + 1, self.a**2 - 2, self.a**2 + 2)

    def _loss(self, p):
        x, y = p[..., 0], p[..., 1]
        return (self.a - x) ** 2 + self.b * (y - x * x) ** 2

    def _grad(self, p):
        x, y = p[0], p[1]
        valley = y - x * x
        return np.array([-2 * (self.a - x) - 4 * self.b * x * valley, 2 * self.b * valley],
                        dtype=p.dtype)


class Beale(Problem):
    r"""Beale's function, flat plateaus and sharp ridges around a single minimum.

    .. math::
        f(x, y) = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2

    with minimiser :math:`(3, 0.5)` and loss 0.

    >>> Beale().loss(np.array([3.0, 0.5]))
    0.0
    """

    dim = 2
    name = "Beale"
    minimizers = np.array([[3.0, 0.5]])
    min_loss = 0.0
    bounds = (-4.5, 4.5, -4.5, 4.5)
    _constants = (1.5, 2.25, 2.625)

    def _residuals(self, x, y):
        return [c - x + x * y**k for k, c in enumerate(self._constants, start=1)]

    def _loss(self, p):
        return sum(r * r for r in self._residuals(p[..., 0], p[..., 1]))

    def _grad(self, p):
        x, y = p[0], p[1]
        r1, r2, r3 = self._residuals(x, y)
        gx = 2 * (r1 * (y - 1) + r2 * (y * y - 1) + r3 * (y**3 - 1))
        gy = 2 * x * (r1 + 2 * r2 * y + 3 * r3 * y * y)
        return np.array([gx, gy], dtype=p.dtype)


def _himmelblau_grad(x, y, dtype=np.float64):
    a, b = x * x + y - 11, x + y * y - 7
    return np.array([4 * x * a + 2 * b, 2 * a + 4 * y * b], dtype=dtype)


def _polish_himmelblau_minimum(point):
    """Newton's method from a 6-digit estimate to machine precision."""
    x, y = point
    for _ in range(8):
        hessian = np.array([[12 * x * x + 4 * y - 42, 4 * (x + y)],
                            [4 * (x + y), 12 * y * y + 4 * x - 26]])
        x, y = np.array([x, y]) - np.linalg.solve(hessian, _himmelblau_grad(x, y))
    return [x, y]


class Himmelblau(Problem):
    r"""Himmelblau's function, four minima of equal depth.

    .. math:: f(x, y) = (x^2 + y - 11)^2 + (x + y^2 - 7)^2

    The minimisers, all with loss 0, are :math:`(3, 2)` (``minimizer``) and
    about :math:`(-2.805, 3.131)`, :math:`(-3.779, -3.283)`,
    :math:`(3.584, -1.848)`, polished to machine precision in ``minimizers``:
    which one gradient descent reaches depends on the start point.

    >>> np.round(Himmelblau().minimizers, 3)
    array([[ 3.   ,  2.   ],
           [-2.805,  3.131],
           [-3.779, -3.283],
           [ 3.584, -1.848]])
    """

    dim = 2
    name = "Himmelblau"
    minimizers = np.array([[3.0, 2.0]] + [
        _polish_himmelblau_minimum(p)
        for p in [(-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)]
    ])
    min_loss = 0.0
    bounds = (-5.0, 5.0, -5.0, 5.0)

    def _loss(self, p):
        x, y = p[..., 0], p[..., 1]
        return (x * x + y - 11) ** 2 + (x + y * y - 7) ** 2

    def _grad(self, p):
        return _himmelblau_grad(p[0], p[1], p.dtype)


class Saddle(Problem):
    r"""The saddle :math:`f(x, y) = x^2 - y^2`: a stationary point that is no minimum.

    The loss is unbounded below (:math:`y \to \pm\infty`), so there is no
    minimiser: ``minimizer`` is the saddle point :math:`(0, 0)` and
    ``min_loss`` its loss 0, so "loss gaps" here are negative once a run
    escapes along :math:`y`. Gradient descent started exactly on the
    :math:`x` axis converges to the saddle; any :math:`y \ne 0` grows by a
    factor :math:`1 + 2\,\mathrm{lr}` per step.

    >>> Saddle().grad(np.array([1.0, 1.0]))
    array([ 2., -2.])
    """

    dim = 2
    name = "saddle"
    minimizers = np.zeros((1, 2))
    min_loss = 0.0
    bounds = (-2.0, 2.0, -2.0, 2.0)

    def _loss(self, p):
        return p[..., 0] ** 2 - p[..., 1] ** 2

    def _grad(self, p):
        return np.array([2 * p[0], -2 * p[1]], dtype=p.dtype)
