r"""Many workers on one machine: synchronous, stale, lock-free and decentralised SGD,
simulated exactly.

Every function here is a faithful single-process simulation of what :math:`W` workers would compute,
so each claim of chapter 11 can be checked number for number.

**Synchronous data parallel** (:func:`sync_data_parallel`). Each step a global mini-batch of
:math:`WB` samples is cut into :math:`W` shards; worker :math:`k` computes the mean gradient
:math:`g_k` over its shard :math:`S_k`, an all-reduce averages them weighted by shard size, and
every worker applies the same update:

.. math:: g = \sum_{k=1}^W \frac{|S_k|}{\sum_j |S_j|} g_k
          = \frac{1}{|S|}\sum_{i \in S} \nabla\ell_i(x),

the gradient of the whole global batch :math:`S`: large-batch SGD, step for step.

**Stale gradients** (:func:`async_sgd`). A parameter server applies at step :math:`t` a gradient a
worker computed at the parameters of :math:`\tau` steps ago (:math:`x_s = x_0` for :math:`s < 0`):

.. math:: b_{t+1} = \beta b_t + g(x_{t-\tau}), \qquad x_{t+1} = x_t - \eta\, b_{t+1}.

On :math:`f(x) = \tfrac\lambda2 x^2` the error obeys a linear recursion whose characteristic
polynomial (:func:`delay_polynomial`) is, with :math:`a = \eta\lambda` and
:math:`D = \max(\tau,1)+1`,

.. math:: p(z) = z^{D} - (1+\beta) z^{D-1} + \beta z^{D-2} + a z^{D-1-\tau};

the iterates contract like :math:`\rho^t`, :math:`\rho` the largest root modulus
(:func:`delayed_rate`). Without momentum they converge iff
:math:`0 < a < 2\sin\bigl(\pi / (2(2\tau+1))\bigr)` (:func:`critical_lr`; Levin & May 1976).
:func:`parameter_server` simulates :math:`W` workers served in turn, which is :func:`async_sgd` with
:math:`\tau = W - 1`.

**Hogwild!** (:func:`hogwild`). :math:`W` workers update a shared vector without locks, one
coordinate at a time: each update reads the coordinates of its sample's support, computes the
gradient, then adds :math:`-\eta g_j` to each coordinate (an atomic add). A scheduler picks at
random which worker does its next read or write. A *stale read* is a coordinate another worker wrote
between this update's read and its write of it; with supports of :math:`s` random coordinates out of
:math:`d`, about :math:`(W-1)s^2/(2d)` per update (:func:`expected_stale_reads`).

**Gossip** (:func:`gossip`, :func:`decentralized_sgd`). Workers on a graph replace their value by a
weighted average of their neighbours', :math:`X \leftarrow M X` with :math:`M` symmetric and doubly
stochastic. The distance to the average contracts by at most :math:`\lambda_2 = \max_{i \ge 2}
|\lambda_i(M)|` per step (:func:`mixing_rate`); :math:`1 - \lambda_2` is the spectral gap.
"""

import math
from numbers import Integral
from typing import NamedTuple

import numpy as np

from .descent import Trace, epoch_batches
from .optim import SGD


def _check_int(name, value, low):
    if not isinstance(value, Integral) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {name}={value!r}")


# --- synchronous data parallel ------------------------------------------------------------------

def allreduce_mean(grads, counts):
    r"""The all-reduce of data-parallel SGD: :math:`\sum_k n_k g_k / \sum_k n_k`.

    ``grads`` are the workers' mean gradients over ``counts`` samples each. PyTorch's
    DistributedDataParallel divides the *sum* by the number of workers instead, which is the same
    when every shard has the same size (its ``DistributedSampler`` pads the data to make it so).
    """
    counts = np.asarray(counts, dtype=np.float64)
    if len(grads) != len(counts) or len(grads) == 0 or np.any(counts <= 0):
        raise ValueError(f"need one positive count per gradient, got {len(grads)} gradients "
                         f"and counts={counts.tolist()}")
    return sum(c * g for c, g in zip(counts, grads)) / counts.sum()


def _trace(params, losses, lr, diverged_at, problem, label):
    params = np.array(params)
    return Trace(params, np.array(losses), np.full(len(params) - 1, float(lr)),
                 [None] * len(params), diverged_at, float(problem.min_loss), label)


def _diverged(loss, limit):
    return not math.isfinite(loss) or loss > limit


