r"""Gradient checks: analytic gradients (backpropagation) against central finite differences.

For a loss :math:`f` of parameters :math:`\theta` and the unit vector :math:`e_i` of entry
:math:`i`, the central difference with step :math:`h` is

.. math::

    D_h f_i = \frac{f(\theta + h e_i) - f(\theta - h e_i)}{2h}
            = \partial_i f(\theta) + \frac{h^2}{6}\, \partial_i^3 f(\theta) + O(h^4),

so its **truncation error** shrinks like :math:`h^2` (the even terms of the two Taylor series
cancel). Each loss value carries a **rounding error** of about :math:`u\,|f|`, with
:math:`u` the unit roundoff (:math:`2^{-24} \approx 6\times10^{-8}` in float32,
:math:`2^{-53} \approx 1.1\times10^{-16}` in float64), which the division by :math:`2h`
amplifies to about :math:`u|f|/h`. The total error

.. math::

    E(h) \approx \frac{h^2}{6}\,|\partial_i^3 f| + \frac{u\,|f|}{h}

is smallest at :math:`h^\star = (3u|f| / |\partial_i^3 f|)^{1/3}`, of the order of
:math:`u^{1/3}`: about :math:`5\times10^{-6}` in float64 and :math:`4\times10^{-3}` in
float32, where the best attainable error is only about :math:`u^{2/3}`. Gradient checks
are therefore run in float64.

The comparison uses the relative error of each entry,

.. math::

    r_i = \frac{|a_i - n_i|}{\max(|a_i|, |n_i|, \text{floor})},

with :math:`a` the analytic and :math:`n` the numerical gradient; the floor keeps entries
where both are zero (a dead ReLU unit) from dividing by zero.

Kinks: where the loss is not differentiable (a ReLU unit whose pre-activation is exactly 0,
as zero biases and an all-zero input give) the central difference averages the two one-sided
slopes while backpropagation uses ``relu'(0) = 0``; a large error at such an entry is a
property of the point, not a bug. Check at a point whose pre-activations are away from 0.

The step actually taken is measured, not assumed: ``theta + h`` is rounded to the
parameter's dtype, so :func:`central_difference` divides by the difference of the two
stored values, which removes the rounding of the step itself from the error.

Examples
--------
>>> import numpy as np
>>> x = np.array([1.0, 2.0])
>>> loss = lambda: float(np.sum(x ** 3))  # gradient 3 x^2
>>> check = check_gradients(loss, [x], [3 * x ** 2])[0]
>>> check.numeric.round(6), bool(check.max_relative_error < 1e-8)
(array([ 3., 12.]), True)
"""
from __future__ import annotations

from typing import Callable, NamedTuple, Sequence

import numpy as np


class GradCheck(NamedTuple):
    """The check of one parameter array: which entries, and both gradients there.

    Attributes
    ----------
    entries : ndarray of int, shape (k,)
        Flat indices (into ``param.ravel()``) of the entries checked.
    analytic, numeric : ndarray of float64, shape (k,)
        The gradient under test and the central difference at those entries.
    """

    entries: np.ndarray
    analytic: np.ndarray
    numeric: np.ndarray

    @property
    def relative_errors(self) -> np.ndarray:
        """:func:`relative_error` of each checked entry."""
        return relative_error(self.analytic, self.numeric)

    @property
    def max_relative_error(self) -> float:
        """The largest relative error over the checked entries (0.0 if none were checked)."""
        errors = self.relative_errors
        return float(errors.max()) if errors.size else 0.0


def relative_error(analytic, numeric, floor: float = 1e-12) -> np.ndarray:
    r""":math:`|a - n| / \max(|a|, |n|, \mathrm{floor})`, elementwise, in float64.

    >>> relative_error(np.array([1.0, 0.0]), np.array([1.001, 0.0]))
    array([0.000999, 0.      ])
    """
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(numeric, dtype=np.float64)
    if a.shape != n.shape:
        raise ValueError(f"analytic and numeric must have the same shape, got {a.shape} "
                         f"and {n.shape}")
    if not floor > 0:
        raise ValueError(f"floor must be positive, got {floor}")
    return np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), floor)


