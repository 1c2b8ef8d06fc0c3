"""Tests of sgd_utils.distributed.hogwild: real processes on shared memory.

One worker is checked against serial SGD written out here; the counting rule against a fake
counter whose foreign writes are scripted. Real races are not reproducible, so runs of several
workers are checked only for what holds whatever the timing: every update made, counts that
are never negative, a loss that falls. And nothing may be left behind: no shared memory, no
process, whether a run ends, fails, loses a worker or is interrupted.
"""

import os
import signal
import subprocess
import sys
import textwrap
import threading
from multiprocessing.shared_memory import SharedMemory

import numpy as np
import pytest

import sgd_utils.distributed.hogwild as hogwild
from sgd_utils.distributed.hogwild import HogwildTeam, real_hogwild
from sgd_utils.distributed.hogwild_worker import updates
from sgd_utils.problems.sparse import sparse_least_squares

psutil = pytest.importorskip("psutil")
POSIX = pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX signals")


@pytest.fixture(scope="module")
def team():
    with HogwildTeam(4) as team:
        yield team


@pytest.fixture(scope="module")
def problem():
    return sparse_least_squares(200, 16, 4, seed=1)


@pytest.fixture
def block_names(monkeypatch):
    """The names of the shared memory blocks the runs create."""
    names = []

    class Recorded(SharedMemory):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            names.append(self.name)

    monkeypatch.setattr(hogwild, "SharedMemory", Recorded)
    return names


def assert_unlinked(name):
    with pytest.raises(FileNotFoundError):
        SharedMemory(name=name)


def alive(pid):
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def serial_sgd(problem, x0, lr, samples, record_every):
    """Oracle: SGD with batch size 1, one Python float at a time; the points every
    ``record_every`` updates."""
    x, points = [float(v) for v in x0], []
    for done, sample in enumerate(samples, start=1):
        coords, values = problem.indices[sample].tolist(), problem.values[sample].tolist()
        residual = sum(a * x[j] for j, a in zip(coords, values)) - problem.targets[sample]
        for j, a in zip(coords, values):
            x[j] -= lr * residual * a
        if done % record_every == 0:
            points.append(np.array(x))
    return np.array(x), points


def test_one_worker_is_serial_sgd_exactly(block_names):
    problem = sparse_least_squares(100, 12, 4, seed=2)
    x0 = np.random.default_rng(0).standard_normal(12)
    result = real_hogwild(problem, x0, lr=0.3, num_workers=1, num_updates=250, record_every=50,
                          seed=5)
    samples = np.random.default_rng([5, 0]).integers(100, size=250)
    x, points = serial_sgd(problem, x0, 0.3, samples, 50)
    np.testing.assert_array_equal(result.x, x)
    assert result.losses.tolist() == [problem.loss(p) for p in [x0, *points]]
    assert result.recorded_updates.tolist() == [0, 50, 100, 150, 200, 250]
    assert result.updates_per_worker == (250,) and np.all(result.stale_reads == 0)
    assert result.lost_writes == 0 and result.rollbacks == 0
    assert len(block_names) == 1
    assert_unlinked(block_names[0])


def test_one_worker_of_a_team_is_the_same_run(team, problem):
    """The idle workers do nothing; the samples depend on the seed and rank only."""
    x0 = np.zeros(problem.dim)
    alone = real_hogwild(problem, x0, lr=0.5, num_workers=1, num_updates=300, seed=9)
    in_team = team.run(problem, x0, lr=0.5, num_updates=300, seed=9, num_workers=1)
    np.testing.assert_array_equal(in_team.x, alone.x)
    np.testing.assert_array_equal(in_team.losses, alone.losses)


