"""Speed of the trajectory runner: can a slider figure recompute instantly?

Targets (issue 3): a 200-step trace on a 2-D problem well under 10 ms; a
slider grid of 100 such traces under 1 s, drawing excluded. Times are the best
of several repeats (the machine is shared), and each is also given as a ratio
to a reference measured in the same process: a bare NumPy loop doing the same
200 gradient-descent steps on Rosenbrock, with the gradient written inline and
the points stored, i.e. the least a Python loop can cost.

Run: ``python benchmarks/bench_descent.py`` (a few seconds).

The figures measured on the project's CI machine class are in the README's Speed
section; rerun the script for yours.
"""

import sys
import timeit
from pathlib import Path

import numpy as np

# run from a checkout without installing
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sgd_utils.descent import run  # noqa: E402
from sgd_utils.optim import GD, SGD, Adam  # noqa: E402
from sgd_utils.problems import LeastSquares, Rosenbrock  # noqa: E402
from sgd_utils.optim.schedules import CosineAnnealingLR  # noqa: E402

NUM_STEPS = 200
START = (-1.5, 2.0)
REPEATS = 7


def bare_numpy_gradient_descent(lr=1e-3, a=1.0, b=100.0):
    """The reference: 200 GD steps on Rosenbrock, gradient inline, points stored."""
    x = np.array(START)
    params = np.empty((NUM_STEPS + 1, 2))
    params[0] = x
    for t in range(NUM_STEPS):
        valley = x[1] - x[0] * x[0]
        x -= lr * np.array([-2 * (a - x[0]) - 4 * b * x[0] * valley, 2 * b * valley])
        params[t + 1] = x
    return params


def best_seconds(function, number):
    return min(timeit.repeat(function, number=number, repeat=REPEATS)) / number


def slider_grid(problem):
    """100 traces, as a 10 x 10 slider figure (learning rate x momentum) precomputes them."""
    return [run(problem, SGD([np.array(START)], lr=lr, momentum=momentum), NUM_STEPS)
            for lr in np.geomspace(1e-4, 2e-3, 10).tolist()
            for momentum in np.linspace(0, 0.9, 10).tolist()]


def main():
    rosenbrock = Rosenbrock()
    least_squares = LeastSquares(num_samples=1000, dim=10, noise=0.1, seed=0)
    cases = {
        "GD": lambda: run(rosenbrock, GD([np.array(START)], lr=1e-3), NUM_STEPS),
        "SGD momentum 0.9": lambda: run(
            rosenbrock, SGD([np.array(START)], lr=1e-3, momentum=0.9), NUM_STEPS),
        "Adam": lambda: run(rosenbrock, Adam([np.array(START)], lr=0.05), NUM_STEPS),
        "SGD + cosine schedule": lambda: run(
            rosenbrock, SGD([np.array(START)], lr=1e-3, momentum=0.9), NUM_STEPS,
            schedule=CosineAnnealingLR(1e-3, NUM_STEPS)),
        "SGD float32": lambda: run(
            rosenbrock, SGD([np.array(START, dtype=np.float32)], lr=1e-3, momentum=0.9), NUM_STEPS),
        "least squares, batch 32": lambda: run(
            least_squares, SGD([np.zeros(10)], lr=0.01), NUM_STEPS, batch_size=32),
    }
    reference = best_seconds(bare_numpy_gradient_descent, 20)
    print(f"{NUM_STEPS}-step traces (best of {REPEATS}), 2-D Rosenbrock unless noted; "
          "target well under 10 ms")
    print(f"  {'bare NumPy GD loop (reference)':34s} {reference * 1e3:6.2f} ms   1.0x")
    for name, case in cases.items():
        seconds = best_seconds(case, 10)
        print(f"  {'run(): ' + name:34s} {seconds * 1e3:6.2f} ms {seconds / reference:5.1f}x")
    grid = best_seconds(lambda: slider_grid(rosenbrock), 1)
    diverged = sum(trace.diverged_at is not None for trace in slider_grid(rosenbrock))
    print(f"slider grid of 100 SGD traces (10 lrs x 10 momenta, {diverged} diverged early): "
          f"{grid:.3f} s, target < 1 s ({grid / (100 * reference):.1f}x 100 reference loops)")


if __name__ == "__main__":
    main()
