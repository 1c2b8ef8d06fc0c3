r"""Synchronous data-parallel SGD of the book's MNIST network on real processes.

:math:`W` processes (*ranks*) each hold a replica of the :class:`~sgd_utils.nn.mlp.MLP`. Every
rank draws the same epoch permutations (the same seed), so all agree on the global batch
:math:`S` of :math:`WB` rows of each step; rank :math:`k` takes the shard
:math:`S_k` = ``np.array_split(S, W)[k]`` and each step is

.. math::

    g_k \leftarrow \nabla \tfrac{1}{|S_k|}\textstyle\sum_{i \in S_k} c(\theta; x_i, y_i)
    \quad\text{(NumPy, } \texttt{sgd\_utils}\text{)}, \qquad
    g \leftarrow \textstyle\sum_{k} \frac{|S_k|}{|S|}\, g_k
    \quad\text{(all-reduce)}, \qquad
    \theta \leftarrow \mathrm{SGD.step}(g),

the gradient of the whole global batch (chapter 11's proposition), so the replicas take exactly
the steps of one process training with batch :math:`WB`, up to the rounding of the sums. The
all-reduce is PyTorch's ``torch.distributed.all_reduce`` over the gloo backend (CPU, TCP): each
rank scales its gradients by :math:`|S_k|/|S|` and the collective sums them, leaving the same
:math:`g` on every rank. One flat buffer carries all the gradients and the batch loss, so a step
sends one message, as DDP's buckets do; the optimizer is :class:`sgd_utils.optim.SGD`, PyTorch's
update rule.

**How it differs from DDP.** ``DistributedDataParallel`` averages by dividing the sum by
:math:`W`, which equals the weighting above when all shards have :math:`B` rows (its
``DistributedSampler`` pads the data so that they do); here the last batch of an epoch may be
shorter and is weighted exactly. DDP overlaps the all-reduce of each bucket with the rest of the
backward pass; here backpropagation finishes first, so the time of a step splits cleanly into
compute and communication (:class:`DataParallelRun`). As in DDP, rank 0's initial parameters are
broadcast to every rank before the first step.

**Starting it.**

- From Python or a notebook, :func:`run_data_parallel` starts ``W`` processes with
  ``torch.multiprocessing.spawn``; they meet through a rendezvous file in a temporary directory.
- From a shell, ``torchrun`` starts them and this module is the script::

      torchrun --nproc-per-node 2 -m sgd_utils.distributed.data_parallel --steps 200

  and across machines, the same command on every node with a rendezvous endpoint::

      torchrun --nnodes 2 --nproc-per-node 2 --rdzv-backend c10d \
          --rdzv-endpoint HOST:29400 --rdzv-id sgd-book -m sgd_utils.distributed.data_parallel

  Every node reads the MNIST sample bundled with the package, so no data needs copying.

PyTorch (CPU) is needed only here and only once a run starts: ``import sgd_utils`` never
imports it.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..checks import check_count
from ..descent import epoch_batches
from ..nn.data import load_sample
from ..nn.mlp import MLP
from ..optim import SGD
from ..threads import blas_threads

INSTALL_HINT = "pip install torch==2.13.0 (the CPU build the book pins in requirements.txt)"


def import_torch():
    """``(torch, torch.distributed)``, or an ImportError saying how to install PyTorch."""
    try:
        import torch
        import torch.distributed as dist
    except ImportError as error:
        raise ImportError("real data-parallel workers need PyTorch's torch.distributed: "
                          f"{INSTALL_HINT}") from error
    if not dist.is_available() or not dist.is_gloo_available():
        raise ImportError("this PyTorch build has no torch.distributed gloo backend: "
                          f"{INSTALL_HINT}")
    return torch, dist


@dataclass(frozen=True)
class DataParallelConfig:
    """What every rank trains: the same network, optimizer and data order on every rank.

    ``batch_size`` is the rows per worker :math:`B`; the global batch is ``W * batch_size``.
    ``record_every`` keeps rank 0's parameters (flattened) after every that many steps, and always
    after the last (0: only the last). ``dtype`` is ``"float32"`` (the book's default) or
    ``"float64"`` (to check agreement to float64 rounding).
    """

    sizes: tuple = (784, 256, 128, 10)
    activation: str = "relu"
    lr: float = 0.05
    momentum: float = 0.9
    batch_size: int = 32
    num_steps: int = 100
    seed: int = 0
    dtype: str = "float32"
    record_every: int = 0

    def __post_init__(self):
        check_count("batch_size", self.batch_size, 1)
        check_count("num_steps", self.num_steps, 1)
        check_count("seed", self.seed, 0)
        check_count("record_every", self.record_every, 0)
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f'dtype must be "float32" or "float64", got dtype={self.dtype!r}')
        for name in ("lr", "momentum"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"{name} must be a number >= 0, got {name}={value!r}")
        # the network's own checks name sizes and activation here, not in a worker process
        MLP(list(self.sizes), self.activation, dtype=np.dtype(self.dtype))

    def model(self):
        """The network every rank starts from (the same seed gives the same weights)."""
        return MLP(list(self.sizes), self.activation, seed=self.seed, dtype=np.dtype(self.dtype))

    def recorded(self, step):
        """Whether rank 0 keeps the parameters after ``step`` (0-based)."""
        last = step == self.num_steps - 1
        return last or (self.record_every > 0 and (step + 1) % self.record_every == 0)


@dataclass
class DataParallelRun:
    """What :func:`run_data_parallel` measured.

    Attributes
    ----------
    num_workers : int
    losses : ndarray, (num_steps,)
        The loss of each step's global batch, before its update (all-reduced like the gradient).
    steps : ndarray of int
        The 1-based step counts after which ``params`` were kept.
    params : ndarray, (len(steps), num_params)
        Rank 0's parameters, flattened in the order ``W1, b1, W2, b2, ...``.
    compute_times, allreduce_times, update_times : ndarray, (num_workers, num_steps)
        Seconds each rank spent backpropagating its shard, in ``all_reduce`` (sending, receiving,
        summing, and waiting for the slowest rank), and in the optimizer step.
    replica_gap : float
        The largest difference between any rank's final parameters and rank 0's: 0 when the
        replicas stayed identical, as they must.
    """

    num_workers: int
    losses: np.ndarray
    steps: np.ndarray
    params: np.ndarray
    compute_times: np.ndarray
    allreduce_times: np.ndarray
    update_times: np.ndarray
    replica_gap: float
    config: DataParallelConfig = field(default_factory=DataParallelConfig)

    @property
    def step_times(self):
        """Wall time of each step on each rank, (num_workers, num_steps)."""
        return self.compute_times + self.allreduce_times + self.update_times

    @property
    def communication_share(self):
        """The fraction of the ranks' step time spent in ``all_reduce``, waiting included."""
        return float(self.allreduce_times.sum() / self.step_times.sum())


def flat_views(flat, shapes):
    """Arrays of ``shapes`` that are consecutive views into the 1-D array ``flat``."""
    views, start = [], 0
    for shape in shapes:
        size = int(np.prod(shape))
        views.append(flat[start:start + size].reshape(shape))
        start += size
    return views


def flat_params(model):
    """A copy of ``model.params`` as one vector, in the order ``W1, b1, W2, b2, ...``."""
    return np.concatenate([p.ravel() for p in model.params])


def train_replica(config, rank, world_size, dist, torch):
    """Train one rank's replica with an initialised process group; return what it measured.

    ``dist`` and ``torch`` are the imported modules (so that this module imports PyTorch
    lazily). Returns a dict of arrays: the timings of every rank, and on rank 0 the losses and
    the recorded parameters.
    """
    data = load_sample()
    model = config.model()
    X, y = model.check_batch(data.X_train, data.y_train)
    optimizer = SGD(model.params, lr=config.lr, momentum=config.momentum)
    shapes = [p.shape for p in model.params]
    num_params = sum(p.size for p in model.params)
    # one buffer for every gradient and the batch loss: one all-reduce per step, like a DDP bucket
    buffer = np.zeros(num_params + 1, dtype=model.dtype)
    grads, message = flat_views(buffer, shapes), torch.from_numpy(buffer)   # shares the memory
    # DDP broadcasts rank 0's initial weights; ours are equal already (same seed), but a
    # replica built differently elsewhere would silently train something else
    params = flat_params(model)
    dist.broadcast(torch.from_numpy(params), src=0)
    for p, view in zip(model.params, flat_views(params, shapes)):
        p[...] = view
    global_batch = world_size * config.batch_size
    batches = epoch_batches(len(y), global_batch, np.random.default_rng(config.seed))
    times = np.zeros((3, config.num_steps))
    losses, recorded, steps = np.zeros(config.num_steps), [], []
    for step in range(config.num_steps):
        batch = next(batches)
        shard = np.array_split(batch, world_size)[rank]   # (<= B,) rows of this rank
        start = time.perf_counter()
        if len(shard):
            buffer[-1] = model.loss_and_grads_unchecked(np.take(X, shard, axis=0), y[shard],
                                                        grads)
            buffer *= len(shard) / len(batch)   # this rank's weight |S_k| / |S|
        else:   # the epoch's last batch can have fewer rows than ranks
            buffer[:] = 0
        computed = time.perf_counter()
        dist.all_reduce(message, op=dist.ReduceOp.SUM)
        reduced = time.perf_counter()
        losses[step] = buffer[-1]
        optimizer.step(grads)
        times[:, step] = computed - start, reduced - computed, time.perf_counter() - reduced
        if config.recorded(step):
            recorded.append(flat_params(model))
            steps.append(step + 1)
    return {"times": times, "losses": losses, "steps": np.array(steps),
            "params": np.array(recorded), "replica_gap": _replica_gap(recorded[-1], dist, torch)}


def _replica_gap(final, dist, torch):
    """max |theta_rank - theta_0| over ranks, known to every rank (two collectives)."""
    reference = torch.from_numpy(final.copy())
    dist.broadcast(reference, src=0)
    gap = torch.tensor([float(np.max(np.abs(final - reference.numpy())))], dtype=torch.float64)
    dist.all_reduce(gap, op=dist.ReduceOp.MAX)
    return float(gap.item())


def _spawned_rank(rank, world_size, rendezvous, config_dict, out_dir):
    """The body of a process started by :func:`run_data_parallel` (``torch.multiprocessing``)."""
    torch, dist = import_torch()
    torch.set_num_threads(1)   # the replica computes with NumPy; torch only moves the buffer
    dist.init_process_group("gloo", init_method=f"file://{rendezvous}", rank=rank,
                            world_size=world_size)
    try:
        with blas_threads(1):   # W processes share the cores: one BLAS thread each
            result = train_replica(DataParallelConfig(**config_dict), rank, world_size, dist,
                                   torch)
        np.savez(Path(out_dir) / f"rank{rank}.npz", **result)
    finally:
        dist.destroy_process_group()


def run_data_parallel(num_workers, config=None, **settings):
    """Train with ``num_workers`` real processes; return a :class:`DataParallelRun`.

    ``config`` is a :class:`DataParallelConfig`, or its fields are given as keywords
    (``batch_size=32, num_steps=100, ...``). The processes are started with
    ``torch.multiprocessing.spawn`` (the way PyTorch documents starting them from Python),
    each with one BLAS thread; an error in any rank is raised here. Starting takes about a second
    per process (each imports PyTorch).
    """
    check_count("num_workers", num_workers, 1)
    if config is None:
        config = DataParallelConfig(**settings)
    elif settings:
        raise TypeError("give either config or keyword settings, not both")
    elif not isinstance(config, DataParallelConfig):
        raise TypeError(f"config must be a DataParallelConfig, got {type(config).__name__}")
    torch, _ = import_torch()
    import torch.multiprocessing as mp

    with tempfile.TemporaryDirectory(prefix="sgd-data-parallel-") as out_dir:
        rendezvous = os.path.join(out_dir, "rendezvous")
        mp.spawn(_spawned_rank, args=(num_workers, rendezvous, asdict(config), out_dir),
                 nprocs=num_workers, join=True)
        ranks = [dict(np.load(Path(out_dir) / f"rank{rank}.npz"))
                 for rank in range(num_workers)]
    times = np.array([rank["times"] for rank in ranks])   # (W, 3, num_steps)
    return DataParallelRun(num_workers=num_workers, losses=ranks[0]["losses"],
                           steps=ranks[0]["steps"], params=ranks[0]["params"],
                           compute_times=times[:, 0], allreduce_times=times[:, 1],
                           update_times=times[:, 2],
                           replica_gap=float(ranks[0]["replica_gap"]), config=config)


def large_batch_reference(config, num_workers):
    """The same training in one process with batch ``num_workers * batch_size``: the oracle.

    The step of :func:`sgd_utils.nn.train.fit` (``optimizer.train_step`` on the whole batch, the
    fused momentum update) on the same epoch permutations. Returns ``(losses, steps, params)``
    recorded as in :class:`DataParallelRun`.
    """
    check_count("num_workers", num_workers, 1)
    data = load_sample()
    model = config.model()
    X, y = model.check_batch(data.X_train, data.y_train)
    optimizer = SGD(model.params, lr=config.lr, momentum=config.momentum)
    batches = epoch_batches(len(y), num_workers * config.batch_size,
                            np.random.default_rng(config.seed))
    losses, steps, recorded = [], [], []
    with blas_threads(1):
        for step in range(config.num_steps):
            batch = next(batches)
            losses.append(optimizer.train_step(model, np.take(X, batch, axis=0), y[batch]))
            if config.recorded(step):
                recorded.append(flat_params(model))
                steps.append(step + 1)
    return np.array(losses), np.array(steps), np.array(recorded)


def main(argv=None):
    """``torchrun ... -m sgd_utils.distributed.data_parallel``: train, print, optionally save."""
    parser = argparse.ArgumentParser(
        description="Data-parallel SGD of the book's MNIST network over torch.distributed (gloo). "
                    "Start it with torchrun, which sets RANK, WORLD_SIZE, MASTER_ADDR and "
                    "MASTER_PORT.")
    defaults = DataParallelConfig()
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size,
                        help="rows per worker (B); the global batch is WORLD_SIZE * B")
    parser.add_argument("--steps", type=int, default=defaults.num_steps)
    parser.add_argument("--lr", type=float, default=defaults.lr)
    parser.add_argument("--momentum", type=float, default=defaults.momentum)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--dtype", choices=("float32", "float64"), default=defaults.dtype)
    parser.add_argument("--out", type=Path, help="save rank 0's losses and final parameters "
                                                 "here (.npz)")
    args = parser.parse_args(argv)
    config = DataParallelConfig(batch_size=args.batch_size, num_steps=args.steps, lr=args.lr,
                                momentum=args.momentum, seed=args.seed, dtype=args.dtype)
    if "RANK" not in os.environ:
        parser.error("RANK is not set: start this script with torchrun "
                     "(torchrun --nproc-per-node 2 -m sgd_utils.distributed.data_parallel)")
    torch, dist = import_torch()
    torch.set_num_threads(1)
    dist.init_process_group("gloo")   # env://: the variables torchrun set
    try:
        rank, world_size = dist.get_rank(), dist.get_world_size()
        with blas_threads(1):
            result = train_replica(config, rank, world_size, dist, torch)
        if rank == 0:
            share = result["times"][1].sum() / result["times"].sum()
            print(f"{world_size} workers x batch {config.batch_size}: loss "
                  f"{result['losses'][0]:.4f} -> {result['losses'][-1]:.4f} after "
                  f"{config.num_steps} steps; all-reduce {share:.0%} of rank 0's step time; "
                  f"replicas differ by {result['replica_gap']:.1e}")
            if args.out is not None:
                np.savez(args.out, losses=result["losses"], params=result["params"][-1])
    finally:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
