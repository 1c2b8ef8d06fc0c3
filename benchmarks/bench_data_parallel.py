"""Where the time of a data-parallel step goes: real processes over torch.distributed (gloo).

One global batch of ``--batch`` MNIST images split over W = 1, 2, 4 processes
(``sgd_utils.distributed.data_parallel.run_data_parallel``), the book's network 784-256-128-10,
float32, one BLAS thread per process. Printed per W: the median time per step of backpropagation,
all-reduce (waiting for the slowest rank included) and optimizer update, averaged over the ranks;
the all-reduce's share of the step; and the step time as a ratio to W = 1's, measured in the same
run (below 1: the processes pay off). The first ``--warmup`` steps are left out.

What to expect: backpropagation falls roughly as 1/W while every process has a core; the
all-reduce sends the whole gradient (0.94 MB in float32) through the operating system and grows
with W; with more processes than cores, ranks wait for descheduled ones and steps get slower.

Run: ``python benchmarks/bench_data_parallel.py [--batch 1024] [--steps 80]`` (about 10 s).
"""

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

# run from a checkout without installing
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sgd_utils.distributed.data_parallel import DataParallelConfig, run_data_parallel  # noqa: E402

WORKERS = (1, 2, 4)


def median_ms(times, warmup):
    """Median over the steps after ``warmup`` of each rank, averaged over the ranks, in ms."""
    return float(np.median(times[:, warmup:], axis=1).mean() * 1e3)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=1024, help="global batch, split over W")
    parser.add_argument("--steps", type=int, default=80)
    parser.add_argument("--warmup", type=int, default=10)
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores; global batch {args.batch}, {args.steps} steps, float32")
    print(" W | backprop ms | all-reduce ms | update ms | step ms | all-reduce share | "
          "step / W=1's | start-up s")
    reference = None
    for workers in WORKERS:
        config = DataParallelConfig(batch_size=args.batch // workers, num_steps=args.steps)
        start = time.perf_counter()
        run = run_data_parallel(workers, config)
        elapsed = time.perf_counter() - start
        parts = [median_ms(t, args.warmup)
                 for t in (run.compute_times, run.allreduce_times, run.update_times)]
        step = sum(parts)
        reference = reference or step
        startup = elapsed - run.step_times.sum(axis=1).max()
        print(f"{workers:2d} | {parts[0]:11.2f} | {parts[1]:13.2f} | {parts[2]:9.2f} | "
              f"{step:7.2f} | {parts[1] / step:16.0%} | {step / reference:12.2f} | "
              f"{startup:10.1f}")


if __name__ == "__main__":
    main()
