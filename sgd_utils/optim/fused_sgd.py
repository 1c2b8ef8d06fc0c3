r"""Momentum SGD fused into backpropagation: the fast path of :class:`~sgd_utils.optim.SGD` when it
trains a network (``SGD.train_step``).

``torch.optim.SGD`` with momentum :math:`\mu` (no dampening, no Nesterov) keeps a buffer
:math:`b` per parameter and does, for the gradient :math:`g_t` and learning rate
:math:`\gamma_t`,

.. math::

    b_{t+1} = \mu\, b_t + g_t + \lambda \theta_t, \qquad
    \theta_{t+1} = \theta_t - \gamma_t\, b_{t+1}

(:math:`\lambda` the weight decay). Written with NumPy ufuncs, as
:func:`~sgd_utils.optim.sgd_update` does, that is four passes over each weight matrix after
backprop has written :math:`g_t` in a fifth; at the 784 x 256 first layer of a small batch,
those memory passes cost more than the arithmetic of backprop itself.

Here the buffer is stored *scaled*: :math:`b_t = s_t\, u_t` with a scalar :math:`s_t`. Then
:math:`s_{t+1} = \mu s_t` and

.. math::

    u_{t+1} = u_t + \frac{1}{s_{t+1}}\,(g_t + \lambda \theta_t), \qquad
    \theta_{t+1} = \theta_t - (\gamma_t s_{t+1})\, u_{t+1},

which are exactly BLAS's two in-place primitives: backprop adds :math:`g_t / s_{t+1}` into
:math:`u` inside the weight-gradient product (``?gemm`` with :math:`\beta = 1`, see
:meth:`sgd_utils.nn.mlp.MLP.loss_and_grads_unchecked`), and ``?axpy`` adds the scaled
:math:`u` to :math:`\theta`. The multiplication by :math:`\mu` moved from the array to the
scalar. Since :math:`s_t = \mu^t` shrinks, :math:`u` is rescaled to :math:`s = 1` whenever
:math:`s` falls below :data:`RESCALE_BELOW` (one extra pass every 106 steps at
:math:`\mu = 0.9`), so :math:`u` never overflows.

The result is the same algorithm as :func:`~sgd_utils.optim.sgd_update` and
``torch.optim.SGD``, learning-rate schedules included, but not bit for bit: the operations round
in a different order (``tests/test_optim_fused_sgd.py`` compares both with PyTorch). ``SGD`` holds
its buffers this way only while it trains a network step after step; reading ``SGD.state`` gives
:math:`b = s u` back, so training can go on with either path.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.linalg import blas

#: Rescale u (and reset s to 1) when s = mu^t falls below this: 2^-16, so |u| <= 65536 |b|.
RESCALE_BELOW = 2.0**-16
_AXPY = {"f": blas.saxpy, "d": blas.daxpy}  # y += a x in place, by dtype.char
_SCAL = {"f": blas.sscal, "d": blas.dscal}  # x *= a in place


def plain_momentum(hyperparams):
    """Whether SGD's settings are the plain momentum the fused step computes: momentum in (0, 1],
    no dampening, no Nesterov, no ``maximize`` (the fused step descends)."""
    return (0 < hyperparams["momentum"] <= 1 and hyperparams["dampening"] == 0
            and not hyperparams["nesterov"] and not hyperparams["maximize"])


class FusedMomentum:
    """The momentum buffers of one SGD held scaled, :math:`b = s u`, and the fused training step.

    Parameters
    ----------
    params : list of ndarray
        The network's own C-contiguous parameters, updated in place.
    buffers : list of ndarray or None
        The momentum buffers :math:`b` to start from (None: no step yet, a zero buffer, which is
        PyTorch's start: :math:`\\mu \\cdot 0 + g_0 = g_0`).
    momentum, weight_decay : float
    """

    def __init__(self, params, buffers, momentum, weight_decay):
        self.momentum, self.weight_decay = momentum, weight_decay
        self.scale = 1.0                                  # s; b_0 = s u with s = 1
        self.scaled_buffers = [
            np.zeros_like(param) if buffer is None
            else np.array(buffer, dtype=param.dtype, order="C", copy=True)
            for param, buffer in zip(params, buffers)]
        self.flat = [(param.reshape(-1), u.reshape(-1))  # 1-D views for the level-1 BLAS calls
                     for param, u in zip(params, self.scaled_buffers)]
        dtype = params[0].dtype.char
        self.axpy, self.scal = _AXPY[dtype], _SCAL[dtype]

    def step(self, model, X, y, lr):
        """Backprop of ``model`` on ``(X, y)``, then the update; return the loss.

        A non-finite loss changes nothing (neither the parameters nor the buffers).
        """
        scale = self.scale * self.momentum  # s_{t+1} = mu s_t
        loss = model.loss_and_grads_unchecked(X, y, self.scaled_buffers, 1 / scale)
        if not math.isfinite(loss):
            return loss
        step_size = -lr * scale
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

    def buffers(self):
        """The momentum buffers :math:`b = s u`, as new arrays."""
        return [self.scale * u for u in self.scaled_buffers]
