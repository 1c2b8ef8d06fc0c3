"""Tests for sgd_utils.experiments.race: tuning against a brute-force loop and hand-made traces, the
race and its table."""

import math

import numpy as np
import pytest

from sgd_utils.experiments import race as race_module
from sgd_utils.descent import run
from sgd_utils.optim import GD, SGD, Adam
from sgd_utils.problems import Quadratic, Rosenbrock
from sgd_utils.experiments.race import RaceResult, race, race_table, tune_lr
from sgd_utils.experiments.measure import steps_to_tolerance
from test_measure import make_trace


def test_tune_lr_agrees_with_a_brute_force_loop():
    problem, start, lrs, tol = Rosenbrock(), [-1.0, 1.5], [1e-4, 3e-4, 1e-3, 3e-3], 1e-2

    def make(x, lr):
        return SGD([x], lr=lr, momentum=0.9)

    lr, trace = tune_lr(problem, make, start, lrs, 400, tol)
    # Written out independently: diverged runs last, then misses by final gap, then hits by steps.
    best_lr, best_score = None, None
    for candidate in lrs:
        candidate_trace = run(problem, make(np.array(start, dtype=float), candidate), 400)
        steps = steps_to_tolerance(candidate_trace, tol)
        if candidate_trace.diverged_at is not None:
            score = (2, 0.0)
        elif steps is None:
            score = (1, candidate_trace.loss_gaps[-1])
        else:
            score = (0, steps, candidate_trace.loss_gaps[-1])
        if best_score is None or score < best_score:
            best_lr, best_score = candidate, score
    assert lr == best_lr
    np.testing.assert_array_equal(trace.params[0], start)
    assert steps_to_tolerance(trace, tol) is not None  # momentum gets there on this grid


def test_tune_lr_never_prefers_a_diverged_run():
    # lr 1.0 diverges on f = 2 x^2 (critical rate 2/L = 0.5), lr 1e-6 barely moves: the
    # slow run wins.
    lr, trace = tune_lr(Quadratic([4.0]), lambda x, lr: GD([x], lr=lr), [1.0], [1.0, 1e-6], 50,
                        1e-8)
    assert lr == 1e-6 and trace.diverged_at is None


@pytest.mark.parametrize("traces, expected", [
    # reaching the tolerance sooner wins, however much lower the other's final gap
    ({0.2: [1.0, 1.0, 1e-12], 0.1: [1.0, 1e-7, 1e-7]}, 0.1),
    # the same step: the lower final gap wins
    ({0.1: [1.0, 1e-7, 1e-7], 0.2: [1.0, 1e-7, 1e-9]}, 0.2),
    # neither gets there: the lower final gap wins
    ({0.1: [1.0, 0.5, 0.3], 0.2: [1.0, 0.5, 0.2]}, 0.2),
    # exact ties: the first such rate in the grid
    ({0.3: [1.0, 1e-7, 1e-8], 0.1: [1.0, 1e-7, 1e-8], 0.2: [1.0, 1e-7, 1e-8]}, 0.3),
    ({0.3: [1.0, 0.5, 0.3], 0.1: [1.0, 0.5, 0.3]}, 0.3),
])
def test_tune_lr_ranks_hand_made_traces_by_steps_then_final_gap(monkeypatch, traces, expected):
    """race.run replaced by a lookup of hand-made traces, one per rate, so the ranking rule
    (module docstring, tune_lr's Returns) is checked on cases written for it, tolerance 1e-6."""
    # the "optimizer" made for a rate is the rate itself, the key of its trace
    monkeypatch.setattr(race_module, "run",
                        lambda problem, optimizer, num_steps: make_trace(traces[optimizer]))
    lr, trace = tune_lr(None, lambda x, lr: lr, [0.0], list(traces), 2, 1e-6)
    assert lr == expected
    np.testing.assert_array_equal(trace.losses, traces[expected])


def test_tune_lr_errors():
    with pytest.raises(ValueError, match="lrs must be"):
        tune_lr(Quadratic([1.0]), lambda x, lr: GD([x], lr=lr), [1.0], [], 10, 1e-6)
    with pytest.raises(ValueError, match="lrs must be"):
        tune_lr(Quadratic([1.0]), lambda x, lr: GD([x], lr=lr), [1.0], [0.1, -0.1], 10, 1e-6)


def test_race_and_table():
    problems = {"bowl": (Quadratic([1.0, 4.0]), [1.0, 1.0]),
                "ravine": (Quadratic([1.0, 100.0]), [1.0, 1.0])}
    optimizers = {"GD": lambda x, lr: GD([x], lr=lr), "Adam": lambda x, lr: Adam([x], lr=lr)}
    results = race(problems, optimizers, lrs=[0.01, 0.1, 0.3], num_steps=60, tol=1e-8)
    assert [(r.problem, r.optimizer) for r in results] == [
        ("bowl", "GD"), ("bowl", "Adam"), ("ravine", "GD"), ("ravine", "Adam")]
    assert all(isinstance(r, RaceResult) and r.final_gap == r.trace.loss_gaps[-1] for r in results)
    gd_bowl = results[0]
    assert gd_bowl.lr == 0.3 and gd_bowl.steps == steps_to_tolerance(gd_bowl.trace, 1e-8)
    table = race_table(results, num_steps=60).splitlines()
    assert len(table) == 3 and "GD" in table[0] and "Adam" in table[0]
    assert table[1].startswith("bowl") and table[1].split()[1] == str(gd_bowl.steps)
    assert any(">60" in line for line in table[1:]) == any(r.steps is None for r in results)
    lrs = race_table(results, value="lr").splitlines()
    assert lrs[1].split()[1:] == [f"{r.lr:.2g}" for r in results if r.problem == "bowl"]
    gaps = race_table(results, value="final_gap").splitlines()
    gap = results[3].final_gap     # the ravine's Adam run: its power of ten, or the floor
    expected = ("<1e-25" if gap < 1e-25 else f"1e{math.floor(math.log10(gap)):+d}")
    assert gaps[2].split()[2] == expected
    with pytest.raises(ValueError, match="value must be one of"):
        race_table(results, value="loss")


def test_race_errors():
    with pytest.raises(ValueError, match="at least one"):
        race({}, {"GD": lambda x, lr: GD([x], lr=lr)}, [0.1], 10, 1e-6)
