r"""Many workers simulated in one process: synchronous, stale, lock-free and decentralised SGD.

Every function here is a faithful single-process simulation of what :math:`W` workers would compute,
so each claim of chapter 11 can be checked number for number. (The theory they are checked against,
delay polynomials, critical learning rates and mixing rates, is in :mod:`sgd_utils.theory.workers`.)
Synchronous and stale-gradient SGD are the package's one runner, :func:`sgd_utils.descent.run`,
with an all-reduced gradient or a delay; the parameter server, Hogwild! and gossip are simulated
message by message, since what they show is their protocol (and the parameter server is checked
against the runner with a delay of :math:`W - 1`).

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

:func:`parameter_server` simulates :math:`W` workers served in turn, which is :func:`async_sgd` with
:math:`\tau = W - 1`.

**Hogwild!** (:func:`hogwild`). :math:`W` workers update a shared vector without locks, one
coordinate at a time: each update reads the coordinates of its sample's support, computes the
gradient, then adds :math:`-\eta g_j` to each coordinate (an atomic add). A scheduler picks at
random which worker does its next read or write. A *stale read* is a coordinate another worker wrote
between this update's read and its write of it.

**Gossip** (:func:`gossip`, :func:`decentralized_sgd`). Workers on a graph replace their value by a
weighted average of their neighbours', :math:`X \leftarrow M X` with :math:`M` symmetric and doubly
stochastic (:func:`ring_mixing`, :func:`complete_mixing`).
"""

from typing import NamedTuple

import numpy as np

from ..checks import check_count
from ..descent import epoch_batches, run
from ..optim import SGD


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


def sync_data_parallel(problem, x0, *, lr, num_steps, num_workers, batch_size, momentum=0.0,
                       seed=0):
    r"""Synchronous data-parallel SGD: ``num_workers`` shards of ``batch_size`` samples each,
    all-reduced.

    The runner :func:`sgd_utils.descent.run` with ``batch_size=num_workers * batch_size`` and the
    same ``seed``, whose every global batch is cut into ``num_workers`` contiguous shards
    (``np.array_split``; the last batch of an epoch may be shorter). Each worker computes its
    shard's mean gradient, :func:`allreduce_mean` combines them, and one
    :class:`~sgd_utils.optim.SGD` step with ``lr`` and ``momentum`` is taken. Returns a
    :class:`~sgd_utils.descent.Trace`.
    """
    check_count("num_workers", num_workers, 1)
    check_count("batch_size", batch_size, 1)
    check_count("num_steps", num_steps, 0)
    global_batch = num_workers * batch_size
    if global_batch > problem.num_samples:
        raise ValueError(f"num_workers * batch_size = {global_batch} exceeds the "
                         f"{problem.num_samples} samples")

    def allreduced_gradient(x, batch):
        shards = [s for s in np.array_split(batch, num_workers) if len(s)]
        grads = [problem.grad(x, shard) for shard in shards]  # one per worker, in parallel
        return allreduce_mean(grads, [len(s) for s in shards])

    trace = run(problem, SGD([np.array(x0, dtype=np.float64)], lr=lr, momentum=momentum),
                num_steps, batch_size=global_batch, seed=seed, gradient=allreduced_gradient)
    trace.label = f"sync data parallel, W={num_workers}"
    return trace


# --- stale gradients ----------------------------------------------------------------------------

def async_sgd(problem, x0, *, lr, delay, num_steps, momentum=0.0, batch_size=None, seed=0,
              divergence_factor=1e6):
    r"""SGD whose step :math:`t` uses the gradient at :math:`x_{t-\tau}` (module docstring).

    The runner :func:`sgd_utils.descent.run` with ``delay`` :math:`\tau` (0 is ordinary SGD;
    points before the start count as :math:`x_0`), and :class:`~sgd_utils.optim.SGD` with ``lr``
    and ``momentum`` (PyTorch's heavy ball) fed the stale gradient. With ``batch_size``
    (finite-sum problems) step :math:`t` uses the :math:`t`-th mini-batch of shuffled epochs
    seeded by ``seed``, evaluated at the stale point. A run stops at the runner's divergence rule
    (``divergence_factor``). Returns a :class:`~sgd_utils.descent.Trace`.
    """
    check_count("delay", delay, 0)
    trace = run(problem, SGD([np.array(x0, dtype=np.float64)], lr=lr, momentum=momentum),
                num_steps, batch_size=batch_size, seed=seed, delay=delay,
                divergence_factor=divergence_factor)
    trace.label = f"async SGD, tau={delay}"
    return trace


