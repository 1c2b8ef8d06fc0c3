r"""Lock-free Hogwild! SGD by several operating-system processes on one shared parameter vector.

The real counterpart of :func:`sgd_utils.experiments.simulated_workers.hogwild`, on the same
:class:`~sgd_utils.problems.sparse.SparseLeastSquares` problem. :math:`W` processes share one
float64 vector :math:`x` in shared memory (``multiprocessing.shared_memory``) and update it
without locks. An update of worker :math:`k` is the simulator's:

.. math::

    i \sim \mathcal U\{1, \dots, n\}, \qquad
    \hat x_j \leftarrow x_j \ (j \in S_i), \qquad
    r \leftarrow a_i^\top \hat x - y_i, \qquad
    x_j \leftarrow x_j - \eta\, r\, a_{ij} \ (j \in S_i),

where :math:`S_i` is the support of sample :math:`i` (its :math:`s` coordinates, read one by one,
then written one by one) and :math:`\eta` is ``lr``. Worker :math:`k` draws its samples uniformly,
with replacement, from its own stream ``np.random.default_rng([seed, k])``, all before the start.
With one worker this is serial SGD with batch size 1.

**Stale reads** are counted as the simulator counts them: a shared int64 counter :math:`c_j` per
coordinate counts the writes :math:`x_j` has received. A worker remembers :math:`c_j` when it reads
:math:`x_j`, and when it writes :math:`x_j` it adds :math:`c_j - c_j^{\rm seen}` to its update's
count, then increments :math:`c_j`. Each update's count goes into ``stale_reads``.

**What is not atomic.** Aligned 8-byte loads and stores are atomic (no value is torn), but
``x[j] -= step * a`` is a load, a subtraction and a store, some 50 ns apart in CPython: a write by
another worker in between is overwritten, *lost*. Hogwild! assumes an atomic add, which Python
does not offer on shared memory. The counter's ``c[j] += 1`` has the same shape, so its lost
increments measure how often it happens: ``lost_writes`` is the writes made minus
:math:`\sum_j c_j` at the end. Two workers rarely meet within those 50 ns: on two cores, 0.2-0.5%
of the writes were lost with two workers, up to 1.2% with four, while stale reads were 4 to over
100 times more frequent (from :math:`s = 1` to :math:`32`). Rarer still, the operating system
pauses a worker between a load and its store, which then rolls :math:`x_j` and :math:`c_j` back
over every write made meanwhile (milliseconds' worth); a write that finds its counter below what
it read is one of ``rollbacks`` (a few per run of 20,000 updates with four workers on two cores)
and adds nothing to the stale count, which thus stays a count.

**Time.** Each worker times its loop (wall clock and CPU), and every ``PROBE_EVERY``-th update
times its read phase :math:`R` and its write phase :math:`V` (the clock's own cost subtracted).
Coordinate :math:`p` of :math:`s` is read :math:`p` steps into the read phase and written
:math:`p` steps into the write phase, so a coordinate stays open between its read and its write
for :math:`R (s+1)/(2s) + V (s-1)/(2s)` on average: a fraction :math:`f` (``window_fraction``) of
the CPU time of an update. Others' writes land on an open coordinate at a rate set by their pace,
so an update should see about :math:`2f` times
:func:`~sgd_utils.theory.workers.expected_stale_reads`, whose tick model has :math:`f = 1/2`. With
more workers than cores, :math:`W` is still the number of workers, not of cores: a worker paused
mid-update sees every write the others make meanwhile. That holds once each worker runs for many
of the scheduler's time slices (milliseconds); shorter runs take turns and see fewer.

**Recording.** ``losses[0]`` is the loss at ``x0``. Worker 0 copies :math:`x` after
:math:`\lfloor k\, m\, n_0 / N \rceil` of its own :math:`n_0` updates, for
:math:`k = 1, \dots, \lfloor N/m \rfloor` (:math:`m` = ``record_every``, :math:`N` =
``num_updates``): where all workers together are at :math:`k m` updates if they keep the same pace.
Each worker publishes its progress, so ``recorded_updates`` says where they really were. The losses
are computed from the copies after the run; with one worker, after every :math:`m` updates
exactly, as in the simulator. A run needs ``8 * dim`` bytes of shared memory per recorded loss,
and each worker 8 bytes per update for its samples.
"""

import contextlib
import hashlib
import multiprocessing
import time
import weakref
from multiprocessing import connection
from multiprocessing.shared_memory import SharedMemory
from typing import NamedTuple

import numpy as np

from ..checks import check_count
from ..optim.base import check_non_negative
from .hogwild_worker import START_TIMEOUT, Failure, Task, layout, serve

START_METHODS = ("forkserver", "spawn")  # safe in a process with threads, unlike a plain fork


