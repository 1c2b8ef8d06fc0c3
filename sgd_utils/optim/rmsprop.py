r"""RMSprop: scale each coordinate by a running root mean square of its gradients, as in
``torch.optim.RMSprop``."""

from typing import NamedTuple

import numpy as np

from ..checks import check_flag
from .base import Optimizer, check_fraction, check_non_negative, lerp, lerp_into


class RMSpropState(NamedTuple):
    """State of RMSprop.

    ``square_avg`` is the running mean of squared gradients; ``grad_avg`` the
    running mean of gradients (only when centered) and ``momentum_buffer`` the
    velocity (only with momentum), ``None`` otherwise, as in PyTorch.
    """

    step: int
    square_avg: np.ndarray
    momentum_buffer: np.ndarray | None
    grad_avg: np.ndarray | None


def rmsprop_init(param, momentum=0.0, centered=False):
    """Return RMSprop's initial state: zero averages, and buffers only for the options in use."""
    return RMSpropState(
        step=0,
        square_avg=np.zeros_like(param),
        momentum_buffer=np.zeros_like(param) if momentum > 0 else None,
        grad_avg=np.zeros_like(param) if centered else None,
    )


def rmsprop_update(param, grad, state, *, lr, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                   centered=False, maximize=False):
    r"""One step of RMSprop, optionally centered and with momentum (PyTorch's rule).

    .. math::

        g &\leftarrow -g \quad \text{(maximize)} \\
        g &\leftarrow g + \lambda \theta \\
        v &\leftarrow \alpha v + (1 - \alpha) g^2 \\
        \bar g &\leftarrow \alpha \bar g + (1 - \alpha) g
            \quad\text{and}\quad \tilde v \leftarrow v - \bar g^2 \quad \text{(centered)},
            \qquad \tilde v \leftarrow v \quad \text{otherwise} \\
        b &\leftarrow \mu b + g / (\sqrt{\tilde v} + \epsilon), \quad
            \theta \leftarrow \theta - \gamma b \quad \text{(momentum)},
            \qquad \theta \leftarrow \theta - \gamma g / (\sqrt{\tilde v} + \epsilon)
            \quad \text{otherwise}

    where :math:`\theta` is ``param``, :math:`g` is ``grad``, :math:`v` is
    ``state.square_avg``, :math:`\bar g` is ``state.grad_avg``, :math:`b` is
    ``state.momentum_buffer`` (all starting at zero), :math:`\gamma` is ``lr``,
    :math:`\alpha` is ``alpha``, :math:`\epsilon` is ``eps``, :math:`\lambda` is
    ``weight_decay`` and :math:`\mu` is ``momentum``; operations are per coordinate.

    Parameters
    ----------
    param, grad : ndarray
        The parameter and the gradient of the loss at ``param``, same shape and dtype.
    state : RMSpropState
        From :func:`rmsprop_init` (with the same ``momentum`` and ``centered``) or the
        previous call.
    lr, alpha, eps, weight_decay, momentum : float
        :math:`\gamma, \alpha, \epsilon, \lambda, \mu` above, all >= 0 (checked by
        :class:`RMSprop`).
    centered : bool
        Divide by an estimate of the gradient's standard deviation rather than its root mean square.
    maximize : bool
        Maximise the objective instead of minimising it: the gradient is negated before
        anything else (so weight decay still shrinks :math:`\theta`), as in PyTorch.

    Returns
    -------
    new_param : ndarray
    new_state : RMSpropState
        New arrays: neither ``param`` nor ``state`` is modified.

    Notes
    -----
    Tieleman and Hinton (2012, lecture 6e); the centered form is Graves (2013).
    Unlike Adam there is no bias correction, so the first steps are large:
    :math:`v` starts at zero and the first step is about
    :math:`\gamma / \sqrt{1 - \alpha}` per coordinate. Keras and TensorFlow add
    :math:`\epsilon` inside the square root, :math:`\sqrt{\tilde v + \epsilon}`,
    default to :math:`\alpha = 0.9` (``rho``) and put the learning rate inside
    the momentum buffer (Sutskever's convention, see :func:`sgd_update`).
    Centered, :math:`v - \bar g^2` is a variance that rounding can push below
    zero when the gradient stays the same for a long time; the step is then NaN
    (with NumPy's "invalid value" warning), as it is in PyTorch.

    Examples
    --------
    >>> x = np.array([1.0, -2.0], dtype=np.float32)
    >>> new_x, state = rmsprop_update(x, 2 * x, rmsprop_init(x), lr=0.01, alpha=0.75)
    >>> new_x, state.square_avg
    (array([ 0.98, -1.98], dtype=float32), array([1., 4.], dtype=float32))
    """
    lr, alpha, eps = float(lr), float(alpha), float(eps)
    weight_decay, momentum = float(weight_decay), float(momentum)
    if maximize:
        grad = -grad
    if weight_decay != 0:
        grad = grad + weight_decay * param
    square_avg = alpha * state.square_avg + (1 - alpha) * grad * grad
    grad_avg = state.grad_avg
    if centered:
        # alpha * grad_avg + (1 - alpha) * grad, rounded as PyTorch
        grad_avg = lerp(grad_avg, grad, 1 - alpha)
        avg = np.sqrt(square_avg - grad_avg * grad_avg) + eps
    else:
        avg = np.sqrt(square_avg) + eps
    buffer = state.momentum_buffer
    if momentum > 0:
        buffer = momentum * buffer + grad / avg
        new_param = param - lr * buffer
    else:
        new_param = param - lr * grad / avg
    return new_param, RMSpropState(step=state.step + 1, square_avg=square_avg,
                                   momentum_buffer=buffer, grad_avg=grad_avg)