def parameter_server(problem, x0, *, lr, num_workers, num_steps):
    r"""A parameter server with ``num_workers`` equally fast workers, served in turn
    (full gradients).

    Worker :math:`k` pulls the parameters, computes the gradient, and pushes it; the server applies
    each push at once (``lr``, plain SGD) and the worker pulls again. With the workers served
    round-robin, the push applied at step :math:`t` was computed from the parameters pulled just
    after step :math:`t - W`, i.e. at :math:`x_{t-W+1}`: the delay is :math:`\tau = W - 1`.
    Returns the points, shape ``(num_steps + 1, dim)``.
    """
    check_count("num_workers", num_workers, 1)
    check_count("num_steps", num_steps, 0)
    x = np.array(x0, dtype=np.float64)
    pulled = [x.copy() for _ in range(num_workers)]  # every worker starts from x_0
    points = [x.copy()]
    for t in range(num_steps):
        worker = t % num_workers
        x -= lr * problem.grad(pulled[worker])  # the push, applied by the server
        pulled[worker] = x.copy()               # the worker pulls the new parameters
        points.append(x.copy())
    return np.array(points)


# --- Hogwild! -----------------------------------------------------------------------------------


class HogwildResult(NamedTuple):
    """The shared vector ``x`` after the run, the loss after every ``record_every`` updates
    (``losses[0]`` at the start), and the number of stale reads of each update, in order of
    completion."""

    x: np.ndarray
    losses: np.ndarray
    stale_reads: np.ndarray


def hogwild(problem, x0, *, lr, num_workers, num_updates, record_every=100, seed=0):
    r"""Lock-free SGD by ``num_workers`` workers on a sparse least-squares problem, op by op.

    ``problem`` is a :class:`~sgd_utils.problems.sparse.SparseLeastSquares`.

    Each update of a worker takes one sample (drawn uniformly, with replacement), reads its
    :math:`s` coordinates one by one, computes :math:`g_j = (a^\top \hat x - y)\, a_j` from what it
    read, :math:`\hat x`, and then adds :math:`-\eta g_j` to each coordinate one by one. At every
    tick the scheduler picks a worker uniformly at random to do its next read or write. With one
    worker this is plain SGD with batch size 1. Stops after ``num_updates`` completed updates.
    """
    check_count("num_workers", num_workers, 1)
    check_count("num_updates", num_updates, 1)
    check_count("record_every", record_every, 1)
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
    check_count("num_nodes", num_nodes, 3)
    if not 0 <= self_weight < 1:
        raise ValueError(f"self_weight must be in [0, 1), got {self_weight!r}")
    mixing = self_weight * np.eye(num_nodes)
    for shift in (1, -1):
        mixing += (1 - self_weight) / 2 * np.roll(np.eye(num_nodes), shift, axis=1)
    return mixing


def complete_mixing(num_nodes):
    r"""Everyone averages with everyone, :math:`M = \mathbf 1\mathbf 1^\top / n`: exact consensus in
    one step."""
    check_count("num_nodes", num_nodes, 1)
    return np.full((num_nodes, num_nodes), 1.0 / num_nodes)


def gossip(values, mixing, num_steps):
    r"""``num_steps`` rounds of :math:`X \leftarrow M X`; returns all rounds, shape
    ``(num_steps + 1, *values.shape)``.

    Row :math:`i` of ``values`` is node :math:`i`'s vector. Because
    :math:`\mathbf 1^\top M = \mathbf 1^\top` the average never changes; the deviation from it is
    multiplied by :math:`M` restricted to the vectors orthogonal to :math:`\mathbf 1`, whose norm is
    :math:`\lambda_2`.
    """
    check_count("num_steps", num_steps, 0)
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
    check_count("num_steps", num_steps, 0)
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
