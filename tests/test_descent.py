"""Tests for sgd_utils.descent: the runner against loops written out here, divergence, batches."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sgd_utils import optim
from sgd_utils.descent import Trace, epoch_batches, log_steps, random_batches, run
from sgd_utils.optim import GD, SGD
from sgd_utils.problems import LeastSquares, LogisticRegression, Quadratic, Rosenbrock, Saddle
from sgd_utils.optim.schedules import CosineAnnealingLR, InverseTime, StepLR

QUADRATIC = Quadratic([1.0, 10.0], rotation=0.3)
LEAST_SQUARES = LeastSquares(num_samples=50, dim=3, noise=0.2, seed=0)


def test_gradient_descent_trace_equals_written_out_loop():
    x = np.array([1.0, -2.0])
    trace = run(QUADRATIC, GD([x], lr=0.05), 30)
    expected = [np.array([1.0, -2.0])]
    for _ in range(30):
        expected.append(expected[-1] - 0.05 * QUADRATIC.hessian @ expected[-1])
    np.testing.assert_allclose(trace.params, expected, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(trace.losses, [0.5 * p @ QUADRATIC.hessian @ p for p in expected],
                               rtol=1e-13)
    np.testing.assert_array_equal(trace.lrs, np.full(30, 0.05))
    assert trace.diverged_at is None and trace.num_steps == 30
    assert trace.params.shape == (31, 2) and trace.losses.shape == (31,)


def test_point_is_updated_in_place_and_start_is_copied():
    x = np.array([-1.5, 2.0])
    opt = SGD([x], lr=1e-3, momentum=0.9)
    trace = run(Rosenbrock(), opt, 20)
    assert opt.params[0] is x
    np.testing.assert_array_equal(trace.params[0], [-1.5, 2.0])
    np.testing.assert_array_equal(trace.params[-1], x)
    assert not np.shares_memory(trace.params, x)


def test_momentum_states_are_copies_matching_the_written_recursion():
    x = np.array([1.0, 1.0])
    trace = run(QUADRATIC, SGD([x], lr=0.02, momentum=0.5), 10)
    assert len(trace.states) == 11 and trace.states[0].momentum_buffer is None
    buffer = None
    for t in range(10):
        grad = QUADRATIC.hessian @ trace.params[t]
        # PyTorch: starts at the first gradient
        buffer = grad if buffer is None else 0.5 * buffer + grad
        np.testing.assert_allclose(trace.states[t + 1].momentum_buffer, buffer, rtol=1e-13)
        np.testing.assert_allclose(trace.params[t + 1], trace.params[t] - 0.02 * buffer, rtol=1e-13)


def test_schedule_sets_the_lr_before_each_step():
    schedule = StepLR(lr=0.1, step_size=3, gamma=0.5)
    x = np.array([1.0, -1.0])
    trace = run(QUADRATIC, GD([x], lr=123.0), 10, schedule=schedule)
    np.testing.assert_array_equal(trace.lrs, [schedule(t) for t in range(10)])
    point = np.array([1.0, -1.0])
    for t in range(10):
        point = point - schedule(t) * QUADRATIC.hessian @ point
    np.testing.assert_allclose(trace.params[-1], point, rtol=1e-14)


def test_minibatches_follow_seeded_epoch_shuffling_and_keep_the_last_small_batch():
    x = np.zeros(3)
    trace = run(LEAST_SQUARES, GD([x], lr=0.1), 12, batch_size=16, seed=5)
    # 50 samples in batches of 16: 16, 16, 16, 2, then a new permutation.
    rng = np.random.default_rng(5)
    batches = []
    while len(batches) < 12:
        order = rng.permutation(50)
        batches += [order[i:i + 16] for i in range(0, 50, 16)]
    assert [len(b) for b in batches[:5]] == [16, 16, 16, 2, 16]
    point = np.zeros(3)
    for t in range(12):
        X, y = LEAST_SQUARES.X[batches[t]], LEAST_SQUARES.y[batches[t]]
        point = point - 0.1 * X.T @ (X @ point - y) / len(batches[t])
        np.testing.assert_allclose(trace.params[t + 1], point, rtol=1e-12)
    np.testing.assert_allclose(trace.losses[-1], LEAST_SQUARES.loss(point))  # full-batch loss


def test_same_seed_same_trace_other_seed_other_trace():
    def final(seed):
        return run(LEAST_SQUARES, SGD([np.zeros(3)], lr=0.05), 40, batch_size=5,
                   seed=seed).params[-1]
    np.testing.assert_array_equal(final(1), final(1))
    assert not np.array_equal(final(1), final(2))


def test_epoch_batches_cover_every_sample_once_per_epoch():
    batches = epoch_batches(10, 4, np.random.default_rng(0))
    epoch = [next(batches) for _ in range(3)]
    assert [len(b) for b in epoch] == [4, 4, 2]
    assert sorted(np.concatenate(epoch).tolist()) == list(range(10))


def test_divergence_stops_the_run_at_the_step_the_rule_predicts():
    # GD on diag(1, 10) with lr 0.3: the stiff coordinate is multiplied by 1 - 3 = -2 each step.
    x = np.array([0.0, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trace = run(Quadratic([1.0, 10.0]), GD([x], lr=0.3), 100)
    # Loss gap 5 * 4**t first exceeds the limit 1e6 * max(5, 1) at t = 10.
    first = next(t for t in range(100) if 5 * 4.0**t > 1e6 * 5)
    assert trace.diverged_at == first == 10
    assert trace.num_steps == 10 and trace.params.shape == (11, 2) and trace.losses.shape == (11,)
    assert len(trace.states) == 11
    assert trace.status == "diverged at step 10"


def test_divergence_limit_is_at_least_the_factor_itself_for_a_small_start_gap():
    # GD with lr 2.1 on x^2 / 2 multiplies x by 1 - 2.1 = -1.1 each step: from x = 1e-4 the gap
    # is 5e-9 * 1.21**t. The limit is 1e6 * max(5e-9, 1) = 1e6, first exceeded when
    # 1.21**t > 2e14, t > log(2e14) / log(1.21) = 172.7: step 173 (1e6 * 5e-9 would give 73).
    trace = run(Quadratic([1.0]), GD([np.array([1e-4])], lr=2.1), 1000)
    gap, first = 0.5 * 1e-4**2, None
    for t in range(1, 1000):  # the same rule, step by step
        gap *= 1.1**2
        if gap > 1e6 * max(0.5 * 1e-4**2, 1.0):
            first = t
            break
    assert trace.diverged_at == first == 173


def test_float32_overflow_diverges_silently_with_non_finite_loss():
    x = np.array([-1.5, 2.0], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trace = run(Rosenbrock(), GD([x], lr=0.1), 100, divergence_factor=1e300)
    assert trace.diverged_at is not None and not np.isfinite(trace.losses[-1])
    assert np.all(np.isfinite(trace.losses[:-1]))
    assert trace.params.dtype == np.float32


def test_saddle_escape_is_no_divergence_until_the_loss_is_infinite():
    x = np.array([1.0, 1e-3], dtype=np.float32)
    trace = run(Saddle(), GD([x], lr=0.5), 200)
    # x is 0 after one step and y doubles every step: -y**2 overflows float32 at t = 74.
    y0, largest = float(np.float32(1e-3)), float(np.finfo(np.float32).max)
    first = next(t for t in range(200) if (y0 * 2.0**t) ** 2 > largest)
    assert trace.diverged_at == first == 74 and trace.losses[-1] == -np.inf
    assert np.all(trace.loss_gaps[1:-1] < 0)


def test_float32_run_stays_float32():
    x = np.array([1.0, 1.0], dtype=np.float32)
    trace = run(QUADRATIC, SGD([x], lr=0.05, momentum=0.9), 50,
                schedule=CosineAnnealingLR(0.05, 50))
    assert trace.params.dtype == np.float32 and x.dtype == np.float32
    assert trace.states[-1].momentum_buffer.dtype == np.float32


def test_status_reports_final_gap():
    trace = run(Quadratic([1.0, 1.0]), GD([np.array([1.0, 0.0])], lr=0.5), 3)
    assert trace.status == "loss gap 7.8e-03 after 3 steps"  # 0.5 * (1/2)**(2*3)
    assert (run(Quadratic([1.0, 10.0]), GD([np.ones(2)], lr=0.1), 0).status
            == "loss gap 5.5e+00 after 0 steps")


@settings(max_examples=20, deadline=None)
@given(first=st.integers(0, 15), second=st.integers(0, 15), momentum=st.floats(0.0, 0.95))
def test_two_runs_in_a_row_continue_one_another(first, second, momentum):
    # The optimizer keeps its point and state, so a run resumes exactly where the last stopped.
    x = np.array([1.0, -1.0])
    opt = SGD([x], lr=0.03, momentum=momentum)
    a, b = run(QUADRATIC, opt, first), run(QUADRATIC, opt, second)
    whole = run(QUADRATIC, SGD([np.array([1.0, -1.0])], lr=0.03, momentum=momentum), first + second)
    np.testing.assert_array_equal(np.concatenate([a.params, b.params[1:]]), whole.params)


@pytest.mark.parametrize("kwargs, message", [
    (dict(optimizer=GD([np.zeros(3)], lr=0.1)), r"shape \(2,\)"),
    (dict(optimizer=GD([np.zeros(2), np.zeros(2)], lr=0.1)), "exactly one array"),
    (dict(num_steps=-1), "num_steps=-1"),
    (dict(num_steps=2.5), "num_steps=2.5"),
    (dict(batch_size=4), "batch_size=4"),
    (dict(divergence_factor=0.0), "divergence_factor=0.0"),
])
def test_bad_arguments_raise_value_error(kwargs, message):
    arguments = dict(problem=QUADRATIC, optimizer=GD([np.zeros(2)], lr=0.1), num_steps=5) | kwargs
    problem, optimizer, num_steps = (arguments.pop(k)
                                     for k in ("problem", "optimizer", "num_steps"))
    with pytest.raises(ValueError, match=message):
        run(problem, optimizer, num_steps, **arguments)


def test_bad_batch_sizes_and_schedules():
    for batch_size in (0, 51, 2.0):
        with pytest.raises(ValueError, match=f"batch_size={batch_size}"):
            run(LEAST_SQUARES, GD([np.zeros(3)], lr=0.1), 5, batch_size=batch_size)
    with pytest.raises(TypeError, match="schedule"):
        run(QUADRATIC, GD([np.zeros(2)], lr=0.1), 5, schedule=0.1)


def test_trace_is_a_plain_dataclass():
    trace = run(QUADRATIC, GD([np.ones(2)], lr=0.1), 3)
    assert isinstance(trace, Trace) and trace.label == "GD on quadratic, kappa=10"
    np.testing.assert_allclose(trace.loss_gaps, trace.losses - QUADRATIC.min_loss)


# The convergence table: every optimizer x problem, with hyperparameters that
# converge and thresholds set ~100x above the final loss gaps measured when
# this was written (numbers in the comments), so the table catches a broken
# rule without being brittle to rounding.
def _problems():
    return {
        "quadratic": (Quadratic.from_condition_number(100.0, rotation=0.5), np.array([1.5, 1.0]),
                      2000),
        "rosenbrock": (Rosenbrock(), np.array([-1.5, 2.0]), 3000),
        "least_squares": (LeastSquares(num_samples=500, dim=10, noise=0.1, seed=0), np.zeros(10),
                          2000),
    }


# optimizer name -> problem -> (make optimizer, uses cosine schedule, threshold)
CONVERGENCE = {
    "GD": {"quadratic": (lambda x: GD([x], lr=1 / 100), False, 1e-15),  # 5.6e-18
           "rosenbrock": (lambda x: GD([x], lr=2e-3), False, 1e-3),  # 9.1e-6
           "least_squares": (lambda x: GD([x], lr=0.5), False, 1e-15)},  # 0
    "SGD": {"quadratic": (lambda x: SGD([x], lr=1.9e-3, momentum=0.9), False, 1e-30),  # 2.0e-43
            "rosenbrock": (lambda x: SGD([x], lr=4e-4, momentum=0.9), False, 1e-3),  # 1.6e-5
            "least_squares": (lambda x: SGD([x], lr=0.1, momentum=0.9), False, 1e-15)},  # 2.6e-18
    "SGD_nesterov": {
        "quadratic":
            (lambda x: SGD([x], lr=1.9e-3, momentum=0.9, nesterov=True), False, 1e-30),  # 4.1e-42
        "rosenbrock":
            (lambda x: SGD([x], lr=4e-4, momentum=0.9, nesterov=True), False, 1e-3),  # 1.6e-5
        "least_squares":
            (lambda x: SGD([x], lr=0.1, momentum=0.9, nesterov=True), False, 1e-15)},  # 2.6e-18
    "Adagrad": {"quadratic": (lambda x: optim.Adagrad([x], lr=0.5), False, 1e-20),  # 1.5e-26
                "rosenbrock": (lambda x: optim.Adagrad([x], lr=2.0), False, 1e-1),  # 1.0e-2
                "least_squares": (lambda x: optim.Adagrad([x], lr=0.5), False, 1e-15)},  # 2.6e-18
    "RMSprop": {"quadratic": (lambda x: optim.RMSprop([x], lr=0.01), True, 1e-30),  # 5.6e-40
                "rosenbrock":
                    (lambda x: optim.RMSprop([x], lr=1e-3, momentum=0.9), True, 1e-15),  # 2.1e-21
                "least_squares": (lambda x: optim.RMSprop([x], lr=0.01), True, 1e-15)},  # 2.6e-18
    "Adam": {"quadratic": (lambda x: optim.Adam([x], lr=0.05), True, 1e-30),  # 1.1e-71
             "rosenbrock": (lambda x: optim.Adam([x], lr=0.1), True, 1e-10),  # 1.1e-14
             "least_squares": (lambda x: optim.Adam([x], lr=0.05), True, 1e-15)},  # 0
    # AdamW at PyTorch's default weight_decay=1e-2: the decay pulls towards 0, so the
    # gap stalls where the decay balances the gradient (except on the quadratic centred at 0).
    "AdamW": {"quadratic": (lambda x: optim.AdamW([x], lr=0.05), True, 1e-30),  # 1.1e-73
              "rosenbrock": (lambda x: optim.AdamW([x], lr=0.1), True, 1e-2),  # 7.5e-4
              "least_squares": (lambda x: optim.AdamW([x], lr=0.05), True, 1e-4)},  # 1.8e-6
}


@pytest.mark.parametrize("problem_name", ["quadratic", "rosenbrock", "least_squares"])
@pytest.mark.parametrize("optimizer_name", CONVERGENCE)
def test_convergence_table(optimizer_name, problem_name):
    problem, start, num_steps = _problems()[problem_name]
    make, cosine, threshold = CONVERGENCE[optimizer_name][problem_name]
    opt = make(start.copy())
    schedule = CosineAnnealingLR(opt.lr, T_max=num_steps) if cosine else None
    trace = run(problem, opt, num_steps, schedule=schedule)
    print(optimizer_name, problem_name, trace.status)
    assert trace.diverged_at is None
    assert trace.loss_gaps[-1] < threshold


def test_recording_some_steps_gives_the_same_points_bit_for_bit():
    """The light recording skips the per-step loss and state copies, nothing else."""
    tiny = LeastSquares(num_samples=7, dim=2, noise=0.8, seed=3)
    start = np.array([2.0, -1.0])
    for batch_size, schedule in ((1, None), (3, None), (2, InverseTime(a=1.0, b=5.0))):
        full = run(tiny, SGD([start.copy()], lr=0.1), 40, batch_size=batch_size,
                   schedule=schedule, seed=7)
        light = run(tiny, SGD([start.copy()], lr=0.1), 40, batch_size=batch_size,
                    schedule=schedule, seed=7, record_steps=[0, 5, 40, 5])
        assert np.array_equal(light.params, full.params[[0, 5, 40]])
        np.testing.assert_array_equal(light.steps, [0, 5, 40])
        np.testing.assert_allclose(light.losses, full.losses[[0, 5, 40]], rtol=1e-13)
        assert light.states is None and np.array_equal(light.lrs, full.lrs)


def test_light_runs_go_on_after_diverging_and_say_where():
    trace = run(QUADRATIC, GD([np.array([1.0, 1.0])], lr=0.3), 50, record_steps=range(0, 51, 5))
    full = run(QUADRATIC, GD([np.array([1.0, 1.0])], lr=0.3), 50)
    assert trace.num_steps == 50 and full.diverged_at <= trace.diverged_at <= full.diverged_at + 5
    assert trace.diverged_at % 5 == 0


def test_epoch_batches_drop_the_remainder_when_asked():
    batches = epoch_batches(10, 4, np.random.default_rng(0), drop_last=True)
    first_epoch = [next(batches) for _ in range(2)]
    assert [len(b) for b in first_epoch] == [4, 4] and len(set(np.concatenate(first_epoch))) == 8
    assert len(next(batches)) == 4   # the next epoch starts: no batch of 2


def test_chains_shuffle_each_on_its_own():
    batches = epoch_batches(10, 5, np.random.default_rng(0), num_chains=3)
    epoch = np.concatenate([next(batches), next(batches)], axis=1)
    assert epoch.shape == (3, 10)
    assert all(sorted(row) == list(range(10)) for row in epoch)
    assert len({tuple(row) for row in epoch}) == 3


def test_random_batches_with_and_without_replacement():
    rng = np.random.default_rng(0)
    draws = [next(random_batches(5, 5, rng, replace=False)) for _ in range(20)]
    assert all(sorted(d) == list(range(5)) for d in draws)
    with_replacement = np.array([next(random_batches(5, 5, rng)) for _ in range(20)])
    assert any(len(set(d)) < 5 for d in with_replacement)
    assert next(random_batches(5, 2, rng, num_chains=3)).shape == (3, 2)
    assert next(random_batches(5, 2, rng, replace=False, num_chains=3)).shape == (3, 2)


def test_a_generator_as_seed_continues_its_stream():
    rng = np.random.default_rng(4)
    first = run(LEAST_SQUARES, SGD([np.zeros(3)], lr=0.1), 5, batch_size=2, seed=rng,
                sampler="with_replacement")
    second = run(LEAST_SQUARES, SGD([np.zeros(3)], lr=0.1), 5, batch_size=2, seed=rng,
                 sampler="with_replacement")
    again = run(LEAST_SQUARES, SGD([np.zeros(3)], lr=0.1), 5, batch_size=2, seed=4,
                sampler="with_replacement")
    assert np.array_equal(first.params, again.params)
    assert not np.array_equal(first.params, second.params)


# --- chains: many independent runs in one array --------------------------------------------------

@pytest.mark.parametrize("problem", [LEAST_SQUARES, LogisticRegression(num_samples=40, dim=3,
                                                                        seed=1)])
def test_chain_gradients_equal_the_problems_minibatch_gradients(problem):
    rng = np.random.default_rng(0)
    points = rng.standard_normal((6, problem.dim))
    idx = rng.integers(problem.num_samples, size=(6, 4))
    expected = [problem.grad(points[k], idx[k]) for k in range(6)]
    np.testing.assert_allclose(problem.grads(points, idx), expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(problem.grads(points), [problem.grad(p) for p in points],
                               rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(problem.losses(points), [problem.loss(p) for p in points],
                               rtol=1e-13)


def test_chains_equal_a_written_out_loop_with_the_same_samples():
    schedule = InverseTime(a=0.5, b=10.0)
    start = np.array([1.0, -1.0, 0.5])
    trace = run(LEAST_SQUARES, SGD([np.tile(start, (3, 1))], lr=1.0), 30, batch_size=2,
                sampler="with_replacement", schedule=schedule, seed=7, average_from=5)
    rng = np.random.default_rng(7)  # the same draws, in the same order
    points = np.tile(start, (3, 1))
    path = [points]
    for t in range(30):
        idx = rng.integers(LEAST_SQUARES.num_samples, size=(3, 2))
        grads = np.array([LEAST_SQUARES.grad(points[k], idx[k]) for k in range(3)])
        points = points - schedule(t) * grads
        path.append(points)
    path = np.array(path)
    np.testing.assert_allclose(trace.params, path, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(trace.averages[5:],
                               [path[5:t + 1].mean(axis=0) for t in range(5, 31)],
                               rtol=1e-12, atol=1e-14)
    assert np.isnan(trace.averages[:5]).all()
    np.testing.assert_array_equal(trace.lrs, [schedule(t) for t in range(30)])
    np.testing.assert_allclose(trace.losses[:, 1], [LEAST_SQUARES.loss(p) for p in path[:, 1]],
                               rtol=1e-13)
    np.testing.assert_allclose(trace.sq_errors()[:, 1],
                               np.sum((path[:, 1] - LEAST_SQUARES.minimizer) ** 2, axis=1))
    np.testing.assert_allclose(trace.mean_sq_error(), trace.sq_errors().mean(axis=1))


def test_chains_are_independent_and_reproducible():
    def chains():
        return run(LEAST_SQUARES, SGD([np.zeros((4, 3))], lr=0.05), 50, batch_size=1, seed=3,
                   sampler="with_replacement", record_steps=log_steps(50))
    a, b = chains(), chains()
    np.testing.assert_array_equal(a.params, b.params)
    assert len({tuple(p) for p in a.params[-1]}) == 4  # different samples, different endpoints


def test_constant_step_sgd_chains_settle_near_the_optimum():
    trace = run(LEAST_SQUARES, SGD([np.zeros((16, 3))], lr=0.01), 3000, batch_size=1,
                sampler="with_replacement", record_steps=log_steps(3000), average_from=0)
    errors = trace.mean_sq_error()
    assert errors[-1] < 0.02 * errors[0]
    assert trace.mean_sq_error(averaged=True)[-1] < errors[0]


def test_a_diverging_chain_is_kept_and_reported():
    problem = Quadratic([1.0, 10.0])
    starts = np.array([[1.0, 1.0], [1e-200, 0.0]])   # the second stays tiny for 30 steps
    trace = run(problem, GD([starts], lr=0.3), 30)
    assert trace.num_steps == 30 and trace.diverged_at == 11
    assert np.isfinite(trace.params[-1, 1]).all() and trace.losses.shape == (31, 2)


def test_log_steps():
    steps = log_steps(10_000, 20)
    assert steps[0] == 0 and steps[1] == 1 and steps[-1] == 10_000
    assert np.all(np.diff(steps) > 0)
    with pytest.raises(ValueError, match="num_steps"):
        log_steps(0)


# --- stale gradients and other gradients --------------------------------------------------------

def test_a_delay_uses_the_gradient_of_tau_steps_ago():
    start = np.array([1.0, -2.0])
    for delay in (1, 3):
        trace = run(QUADRATIC, SGD([start.copy()], lr=0.05, momentum=0.5), 25, delay=delay)
        points, buffer = [start.copy()], np.zeros(2)
        for t in range(25):
            buffer = 0.5 * buffer + QUADRATIC.grad(points[max(t - delay, 0)])
            points.append(points[-1] - 0.05 * buffer)
        np.testing.assert_allclose(trace.params, points, rtol=1e-14, atol=1e-15)


def test_delays_may_vary_by_step():
    delays = np.random.default_rng(0).integers(0, 4, size=20)
    trace = run(QUADRATIC, GD([np.array([1.0, -2.0])], lr=0.05), 20, delay=delays)
    points = [np.array([1.0, -2.0])]
    for t in range(20):
        points.append(points[-1] - 0.05 * QUADRATIC.grad(points[max(t - delays[t], 0)]))
    np.testing.assert_allclose(trace.params, points, rtol=1e-14, atol=1e-15)
    with pytest.raises(ValueError, match="delay"):
        run(QUADRATIC, GD([np.zeros(2)], lr=0.1), 5, delay=[1, 2])
    with pytest.raises(ValueError, match="delay"):
        run(QUADRATIC, GD([np.zeros(2)], lr=0.1), 5, delay=-1)


def test_a_gradient_hook_replaces_the_problems_gradient():
    calls = []

    def halved(x, batch):
        calls.append(len(batch))
        return 0.5 * LEAST_SQUARES.grad(x, batch)

    trace = run(LEAST_SQUARES, SGD([np.zeros(3)], lr=0.2), 10, batch_size=5, gradient=halved)
    same = run(LEAST_SQUARES, SGD([np.zeros(3)], lr=0.1), 10, batch_size=5)
    np.testing.assert_allclose(trace.params, same.params, rtol=1e-14, atol=1e-16)
    assert calls == [5] * 10


@pytest.mark.parametrize("kwargs, match", [
    (dict(sampler="shuffle"), "sampler must be one of"),
    (dict(record_steps=[0, 11]), "record_steps"),
    (dict(average_from=1.5), "average_from"),
])
def test_bad_runner_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        run(LEAST_SQUARES, SGD([np.zeros(3)], lr=0.1), 10, batch_size=2, **kwargs)


def test_a_start_of_the_wrong_shape_is_refused():
    for start in (np.zeros(2), np.zeros((2, 2)), np.zeros((2, 3, 3))):
        with pytest.raises(ValueError, match="optimizer must hold"):
            run(LEAST_SQUARES, SGD([start], lr=0.1), 3)