@pytest.mark.parametrize("num_workers", [2, 4])
def test_many_workers_make_every_update_and_converge(team, problem, num_workers, block_names):
    x0 = np.zeros(problem.dim)
    result = team.run(problem, x0, lr=0.5, num_updates=4001, record_every=400, seed=1,
                      num_workers=num_workers)
    counts = result.updates_per_worker
    assert sum(counts) == len(result.stale_reads) == 4001 and max(counts) - min(counts) == 1
    assert result.stale_reads.min() >= 0 and result.lost_writes >= 0
    recorded = result.recorded_updates
    assert len(result.losses) == len(recorded) == 11 and recorded[0] == 0
    assert np.all(np.diff(recorded) >= 0) and recorded[-1] <= 4001
    assert np.all(np.isfinite(result.losses)) and np.all(np.isfinite(result.x))
    gap = result.losses - problem.loss(problem.minimizer)
    assert gap[-3:].mean() < gap[0] / 20   # reaches the noise floor
    assert 0 < result.window_fraction < 1 and 0 <= result.overlap <= 1
    assert_unlinked(block_names[-1])


def test_the_team_sends_a_problem_once_and_replaces_it(team, monkeypatch):
    sent, real_rows = [], hogwild._problem_rows
    monkeypatch.setattr(hogwild, "_problem_rows",
                        lambda problem: sent.append(problem) or real_rows(problem))
    first, second = (sparse_least_squares(50, 8, k, seed=k) for k in (2, 3))
    for problem in (first, first, second, first):
        result = team.run(problem, np.zeros(8), lr=0.5, num_updates=200, num_workers=1)
        samples = np.random.default_rng([0, 0]).integers(50, size=200)
        np.testing.assert_array_equal(result.x,
                                      serial_sgd(problem, np.zeros(8), 0.5, samples, 100)[0])
    assert [p.dim for p in sent] == [8, 8, 8] and sent[1] is second   # not the second first


def counters_with_foreign_writes(dim, per_access):
    """Write counters to which another worker adds ``per_access`` before every access (a
    negative number: a paused worker's stale store rolls them back)."""
    class Counters(list):
        def __getitem__(self, j):
            self[j] = list.__getitem__(self, j) + per_access
            return list.__getitem__(self, j)
    return Counters([0] * dim)


@pytest.mark.parametrize("per_access, stale, rollbacks", [(0, 0, 0), (2, 2 * 3, 0), (-1, 0, 3)])
def test_stale_reads_count_the_writes_between_read_and_write(per_access, stale, rollbacks):
    problem = sparse_least_squares(10, 6, 3, seed=0)
    rows = [(tuple(zip(c, v)), y) for c, v, y in
            zip(problem.indices.tolist(), problem.values.tolist(), problem.targets.tolist())]
    x, progress = [0.0] * 6, [0]
    counts, _, seen_rollbacks = updates(x, counters_with_foreign_writes(6, per_access),
                                        progress, rows, [4, 7], 0.5, 0, (), None)
    assert counts == [stale, stale] and seen_rollbacks == 2 * rollbacks and progress == [2]
    np.testing.assert_array_equal(x, serial_sgd(problem, np.zeros(6), 0.5, [4, 7], 1)[0])


def test_nothing_is_left_behind_after_a_run():
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    with HogwildTeam(2) as team:
        pids = team.pids
        team.run(sparse_least_squares(50, 8, 2, seed=0), np.zeros(8), lr=0.5, num_updates=100)
    assert team.closed and not any(alive(pid) for pid in pids)
    new = [command(p) for p in psutil.Process().children(recursive=True) if p.pid not in before]
    # the start method's server and the resource tracker live as long as this process
    assert [c for c in new if c and "forkserver" not in c and "resource_tracker" not in c] == []


def command(process):
    """The command line of a process, or None if it has gone meanwhile."""
    try:
        return " ".join(process.cmdline()) if alive(process.pid) else None
    except psutil.Error:
        return None


def test_an_error_in_a_worker_closes_the_team_and_unlinks(block_names, monkeypatch):
    """A task without the problem's rows makes every worker raise."""
    monkeypatch.setattr(hogwild, "_problem_rows", lambda problem: None)
    team = HogwildTeam(2)
    with pytest.raises(RuntimeError, match="worker 0:(.|\n)*sent no rows for this problem"):
        team.run(sparse_least_squares(50, 8, 2, seed=0), np.zeros(8), lr=0.5, num_updates=100)
    assert team.closed and not any(alive(pid) for pid in team.pids)
    assert_unlinked(block_names[0])
    with pytest.raises(RuntimeError, match="closed"):
        team.run(sparse_least_squares(50, 8, 2, seed=0), np.zeros(8), lr=0.5, num_updates=100)


