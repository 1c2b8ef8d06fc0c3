r"""A multilayer perceptron with backpropagation vectorised over the batch.

The network follows Nielsen's *Neural Networks and Deep Learning*, chapter 2, written for a
whole mini-batch at once. A batch is a matrix whose **rows** are examples, so a weight matrix
has shape ``(fan_in, fan_out)`` (the transpose of Nielsen's ``w``, the same layout as the
weight a reader multiplies by in ``X @ W``; ``torch.nn.Linear`` stores its transpose).

Forward pass, for layers :math:`l = 1, \dots, L` with :math:`A^0 = X`:

.. math::

    Z^l = A^{l-1} W^l + \mathbf{1} b^l, \qquad A^l = \sigma(Z^l),

where :math:`X` is the ``(B, sizes[0])`` batch, :math:`W^l, b^l` are ``params[2l-2]`` and
``params[2l-1]``, :math:`\sigma` is the hidden activation and, at the output layer, the softmax
(cost ``"cross_entropy"``) or the sigmoid (cost ``"quadratic"``). The cost :math:`C` is the
**mean** over the batch. Backpropagation (Nielsen's BP1-BP4 in matrix form, with
:math:`\Delta^l = \partial C / \partial Z^l` of shape ``(B, sizes[l])``):

.. math::

    \text{(BP1)}\quad \Delta^L &= \tfrac{1}{B}\,(\operatorname{softmax}(Z^L) - Y)
        \ \text{(cross-entropy)}, \quad
        \tfrac{1}{B}\,(A^L - Y) \odot \sigma'(Z^L) \ \text{(quadratic)}, \\
    \text{(BP2)}\quad \Delta^l &= \bigl(\Delta^{l+1} (W^{l+1})^\top\bigr) \odot \sigma'(Z^l), \\
    \text{(BP3)}\quad \partial C / \partial b^l &= \mathbf{1}^\top \Delta^l
        \quad\text{(column sums)}, \\
    \text{(BP4)}\quad \partial C / \partial W^l &= (A^{l-1})^\top \Delta^l,

where :math:`Y` is the one-hot ``(B, K)`` matrix of the labels ``y`` and, in BP1,
:math:`\sigma'` is the derivative of the output sigmoid. The :math:`1/B` of the mean enters
once, in BP1; Nielsen's per-example equations are the case :math:`B = 1`.

Speed: every intermediate array lives in a workspace allocated once per batch size and
reused, so a training step allocates (almost) nothing; with a ``scale``,
:meth:`MLP.loss_and_grads_unchecked` adds the gradients into given arrays inside the BLAS
products (the fused momentum step of :mod:`sgd_utils.optim.fused_sgd`); see
``benchmarks/bench_mlp.py``.
"""
from __future__ import annotations

import math
import operator
from numbers import Integral

import numpy as np
from scipy.linalg import blas


ACTIVATIONS = ("relu", "sigmoid", "tanh")
INITS = ("he", "xavier", "glorot", "normal")
COSTS = ("cross_entropy", "quadratic")
_EVAL_CHUNK = 2048  # rows per forward pass when evaluating a whole data set (bounds memory)
_MAX_WORKSPACES = 6  # training: full and last batch; evaluation: chunk and remainders
_BLAS_GEMM = {"f": blas.sgemm, "d": blas.dgemm}  # by dtype.char: float32, float64
_BLAS_GEMV = {"f": blas.sgemv, "d": blas.dgemv}


def _sigmoid_(a):
    """Sigmoid in place as (1 + tanh(z / 2)) / 2: no exp overflow warning for large -z."""
    np.multiply(a, 0.5, out=a)
    np.tanh(a, out=a)
    np.multiply(a, 0.5, out=a)
    np.add(a, 0.5, out=a)


def _activate_(name, a, zeros):
    """Overwrite the pre-activation ``a`` (holding Z) with sigma(Z); ``zeros`` is 0 of a's shape
    for ReLU, because NumPy 2.4's maximum has no fast loop for a scalar operand (measured on a
    (512, 256) float32 array: 41 us against 9 us with an array of zeros)."""
    if name == "relu":
        np.maximum(a, zeros, out=a)
    elif name == "sigmoid":
        _sigmoid_(a)
    else:
        np.tanh(a, out=a)