class RealHogwildResult(NamedTuple):
    """A real Hogwild! run: the simulator's ``HogwildResult`` fields first, then measurements.

    ``stale_reads`` holds each update's stale reads, worker by worker (worker 0's updates first,
    each worker's in its own order). ``recorded_updates[k]`` is how many updates all workers had
    made when ``losses[k]`` was recorded. ``wall_time`` runs from the first worker leaving the
    start barrier to the last finishing; ``overlap`` is the fraction of it during which all
    workers were running, ``busy`` the CPU time they got per second of their wall time (about
    ``cores / W`` when the workers outnumber the cores), ``update_time`` the mean CPU seconds of an
    update, ``window_fraction`` :math:`f` of the module docstring (NaN without probes).
    ``lost_writes`` and ``rollbacks`` count the non-atomic increments that went wrong.
    """

    x: np.ndarray
    losses: np.ndarray
    stale_reads: np.ndarray
    recorded_updates: np.ndarray
    updates_per_worker: tuple
    wall_time: float
    overlap: float
    busy: float
    update_time: float
    window_fraction: float
    lost_writes: int
    rollbacks: int


# --- the team ------------------------------------------------------------------------------------

class HogwildTeam:
    r"""``num_workers`` worker processes, started once and reused by every :meth:`run`.

    Starting processes is the slow part of a short run (a fraction of a second each), so a
    chapter that runs many settings keeps one team, and runs with any number of its workers::

        with HogwildTeam(4) as team:
            result = team.run(problem, x0, lr=0.5, num_updates=20_000, num_workers=2, seed=3)

    A run by fewer workers leaves the others idle. The workers start with ``start_method``:
    "forkserver" where the platform has it (Linux, macOS), else "spawn"; both are safe in a
    process with threads, a plain fork is not. A run
    that fails or is interrupted (Ctrl-C) closes the team: its workers are stopped and the run's
    shared memory is unlinked. :meth:`close`, leaving the ``with`` block, garbage collection and
    the interpreter's exit stop the workers too.
    """

    def __init__(self, num_workers, *, start_method=None):
        check_count("num_workers", num_workers, 1)
        available = [m for m in START_METHODS if m in multiprocessing.get_all_start_methods()]
        start_method = available[0] if start_method is None else start_method
        if start_method not in available:
            raise ValueError(f"start_method must be one of {available}, "
                             f"got start_method={start_method!r}")
        context = multiprocessing.get_context(start_method)
        self.num_workers, self.start_method = num_workers, start_method
        # where the w workers of a run meet, for each w: the idle ones are not woken
        barriers = [context.Barrier(parties) for parties in range(1, num_workers + 1)]
        pipes = [context.Pipe() for _ in range(num_workers)]
        self._conns = [ours for ours, _ in pipes]
        self._processes = [context.Process(target=serve, args=(rank, theirs, barriers),
                                           name=f"hogwild-worker-{rank}", daemon=True)
                           for rank, (_, theirs) in enumerate(pipes)]
        self._problem_keys = [None] * num_workers   # the problem whose rows each worker holds
        self._finalizer = weakref.finalize(self, _shut_down, self._processes, self._conns, 0.0)
        try:
            for process, (_, theirs) in zip(self._processes, pipes):
                process.start()
                # the worker's end, now the worker's alone: EOF tells each side the other is gone
                theirs.close()
            self._collect(range(num_workers), START_TIMEOUT)
        except BaseException:
            self._finalizer()
            raise

    @property
    def pids(self):
        """The workers' process ids."""
        return [process.pid for process in self._processes]

    @property
    def closed(self):
        """Whether the workers have been stopped."""
        return not self._finalizer.alive

    def close(self, grace=5.0):
        """Stop the workers, after waiting up to ``grace`` seconds for them to exit cleanly."""
        if self._finalizer.detach():
            _shut_down(self._processes, self._conns, grace)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close(grace=5.0 if exc_info[0] is None else 0.0)

    def run(self, problem, x0, *, lr, num_updates, record_every=100, seed=0, num_workers=None):
        r"""Hogwild! by the first ``num_workers`` of the team's workers (all by default), the
        others idle; the other arguments are :func:`real_hogwild`'s. Returns a
        :class:`RealHogwildResult`. One run at a time: a team is not for several threads."""
        if self.closed:
            raise RuntimeError("this HogwildTeam is closed; start a new one")
        num_workers = self.num_workers if num_workers is None else num_workers
        if check_count("num_workers", num_workers, 1) > self.num_workers:
            raise ValueError(f"num_workers must be at most the team's {self.num_workers}, "
                             f"got num_workers={num_workers}")
        x0 = _checked_start(problem, x0)
        task = _task(problem, lr, num_updates, record_every, seed, num_workers)
        try:
            with _shared_block(layout(task.dim, num_workers, len(task.marks))[1]) as block:
                _write(block, task, x0)
                self._send(task._replace(block=block.name), problem)
                replies = self._collect(range(num_workers))
                return _result(problem, x0, task, _read(block, task), replies)
        except BaseException:
            self.close(grace=0.0)
            raise

    def _send(self, task, problem):
        """Send ``task`` to its workers, with the problem's rows to those that lack them."""
        rows = None
        for rank in range(len(task.counts)):
            lacks_rows = self._problem_keys[rank] != task.problem_key
            if lacks_rows and rows is None:
                rows = _problem_rows(problem)
            with contextlib.suppress(BrokenPipeError):   # a dead worker: _collect says so
                self._conns[rank].send(task._replace(problem_rows=rows if lacks_rows else None))
            self._problem_keys[rank] = task.problem_key

    def _collect(self, ranks, timeout=None):
        """The next message of each worker in ``ranks``, in order; a RuntimeError if a worker
        dies, fails or (given a ``timeout`` in seconds) does not answer in time."""
        replies, deadline = {}, None if timeout is None else time.monotonic() + timeout
        while len(replies) < len(ranks):
            pending = [rank for rank in ranks if rank not in replies]
            waiting = {**{self._conns[r]: r for r in pending},
                       **{self._processes[r].sentinel: r for r in pending}}
            left = None if deadline is None else max(deadline - time.monotonic(), 0.0)
            ready = connection.wait(list(waiting), left)
            if not ready:
                raise RuntimeError(f"Hogwild! workers {pending} did not answer in {timeout} s")
            for rank in sorted({waiting[obj] for obj in ready}):
                try:   # a dead worker's pipe is at EOF, or has nothing to read
                    if not self._conns[rank].poll():
                        raise EOFError
                    replies[rank] = self._conns[rank].recv()
                except EOFError:
                    process = self._processes[rank]
                    process.join(1.0)
                    raise RuntimeError(f"Hogwild! worker {rank} (pid {process.pid}) died, "
                                       f"exit code {process.exitcode}") from None
        failures = [reply.text for reply in replies.values() if isinstance(reply, Failure)]
        if failures:
            raise RuntimeError("a Hogwild! worker failed:\n" + "\n".join(failures))
        return [replies[rank] for rank in ranks]