@POSIX
def test_a_worker_killed_mid_run_closes_the_team_and_unlinks(block_names):
    team = HogwildTeam(2)
    killer = threading.Timer(0.3, os.kill, (team.pids[1], signal.SIGKILL))
    killer.start()
    with pytest.raises(RuntimeError, match=r"worker 1 \(pid \d+\) died"):
        team.run(sparse_least_squares(50, 8, 8, seed=0), np.zeros(8), lr=0.5,
                 num_updates=2 * 10**6, record_every=10**6)   # seconds: the kill ends it
    killer.join()
    assert team.closed and not any(alive(pid) for pid in team.pids)
    assert_unlinked(block_names[0])


INTERRUPTED = textwrap.dedent("""
    import sys, numpy as np
    import sgd_utils.distributed.hogwild as hogwild
    from sgd_utils.problems.sparse import sparse_least_squares

    class Announced(hogwild.SharedMemory):   # tells the test the block's name
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            print("block", self.name, flush=True)

    if __name__ == "__main__":
        hogwild.SharedMemory = Announced
        team = hogwild.HogwildTeam(2)
        print("pids", *team.pids, flush=True)
        team.run(sparse_least_squares(50, 8, 8, seed=0), np.zeros(8), lr=0.5,
                 num_updates=2 * 10**6, record_every=10**6)   # seconds: Ctrl-C ends it
""")


@POSIX
def test_ctrl_c_stops_the_workers_and_unlinks(tmp_path):
    script = tmp_path / "interrupted.py"
    script.write_text(INTERRUPTED)
    process = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    pids = [int(pid) for pid in process.stdout.readline().split()[1:]]
    block = process.stdout.readline().split()[1]
    threading.Event().wait(0.3)   # the workers are updating
    process.send_signal(signal.SIGINT)
    _, errors = process.communicate(timeout=30)
    assert "KeyboardInterrupt" in errors and "leaked" not in errors
    assert len(pids) == 2 and not any(alive(pid) for pid in pids)
    assert_unlinked(block)


@pytest.mark.parametrize("settings, error, message", [
    ({"num_workers": 0}, ValueError, "num_workers must be an integer >= 1"),
    ({"num_updates": 1}, ValueError, "num_updates must be an integer >= 2"),
    ({"num_updates": 10.0}, ValueError, "num_updates must be an integer >= 2"),
    ({"record_every": 0}, ValueError, "record_every must be an integer >= 1"),
    ({"seed": -1}, ValueError, "seed must be an integer >= 0"),
    ({"lr": -0.1}, ValueError, "Invalid lr"),
    ({"lr": "0.5"}, TypeError, "lr must be a real number"),
    ({"num_workers": True}, ValueError, "num_workers must be an integer >= 1"),
    ({"x0": np.zeros(3)}, ValueError, r"x0 must be 8 numbers, of shape \(dim,\) = \(8,\)"),
    ({"x0": "zeros"}, ValueError, "x0 must be 8 numbers"),
    ({"problem": np.eye(8)}, TypeError, "problem must be a SparseLeastSquares"),
])
def test_bad_arguments_are_named_before_any_process_starts(settings, error, message, monkeypatch):
    monkeypatch.setattr(hogwild, "HogwildTeam", None)   # would fail if a team were started
    arguments = dict(problem=sparse_least_squares(50, 8, 2, seed=0), x0=np.zeros(8), lr=0.5,
                     num_workers=2, num_updates=100)
    with pytest.raises(error, match=message):
        real_hogwild(**{**arguments, **settings})


def test_bad_problems_and_team_settings_are_named(team):
    problem = sparse_least_squares(50, 8, 2, seed=0)
    with pytest.raises(ValueError, match=r"problem must have integer indices .* in \[0, dim\)"):
        team.run(problem._replace(dim=4), np.zeros(4), lr=0.5, num_updates=100)
    with pytest.raises(ValueError, match="num_workers must be at most the team's 4"):
        team.run(problem, np.zeros(8), lr=0.5, num_updates=100, num_workers=5)
    assert not team.closed   # a bad argument does not end the team
    with pytest.raises(ValueError, match="start_method must be one of"):
        HogwildTeam(2, start_method="fork")
