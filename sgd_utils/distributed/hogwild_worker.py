r"""One worker process of real Hogwild! (:mod:`sgd_utils.distributed.hogwild`): its update loop.

A worker attaches to the run's shared memory block, whose regions start on their own cache
lines (:func:`layout`): the vector :math:`x` (float64), one write counter per coordinate
(int64), one progress counter per worker, and worker 0's copies of :math:`x`. It prepares
everything (rows of the problem, all its samples), waits at a barrier for the others, then runs
:func:`updates`, a loop of plain Python scalar operations on ``memoryview`` casts: about 25 ns a
read and 50 ns a read-modify-write, against 45 and 110 ns through NumPy indexing.
"""

import itertools
import signal
import time
import traceback
from multiprocessing.shared_memory import SharedMemory
from typing import NamedTuple

import numpy as np

PROBE_EVERY = 32      # every 32nd update times its read and write phases
LINE = 64             # bytes in a cache line: each worker's progress counter gets its own
START_TIMEOUT = 60.0  # seconds to wait for a worker to start, or for the others at the barrier


class Task(NamedTuple):
    """What each worker taking part in a run receives (pickled through its pipe)."""

    block: str       # name of the shared memory block
    dim: int
    counts: tuple    # updates of each worker taking part (the team's first len(counts))
    marks: tuple     # worker 0's update count at each copy of x (non-decreasing)
    problem_key: str    # fingerprint of the problem: a worker keeps the rows of its last one
    problem_rows: list  # [indices, values, targets] as lists; None if the worker has them
    lr: float
    seed: int


class Failure(NamedTuple):
    """A worker's reply when its task raised: the traceback, as text."""

    text: str