def _times_derivative_(name, delta, a, scratch):
    """delta *= sigma'(Z), with the derivative written in terms of A = sigma(Z)."""
    if name == "relu":  # relu'(z) = [z > 0] = [a > 0]
        np.greater(a, 0, out=scratch)
    elif name == "sigmoid":  # sigma' = a (1 - a)
        np.subtract(1, a, out=scratch)
        np.multiply(scratch, a, out=scratch)
    else:  # tanh' = 1 - a^2
        np.multiply(a, a, out=scratch)
        np.subtract(1, scratch, out=scratch)
    np.multiply(delta, scratch, out=delta)


def _gemm_accumulate(alpha, a, b, c):
    r"""``c += alpha * a.T @ b`` in place, in one BLAS call (``?gemm`` with :math:`\beta = 1`).

    ``a`` is ``(B, m)``, ``b`` is ``(B, n)`` and ``c`` the C-contiguous ``(m, n)`` result.
    BLAS is column-major, so it is handed the transposes, which are the same memory:
    :math:`c^\top \mathrel{+}= \alpha\, b^\top a`.
    """
    gemm, c_t = _BLAS_GEMM[c.dtype.char], c.T
    result = gemm(alpha, b.T, a.T, beta=1.0, c=c_t, trans_b=True, overwrite_c=True)
    if result is not c_t:  # SciPy returns a copy when it cannot write in place
        raise RuntimeError("BLAS gemm did not accumulate in place; c must be C-contiguous")


def _gemv_accumulate(alpha, a, x, y):
    r"""``y += alpha * a.T @ x`` in place (``?gemv`` with :math:`\beta = 1`); ``a`` is a
    C-contiguous ``(B, n)`` array, which column-major BLAS sees as the ``(n, B)`` matrix
    ``a.T``, and ``y`` a contiguous ``(n,)`` array. BP3's column sums with ``x = 1``: one pass
    over ``a``, where a NumPy reduction, a scaling and an addition take three.
    """
    gemv = _BLAS_GEMV[y.dtype.char]
    result = gemv(alpha, a.T, x, beta=1.0, y=y, overwrite_y=True)
    if result is not y:  # a copy: y was not written in place
        raise RuntimeError("BLAS gemv did not accumulate in place; y must be contiguous")


def _initial_params(sizes, init, rng, dtype):
    """[W1, b1, W2, b2, ...] drawn by the named scheme; see MLP's Notes."""
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        if init == "normal":  # Nielsen, chapter 1: every weight and bias N(0, 1)
            W = rng.standard_normal((fan_in, fan_out), dtype=np.float32)
            b = rng.standard_normal(fan_out, dtype=np.float32)
        elif init == "he":  # N(0, 2 / fan_in): keeps the variance through ReLU layers
            W = rng.standard_normal((fan_in, fan_out), dtype=np.float32)
            W *= np.float32(np.sqrt(2.0 / fan_in))
            b = np.zeros(fan_out, np.float32)
        else:  # Glorot uniform: U(-r, r) with r = sqrt(6 / (fan_in + fan_out))
            r = np.float32(np.sqrt(6.0 / (fan_in + fan_out)))
            W = rng.random((fan_in, fan_out), dtype=np.float32) * (2 * r) - r
            b = np.zeros(fan_out, np.float32)
        params += [W.astype(dtype), b.astype(dtype)]
    return params


