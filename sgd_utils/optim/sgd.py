r"""Gradient descent and stochastic gradient descent with momentum, as in ``torch.optim.SGD``."""

from typing import NamedTuple

import numpy as np

from ..checks import check_flag
from .base import Optimizer, Snapshot, check_fraction, check_non_negative
from .fused_sgd import FusedMomentum, plain_momentum


class GDState(NamedTuple):
    """Plain gradient descent keeps no state; the empty tuple keeps the rules uniform."""


def gd_init(param):
    """Return the (empty) state of gradient descent for ``param``."""
    return GDState()


def gd_update(param, grad, state, *, lr):
    r"""One step of gradient descent.

    .. math::

        \theta \leftarrow \theta - \gamma g

    where :math:`\theta` is ``param``, :math:`g` is ``grad`` and :math:`\gamma` is ``lr``.

    Parameters
    ----------
    param, grad : ndarray
        The parameter and the gradient of the loss at ``param``, same shape and dtype.
    state : GDState
        Unused (gradient descent has no memory); returned unchanged.
    lr : float
        The learning rate :math:`\gamma`.

    Returns
    -------
    new_param : ndarray
        A new array; ``param`` is not modified.
    state : GDState

    Examples
    --------
    >>> x = np.array([1.0, -2.0], dtype=np.float32)
    >>> new_x, _ = gd_update(x, 2 * x, gd_init(x), lr=0.25)  # gradient of ||x||^2
    >>> new_x, new_x.dtype
    (array([ 0.5, -1. ], dtype=float32), dtype('float32'))
    """
    return param - float(lr) * grad, state


class SGDState(NamedTuple):
    """State of SGD: the velocity ``momentum_buffer`` (``None`` until the first step, or without
    momentum)."""

    momentum_buffer: np.ndarray | None


def sgd_init(param):
    """Return the initial state of SGD for ``param``: no momentum buffer yet, as in PyTorch."""
    return SGDState(momentum_buffer=None)


def sgd_update(param, grad, state, *, lr, momentum=0.0, dampening=0.0, weight_decay=0.0,
               nesterov=False, maximize=False):
    r"""One step of SGD with momentum, dampening, Nesterov momentum and weight decay
    (PyTorch's rule).

    .. math::

        g &\leftarrow -g \quad \text{(maximize)} \\
        g &\leftarrow g + \lambda \theta \\
        b &\leftarrow \begin{cases} g & \text{at the first step} \\
                                    \mu b + (1 - \tau) g & \text{afterwards} \end{cases} \\
        g &\leftarrow \begin{cases} g + \mu b & \text{(Nesterov)} \\
                                    b & \text{otherwise} \end{cases} \\
        \theta &\leftarrow \theta - \gamma g

    where :math:`\theta` is ``param``, :math:`g` is ``grad``, :math:`b` is the velocity
    ``state.momentum_buffer``, :math:`\gamma` is ``lr``, :math:`\mu` is ``momentum``,
    :math:`\tau` is ``dampening`` and :math:`\lambda` is ``weight_decay``. With
    ``momentum=0`` the buffer is never created and the rule is gradient descent
    on the loss plus :math:`\tfrac{\lambda}{2}\lVert\theta\rVert^2`.

    Parameters
    ----------
    param, grad : ndarray
        The parameter and the gradient of the loss at ``param``, same shape and dtype.
    state : SGDState
        From :func:`sgd_init` or the previous call.
    lr, momentum, dampening, weight_decay : float
        :math:`\gamma, \mu, \tau, \lambda` above, all >= 0 (checked by :class:`SGD`).
    nesterov : bool
        Use Nesterov momentum (needs ``momentum > 0`` and ``dampening == 0``).
    maximize : bool
        Maximise the objective instead of minimising it: the gradient is negated before
        anything else (so weight decay still shrinks :math:`\theta`), as in PyTorch.

    Returns
    -------
    new_param : ndarray
    new_state : SGDState
        New arrays: neither ``param`` nor ``state`` is modified.

    Notes
    -----
    As in PyTorch, the buffer starts at the first gradient (not at zero) and the
    learning rate multiplies the buffer rather than sitting inside it. Sutskever
    et al. (2013) and Keras write the velocity as :math:`v \leftarrow \mu v - \gamma g`,
    :math:`\theta \leftarrow \theta + v`. With a constant learning rate and no
    dampening the two give the same iterates, with :math:`v = -\gamma b`; when the
    learning rate changes they differ, because PyTorch applies the new rate to
    the whole accumulated velocity. Dampening scales every gradient but the first
    by :math:`1 - \tau` (PyTorch's buffer starts at :math:`g`, not :math:`(1 - \tau) g`).
    Weight decay here is an L2 penalty added to the gradient,
    so it is also accumulated in the momentum (compare :func:`~sgd_utils.optim.adamw_update`).

    Examples
    --------
    >>> x = np.array([1.0, -2.0], dtype=np.float32)
    >>> state = sgd_init(x)
    >>> x1, state = sgd_update(x, 2 * x, state, lr=0.1, momentum=0.9)
    >>> x2, state = sgd_update(x1, 2 * x1, state, lr=0.1, momentum=0.9)
    >>> x1, state.momentum_buffer
    (array([ 0.8, -1.6], dtype=float32), array([ 3.4, -6.8], dtype=float32))
    """
    lr, momentum = float(lr), float(momentum)
    dampening, weight_decay = float(dampening), float(weight_decay)
    if maximize:
        grad = -grad
    if weight_decay != 0:
        grad = grad + weight_decay * param
    buffer = state.momentum_buffer
    if momentum != 0:
        if buffer is None:
            buffer = grad.copy()  # a copy: the state must not alias the caller's gradient
        else:
            buffer = momentum * buffer + (1 - dampening) * grad
        grad = grad + momentum * buffer if nesterov else buffer
    return param - lr * grad, SGDState(momentum_buffer=buffer)


