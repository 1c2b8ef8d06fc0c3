"""Real Hogwild! against its simulation: stale reads, loss cost, lost writes and time.

Runs chapter 11's Hogwild! grid on real processes (``sgd_utils.distributed.hogwild``) with one
reused team: ``sparse_least_squares(500, 32, s)`` for s in 1, 2, 8, 32, W in 1, 2, 4, learning
rates 0.5 and 1.2, ten seeds. Prints, per s and W, the stale reads per update (mean ± standard
error over all runs of both learning rates) beside the tick model (W - 1) s^2 / (2d) of
``expected_stale_reads`` and 2f times it (f the measured window fraction); the settled loss gap
relative to one worker (median and range over the seeds, as chapter 11 computes it); and the
runs' diagnostics. ``--simulate`` adds the simulator's numbers on the same settings (about 40 s
more at 20,000 updates).

Run: ``python benchmarks/bench_real_hogwild.py [--updates 20000] [--seeds 10] [--simulate]``
(about 17 s for the real runs on two cores at 20,000 updates).
"""

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

# run from a checkout without installing
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sgd_utils.distributed.hogwild import HogwildTeam  # noqa: E402
from sgd_utils.experiments.simulated_workers import hogwild  # noqa: E402
from sgd_utils.problems.sparse import sparse_least_squares  # noqa: E402
from sgd_utils.theory.workers import expected_stale_reads  # noqa: E402

DIM, NUM_SAMPLES = 32, 500
SUPPORTS, WORKERS, LRS = (1, 2, 8, 32), (1, 2, 4), (0.5, 1.2)


def sweep(run, num_updates, seeds):
    """``run(problem, lr=, num_workers=, seed=)`` on the whole grid: {(s, W, lr, seed): result}."""
    results = {}
    for nnz in SUPPORTS:
        problem = sparse_least_squares(NUM_SAMPLES, DIM, nnz, seed=0)
        for lr in LRS:
            for seed in seeds:
                for workers in WORKERS:
                    results[nnz, workers, lr, seed] = run(problem, np.zeros(DIM), lr=lr,
                                                          num_workers=workers,
                                                          num_updates=num_updates, seed=seed)
    return results


def settled_gap(nnz, result):
    """Mean loss gap over the last quarter of the recorded losses (chapter 11's)."""
    problem = sparse_least_squares(NUM_SAMPLES, DIM, nnz, seed=0)
    return np.mean(result.losses[-len(result.losses) // 4:]) - problem.loss(problem.minimizer)


def mean_pm(values):
    values = np.asarray(values, dtype=float)
    return f"{values.mean():.3g} ± {values.std(ddof=1) / np.sqrt(len(values)):.1g}"


def gap_ratios(results, nnz, workers, lr, seeds):
    ratios = [settled_gap(nnz, results[nnz, workers, lr, seed])
              / settled_gap(nnz, results[nnz, 1, lr, seed]) for seed in seeds]
    return f"{np.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})"


def print_tables(real, simulated, seeds):
    print("\n s | W | stale reads/update: real      | 2f x model | model | simulated")
    for nnz in SUPPORTS:
        for workers in WORKERS[1:]:
            runs = [real[nnz, workers, lr, seed] for lr in LRS for seed in seeds]
            f = np.mean([r.window_fraction for r in runs])
            model = expected_stale_reads(nnz, DIM, workers)
            sim = (mean_pm([simulated[nnz, workers, LRS[0], seed].stale_reads.mean()
                            for seed in seeds]) if simulated else "-")
            print(f"{nnz:2d} | {workers} | {mean_pm([r.stale_reads.mean() for r in runs]):>28} | "
                  f"{2 * f * model:10.3g} | {model:5.3g} | {sim}")
    print("\n s | W |  lr | settled gap / serial, real | simulated")
    for nnz in SUPPORTS:
        for workers in WORKERS[1:]:
            for lr in LRS:
                sim = gap_ratios(simulated, nnz, workers, lr, seeds) if simulated else "-"
                print(f"{nnz:2d} | {workers} | {lr:3.1f} | "
                      f"{gap_ratios(real, nnz, workers, lr, seeds):>26} | {sim}")
    print("\n s | W |    f | busy | overlap | wall ms | us/update | lost writes | rollbacks/run")
    for nnz in SUPPORTS:
        for workers in WORKERS:
            runs = [real[nnz, workers, lr, seed] for lr in LRS for seed in seeds]
            writes = nnz * sum(runs[0].updates_per_worker)

            def mean(name):
                return np.mean([getattr(r, name) for r in runs])

            print(f"{nnz:2d} | {workers} | {mean('window_fraction'):.2f} | {mean('busy'):.2f} | "
                  f"{mean('overlap'):7.2f} | {1e3 * mean('wall_time'):7.1f} | "
                  f"{1e6 * mean('update_time'):9.2f} | {mean('lost_writes') / writes:11.2%} | "
                  f"{mean('rollbacks'):.2f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=20_000)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--simulate", action="store_true")
    args = parser.parse_args()
    seeds = range(args.seeds)
    print(f"{os.cpu_count()} cores, {args.updates} updates per run, {args.seeds} seeds")
    start = time.perf_counter()
    with HogwildTeam(max(WORKERS)) as team:
        started = time.perf_counter()
        real = sweep(team.run, args.updates, seeds)
    print(f"team start {started - start:.2f} s, real runs {time.perf_counter() - started:.1f} s")
    simulated = None
    if args.simulate:
        start = time.perf_counter()
        simulated = sweep(hogwild, args.updates, seeds)
        print(f"simulated runs {time.perf_counter() - start:.1f} s")
    print_tables(real, simulated, seeds)


if __name__ == "__main__":
    main()