def sync_data_parallel(problem, x0, *, lr, num_steps, num_workers, batch_size, momentum=0.0,
                       seed=0):
    r"""Synchronous data-parallel SGD: ``num_workers`` shards of ``batch_size`` samples each,
    all-reduced.

    The global batches are those of :func:`sgd_utils.descent.run` with ``batch_size=num_workers *
    batch_size`` and the same ``seed``, cut into ``num_workers`` contiguous shards
    (``np.array_split``; the last batch of an epoch may be shorter). Each worker computes its
    shard's mean gradient, :func:`allreduce_mean` combines them, and one
    :class:`~sgd_utils.optim.SGD` step with ``lr`` and ``momentum`` is taken. Returns a
    :class:`~sgd_utils.descent.Trace`.
    """
    _check_int("num_workers", num_workers, 1)
    _check_int("batch_size", batch_size, 1)
    _check_int("num_steps", num_steps, 0)
    global_batch = num_workers * batch_size
    if global_batch > problem.num_samples:
        raise ValueError(f"num_workers * batch_size = {global_batch} exceeds the "
                         f"{problem.num_samples} samples")
    x = np.array(x0, dtype=np.float64)
    optimizer = SGD([x], lr=lr, momentum=momentum)
    batches = epoch_batches(problem.num_samples, global_batch, np.random.default_rng(seed))
    params, losses = [x.copy()], [problem.loss(x)]
    for _ in range(num_steps):
        shards = [s for s in np.array_split(next(batches), num_workers) if len(s)]
        grads = [problem.grad(x, shard) for shard in shards]  # one per worker, in parallel
        optimizer.step([allreduce_mean(grads, [len(s) for s in shards])])
        params.append(x.copy())
        losses.append(problem.loss(x))
    return _trace(params, losses, lr, None, problem, f"sync data parallel, W={num_workers}")


# --- stale gradients ----------------------------------------------------------------------------

def async_sgd(problem, x0, *, lr, delay, num_steps, momentum=0.0, batch_size=None, seed=0,
              divergence_factor=1e6):
    r"""SGD whose step :math:`t` uses the gradient at :math:`x_{t-\tau}` (module docstring).

    ``delay`` is :math:`\tau` (0 is ordinary SGD); points before the start count as :math:`x_0`.
    The update is :class:`~sgd_utils.optim.SGD` with ``lr`` and ``momentum`` (PyTorch's heavy ball),
    fed the stale gradient. With ``batch_size`` (finite-sum problems) step :math:`t` uses the
    :math:`t`-th mini-batch of :func:`~sgd_utils.descent.epoch_batches` seeded by ``seed``,
    evaluated at the stale point. A run stops, as in :func:`~sgd_utils.descent.run`, once the loss
    gap is not finite or exceeds ``divergence_factor * max(gap_0, 1)``. Returns a ``Trace``.
    """
    _check_int("delay", delay, 0)
    _check_int("num_steps", num_steps, 0)
    x = np.array(x0, dtype=np.float64)
    optimizer = SGD([x], lr=lr, momentum=momentum)
    batches = None if batch_size is None else epoch_batches(problem.num_samples, batch_size,
                                                            np.random.default_rng(seed))
    params, losses = [x.copy()], [problem.loss(x)]
    limit = problem.min_loss + divergence_factor * max(losses[0] - problem.min_loss, 1.0)
    diverged_at = None
    with np.errstate(all="ignore"):
        for t in range(num_steps):
            stale = params[max(t - delay, 0)]  # what the worker read tau steps ago
            grad = problem.grad(stale) if batches is None else problem.grad(stale, next(batches))
            optimizer.step([grad])
            params.append(x.copy())
            losses.append(problem.loss(x))
            if _diverged(losses[-1], limit):
                diverged_at = t + 1
                break
    return _trace(params, losses, lr, diverged_at, problem, f"async SGD, tau={delay}")


def parameter_server(problem, x0, *, lr, num_workers, num_steps):
    r"""A parameter server with ``num_workers`` equally fast workers, served in turn
    (full gradients).

    Worker :math:`k` pulls the parameters, computes the gradient, and pushes it; the server applies
    each push at once (``lr``, plain SGD) and the worker pulls again. With the workers served
    round-robin, the push applied at step :math:`t` was computed from the parameters pulled just
    after step :math:`t - W`, i.e. at :math:`x_{t-W+1}`: the delay is :math:`\tau = W - 1`.
    Returns the points, shape ``(num_steps + 1, dim)``.
    """
    _check_int("num_workers", num_workers, 1)
    _check_int("num_steps", num_steps, 0)
    x = np.array(x0, dtype=np.float64)
    pulled = [x.copy() for _ in range(num_workers)]  # every worker starts from x_0
    points = [x.copy()]
    for t in range(num_steps):
        worker = t % num_workers
        x -= lr * problem.grad(pulled[worker])  # the push, applied by the server
        pulled[worker] = x.copy()               # the worker pulls the new parameters
        points.append(x.copy())
    return np.array(points)