class RMSprop(Optimizer):
    r"""RMSprop, as ``torch.optim.RMSprop``, updating ``params`` in place.

    The facade of :func:`rmsprop_update` (see there for the maths); arguments,
    defaults and checks are PyTorch's.

    Examples
    --------
    >>> x = np.array([1.0, -2.0], dtype=np.float32)
    >>> opt = RMSprop([x], lr=0.01, alpha=0.75, momentum=0.5, centered=True)
    >>> opt.step([2 * x])
    >>> sorted(name for name, value in opt.state[0]._asdict().items() if value is not None)
    ['grad_avg', 'momentum_buffer', 'square_avg', 'step']
    """

    init_rule = staticmethod(rmsprop_init)
    update_rule = staticmethod(rmsprop_update)

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, *, maximize=False):
        super().__init__(
            params,
            lr,
            alpha=check_fraction("alpha", alpha),
            eps=check_non_negative("eps", eps),
            weight_decay=check_non_negative("weight_decay", weight_decay),
            momentum=check_non_negative("momentum", momentum),
            centered=check_flag("centered", centered),
            maximize=check_flag("maximize", maximize),
        )

    def init_state(self, param):
        return rmsprop_init(param, self.hyperparams["momentum"], self.hyperparams["centered"])

    def update_in_place(self, index, param, grad, state):
        """:func:`rmsprop_update` applied in place, bit for bit (temporaries in
        preallocated arrays)."""
        return _rmsprop_step_in_place(param, grad, state, self.scratch(index), lr=self._lr,
                                      **self.hyperparams)


def _rmsprop_step_in_place(param, grad, state, scratch, *, lr, alpha, eps, weight_decay, momentum,
                           centered, maximize):
    """:func:`rmsprop_update` writing ``param`` in place, with the same operations in
    the same order.

    The averages and the buffer are new arrays (``out=np.empty_like``), so the old state
    stays intact.
    """
    avg, update = scratch
    if maximize:
        grad = -grad  # a new array (maximize is rare); the scratch arrays are used below
    if weight_decay != 0:
        grad = grad + weight_decay * param
    square_avg = np.multiply(state.square_avg, alpha, out=np.empty_like(param))
    np.multiply(grad, 1 - alpha, out=update)
    update *= grad
    square_avg += update
    grad_avg = state.grad_avg
    if centered:
        grad_avg = lerp_into(grad_avg, grad, 1 - alpha, out=np.empty_like(param))
        np.multiply(grad_avg, grad_avg, out=avg)
        np.subtract(square_avg, avg, out=avg)
        np.sqrt(avg, out=avg)
    else:
        np.sqrt(square_avg, out=avg)
    avg += eps
    buffer = state.momentum_buffer
    if momentum > 0:
        buffer = np.multiply(buffer, momentum, out=np.empty_like(param))
        buffer += np.divide(grad, avg, out=update)
        np.multiply(buffer, lr, out=update)
    else:
        np.multiply(grad, lr, out=update)
        update /= avg
    param -= update
    return RMSpropState(step=state.step + 1, square_avg=square_avg, momentum_buffer=buffer,
                        grad_avg=grad_avg)