class GD(Optimizer):
    r"""Plain gradient descent, :math:`\theta \leftarrow \theta - \gamma g`, updating
    ``params`` in place.

    The facade of :func:`gd_update`; the same as ``SGD(params, lr)``.

    Examples
    --------
    >>> x = np.array([1.0, -2.0], dtype=np.float32)
    >>> opt = GD([x], lr=0.25)
    >>> opt.step([2 * x])  # the gradient of ||x||^2
    >>> x
    array([ 0.5, -1. ], dtype=float32)
    """

    init_rule = staticmethod(gd_init)
    update_rule = staticmethod(gd_update)

    def __init__(self, params, lr=1e-3):
        super().__init__(params, lr)

    def update_in_place(self, index, param, grad, state):
        """:func:`gd_update` applied in place, bit for bit: x - y and x + (-y) round identically."""
        update = np.multiply(grad, -self._lr, out=self.scratch(index)[0])
        param += update
        return state


class SGD(Optimizer):
    r"""Stochastic gradient descent with momentum, as ``torch.optim.SGD``, updating
    ``params`` in place.

    The facade of :func:`sgd_update` (see there for the maths and how it relates
    to Sutskever's momentum); arguments, defaults and checks are PyTorch's.

    Parameters
    ----------
    params : list of ndarray
        Float arrays updated in place by :meth:`step`.
    lr, momentum, dampening, weight_decay : float
        The learning rate :math:`\gamma`, momentum :math:`\mu`, dampening :math:`\tau`
        and L2 weight decay :math:`\lambda`.
    nesterov : bool
        Nesterov momentum; requires ``momentum > 0`` and ``dampening == 0``.
    maximize : bool
        Maximise the objective (step along the gradient); keyword-only, as in PyTorch.
    fused : bool or None
        How :meth:`train_step` trains a network with plain momentum (no dampening, no Nesterov,
        no ``maximize``): True adds the gradients straight into the momentum buffers inside
        backprop (:mod:`sgd_utils.optim.fused_sgd`), the same algorithm up to rounding with fewer
        passes over memory; False backprops, then :meth:`step`, bit for bit :func:`sgd_update`.
        None (default) takes the fused path where it applies. Keyword-only. (PyTorch's ``fused``
        plays the same role, choosing the implementation, not the algorithm; its None takes
        the unfused path on CPU.)

    Notes
    -----
    :meth:`step` computes exactly what :func:`sgd_update` computes (a test checks
    the bits), but writes through preallocated arrays: at a 784x128 weight a
    step is an in-memory pass per operation, and temporaries would double it.
    The velocity array is still new at each step, so earlier ``opt.state``
    values stay valid for plotting. While the fused path trains, the buffers are held scaled;
    reading ``opt.state`` gives them back as :func:`sgd_update` keeps them.

    Examples
    --------
    >>> x = np.array([1.0, -2.0], dtype=np.float32)
    >>> opt = SGD([x], lr=0.1, momentum=0.9)
    >>> for _ in range(2):
    ...     opt.step([2 * x])
    >>> x, opt.state[0].momentum_buffer
    (array([ 0.46, -0.92], dtype=float32), array([ 3.4, -6.8], dtype=float32))
    """

    init_rule = staticmethod(sgd_init)
    update_rule = staticmethod(sgd_update)

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
                 *, maximize=False, fused=None):
        if fused is not None and not isinstance(fused, bool):
            raise TypeError(f"fused must be None, True or False, got fused={fused!r}")
        self.fused, self._fused = fused, None   # before super().__init__ sets the state
        momentum = check_non_negative("momentum", momentum)
        # the buffer adds (1 - dampening) g: PyTorch does not restrict it, but outside [0, 1]
        # the gradient's weight is negative or above one
        dampening = check_fraction("dampening", dampening)
        weight_decay = check_non_negative("weight_decay", weight_decay)
        nesterov, maximize = check_flag("nesterov", nesterov), check_flag("maximize", maximize)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(
                "Nesterov momentum requires a momentum and zero dampening, "
                f"got nesterov={nesterov}, momentum={momentum}, dampening={dampening}"
            )
        super().__init__(
            params, lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
            nesterov=nesterov, maximize=maximize
        )
        if fused and not plain_momentum(self.hyperparams):
            raise ValueError("fused=True needs plain momentum: momentum in (0, 1], no dampening, "
                             f"no Nesterov, no maximize; got {self.hyperparams}")

    @property
    def state(self):
        """One :class:`SGDState` per parameter (the fused path's scaled buffers, given back)."""
        if self._fused is not None:
            self._state = [SGDState(momentum_buffer=b) for b in self._fused.buffers()]
            self._fused = None
        return self._state

    @state.setter
    def state(self, value):
        self._fused, self._state = None, value

    def train_step(self, model, X, y):
        """Backprop and update, fused for plain momentum (see ``fused``); return the loss."""
        fusable = (self.fused is not False and plain_momentum(self.hyperparams)
                   and len(self.params) == len(model.params)
                   and all(p is q and p.flags.c_contiguous
                           for p, q in zip(self.params, model.params)))
        if not fusable:
            if self.fused:
                raise ValueError("fused=True needs the model's own C-contiguous params: "
                                 "construct SGD(model.params, ...)")
            return super().train_step(model, X, y)
        if self._fused is None:   # all checks first, as in step
            self._check_replaced(self._state)
            self._verified = list(zip(self.params, self._state))
            self._fused = FusedMomentum(self.params, [s.momentum_buffer for s in self._state],
                                        self.hyperparams["momentum"],
                                        self.hyperparams["weight_decay"])
        return self._fused.step(model, X, y, self._lr)

    def snapshot(self):
        """As :meth:`Optimizer.snapshot`; while the fused path trains, its scaled buffers are
        copied as they are, so taking a snapshot does not change the rounding of later steps."""
        if self._fused is None:
            return super().snapshot()
        fused = self._fused
        return Snapshot([param.copy() for param in self.params], None, self._lr,
                        ([u.copy() for u in fused.scaled_buffers], fused.scale))

    def restore(self, snapshot):
        """As :meth:`Optimizer.restore`, for either kind of snapshot."""
        if snapshot.extra is None:
            super().restore(snapshot)
            return
        for param, saved in zip(self.params, snapshot.params):
            np.copyto(param, saved)
        if self._fused is None:
            self._fused = FusedMomentum(self.params, [None] * len(self.params),
                                        self.hyperparams["momentum"],
                                        self.hyperparams["weight_decay"])
        buffers, scale = snapshot.extra
        for u, saved in zip(self._fused.scaled_buffers, buffers):
            np.copyto(u, saved)
        self._fused.scale, self._lr = scale, snapshot.lr

    def update_in_place(self, index, param, grad, state):
        """:func:`sgd_update` applied in place, bit for bit."""
        return _sgd_step_inplace(param, grad, state, self.scratch(index), lr=self._lr,
                                 **self.hyperparams)


