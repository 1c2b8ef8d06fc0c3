r"""Momentum SGD fused into backpropagation: the MNIST trainer's fast path.

``torch.optim.SGD`` with momentum :math:`\mu` (no dampening, no Nesterov) keeps a buffer
:math:`b` per parameter and does, for the gradient :math:`g_t` and learning rate
:math:`\gamma_t`,

.. math::

    b_{t+1} = \mu\, b_t + g_t + \lambda \theta_t, \qquad
    \theta_{t+1} = \theta_t - \gamma_t\, b_{t+1}

(:math:`\lambda` the weight decay). Written with NumPy ufuncs, as
:class:`sgd_utils.optim.SGD` does, that is four passes over each weight matrix after
backprop has written :math:`g_t` in a fifth; at the 784 x 256 first layer of a small batch,
those memory passes cost more than the arithmetic of backprop itself.

Here the buffer is stored *scaled*: :math:`b_t = s_t\, u_t` with a scalar :math:`s_t`. Then
:math:`s_{t+1} = \mu s_t` and

.. math::

    u_{t+1} = u_t + \frac{1}{s_{t+1}}\,(g_t + \lambda \theta_t), \qquad
    \theta_{t+1} = \theta_t - (\gamma_t s_{t+1})\, u_{t+1},

which are exactly BLAS's two in-place primitives: backprop adds :math:`g_t / s_{t+1}` into
:math:`u` inside the weight-gradient product (``?gemm`` with :math:`\beta = 1`, see
:meth:`sgd_utils.mlp.MLP.loss_and_grads_unchecked`), and ``?axpy`` adds the scaled
:math:`u` to :math:`\theta`. The multiplication by :math:`\mu` moved from the array to the
scalar. Since :math:`s_t = \mu^t` shrinks, :math:`u` is rescaled to :math:`s = 1` whenever
:math:`s` falls below :data:`RESCALE_BELOW` (one extra pass every 106 steps at
:math:`\mu = 0.9`), so :math:`u` never overflows.

The result is the same algorithm as :class:`~sgd_utils.optim.SGD` and ``torch.optim.SGD``,
learning-rate schedules included, but not bit for bit: the operations round in a different
order (``tests/test_fused_sgd.py`` compares both with PyTorch). :func:`sgd_utils.train.fit`
takes this path by itself when :func:`applies` says it can, and writes the buffers
:math:`b = s u` back into ``optimizer.state`` when it returns, so training can go on with
either path.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.linalg import blas

from .optim import SGD
from .optim.sgd import SGDState

#: Rescale u (and reset s to 1) when s = mu^t falls below this: 2^-16, so |u| <= 65536 |b|.
RESCALE_BELOW = 2.0**-16
_AXPY = {"f": blas.saxpy, "d": blas.daxpy}  # y += a x in place, by dtype.char
_SCAL = {"f": blas.sscal, "d": blas.dscal}  # x *= a in place


def applies(model, optimizer):
    """True if ``optimizer`` is a plain momentum :class:`~sgd_utils.optim.SGD` over
    ``model.params``.

    Plain: momentum in (0, 1], no dampening, no Nesterov, not ``maximize``; its parameters must
    be the model's own C-contiguous arrays, so that updating them in place updates the model.
    """
    hyper = getattr(optimizer, "hyperparams", {})
    return (type(optimizer) is SGD and 0 < hyper["momentum"] <= 1 and hyper["dampening"] == 0
            and not hyper["nesterov"] and not hyper["maximize"]
            and len(optimizer.params) == len(model.params)
            and all(p is q and p.flags.c_contiguous
                    for p, q in zip(optimizer.params, model.params)))


class FusedMomentumSGD:
    """One training step of ``model`` with the plain momentum ``optimizer``, fused as above.

    Construct it when :func:`applies` is true; call :meth:`step` per batch and
    :meth:`write_back` at the end to leave the momentum buffers in ``optimizer.state``.
    """

    def __init__(self, model, optimizer):
        if not applies(model, optimizer):
            raise ValueError("FusedMomentumSGD needs a plain momentum SGD (momentum in (0, 1], no "
                             "dampening, no Nesterov, no maximize) over the model's own params")
        self.model, self.optimizer = model, optimizer
        self.momentum = optimizer.hyperparams["momentum"]
        self.weight_decay = optimizer.hyperparams["weight_decay"]
        # b_0 = s u with s = 1; a missing buffer is zero: mu * 0 + g_0 = g_0, PyTorch's start.
        self.scale = 1.0
        self.scaled_buffers = [
            np.zeros_like(param) if state.momentum_buffer is None
            else np.array(state.momentum_buffer, dtype=param.dtype, order="C", copy=True)
            for param, state in zip(optimizer.params, optimizer.state)]
        self.flat = [(param.reshape(-1), u.reshape(-1))  # 1-D views for the level-1 BLAS calls
                     for param, u in zip(optimizer.params, self.scaled_buffers)]
        self.axpy, self.scal = _AXPY[model.dtype.char], _SCAL[model.dtype.char]

    def step(self, X, y):
        """Backprop on ``(X, y)`` and update the parameters; return the loss.

        A non-finite loss changes nothing (neither the parameters nor the buffers).
        """
        scale = self.scale * self.momentum  # s_{t+1} = mu s_t
        loss = self.model.loss_and_grads_unchecked(X, y, self.scaled_buffers, 1 / scale)
        if not math.isfinite(loss):
            return loss
        step_size = -self.optimizer.lr * scale  # read every step: schedules set optimizer.lr
        for param, u in self.flat:
            if self.weight_decay:
                self.axpy(param, u, a=self.weight_decay / scale)  # u += (lambda / s) theta_t
            self.axpy(u, param, a=step_size)  # theta -= gamma s u
        self.scale = scale
        if scale < RESCALE_BELOW:
            for _, u in self.flat:
                self.scal(scale, u)  # u = b: s back to 1
            self.scale = 1.0
        return loss

    def write_back(self):
        """Store the buffers :math:`b = s u` in ``optimizer.state``, as new arrays."""
        self.optimizer.state = [SGDState(momentum_buffer=self.scale * u)
                                for u in self.scaled_buffers]