def _shut_down(processes, conns, grace):
    """Ask the workers to exit, give them ``grace`` seconds, then terminate and kill them."""
    for conn in conns:
        with contextlib.suppress(OSError):   # a worker that is gone has closed its end
            conn.send(None)
    deadline = time.monotonic() + grace
    started = [process for process in processes if process.pid is not None]
    for process in started:
        process.join(max(deadline - time.monotonic(), 0.0))
    for stop in ("terminate", "kill"):
        for process in started:
            if process.is_alive():
                getattr(process, stop)()
                process.join(2.0)
    for conn in conns:
        conn.close()


# --- one run, from the parent's side ------------------------------------------------------------

@contextlib.contextmanager
def _shared_block(size):
    """A new shared memory block of ``size`` bytes, unlinked whatever happens."""
    block = SharedMemory(create=True, size=size)
    try:
        yield block
    finally:
        block.unlink()   # first: nothing that can fail comes before it
        with contextlib.suppress(BufferError):   # a view kept alive by a traceback: freed later
            block.close()


def _checked_start(problem, x0):
    """``x0`` as a float64 array after checking it and ``problem``; errors name the argument."""
    try:
        indices, values, targets = problem.indices, problem.values, problem.targets
        dim = problem.dim
    except AttributeError:
        raise TypeError("problem must be a SparseLeastSquares, got "
                        f"{type(problem).__name__}") from None
    indices = np.asarray(indices)
    if (indices.ndim != 2 or np.shape(values) != indices.shape
            or np.shape(targets) != indices.shape[:1] or not indices.size
            or not np.issubdtype(indices.dtype, np.integer)
            or indices.min() < 0 or indices.max() >= dim):
        raise ValueError("problem must have integer indices of shape (n, s) in [0, dim), values "
                         "of the same shape and n targets")
    try:
        start = np.array(x0, dtype=np.float64)
    except (TypeError, ValueError):
        start = None
    if start is None or start.shape != (dim,):
        raise ValueError(f"x0 must be {dim} numbers, of shape (dim,) = ({dim},), "
                         f"got {x0!r:.60}")
    return start