def central_difference(loss: Callable[[], float], param: np.ndarray, entry: int,
                       eps: float) -> float:
    r"""The central difference :math:`D_h f` of ``loss`` along one entry of ``param``.

    ``loss()`` must evaluate the loss at the current contents of the parameters (e.g.
    ``lambda: model.loss(X, y)``); ``param`` is modified in place during the call and
    restored bit for bit before it returns. ``entry`` is a flat index into
    ``param.ravel()``. The divisor is the step actually stored, ``(theta + h) - (theta - h)``
    after rounding to ``param.dtype``; a step so small that it rounds away raises ValueError.
    """
    flat = param.reshape(-1)  # a view (checked by _checked_params): writes reach param
    saved = flat[entry].copy()
    try:
        flat[entry] = saved + eps
        up_value = float(flat[entry])
        up = float(loss())
        flat[entry] = saved - eps
        down_value = float(flat[entry])
        down = float(loss())
    finally:
        flat[entry] = saved
    if up_value == down_value:
        raise ValueError(f"eps={eps:g} is below half the spacing of {param.dtype} numbers near "
                         f"{float(saved):g}: the perturbed entry rounds back to its value")
    return (up - down) / (up_value - down_value)


def check_gradients(loss: Callable[[], float], params: Sequence[np.ndarray],
                    grads: Sequence[np.ndarray], *, eps: float = 1e-6,
                    num_entries: int | None = None,
                    rng: np.random.Generator | None = None) -> list[GradCheck]:
    r"""Compare ``grads`` with central differences of ``loss``, one :class:`GradCheck` per array.

    Parameters
    ----------
    loss : callable
        ``loss()`` returns the loss (a float) at the current contents of ``params``.
    params : sequence of ndarray
        The parameter arrays ``loss`` reads, e.g. ``model.params``; each entry is moved
        by :math:`\pm` ``eps`` in turn and restored exactly.
    grads : sequence of ndarray
        The gradient under test, shaped like ``params`` (e.g. from backpropagation).
    eps : float
        The step :math:`h` (see the module docstring for its best value).
    num_entries : int or None
        Entries checked per array, drawn without replacement by ``rng``; None checks
        every entry (two loss evaluations each, so only for small networks).
    rng : numpy.random.Generator, optional
        Needed when ``num_entries`` is given and smaller than an array.

    Returns
    -------
    list of GradCheck
    """
    params, grads = _checked_params(params, grads)
    if not (isinstance(eps, (int, float, np.floating)) and eps > 0 and np.isfinite(eps)):
        raise ValueError(f"eps must be a positive finite number, got {eps!r}")
    if num_entries is not None and (isinstance(num_entries, bool)
                                    or not isinstance(num_entries, (int, np.integer))
                                    or num_entries < 1):
        raise ValueError(f"num_entries must be None or an int >= 1, got {num_entries!r}")
    checks = []
    for param, grad in zip(params, grads):
        entries = _chosen_entries(param.size, num_entries, rng)
        numeric = np.array([central_difference(loss, param, int(i), eps) for i in entries],
                           dtype=np.float64)
        analytic = grad.reshape(-1)[entries].astype(np.float64)
        checks.append(GradCheck(entries, analytic, numeric))
    return checks


def _chosen_entries(size, num_entries, rng):
    if num_entries is None or num_entries >= size:
        return np.arange(size)
    if not isinstance(rng, np.random.Generator):
        raise TypeError("rng must be a numpy.random.Generator when num_entries is smaller than "
                        f"a parameter array, got {type(rng).__name__}")
    return np.sort(rng.choice(size, size=num_entries, replace=False))


def _checked_params(params, grads):
    params, grads = list(params), list(grads)
    if len(params) != len(grads):
        raise ValueError(f"params and grads must have the same length, got {len(params)} "
                         f"and {len(grads)}")
    for k, (param, grad) in enumerate(zip(params, grads)):
        if not isinstance(param, np.ndarray) or not np.issubdtype(param.dtype, np.floating):
            raise TypeError(f"params[{k}] must be a float ndarray, got {type(param).__name__}")
        if not param.flags.c_contiguous or not param.flags.writeable:
            raise ValueError(f"params[{k}] must be a writable C-contiguous array, so that it can "
                             "be perturbed in place")
        if np.shape(grad) != param.shape:
            raise ValueError(f"grads[{k}] has shape {np.shape(grad)}, params[{k}] has shape "
                             f"{param.shape}")
    return params, [np.asarray(g) for g in grads]
