"""What every test problem shares: argument checks and dtype handling."""

import numpy as np


def as_point(x, dim):
    """``x`` as a float array of shape ``(dim,)``, keeping its float dtype.

    Integer input becomes float64; a float32 point stays float32 so that the
    loss and gradient are computed in float32 (no silent upcast).
    """
    x = np.asarray(x)
    if x.dtype.kind in "iub":
        x = x.astype(np.float64)
    elif x.dtype.kind != "f":
        raise TypeError(f"x must be a real float array, got x.dtype={x.dtype}")
    if x.shape != (dim,):
        raise ValueError(f"x must have shape ({dim},), got x.shape={x.shape}")
    return x


def as_points(points, dim):
    """``points`` as a float array of shape ``(..., dim)``, keeping its float dtype."""
    points = np.asarray(points)
    if points.dtype.kind in "iub":
        points = points.astype(np.float64)
    elif points.dtype.kind != "f":
        raise TypeError(f"points must be a real float array, got points.dtype={points.dtype}")
    if points.shape[-1:] != (dim,):
        raise ValueError(f"points must have shape (..., {dim}), got points.shape={points.shape}")
    return points


class Problem:
    r"""A deterministic objective :math:`f : \mathbb{R}^d \to \mathbb{R}` with its gradient.

    Subclasses set ``dim``, ``name``, ``minimizers`` (array ``(k, dim)``,
    all known minimisers), ``min_loss`` and, in 2-D, ``bounds`` (the plot
    extent ``(x_min, x_max, y_min, y_max)``), and implement ``_loss`` and
    ``_grad`` on arrays whose last axis holds the coordinates.
    """

    dim: int
    name: str
    minimizers: np.ndarray
    min_loss: float
    bounds = None

    @property
    def minimizer(self):
        """The (first) known minimiser, shape ``(dim,)``."""
        return self.minimizers[0]

    def loss(self, x):
        """:math:`f(x)` as a Python float, computed in the dtype of ``x``."""
        return float(self._loss(as_point(x, self.dim)))

    def grad(self, x):
        r""":math:`\nabla f(x)`, an array of the shape and dtype of ``x``."""
        return self._grad(as_point(x, self.dim))

    def losses(self, points):
        """:math:`f` at many points at once: ``points`` of shape ``(..., dim)`` gives shape
        ``(...)``."""
        return np.asarray(self._loss(as_points(points, self.dim)), dtype=np.float64)

    def grads(self, points):
        r""":math:`\nabla f` at each row of ``points`` (shape ``(K, dim)``), the independent runs
        ("chains") of :func:`sgd_utils.descent.run`: one ``grad`` per row, each bit for bit."""
        points = as_points(points, self.dim)
        if points.ndim != 2:
            raise ValueError(f"points must have shape (K, {self.dim}), got {points.shape}")
        return np.array([self.grad(point) for point in points], dtype=points.dtype).reshape(
            points.shape)

    def loss_grid(self, xs, ys):
        """The loss at every point of a 2-D grid (``xs``, ``ys`` from ``np.meshgrid``)."""
        if self.dim != 2:
            raise ValueError(f"loss_grid needs a 2-D problem, got dim={self.dim}")
        return self._loss(np.stack([xs, ys], axis=-1))

    def __repr__(self):
        return f"<{type(self).__name__} {self.name!r}>"