class _Workspace:
    """Preallocated buffers for one batch size: activations, deltas and scratch."""

    def __init__(self, sizes, batch_size, activation, dtype):
        hidden = sizes[1:-1]
        self.acts = [np.empty((batch_size, n), dtype) for n in sizes[1:]]  # Z^l then A^l
        self.deltas = [np.empty((batch_size, n), dtype) for n in hidden]  # Delta^l, l < L
        scratch_dtype = bool if activation == "relu" else dtype
        self.scratch = [np.empty((batch_size, n), scratch_dtype) for n in hidden]
        self.zeros = [np.zeros((batch_size, n), dtype) if activation == "relu" else None
                      for n in hidden]  # ReLU's 0, as an array (see _activate_)
        self.ones = np.ones(batch_size, dtype)  # BP3 as a BLAS product: 1^T Delta
        self.out = np.empty((batch_size, sizes[-1]), dtype)  # output activation, then Delta^L
        self.out_scratch = np.empty((batch_size, sizes[-1]), dtype)  # quadratic: a - e_y
        self.out_slope = np.empty((batch_size, sizes[-1]), dtype)  # quadratic: a (1 - a)
        self.row_max = np.empty((batch_size, 1), dtype)  # softmax: max_k Z_k
        self.logits_t = np.empty((sizes[-1], batch_size), dtype)  # Z^L transposed, for the max
        self.row_max_t = self.row_max.reshape(1, batch_size)  # the same memory as a row
        self.lse = np.empty((batch_size, 1), dtype)  # softmax: log sum_k exp(Z_k)
        self.row_offsets = np.arange(0, batch_size * sizes[-1], sizes[-1])  # i K
        self.at_label = np.empty(batch_size, np.intp)