def layout(dim, num_workers, num_marks):
    """Byte offsets of x, the write counters, the progress counters and the copies; total size.

    Each region starts on its own cache line, so that a worker's progress does not slow others.
    """
    def line_up(size):
        return -(-size // LINE) * LINE

    counters = line_up(8 * dim)
    progress = counters + line_up(8 * dim)
    copies = progress + LINE * num_workers
    return (0, counters, progress, copies), copies + 8 * dim * max(num_marks, 1)


def serve(rank, conn, barriers):
    """A worker's life: run each task the team sends, until it sends None or goes away.

    ``barriers[w - 1]`` is where the ``w`` workers of a run meet; the team's others stay idle.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's: it ends the team
    conn.send("ready")
    rows = (None, None)  # (problem key, rows) of the last problem
    while True:
        try:
            task = conn.recv()
        except EOFError:  # the parent is gone
            return
        if task is None:
            return
        try:
            if task.problem_rows is not None:
                rows = (task.problem_key, _rows(*task.problem_rows))
            elif rows[0] != task.problem_key:
                raise RuntimeError("the team sent no rows for this problem")
            reply = _work(rank, task, barriers[len(task.counts) - 1], rows[1])
        except BaseException:
            barriers[len(task.counts) - 1].abort()  # the others stop waiting for this one
            reply = Failure(f"worker {rank}:\n{traceback.format_exc()}")
        conn.send(reply)


def _rows(indices, values, targets):
    """Each sample as ``(((j, a_j), ...), y)``: tuples iterate fastest in the update loop."""
    return [(tuple(zip(coords, row)), target)
            for coords, row, target in zip(indices, values, targets)]


def _work(rank, task, barrier, rows):
    """One run of one worker: its measurements, as a dict."""
    block = SharedMemory(name=task.block)
    try:
        whole = memoryview(block.buf)
        (x, counters, progress, copies), end = layout(task.dim, len(task.counts), len(task.marks))
        size = 8 * task.dim   # a region may end in padding, up to its cache line
        views = [whole[x:x + size].cast("d"), whole[counters:counters + size].cast("q"),
                 whole[progress:copies].cast("q"), whole[copies:end].cast("d")]
        try:
            return _timed_updates(rank, task, barrier, rows, *views)
        finally:
            for view in (*views, whole):  # the block cannot close while views are alive
                view.release()
    finally:
        block.close()


def _timed_updates(rank, task, barrier, rows, x, counters, progress, copies):
    """Draw the samples, wait for the others at the barrier, then run and time the updates."""
    samples = np.random.default_rng([task.seed, rank]).integers(len(rows), size=task.counts[rank])
    recorded, copy = _copier(x, copies, progress, task) if rank == 0 else ([], None)
    overhead = _clock_overhead()
    barrier.wait(START_TIMEOUT)
    start, cpu = time.perf_counter(), time.process_time()
    stale, probes, rollbacks = updates(x, counters, progress, rows, _as_ints(samples), task.lr,
                                       LINE // 8 * rank, task.marks if copy else (), copy)
    end, cpu = time.perf_counter(), time.process_time() - cpu
    window = _window(probes, overhead, len(rows[0][0]))
    return dict(start=start, end=end, cpu=cpu, stale=np.array(stale, dtype=np.int64),
                window_fraction=window * len(samples) / cpu if cpu > 0 else np.nan,
                rollbacks=rollbacks, recorded=recorded)


def _as_ints(samples, chunk=1 << 16):
    """The samples as Python ints, the fastest list index, converted a chunk at a time: a list
    of them all would take some 36 bytes an update."""
    return itertools.chain.from_iterable(samples[start:start + chunk].tolist()
                                         for start in range(0, len(samples), chunk))


def updates(x, counters, progress, rows, samples, lr, slot, marks, copy):
    """The lock-free updates of one worker, on the shared ``x`` and write ``counters``.

    Returns the stale reads of each update, the probes' (read, write) phase times in ns, and
    the rollbacks seen. Stores each update's count in ``progress[slot]``; calls ``copy`` at each
    of ``marks``. Everything is a local variable, for speed.
    """
    clock = time.perf_counter_ns
    stale, probes, rollbacks = [], [], 0
    next_mark = marks[0] if marks else -1
    for done, sample in enumerate(samples, start=1):
        pairs, target = rows[sample]
        probe = done % PROBE_EVERY == 0
        seen, dot = [], 0.0
        if probe:   # the phases start and end where the first coordinate's window does
            start = clock()
        for j, a in pairs:   # read the support, one coordinate at a time
            seen.append(counters[j])
            dot += a * x[j]
        step, count = lr * (dot - target), 0
        if probe:
            read = clock()
        for (j, a), before in zip(pairs, seen):   # then write it, one at a time
            new = counters[j] - before   # writes by others since this coordinate was read
            if new:
                if new > 0:
                    count += new
                else:   # a paused worker stored an old count (hogwild's module docstring)
                    rollbacks += 1
            x[j] -= step * a
            counters[j] += 1
        if probe:
            probes.append((read - start, clock() - read))
        stale.append(count)
        progress[slot] = done
        if done == next_mark:
            next_mark = copy(done)
    return stale, probes, rollbacks


def _copier(x, copies, progress, task):
    """Worker 0's recorder: a list that will hold everyone's progress at each copy, and the
    function that copies x at a mark and returns the next mark (-1 after the last)."""
    recorded, dim, marks = [], task.dim, task.marks
    slots = range(0, len(task.counts) * LINE // 8, LINE // 8)

    def copy(done):
        while len(recorded) < len(marks) and marks[len(recorded)] == done:  # marks may repeat
            k = len(recorded)
            copies[k * dim:(k + 1) * dim] = x   # a memcpy: as racy as any read, and as cheap
            recorded.append(sum(progress[slot] for slot in slots))
        return marks[len(recorded)] if len(recorded) < len(marks) else -1

    return recorded, copy


def _window(probes, overhead, nnz):
    r"""The mean time in seconds from reading a coordinate to writing it, NaN without probes.

    From the probes' read and write phases :math:`R` and :math:`V` (medians, less the clock's
    own cost): coordinate :math:`p` of :math:`s` is read after :math:`p` of the read phase's
    :math:`s` steps and written after :math:`p` of the write phase's, so the window averages
    :math:`R (s+1)/(2s) + V (s-1)/(2s)` (:math:`R` with one coordinate).
    """
    if not probes:
        return np.nan
    read, write = np.median(np.array(probes, dtype=np.float64), axis=0) - overhead
    return (read * (nnz + 1) + write * (nnz - 1)) / (2 * nnz) * 1e-9


def _clock_overhead():
    """The median time in ns between two back-to-back clock readings: in each probed phase."""
    clock = time.perf_counter_ns
    return float(np.median([-clock() + clock() for _ in range(1000)]))