def _task(problem, lr, num_updates, record_every, seed, num_workers):
    """The run's Task, without its block's name and the problem's rows, after checking the
    arguments."""
    lr = check_non_negative("lr", lr)
    check_count("num_updates", num_updates, num_workers)   # every worker makes an update
    check_count("record_every", record_every, 1)
    check_count("seed", seed, 0)
    share, extra = divmod(num_updates, num_workers)
    counts = tuple(share + (rank < extra) for rank in range(num_workers))
    marks = tuple(_mark(k, record_every, counts[0], num_updates)
                  for k in range(1, num_updates // record_every + 1))
    arrays = _arrays(problem)
    key = hashlib.sha256(b"".join(a.tobytes() for a in arrays)
                         + repr(arrays[0].shape).encode()).hexdigest()
    return Task("", int(problem.dim), counts, marks, key, None, lr, seed)


def _problem_rows(problem):
    """The problem's indices, values and targets as lists: what a worker builds its rows from."""
    return [array.tolist() for array in _arrays(problem)]


def _arrays(problem):
    """The problem's indices, values and targets, as int64 and float64 arrays."""
    return [np.ascontiguousarray(problem.indices, dtype=np.int64),
            np.ascontiguousarray(problem.values, dtype=np.float64),
            np.ascontiguousarray(problem.targets, dtype=np.float64)]


def _mark(k, record_every, own_updates, num_updates):
    """Worker 0's update count at which all workers together are at ``k * record_every``
    (rounded to the nearest, at least 1): exactly that with one worker."""
    return max((2 * k * record_every * own_updates + num_updates) // (2 * num_updates), 1)


def _write(block, task, x0):
    """Zero the new block and put x0 in it."""
    (x, _, _, _), size = layout(task.dim, len(task.counts), len(task.marks))
    np.ndarray(size, dtype=np.uint8, buffer=block.buf)[:] = 0
    np.ndarray(task.dim, dtype=np.float64, buffer=block.buf, offset=x)[:] = x0


def _read(block, task):
    """Copies of the final x, the write counters and worker 0's copies of x."""
    (x, counters, _, copies), _ = layout(task.dim, len(task.counts), len(task.marks))

    def read(dtype, offset, count):   # a copy: no view may outlive the block
        return np.ndarray(count, dtype=dtype, buffer=block.buf, offset=offset).copy()

    return (read(np.float64, x, task.dim), read(np.int64, counters, task.dim),
            read(np.float64, copies, task.dim * len(task.marks)).reshape(-1, task.dim))


def _result(problem, x0, task, contents, replies):
    """The RealHogwildResult of a run, from the block's contents and the workers' replies."""
    x, counters, copies = contents
    starts, ends = [r["start"] for r in replies], [r["end"] for r in replies]
    cpu = [r["cpu"] for r in replies]
    wall = max(ends) - min(starts)
    nnz = problem.indices.shape[1]
    return RealHogwildResult(
        x=x, losses=np.array([problem.loss(x0)] + [problem.loss(copy) for copy in copies]),
        stale_reads=np.concatenate([r["stale"] for r in replies]),
        recorded_updates=np.array([0] + replies[0]["recorded"]),
        updates_per_worker=task.counts, wall_time=wall,
        overlap=max(min(ends) - max(starts), 0.0) / wall,
        busy=sum(cpu) / sum(end - start for start, end in zip(starts, ends)),
        update_time=sum(cpu) / sum(task.counts),
        window_fraction=float(np.mean([r["window_fraction"] for r in replies])),
        lost_writes=int(nnz * sum(task.counts) - counters.sum()),
        rollbacks=sum(r["rollbacks"] for r in replies))


def real_hogwild(problem, x0, *, lr, num_workers, num_updates, record_every=100, seed=0):
    r"""Lock-free SGD by ``num_workers`` processes on one shared vector (module docstring).

    The real counterpart of :func:`sgd_utils.experiments.simulated_workers.hogwild`, with its
    arguments: ``problem`` a :class:`~sgd_utils.problems.sparse.SparseLeastSquares`, the shared
    vector starting at ``x0``, learning rate ``lr`` (:math:`\eta`), ``num_updates`` updates in
    all (at least one per worker: each makes ``num_updates // num_workers``, and the first
    ``num_updates % num_workers`` one more), a loss recorded every ``record_every`` of them (see
    the module docstring) and samples drawn from ``seed``. Starts a :class:`HogwildTeam` for this
    one run; to run many, keep a team. Returns a :class:`RealHogwildResult`.

    With one worker the result is serial SGD with batch size 1 on the samples
    ``np.random.default_rng([seed, 0]).integers(n, size=num_updates)``, exactly.
    """
    x0 = _checked_start(problem, x0)   # check everything before starting processes
    _task(problem, lr, num_updates, record_every, seed,
          check_count("num_workers", num_workers, 1))
    with HogwildTeam(num_workers) as team:
        return team.run(problem, x0, lr=lr, num_updates=num_updates, record_every=record_every,
                        seed=seed)