def delay_polynomial(lr_times_curvature, delay, momentum=0.0):
    r"""Coefficients (highest power first) of :math:`p(z)` in the module docstring, for
    ``np.roots``."""
    _check_int("delay", delay, 0)
    degree = max(delay, 1) + 1
    coeffs = np.zeros(degree + 1)
    coeffs[0], coeffs[1], coeffs[2] = 1.0, -(1.0 + momentum), momentum
    coeffs[1 + delay] += lr_times_curvature  # the term a z^(D-1-tau)
    return coeffs


def delayed_rate(lr, eigenvalues, delay, momentum=0.0):
    r"""The predicted rate :math:`\max_\lambda \rho` of :func:`async_sgd` on a quadratic.

    For each Hessian eigenvalue :math:`\lambda`, :math:`\rho` is the largest modulus of a root of
    :func:`delay_polynomial` with :math:`a = \eta\lambda`: the distance to the optimum shrinks (or
    grows, if :math:`\rho > 1`) by about :math:`\rho` per step.
    """
    return max(float(np.abs(np.roots(delay_polynomial(lr * lam, delay, momentum))).max())
               for lam in np.atleast_1d(eigenvalues))


def critical_lr(eigenvalue, delay, momentum=0.0, *, tol=1e-10):
    r"""The largest stable learning rate of :func:`async_sgd` on curvature ``eigenvalue``.

    Without momentum the closed form :math:`2\sin(\pi / (2(2\tau+1))) / \lambda`; with momentum,
    bisection on :func:`delayed_rate` between 0 and the delay-free (tau = 0) heavy-ball bound
    :math:`2(1+\beta)/\lambda` (the rate is below 1 for small :math:`\eta` and first reaches 1 at
    the returned value).
    """
    _check_int("delay", delay, 0)
    if not eigenvalue > 0 or not 0 <= momentum < 1:
        raise ValueError("need eigenvalue > 0 and 0 <= momentum < 1, "
                         f"got {eigenvalue!r}, {momentum!r}")
    if momentum == 0:
        return 2 * math.sin(math.pi / (2 * (2 * delay + 1))) / eigenvalue
    low, high = 0.0, 2 * (1 + momentum) / eigenvalue
    step = high / 500  # scan up first: the rate may dip below 1 again only past the first crossing
    while low + step < high and delayed_rate(low + step, eigenvalue, delay, momentum) < 1:
        low += step
    high = min(low + step, high)
    while high - low > tol * high:
        mid = (low + high) / 2
        low, high = ((mid, high) if delayed_rate(mid, eigenvalue, delay, momentum) < 1
                     else (low, mid))
    return low


# --- Hogwild! -----------------------------------------------------------------------------------

class SparseLeastSquares(NamedTuple):
    r"""A sparse least-squares problem :math:`f(x) = \frac1{2n}\sum_i (a_i^\top x - y_i)^2`.

    Row :math:`a_i` has ``nnz`` non-zeros at ``indices[i]`` with values ``values[i]``; ``targets``
    are the :math:`y_i`; ``minimizer`` solves the normal equations.
    """

    indices: np.ndarray  # (n, nnz) coordinates of each sample's support
    values: np.ndarray   # (n, nnz)
    targets: np.ndarray  # (n,)
    dim: int
    minimizer: np.ndarray

    def loss(self, x):
        """The full loss at ``x``."""
        residuals = np.sum(self.values * x[self.indices], axis=1) - self.targets
        return float(0.5 * np.mean(residuals**2))


