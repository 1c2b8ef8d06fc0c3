r"""AdaGrad: per-coordinate learning rates from the sum of squared gradients, as in
``torch.optim.Adagrad``."""

from typing import NamedTuple

import numpy as np

from ..checks import check_flag
from .base import Optimizer, check_non_negative


class AdagradState(NamedTuple):
    """State of AdaGrad: the number of steps taken and the running ``sum`` of squared gradients."""

    step: int
    sum: np.ndarray


def adagrad_init(param, initial_accumulator_value=0.0):
    """Return AdaGrad's initial state: no step yet, ``sum`` filled with
    ``initial_accumulator_value``."""
    return AdagradState(step=0, sum=np.full_like(param, float(initial_accumulator_value)))


def adagrad_update(param, grad, state, *, lr, lr_decay=0.0, weight_decay=0.0, eps=1e-10,
                   maximize=False):
    r"""One step of AdaGrad (PyTorch's rule).

    .. math::

        g &\leftarrow -g \quad \text{(maximize)} \\
        t &\leftarrow t + 1 \\
        g &\leftarrow g + \lambda \theta \\
        \tilde\gamma &\leftarrow \gamma / (1 + (t - 1) \eta) \\
        s &\leftarrow s + g^2 \\
        \theta &\leftarrow \theta - \tilde\gamma \, g / (\sqrt{s} + \epsilon)

    where :math:`\theta` is ``param``, :math:`g` is ``grad``, :math:`t` is
    ``state.step``, :math:`s` is ``state.sum``, :math:`\gamma` is ``lr``,
    :math:`\eta` is ``lr_decay``, :math:`\lambda` is ``weight_decay`` and
    :math:`\epsilon` is ``eps``; squares, roots and quotients are per coordinate.
    :math:`s` starts at ``initial_accumulator_value`` (see :func:`adagrad_init`).

    Parameters
    ----------
    param, grad : ndarray
        The parameter and the gradient of the loss at ``param``, same shape and dtype.
    state : AdagradState
        From :func:`adagrad_init` or the previous call.
    lr, lr_decay, weight_decay, eps : float
        :math:`\gamma, \eta, \lambda, \epsilon` above, all >= 0 (checked by :class:`Adagrad`).
    maximize : bool
        Maximise the objective instead of minimising it: the gradient is negated before
        anything else (so weight decay still shrinks :math:`\theta`), as in PyTorch.

    Returns
    -------
    new_param : ndarray
    new_state : AdagradState
        New arrays: neither ``param`` nor ``state`` is modified.

    Notes
    -----
    Duchi, Hazan and Singer (2011). The ``lr_decay`` schedule is PyTorch's own.
    Keras's ``Adagrad`` (Keras 3, TensorFlow >= 2.11) puts :math:`\epsilon` inside
    the square root, :math:`\gamma g / \sqrt{s + \epsilon}`, and has different defaults
    (``initial_accumulator_value=0.1``, ``epsilon=1e-7``); weight decay here
    is an L2 penalty added to the gradient, so it enters the sum of squares.

    Examples
    --------
    The first step moves every coordinate by about ``lr``, whatever its gradient:

    >>> x = np.array([1.0, -2.0], dtype=np.float32)
    >>> new_x, state = adagrad_update(x, np.array([10.0, -0.1], dtype=np.float32), adagrad_init(x),
    ...                               lr=0.5)
    >>> new_x, state.step
    (array([ 0.5, -1.5], dtype=float32), 1)
    """
    lr, lr_decay, weight_decay, eps = float(lr), float(lr_decay), float(weight_decay), float(eps)
    if maximize:
        grad = -grad
    step = state.step + 1
    if weight_decay != 0:
        grad = grad + weight_decay * param
    decayed_lr = lr / (1 + (step - 1) * lr_decay)  # a Python float, as in PyTorch
    sum_of_squares = state.sum + grad * grad
    std = np.sqrt(sum_of_squares) + eps
    return param - decayed_lr * grad / std, AdagradState(step=step, sum=sum_of_squares)


class Adagrad(Optimizer):
    r"""AdaGrad, as ``torch.optim.Adagrad``, updating ``params`` in place.

    The facade of :func:`adagrad_update` (see there for the maths); arguments,
    defaults and checks are PyTorch's.

    Examples
    --------
    >>> x = np.array([1.0, -2.0], dtype=np.float32)
    >>> opt = Adagrad([x], lr=0.5)
    >>> opt.step([2 * x])
    >>> x, opt.state[0].sum
    (array([ 0.5, -1.5], dtype=float32), array([ 4., 16.], dtype=float32))
    """

    init_rule = staticmethod(adagrad_init)
    update_rule = staticmethod(adagrad_update)

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, *, maximize=False):
        self.initial_accumulator_value = check_non_negative("initial_accumulator_value",
                                                            initial_accumulator_value)
        super().__init__(
            params,
            lr,
            lr_decay=check_non_negative("lr_decay", lr_decay),
            weight_decay=check_non_negative("weight_decay", weight_decay),
            eps=check_non_negative("eps", eps),
            maximize=check_flag("maximize", maximize),
        )

    def init_state(self, param):
        if self.initial_accumulator_value > float(np.finfo(param.dtype).max):
            raise ValueError(f"Invalid initial_accumulator_value: "
                             f"{self.initial_accumulator_value} (overflows {param.dtype})")
        return adagrad_init(param, self.initial_accumulator_value)

    def update_in_place(self, index, param, grad, state):
        """:func:`adagrad_update` applied in place, bit for bit (temporaries in
        preallocated arrays)."""
        return _adagrad_step_in_place(param, grad, state, self.scratch(index), lr=self._lr,
                                      **self.hyperparams)


def _adagrad_step_in_place(param, grad, state, scratch, *, lr, lr_decay, weight_decay, eps,
                           maximize):
    """:func:`adagrad_update` writing ``param`` in place, with the same operations in the
    same order."""
    std, update = scratch
    if maximize:
        grad = -grad  # a new array (maximize is rare); the scratch arrays are used below
    step = state.step + 1
    if weight_decay != 0:
        grad = grad + weight_decay * param
    decayed_lr = lr / (1 + (step - 1) * lr_decay)
    # a new array: the old state stays intact
    sum_of_squares = np.multiply(grad, grad, out=np.empty_like(param))
    sum_of_squares += state.sum
    np.sqrt(sum_of_squares, out=std)
    std += eps
    np.multiply(grad, decayed_lr, out=update)
    update /= std
    param -= update
    return AdagradState(step=step, sum=sum_of_squares)