def _sgd_step_inplace(param, grad, state, scratch, *, lr, momentum, dampening, weight_decay,
                      nesterov, maximize):
    """:func:`sgd_update` writing ``param`` in place, with the same operations in the same order.

    ``scratch`` is a pair of preallocated arrays shaped like ``param`` for the temporaries.
    """
    update, decayed_grad = scratch
    if maximize:
        grad = -grad  # a new array: in scratch it would be overwritten (weight decay, Nesterov)
    if weight_decay != 0:
        # grad + weight_decay * param (a sum rounds the same either way round)
        grad = np.add(np.multiply(param, weight_decay, out=decayed_grad), grad, out=decayed_grad)
    buffer = state.momentum_buffer
    if momentum != 0:
        if buffer is None:
            buffer = grad.copy()
        else:
            # new: the old state stays intact
            buffer = np.multiply(buffer, momentum, out=np.empty_like(buffer))
            if dampening == 0:
                # (1 - 0) * grad is grad exactly, so skipping the product changes no bit
                buffer += grad
            else:
                buffer += (1 - dampening) * grad
        if nesterov:
            # grad + momentum * buffer
            grad = np.add(np.multiply(buffer, momentum, out=update), grad, out=update)
        else:
            grad = buffer
    # param - lr * grad: x - y and x + (-y) round identically (update may already hold grad; in
    # place is fine)
    np.multiply(grad, -lr, out=update)
    param += update
    return SGDState(momentum_buffer=buffer)