class MLP:
    r"""A fully connected network: hidden activation ``activation``, softmax or sigmoid output.

    Parameters
    ----------
    sizes : sequence of int
        Layer widths from input to output, e.g. ``[784, 128, 10]``; at least two entries.
    activation : {"relu", "sigmoid", "tanh"}
        Hidden-layer nonlinearity :math:`\sigma`.
    init : {"he", "xavier", "glorot", "normal"} or None
        Weight initialisation; None picks "he" for ReLU and "xavier" otherwise.
    cost : {"cross_entropy", "quadratic"}
        ``"cross_entropy"``: softmax output and :math:`C = -\frac1B \sum_i \log p_{i, y_i}`,
        computed with a stable log-sum-exp. ``"quadratic"``: sigmoid output and
        :math:`C = \frac{1}{B} \sum_i \tfrac12 \lVert a^L_i - e_{y_i} \rVert^2` (Nielsen,
        chapter 1, whose :math:`\frac{1}{2n}` is this mean of half squared errors).
    seed : int
        Seed of the ``np.random.default_rng`` drawing the initial weights.
    dtype : numpy dtype
        float32 by default; ``astype(np.float64)`` gives a float64 copy for gradient checks.

    Attributes
    ----------
    params : list of ndarray
        ``[W1, b1, W2, b2, ...]``, ``W`` of shape ``(fan_in, fan_out)``; optimizers update
        these arrays in place.

    Notes
    -----
    "he" draws :math:`W \sim \mathcal N(0, 2/\text{fan\_in})` (``torch.nn.init.kaiming_normal_``
    with ``nonlinearity="relu"``), "xavier"/"glorot" :math:`W \sim U(-r, r)`,
    :math:`r = \sqrt{6/(\text{fan\_in}+\text{fan\_out})}` (``xavier_uniform_``), both with zero
    biases; "normal" is Nielsen's chapter 1 scheme, weights and biases :math:`\mathcal N(0, 1)`.
    ``torch.nn.Linear`` instead defaults to :math:`U(\pm 1/\sqrt{\text{fan\_in}})` for both.

    Examples
    --------
    >>> import numpy as np
    >>> model = MLP([4, 8, 3], seed=0)
    >>> X = np.ones((5, 4), np.float32); y = np.array([0, 1, 2, 1, 0])
    >>> loss, grads = model.loss_and_grads(X, y)
    >>> [g.shape for g in grads], grads[0].dtype
    ([(4, 8), (8,), (8, 3), (3,)], dtype('float32'))
    """

    def __init__(self, sizes, activation="relu", *, init=None, cost="cross_entropy", seed=0,
                 dtype=np.float32):
        self.sizes = _checked_sizes(sizes)
        self.activation = _checked_choice("activation", activation, ACTIVATIONS)
        if init is None:
            init = "he" if activation == "relu" else "xavier"
        self.init = _checked_choice("init", init, INITS)
        self.cost = _checked_choice("cost", cost, COSTS)
        try:
            self.dtype = np.dtype(dtype)
        except (TypeError, ValueError):
            raise TypeError(f"dtype must be float32 or float64, got {dtype!r}") from None
        if self.dtype not in (np.float32, np.float64):
            raise TypeError(f"dtype must be float32 or float64, got {self.dtype}")
        if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (Integral, type(None))):
            raise TypeError(f"seed must be an integer (or None), got seed={seed!r}")
        if seed is not None and seed < 0:
            raise ValueError(f"seed must be >= 0, got seed={seed!r}")
        self.params = _initial_params(self.sizes, self.init, np.random.default_rng(seed),
                                      self.dtype)
        self._workspaces = {}

    def __repr__(self):
        return (f"MLP({self.sizes}, activation={self.activation!r}, init={self.init!r}, "
                f"cost={self.cost!r}, dtype={self.dtype.name})")

    def astype(self, dtype):
        """A copy of the network (same parameter values) computing in ``dtype``."""
        clone = MLP(self.sizes, self.activation, init=self.init, cost=self.cost, dtype=dtype)
        clone.params = [p.astype(dtype, copy=True) for p in self.params]
        return clone

    def forward(self, X):
        """Output activations, ``(B, K)``: softmax probabilities or sigmoid outputs."""
        X = self.check_X(X)
        out = np.empty((X.shape[0], self.sizes[-1]), self.dtype)
        for rows, ws in self._forward_chunks(X):
            self._output_activation(ws)
            out[rows] = ws.out
        return out

    def predict(self, X):
        """Predicted class labels, ``(B,)`` int64: the argmax of the output layer."""
        X = self.check_X(X)
        labels = np.empty(X.shape[0], np.int64)
        for rows, ws in self._forward_chunks(X):
            labels[rows] = ws.acts[-1].argmax(axis=1)  # argmax(Z^L) = argmax(A^L)
        return labels

    def accuracy(self, X, y):
        """Fraction of the rows of ``X`` whose predicted label equals ``y``, a float."""
        return self.evaluate(X, y)[1]

    def loss(self, X, y):
        """Mean cost over the rows of ``X``, a Python float."""
        return self.evaluate(X, y)[0]

    def evaluate(self, X, y):
        """``(mean cost, accuracy)`` over a whole data set in one chunked forward pass."""
        return self.evaluate_unchecked(*self.check_batch(X, y))

    def evaluate_unchecked(self, X, y):
        """:meth:`evaluate` for ``(X, y)`` already checked by :meth:`check_batch` (as ``fit``
        does once for its whole run)."""
        total_cost, num_correct = 0.0, 0
        for rows, ws in self._forward_chunks(X):
            num_correct += int(np.count_nonzero(ws.acts[-1].argmax(axis=1) == y[rows]))
            total_cost += self._cost_and_delta(ws, y[rows], want_delta=False) * len(y[rows])
        return total_cost / len(y), num_correct / len(y)

    def loss_and_grads(self, X, y, out=None):
        """Mean cost on the batch and its gradients ``[dW1, db1, ...]`` (BP1-BP4).

        ``X`` is ``(B, sizes[0])`` and ``y`` the ``(B,)`` integer labels in ``[0, K)``.
        The gradients are written into ``out`` (a list shaped like ``params``) when given,
        otherwise into new arrays. Returns ``(loss, grads)``, the loss a Python float.
        """
        X, y = self.check_batch(X, y)
        if out is None:
            out = [np.empty_like(p) for p in self.params]
        elif len(out) != len(self.params) or any(
                g.shape != p.shape or g.dtype != p.dtype for g, p in zip(out, self.params)):
            raise ValueError("out must be a list of arrays with the shapes and dtype of params")
        return self.loss_and_grads_unchecked(X, y, out), out

    def loss_and_grads_unchecked(self, X, y, grads, scale=None):
        r"""The training step's fast path: no input checks; writes ``grads``, returns the loss.

        ``X`` must be a C-contiguous ``(B, sizes[0])`` array of ``self.dtype`` and ``y``
        valid int labels (``sgd_utils.nn.train.fit`` checks the whole data set once).

        With a float ``scale``, the gradients are *added*: ``grads[k] += scale * dC/dparams[k]``,
        and only when the loss is finite. This is how ``sgd_utils.optim.fused_sgd`` accumulates them
        straight into momentum buffers: BLAS's :math:`C \leftarrow \alpha A^\top B + C` reads
        and writes each buffer once, where writing a gradient and then adding it takes two
        passes more over every weight matrix.
        """
        ws = self._forward(X)
        loss = self._cost_and_delta(ws, y, want_delta=True)
        if scale is None:
            self._backward(ws, X, grads)
        elif math.isfinite(loss):
            self._backward(ws, X, grads, scale)
        return loss

    def _workspace(self, batch_size):
        ws = self._workspaces.get(batch_size)
        if ws is None:
            if len(self._workspaces) >= _MAX_WORKSPACES:
                self._workspaces.pop(next(iter(self._workspaces)))  # drop the oldest
            ws = _Workspace(self.sizes, batch_size, self.activation, self.dtype)
            self._workspaces[batch_size] = ws
        return ws

    def _forward_chunks(self, X):
        """Forward passes over ``_EVAL_CHUNK`` rows at a time (bounded memory)."""
        for start in range(0, X.shape[0], _EVAL_CHUNK):
            rows = slice(start, start + _EVAL_CHUNK)
            yield rows, self._forward(X[rows])

    def _forward(self, X):
        """Z^l = A^(l-1) W^l + b^l; hidden A^l = sigma(Z^l) in place; leaves Z^L (logits)."""
        ws = self._workspace(X.shape[0])
        a_prev = X  # (B, sizes[0])
        last = len(ws.acts) - 1
        for layer, a in enumerate(ws.acts):  # a: (B, sizes[layer + 1])
            W, b = self.params[2 * layer], self.params[2 * layer + 1]
            np.matmul(a_prev, W, out=a)
            np.add(a, b, out=a)
            if layer < last:
                _activate_(self.activation, a, ws.zeros[layer])
            a_prev = a
        return ws

    def _output_activation(self, ws):
        """ws.out = softmax(Z^L) or sigmoid(Z^L); for softmax, ws.lse = log sum_k exp(Z^L)."""
        z, p = ws.acts[-1], ws.out  # (B, K)
        if self.cost == "quadratic":
            np.copyto(p, z)
            _sigmoid_(p)
            return
        # ufunc.reduce rather than np.max/np.sum: ~1 us less per call at small batch sizes.
        # The row max (the shift that keeps exp <= 1) is taken over a transposed copy: NumPy's
        # maximum along a short contiguous axis loops once per row, and the copy plus a
        # reduction down K contiguous rows took 1.9 us against 6.2 us at B = 128 (3.2 against
        # 22.7 at B = 512). A max is exact in any order, so the result is the same to the bit.
        np.copyto(ws.logits_t, z.T)
        np.maximum.reduce(ws.logits_t, axis=0, keepdims=True, out=ws.row_max_t)
        np.subtract(z, ws.row_max, out=p)
        np.exp(p, out=p)
        np.add.reduce(p, axis=1, keepdims=True, out=ws.lse)
        np.divide(p, ws.lse, out=p)
        np.log(ws.lse, out=ws.lse)
        np.add(ws.lse, ws.row_max, out=ws.lse)

    def _cost_and_delta(self, ws, y, want_delta):
        """Mean cost of the batch; with want_delta, ws.out becomes Delta^L (BP1)."""
        self._output_activation(ws)
        batch_size, p = len(y), ws.out
        # Entry (i, y_i) of a raveled (B, K) array: one flat index is ~2x faster than [rows, y].
        at_label = np.add(ws.row_offsets, y, out=ws.at_label)
        if self.cost == "cross_entropy":  # -log p_y = logsumexp(z) - z_y
            loss = float(np.add.reduce(ws.lse, axis=None) - np.add.reduce(
                ws.acts[-1].reshape(-1)[at_label])) / batch_size
            if want_delta:
                ws.out.reshape(-1)[at_label] -= 1  # softmax(Z) - Y
                np.multiply(p, 1 / batch_size, out=p)
            return loss
        err, slope = ws.out_scratch, ws.out_slope
        np.copyto(err, p)
        err.reshape(-1)[at_label] -= 1  # a^L - e_y
        loss = 0.5 * float(np.vdot(err, err)) / batch_size
        if want_delta:  # (a - e_y) * sigmoid'(z) / B, with sigmoid'(z) = a (1 - a)
            np.subtract(1, p, out=slope)
            np.multiply(slope, p, out=slope)
            np.multiply(err, slope, out=p)
            np.multiply(p, 1 / batch_size, out=p)
        return loss

    def _backward(self, ws, X, grads, scale=None):
        """BP2-BP4 from Delta^L = ws.out down to the first layer, written into (or, with a
        ``scale``, added to) grads."""
        delta = ws.out  # (B, K)
        for layer in range(len(ws.acts) - 1, -1, -1):
            a_prev = ws.acts[layer - 1] if layer > 0 else X  # (B, fan_in)
            gW, gb = grads[2 * layer], grads[2 * layer + 1]
            if scale is not None:  # gW += scale * a_prev^T delta, gb += scale * 1^T delta
                _gemm_accumulate(scale, a_prev, delta, gW)
                _gemv_accumulate(scale, delta, ws.ones, gb)
            elif delta.shape[0] == 1:  # BP4 as an outer product: np.dot calls BLAS, matmul
                np.dot(a_prev.T, delta, out=gW)  # takes a slow non-BLAS path for (n,1)@(1,m)
                np.copyto(gb, delta[0])
            else:
                np.matmul(a_prev.T, delta, out=gW)  # BP4: (fan_in, B) @ (B, fan_out)
                np.add.reduce(delta, axis=0, out=gb)  # BP3
            if layer > 0:  # BP2: Delta^(l-1) = (Delta^l W^l^T) * sigma'(Z^(l-1))
                delta_prev = ws.deltas[layer - 1]
                np.matmul(delta, self.params[2 * layer].T, out=delta_prev)
                _times_derivative_(self.activation, delta_prev, a_prev, ws.scratch[layer - 1])
                delta = delta_prev

    def check_X(self, X, name="X"):
        """``X`` as a C-contiguous ``(B, sizes[0])`` array of the model's dtype, else an error."""
        if not isinstance(X, np.ndarray):
            X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != self.sizes[0] or X.shape[0] == 0:
            raise ValueError(f"{name} must have shape (batch, {self.sizes[0]}) with batch >= 1, "
                             f"got shape {X.shape}")
        if not (np.issubdtype(X.dtype, np.floating) or np.issubdtype(X.dtype, np.integer)):
            raise TypeError(f"{name} must hold real numbers, got dtype {X.dtype}")
        X = np.ascontiguousarray(X, dtype=self.dtype)
        # bad input, not divergence: refused here, once per call (fit checks its data once)
        finite = np.isfinite(X)
        if not finite.all():
            rows = np.flatnonzero(~finite.all(axis=1))
            raise ValueError(f"{name} holds non-finite values (NaN or inf, or numbers too large "
                             f"for {self.dtype}) in {len(rows)} rows, the first row {rows[0]}")
        return X

    def check_batch(self, X, y, names=("X", "y")):
        """``(X, y)`` checked by :meth:`check_X` and :func:`checked_labels`."""
        X = self.check_X(X, names[0])
        return X, checked_labels(y, X.shape[0], self.sizes[-1], names[1])


