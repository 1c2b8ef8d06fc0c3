r"""Backpropagation as the equations say it: the readable reference of the fast :class:`~.mlp.MLP`.

:func:`backprop` computes the mean cost of a batch and its gradients with Nielsen's BP1-BP4 in
matrix form (the equations are in :mod:`sgd_utils.nn.mlp`), one line per equation, allocating
every array afresh. :meth:`MLP.loss_and_grads <sgd_utils.nn.mlp.MLP.loss_and_grads>` computes the
same numbers (to rounding: ``tests/test_backprop.py`` checks it) with preallocated buffers, in-place
operations and direct BLAS calls. Those save the allocations (the matrix products, which dominate,
cost the same: 1.0-1.1x at batches of 32-128 for a 784-256-128-10 network) and let the fused
momentum step add gradients into its buffers, but hide the algorithm; chapter 6 quotes this
module instead.
"""
import numpy as np

from .mlp import ACTIVATIONS, COSTS, checked_labels


def sigmoid(z):
    r""":math:`1 / (1 + e^{-z})`, computed as :math:`(1 + \tanh(z/2)) / 2`, which never
    overflows."""
    return 0.5 + 0.5 * np.tanh(0.5 * z)


def activate(name, z):
    r"""The hidden activation :math:`\sigma(z)`: ``"relu"``, ``"sigmoid"`` or ``"tanh"``."""
    if name == "relu":
        return np.maximum(z, 0)
    return sigmoid(z) if name == "sigmoid" else np.tanh(z)


def activation_derivative(name, a):
    r""":math:`\sigma'(z)` written in terms of the activation :math:`a = \sigma(z)`, so that the
    forward pass need keep only the :math:`A^l`."""
    if name == "relu":
        return (a > 0).astype(a.dtype)    # relu'(z) = [z > 0] = [a > 0]
    if name == "sigmoid":
        return a * (1 - a)                # sigma' = sigma (1 - sigma)
    return 1 - a * a                      # tanh' = 1 - tanh^2


def log_softmax(z):
    r"""Row-wise :math:`\log \operatorname{softmax}(z) = z - \log \sum_k e^{z_k}`, with the row
    maximum subtracted first so that no exponential overflows (the "log-sum-exp" trick)."""
    shifted = z - z.max(axis=1, keepdims=True)      # every row's largest entry is now 0
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def backprop(params, X, y, activation="relu", cost="cross_entropy"):
    r"""The mean cost of the batch ``(X, y)`` and its gradients, by backpropagation.

    Parameters
    ----------
    params : list of ndarray
        ``[W1, b1, W2, b2, ...]`` as in :class:`~sgd_utils.nn.mlp.MLP` (``W`` of shape
        ``(fan_in, fan_out)``).
    X : ndarray, shape (B, sizes[0])
    y : ndarray of int, shape (B,)
    activation : {"relu", "sigmoid", "tanh"}
        The hidden layers' :math:`\sigma`.
    cost : {"cross_entropy", "quadratic"}
        Softmax outputs with the cross-entropy, or sigmoid outputs with the quadratic cost.

    Returns
    -------
    loss : float
    grads : list of ndarray, shaped like ``params``

    Examples
    --------
    >>> from sgd_utils.nn.mlp import MLP
    >>> model = MLP([4, 5, 3], activation="tanh", dtype=np.float64, seed=0)
    >>> X, y = np.random.default_rng(1).standard_normal((6, 4)), np.array([0, 1, 2, 0, 1, 2])
    >>> loss, grads = backprop(model.params, X, y, activation="tanh")
    >>> fast_loss, fast_grads = model.loss_and_grads(X, y)
    >>> bool(np.isclose(loss, fast_loss, rtol=1e-13)), [g.shape for g in grads]
    (True, [(4, 5), (5,), (5, 3), (3,)])
    """
    if activation not in ACTIVATIONS or cost not in COSTS:
        raise ValueError(f"activation must be one of {ACTIVATIONS} and cost one of {COSTS}, "
                         f"got activation={activation!r}, cost={cost!r}")
    num_layers = len(params) // 2
    y = checked_labels(y, len(X), params[-1].shape[0])
    # forward pass, keeping every layer's activation: A^0 = X, A^l = sigma(A^(l-1) W^l + b^l)
    acts = [X]
    for layer in range(num_layers):
        z = acts[-1] @ params[2 * layer] + params[2 * layer + 1]
        acts.append(z if layer == num_layers - 1 else activate(activation, z))
    logits = acts.pop()                                   # Z^L, shape (B, K)
    batch_size = len(y)
    one_hot = np.zeros_like(logits)                       # Y, the labels as one-hot rows
    one_hot[np.arange(batch_size), y] = 1
    if cost == "cross_entropy":
        log_p = log_softmax(logits)
        loss = -np.sum(log_p * one_hot) / batch_size      # mean of -log p_(i, y_i)
        delta = (np.exp(log_p) - one_hot) / batch_size    # BP1: (P - Y) / B
    else:
        out = sigmoid(logits)
        loss = 0.5 * np.sum((out - one_hot) ** 2) / batch_size
        delta = (out - one_hot) * out * (1 - out) / batch_size   # BP1 with sigmoid'(Z^L)
    grads = [None] * len(params)
    for layer in reversed(range(num_layers)):             # delta is Delta^(layer + 1)
        grads[2 * layer] = acts[layer].T @ delta          # BP4: (A^(l-1))^T Delta^l
        grads[2 * layer + 1] = delta.sum(axis=0)          # BP3: column sums of Delta^l
        if layer > 0:                                     # BP2: Delta^(l-1)
            delta = (delta @ params[2 * layer].T) * activation_derivative(activation, acts[layer])
    return float(loss), grads