def sparse_least_squares(num_samples, dim, nnz, noise=0.1, *, seed=0):
    r"""Samples with ``nnz`` random coordinates out of ``dim``, each a random sign times
    :math:`1/\sqrt{\rm nnz}`.

    Targets are :math:`y_i = a_i^\top x_\star + \sigma\varepsilon_i` with
    :math:`x_\star \sim \mathcal N(0, I)` and :math:`\sigma` = ``noise``. Every row has
    :math:`\lVert a_i \rVert = 1` whatever the sparsity, so one learning rate suits every ``nnz``: a
    serial step on one sample multiplies its residual by :math:`1 - \eta`, and is stable for
    :math:`0 < \eta < 2`.
    """
    for name, value, low in (("num_samples", num_samples, 1), ("dim", dim, 1), ("nnz", nnz, 1)):
        _check_int(name, value, low)
    if nnz > dim:
        raise ValueError(f"nnz must be <= dim, got nnz={nnz}, dim={dim}")
    rng = np.random.default_rng(seed)
    indices = np.argsort(rng.random((num_samples, dim)), axis=1)[:, :nnz]
    values = rng.choice([-1.0, 1.0], size=(num_samples, nnz)) / math.sqrt(nnz)
    dense = np.zeros((num_samples, dim))
    np.put_along_axis(dense, indices, values, axis=1)
    true = rng.standard_normal(dim)
    targets = dense @ true + noise * rng.standard_normal(num_samples)
    minimizer = np.linalg.lstsq(dense, targets, rcond=None)[0]
    return SparseLeastSquares(indices, values, targets, dim, minimizer)


class HogwildResult(NamedTuple):
    """The shared vector ``x`` after the run, the loss after every ``record_every`` updates
    (``losses[0]`` at the start), and the number of stale reads of each update, in order of
    completion."""

    x: np.ndarray
    losses: np.ndarray
    stale_reads: np.ndarray


def expected_stale_reads(nnz, dim, num_workers):
    r""":math:`(W-1)s^2/(2d)`: between reading and writing a coordinate a worker makes :math:`s`
    more steps, the others :math:`(W-1)s` in expectation, half of them writes, each on that
    coordinate with probability :math:`1/d`; times the :math:`s` coordinates of the update."""
    return (num_workers - 1) * nnz**2 / (2 * dim)


def hogwild(problem, x0, *, lr, num_workers, num_updates, record_every=100, seed=0):
    r"""Lock-free SGD by ``num_workers`` workers on a :class:`SparseLeastSquares`, op by op.

    Each update of a worker takes one sample (drawn uniformly, with replacement), reads its
    :math:`s` coordinates one by one, computes :math:`g_j = (a^\top \hat x - y)\, a_j` from what it
    read, :math:`\hat x`, and then adds :math:`-\eta g_j` to each coordinate one by one. At every
    tick the scheduler picks a worker uniformly at random to do its next read or write. With one
    worker this is plain SGD with batch size 1. Stops after ``num_updates`` completed updates.
    """
    _check_int("num_workers", num_workers, 1)
    _check_int("num_updates", num_updates, 1)
    _check_int("record_every", record_every, 1)
    rng = np.random.default_rng(seed)
    # Python floats: one scalar read or write per tick, as fast as it gets
    x = [float(v) for v in x0]
    num_samples, nnz = problem.indices.shape
    indices, values, targets = (problem.indices.tolist(), problem.values.tolist(),
                                problem.targets.tolist())
    writes = [0] * problem.dim  # how many writes each coordinate has received so far
    # each worker's update in flight: sample, next op (0..2s-1), values read, write counts seen,
    # stale, residual
    jobs = [None] * num_workers
    losses, stale, done = [problem.loss(np.array(x))], [], 0
    while done < num_updates:
        # the scheduler's choices, in chunks
        for k in rng.integers(num_workers, size=4096).tolist():
            job = jobs[k]
            if job is None:
                job = jobs[k] = [int(rng.integers(num_samples)), 0, [0.0] * nnz, [0] * nnz, 0, 0.0]
            sample, pos, read, seen = job[0], job[1], job[2], job[3]
            coords = indices[sample]
            if pos < nnz:  # read one coordinate
                read[pos], seen[pos] = x[coords[pos]], writes[coords[pos]]
            else:          # write one coordinate: an atomic x_j -= lr * g_j
                j = pos - nnz
                if j == 0:  # all reads done: the residual a^T x_hat - y from what was read
                    job[5] = sum(a * v for a, v in zip(values[sample], read)) - targets[sample]
                # foreign writes since this coordinate was read
                job[4] += writes[coords[j]] - seen[j]
                x[coords[j]] -= lr * job[5] * values[sample][j]
                writes[coords[j]] += 1
            job[1] += 1
            if job[1] == 2 * nnz:  # update finished
                stale.append(job[4])
                jobs[k], done = None, done + 1
                if done % record_every == 0:
                    losses.append(problem.loss(np.array(x)))
                if done == num_updates:
                    break
    x = np.array(x)
    return HogwildResult(x, np.array(losses), np.array(stale))


