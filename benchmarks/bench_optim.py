"""Time one optimizer step on the MNIST MLP's parameters (784x128 + 128 + 128x10 + 10, float32).

The trainer calls ``step`` once per mini-batch, and at batch size 1 the whole
training step has a budget of about 150 us, so the optimizer's share matters.
Run: ``python benchmarks/bench_optim.py``. The steps are element-wise passes
over memory, so BLAS threads play no part. On a shared machine the wall-clock
time includes waiting for a core, so the CPU time of this process is printed
too; both are best-of-``--repeat``.
"""

import argparse
import resource
import time
import timeit

import numpy as np

from sgd_utils import optim

SHAPES = [(784, 128), (128,), (128, 10), (10,)]
CASES = [
    ("GD", optim.GD, {}),
    ("SGD", optim.SGD, {}),
    ("SGD momentum=0.9", optim.SGD, {"momentum": 0.9}),
    ("SGD momentum=0.9 nesterov weight_decay", optim.SGD,
     {"momentum": 0.9, "nesterov": True, "weight_decay": 1e-4}),
    ("Adagrad", optim.Adagrad, {}),
    ("RMSprop", optim.RMSprop, {}),
    ("RMSprop centered momentum", optim.RMSprop, {"centered": True, "momentum": 0.9}),
    ("Adam", optim.Adam, {}),
    ("AdamW amsgrad", optim.AdamW, {"amsgrad": True}),
]


def time_step(optimizer_class, kwargs, repeat=7, number=200):
    """Best-of-``repeat`` wall and CPU time of ``opt.step(grads)`` in microseconds, and page
    faults per step.

    Page faults are the thing to watch: every fresh 400 KB temporary that the
    allocator has returned to the system costs ~100 of them (about 50 us).
    """
    rng = np.random.default_rng(0)
    params = [rng.standard_normal(shape).astype(np.float32) * 0.01 for shape in SHAPES]
    # a few gradient sets in turn: a constant gradient is a degenerate case (centered RMSprop's
    # variance estimate rounds below zero after a thousand identical gradients, in PyTorch too)
    grad_sets = [[rng.standard_normal(shape).astype(np.float32) * 0.01 for shape in SHAPES]
                 for _ in range(8)]
    opt = optimizer_class(params, lr=1e-3, **kwargs)
    steps = iter(range(10**9))

    def step():
        opt.step(grad_sets[next(steps) % len(grad_sets)])

    for _ in range(50):  # warm up: first-step allocations, page faults
        step()
    faults_before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    wall = min(timeit.repeat(step, number=number, repeat=repeat)) / number
    faults = ((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults_before)
              / (number * repeat))
    cpu = min(timeit.repeat(step, number=number, repeat=repeat, timer=time.process_time)) / number
    return wall * 1e6, cpu * 1e6, faults


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    print(f"{'optimizer':42s} {'wall us':>8s} {'CPU us':>8s} {'faults':>7s}  (per step)")
    for label, optimizer_class, kwargs in CASES:
        wall, cpu, faults = time_step(optimizer_class, kwargs, repeat=args.repeat)
        print(f"{label:42s} {wall:8.1f} {cpu:8.1f} {faults:7.1f}")


if __name__ == "__main__":
    main()