def checked_labels(y, num_rows, num_classes, name="y"):
    """``y`` as an int64 array of ``num_rows`` labels in ``[0, num_classes)``, else an error."""
    y = np.asarray(y)
    if not np.issubdtype(y.dtype, np.integer):
        raise TypeError(f"{name} must hold integer class labels, got dtype {y.dtype}")
    if y.shape != (num_rows,):
        raise ValueError(f"{name} must have shape ({num_rows},) to match X, got shape {y.shape}")
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(f"{name} must hold labels in [0, {num_classes}), got values from "
                         f"{y.min()} to {y.max()}")
    return y.astype(np.int64, copy=False)


def _checked_sizes(sizes):
    """Layer widths as ints: ``operator.index`` refuses 2.7 (which ``int`` would truncate) and
    bools are refused by name (``True`` is an index, 1)."""
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__iter__"):
        raise TypeError(f"sizes must be a sequence of int, got {sizes!r}")
    sizes = list(sizes)
    try:
        if any(isinstance(n, (bool, np.bool_)) for n in sizes):
            raise TypeError
        widths = [operator.index(n) for n in sizes]
    except TypeError:
        raise TypeError(f"sizes must be a sequence of int, got {sizes!r}") from None
    if len(widths) < 2 or min(widths) < 1:
        raise ValueError(f"sizes must list at least two layer widths >= 1, got {widths}")
    return widths


def _checked_choice(name, value, choices):
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value