# --- gossip ---------------------------------------------------------------------------------------

def ring_mixing(num_nodes, self_weight=1 / 3):
    r"""The mixing matrix of a ring: each node keeps ``self_weight`` and gives half the rest to
    each neighbour.

    Circulant, so its eigenvalues are :math:`w + (1-w)\cos(2\pi k/n)`, :math:`k = 0..n-1`.
    """
    _check_int("num_nodes", num_nodes, 3)
    if not 0 <= self_weight < 1:
        raise ValueError(f"self_weight must be in [0, 1), got {self_weight!r}")
    mixing = self_weight * np.eye(num_nodes)
    for shift in (1, -1):
        mixing += (1 - self_weight) / 2 * np.roll(np.eye(num_nodes), shift, axis=1)
    return mixing


def complete_mixing(num_nodes):
    r"""Everyone averages with everyone, :math:`M = \mathbf 1\mathbf 1^\top / n`: exact consensus in
    one step."""
    _check_int("num_nodes", num_nodes, 1)
    return np.full((num_nodes, num_nodes), 1.0 / num_nodes)


def mixing_rate(mixing):
    r""":math:`\lambda_2 = \max_{i\ge2} |\lambda_i(M)|` of a symmetric doubly stochastic :math:`M`
    (the spectral gap is :math:`1 - \lambda_2`)."""
    mixing = np.asarray(mixing, dtype=np.float64)
    if not (np.allclose(mixing, mixing.T) and np.allclose(mixing.sum(axis=1), 1)):
        raise ValueError("mixing must be symmetric with rows summing to 1")
    moduli = np.sort(np.abs(np.linalg.eigvalsh(mixing)))
    return float(moduli[-2]) if len(moduli) > 1 else 0.0


def gossip(values, mixing, num_steps):
    r"""``num_steps`` rounds of :math:`X \leftarrow M X`; returns all rounds, shape
    ``(num_steps + 1, *values.shape)``.

    Row :math:`i` of ``values`` is node :math:`i`'s vector. Because
    :math:`\mathbf 1^\top M = \mathbf 1^\top` the average never changes; the deviation from it is
    multiplied by :math:`M` restricted to the vectors orthogonal to :math:`\mathbf 1`, whose norm is
    :math:`\lambda_2`.
    """
    _check_int("num_steps", num_steps, 0)
    states = [np.array(values, dtype=np.float64)]
    for _ in range(num_steps):
        states.append(mixing @ states[-1])
    return np.array(states)


def consensus_distance(states):
    r""":math:`\lVert X - \mathbf 1 \bar x^\top \rVert_F / \sqrt n` of each round (``states[t]`` of
    shape ``(n, d)``)."""
    states = np.asarray(states)
    deviation = states - states.mean(axis=-2, keepdims=True)
    return np.sqrt(np.sum(deviation**2, axis=(-2, -1)) / states.shape[-2])


def decentralized_sgd(problem, x0, mixing, *, lr, num_steps, batch_size=None, seed=0):
    r"""D-PSGD (Lian et al. 2017): :math:`x_i \leftarrow \sum_j M_{ij} x_j - \eta\, g_i(x_i)`
    for every node.

    Node :math:`i` owns the samples ``i::n`` of ``problem`` and uses its full shard gradient, or a
    mini-batch of ``batch_size`` drawn from its shard (with its own seeded shuffle). All nodes start
    at ``x0``. Returns every round's node points, shape ``(num_steps + 1, n, dim)``.
    """
    _check_int("num_steps", num_steps, 0)
    num_nodes = len(mixing)
    shards = [np.arange(i, problem.num_samples, num_nodes) for i in range(num_nodes)]
    streams = None if batch_size is None else [
        epoch_batches(len(shard), batch_size, np.random.default_rng([seed, i]))
        for i, shard in enumerate(shards)]
    X = np.tile(np.asarray(x0, dtype=np.float64), (num_nodes, 1))
    history = [X.copy()]
    for _ in range(num_steps):
        grads = np.array([problem.grad(X[i], shard if streams is None else shard[next(streams[i])])
                          for i, shard in enumerate(shards)])
        X = mixing @ X - lr * grads
        history.append(X.copy())
    return np.array(history)
