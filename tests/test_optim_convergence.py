"""Convergence table: every optimizer on a quadratic, Rosenbrock's function and least squares.

The objectives are written out here (not taken from ``sgd_utils.problems``) so
that this table tests the optimizers alone. Each entry must shrink the gap to
the known minimum by the factor ``REDUCTION`` within its step budget: a
wrong sign, a misplaced bias correction or a stale state fails it.
"""

import numpy as np
import pytest

from sgd_utils import optim

REDUCTION = 1e-3


def quadratic():
    """f(x) = (x1^2 + 10 x2^2) / 2: condition number 10, minimum 0 at the origin."""
    curvatures = np.array([1.0, 10.0])
    return (lambda x: 0.5 * float(np.sum(curvatures * x * x)), lambda x: curvatures * x,
            np.array([1.0, 1.0]), 0.0)


def rosenbrock():
    """f(x, y) = (1 - x)^2 + 100 (y - x^2)^2, minimum 0 at (1, 1)."""
    def loss(p):
        return float((1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2)

    def grad(p):
        return np.array([-2 * (1 - p[0]) - 400 * p[0] * (p[1] - p[0] ** 2),
                         200 * (p[1] - p[0] ** 2)])

    return loss, grad, np.array([-1.0, 1.5]), 0.0


def least_squares():
    """f(w) = |A w - b|^2 / (2 n) on seeded data; the minimum from NumPy's lstsq."""
    rng = np.random.default_rng(0)
    A = rng.standard_normal((40, 3)) @ np.diag([1.0, 2.0, 0.5])
    b = A @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.standard_normal(40)
    w_star = np.linalg.lstsq(A, b, rcond=None)[0]

    def loss(w):
        residual = A @ w - b
        return float(residual @ residual / (2 * len(b)))

    return loss, lambda w: A.T @ (A @ w - b) / len(b), np.zeros(3), loss(w_star)


PROBLEMS = {"quadratic": quadratic, "rosenbrock": rosenbrock, "least_squares": least_squares}

# (optimizer, its settings) -> steps per problem; settings are ordinary textbook choices
OPTIMIZERS = {
    "GD": (optim.GD, {"lr": 0.1}, {"rosenbrock": (optim.GD, {"lr": 1.5e-3})}),
    "SGD momentum": (
        optim.SGD, {"lr": 0.05, "momentum": 0.9},
        {"rosenbrock": (optim.SGD, {"lr": 5e-4, "momentum": 0.9})},
    ),
    "SGD Nesterov": (
        optim.SGD, {"lr": 0.05, "momentum": 0.9, "nesterov": True},
        {"rosenbrock": (optim.SGD, {"lr": 5e-4, "momentum": 0.9, "nesterov": True})},
    ),
    "Adagrad": (optim.Adagrad, {"lr": 0.5}, {}),
    "RMSprop": (optim.RMSprop, {"lr": 0.01}, {}),
    "RMSprop centered momentum": (
        optim.RMSprop, {"lr": 0.005, "momentum": 0.9, "centered": True}, {},
    ),
    "Adam": (optim.Adam, {"lr": 0.05}, {}),
    "AdamW amsgrad": (optim.AdamW, {"lr": 0.05, "weight_decay": 0.0, "amsgrad": True}, {}),
}
NUM_STEPS = {"quadratic": 500, "rosenbrock": 5000, "least_squares": 1000}




@pytest.mark.parametrize("problem_name", sorted(PROBLEMS))
@pytest.mark.parametrize("optimizer_name", sorted(OPTIMIZERS))
def test_convergence_table(optimizer_name, problem_name):
    loss, grad, start, min_loss = PROBLEMS[problem_name]()
    optimizer_class, settings, overrides = OPTIMIZERS[optimizer_name]
    optimizer_class, settings = overrides.get(problem_name, (optimizer_class, settings))
    x = start.copy()
    opt = optimizer_class([x], **settings)
    for _ in range(NUM_STEPS[problem_name]):
        opt.step([grad(x)])
    initial_gap, final_gap = loss(start) - min_loss, loss(x) - min_loss
    assert final_gap <= REDUCTION * initial_gap, f"gap {initial_gap:.3g} -> {final_gap:.3g}"
