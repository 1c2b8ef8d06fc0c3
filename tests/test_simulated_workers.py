"""Tests of sgd_utils.experiments.simulated_workers against independent oracles: written-out loops,
descent.run, an op-by-op replay, and the predictions of sgd_utils.theory.workers."""

import numpy as np
import pytest

from sgd_utils.descent import epoch_batches, run
from sgd_utils.experiments.simulated_workers import (allreduce_mean, async_sgd, complete_mixing,
                                                     consensus_distance, decentralized_sgd, gossip,
                                                     hogwild, parameter_server, ring_mixing,
                                                     sync_data_parallel)
from sgd_utils.optim import SGD
from sgd_utils.problems import LeastSquares, Quadratic
from sgd_utils.problems.sparse import sparse_least_squares
from sgd_utils.theory.workers import expected_stale_reads, mixing_rate


@pytest.fixture(scope="module")
def least_squares():
    return LeastSquares(num_samples=96, dim=5, noise=0.3, seed=3)


# --- synchronous data parallel -------------------------------------------------------------------

@pytest.mark.parametrize("num_workers,batch_size,momentum",
                         [(1, 8, 0.0), (4, 8, 0.0), (4, 5, 0.9), (3, 7, 0.5)])
def test_sync_data_parallel_is_large_batch_sgd_step_for_step(least_squares, num_workers,
                                                             batch_size, momentum):
    x0 = np.ones(least_squares.dim)
    trace = sync_data_parallel(least_squares, x0, lr=0.05, num_steps=40, num_workers=num_workers,
                               batch_size=batch_size, momentum=momentum, seed=7)
    # 4*5=20 and 3*7=21 leave short last batches
    oracle = run(least_squares, SGD([x0.copy()], lr=0.05, momentum=momentum), 40,
                 batch_size=num_workers * batch_size, seed=7)
    np.testing.assert_allclose(trace.params, oracle.params, rtol=0, atol=1e-13)
    np.testing.assert_allclose(trace.losses, oracle.losses, rtol=1e-12)


def test_sync_data_parallel_weights_unequal_shards_by_their_size():
    """97 samples in global batches of 4 * 5 = 20: each epoch ends with a batch of 17, which
    np.array_split cuts 5/4/4/4, so only a size-weighted all-reduce is the batch's mean gradient
    (an unweighted mean of the 4 shard means would give the first shard's samples more weight)."""
    problem = LeastSquares(num_samples=97, dim=4, noise=0.3, seed=3)
    assert [len(s) for s in np.array_split(np.arange(17), 4)] == [5, 4, 4, 4]
    x0 = np.ones(4)
    # 30 steps: the short batch is step 5 of every epoch of 5 steps, so 6 uneven steps
    trace = sync_data_parallel(problem, x0, lr=0.05, num_steps=30, num_workers=4, batch_size=5,
                               seed=7)
    oracle = run(problem, SGD([x0.copy()], lr=0.05), 30, batch_size=20, seed=7)
    np.testing.assert_allclose(trace.params, oracle.params, rtol=0, atol=1e-13)


def test_allreduce_weights_by_shard_size():
    grads = [np.array([1.0, 0.0]), np.array([4.0, 3.0])]
    np.testing.assert_allclose(allreduce_mean(grads, [1, 3]), [13 / 4, 9 / 4])
    np.testing.assert_allclose(allreduce_mean(grads, [2, 2]), np.mean(grads, axis=0))
    with pytest.raises(ValueError, match="one positive count"):
        allreduce_mean(grads, [1])
    with pytest.raises(ValueError, match="one positive count"):
        allreduce_mean(grads, [1, 0])


def test_sync_data_parallel_errors(least_squares):
    with pytest.raises(ValueError, match="exceeds"):
        sync_data_parallel(least_squares, np.zeros(5), lr=0.1, num_steps=1, num_workers=10,
                           batch_size=10)
    with pytest.raises(ValueError, match="num_workers"):
        sync_data_parallel(least_squares, np.zeros(5), lr=0.1, num_steps=1, num_workers=0,
                           batch_size=1)


# --- stale gradients -----------------------------------------------------------------------------

def written_out_delayed_sgd(grad, x0, lr, momentum, delay, num_steps):
    """x_{t+1} = x_t - lr * b_{t+1}, b_{t+1} = momentum * b_t + grad(x_{max(t - delay, 0)}),
    b_0 = 0."""
    xs, b = [np.array(x0, dtype=float)], np.zeros_like(x0, dtype=float)
    for t in range(num_steps):
        b = momentum * b + grad(xs[max(t - delay, 0)])
        xs.append(xs[-1] - lr * b)
    return np.array(xs)


@pytest.mark.parametrize("lr,delay,momentum",
                         [(0.05, 0, 0.0), (0.05, 1, 0.0), (0.05, 5, 0.0), (0.005, 3, 0.9)])
def test_async_sgd_matches_a_written_out_delayed_loop(lr, delay, momentum):
    problem = Quadratic([1.0, 4.0], rotation=0.3)
    x0 = np.array([1.0, -2.0])
    trace = async_sgd(problem, x0, lr=lr, delay=delay, num_steps=60, momentum=momentum)
    expected = written_out_delayed_sgd(problem.grad, x0, lr, momentum, delay, 60)
    np.testing.assert_allclose(trace.params, expected, rtol=1e-12, atol=1e-15)
    assert trace.diverged_at is None


def test_async_sgd_with_delay_zero_is_run(least_squares):
    x0 = np.zeros(least_squares.dim)
    trace = async_sgd(least_squares, x0, lr=0.1, delay=0, num_steps=30, batch_size=4, seed=2)
    oracle = run(least_squares, SGD([x0.copy()], lr=0.1), 30, batch_size=4, seed=2)
    np.testing.assert_allclose(trace.params, oracle.params, rtol=0, atol=1e-14)


def test_async_sgd_stops_when_it_diverges():
    trace = async_sgd(Quadratic([1.0]), np.array([1.0]), lr=1.2, delay=1, num_steps=500)
    assert trace.diverged_at is not None and trace.params.shape == (trace.diverged_at + 1, 1)


@pytest.mark.parametrize("num_workers", [1, 2, 5])
def test_parameter_server_round_robin_has_delay_workers_minus_one(num_workers):
    problem = Quadratic([0.5, 3.0], rotation=1.0)
    x0 = np.array([2.0, 1.0])
    points = parameter_server(problem, x0, lr=0.04, num_workers=num_workers, num_steps=50)
    expected = written_out_delayed_sgd(problem.grad, x0, 0.04, 0.0, num_workers - 1, 50)
    np.testing.assert_allclose(points, expected, rtol=1e-12, atol=1e-15)


# --- Hogwild! ------------------------------------------------------------------------------------


def test_hogwild_with_one_worker_is_serial_sgd():
    problem = sparse_least_squares(100, 12, 4, seed=2)
    result = hogwild(problem, np.zeros(12), lr=0.3, num_workers=1, num_updates=50,
                     record_every=10, seed=5)
    # the same draws: a chunk of scheduler choices, then one sample per update
    rng = np.random.default_rng(5)
    rng.integers(1, size=4096)
    x = np.zeros(12)
    for _ in range(50):
        i = rng.integers(100)
        coords = problem.indices[i]
        residual = problem.values[i] @ x[coords] - problem.targets[i]
        x[coords] -= 0.3 * residual * problem.values[i]
    np.testing.assert_allclose(result.x, x, rtol=1e-12, atol=1e-14)
    assert np.all(result.stale_reads == 0) and len(result.losses) == 6


def replayed_hogwild(problem, x0, lr, num_workers, num_updates, seed):
    """Oracle: the documented lock-free updates, op by op, on the scheduler's replayed draws.

    The package draws the scheduler's choices in chunks of 4096 and, when a worker starts an
    update, its sample (the same draws as test_hogwild_with_one_worker_is_serial_sgd replays).
    Returns the final x and, per finished update, its stale reads: writes by others to a
    coordinate between this update's read and its own write of it."""
    rng = np.random.default_rng(seed)
    nnz = problem.indices.shape[1]
    x = np.array(x0, dtype=float)
    writes = np.zeros(problem.dim, dtype=int)  # writes received by each coordinate so far
    updates = [None] * num_workers             # each worker's update in flight
    stale, done = [], 0
    while True:
        for worker in rng.integers(num_workers, size=4096):
            if updates[worker] is None:
                sample = int(rng.integers(problem.indices.shape[0]))
                updates[worker] = dict(sample=sample, read=[], seen=[], written=0, stale=0)
            update = updates[worker]
            coords = problem.indices[update["sample"]]
            values = problem.values[update["sample"]]
            if len(update["read"]) < nnz:  # the next read
                coord = coords[len(update["read"])]
                update["read"].append(x[coord])
                update["seen"].append(writes[coord])
                continue
            j = update["written"]          # the next write, from the values read
            residual = values @ np.array(update["read"]) - problem.targets[update["sample"]]
            update["stale"] += writes[coords[j]] - update["seen"][j]
            x[coords[j]] -= lr * residual * values[j]
            writes[coords[j]] += 1
            update["written"] += 1
            if update["written"] == nnz:
                stale.append(update["stale"])
                updates[worker], done = None, done + 1
                if done == num_updates:
                    return x, np.array(stale)


def test_hogwild_with_two_workers_steps_from_what_each_read():
    """Two workers on 6 coordinates with supports of 3: their updates overlap, so some reads are
    stale, and the written-out loop must agree only if each residual uses the values read."""
    problem = sparse_least_squares(20, 6, 3, seed=4)
    result = hogwild(problem, np.zeros(6), lr=0.5, num_workers=2, num_updates=40, seed=2)
    x, stale = replayed_hogwild(problem, np.zeros(6), 0.5, 2, 40, seed=2)
    assert result.stale_reads.sum() > 0  # otherwise staleness would not be tested
    np.testing.assert_array_equal(result.stale_reads, stale)
    np.testing.assert_allclose(result.x, x, rtol=1e-12, atol=1e-14)


def test_hogwild_stale_reads_match_the_prediction():
    problem = sparse_least_squares(300, 40, 6, seed=0)
    result = hogwild(problem, np.zeros(40), lr=0.1, num_workers=6, num_updates=3000, seed=1)
    predicted = expected_stale_reads(6, 40, 6)
    assert abs(result.stale_reads.mean() - predicted) < 0.1 * predicted


# --- gossip --------------------------------------------------------------------------------------


def test_gossip_contracts_the_slowest_mode_by_exactly_lambda_2():
    n = 10
    mixing = ring_mixing(n)
    mode = np.cos(2 * np.pi * np.arange(n) / n)[:, None]  # eigenvector of the second eigenvalue
    states = gossip(mode + 5.0, mixing, 30)
    np.testing.assert_allclose(states.mean(axis=1), 5.0)  # the average is conserved
    distances = consensus_distance(states)
    np.testing.assert_allclose(distances[1:] / distances[:-1], mixing_rate(mixing), rtol=1e-9)
    rng = np.random.default_rng(0)
    generic = consensus_distance(gossip(rng.standard_normal((n, 3)), mixing, 30))
    assert np.all(generic[1:] <= mixing_rate(mixing) * generic[:-1] * (1 + 1e-12))


def test_complete_mixing_reaches_consensus_in_one_step():
    states = gossip(np.arange(12.0).reshape(6, 2), complete_mixing(6), 2)
    np.testing.assert_allclose(consensus_distance(states)[1:], 0, atol=1e-14)
    assert mixing_rate(complete_mixing(6)) < 1e-12


def test_decentralized_sgd_matches_a_written_out_ring(least_squares):
    """Oracle: node i averages itself and its two ring neighbours (1/3 each), then steps on
    its shard."""
    n, lr = 4, 0.1
    history = decentralized_sgd(least_squares, np.ones(5), ring_mixing(n), lr=lr, num_steps=15)
    shards = [np.arange(i, 96, n) for i in range(n)]
    nodes = [np.ones(5) for _ in range(n)]
    for t in range(15):
        nodes = [(nodes[i - 1] + nodes[i] + nodes[(i + 1) % n]) / 3
                 - lr * least_squares.grad(nodes[i], shards[i])
                 for i in range(n)]
        np.testing.assert_allclose(history[t + 1], nodes, rtol=1e-12, atol=1e-14)


def test_decentralized_sgd_keeps_the_average_of_a_ring_as_sgd_on_the_average_gradients(
        least_squares):
    """Oracle: x_bar_{t+1} = x_bar_t - lr * mean_i g_i(x_i), since 1^T M = 1^T."""
    full = decentralized_sgd(least_squares, np.zeros(5), ring_mixing(4), lr=0.1, num_steps=5)
    shards = [np.arange(i, 96, 4) for i in range(4)]
    for t in range(5):
        grads = [least_squares.grad(full[t, i], shards[i]) for i in range(4)]
        np.testing.assert_allclose(full[t + 1].mean(axis=0),
                                   full[t].mean(axis=0) - 0.1 * np.mean(grads, axis=0),
                                   atol=1e-13)


def test_decentralized_sgd_mini_batches_come_from_each_node_s_own_shard_and_stream(
        least_squares):
    """Oracle: node i shuffles the positions 0..23 of its shard i::4 with its own generator,
    default_rng([seed, i]), and steps on those samples of the shard; then the ring averages."""
    n, lr, seed = 4, 0.1, 1
    history = decentralized_sgd(least_squares, np.zeros(5), ring_mixing(n), lr=lr, num_steps=12,
                                batch_size=5, seed=seed)
    assert history.shape == (13, n, 5)
    shards = [np.arange(i, 96, n) for i in range(n)]
    streams = [epoch_batches(24, 5, np.random.default_rng([seed, i])) for i in range(n)]
    nodes = [np.zeros(5) for _ in range(n)]
    for t in range(12):  # 24 = 5 + 5 + 5 + 5 + 4: steps 5 and 10 use a short batch
        grads = [least_squares.grad(nodes[i], shards[i][next(streams[i])]) for i in range(n)]
        nodes = [(nodes[i - 1] + nodes[i] + nodes[(i + 1) % n]) / 3 - lr * grads[i]
                 for i in range(n)]
        np.testing.assert_allclose(history[t + 1], nodes, rtol=1e-12, atol=1e-14)


def test_consensus_distance_is_the_root_mean_square_distance_to_the_average():
    # Two nodes at 0 and 2: both at distance 1 from the average 1, so sqrt((1 + 1) / 2) = 1.
    assert consensus_distance([[0.0], [2.0]]) == pytest.approx(1.0)
    # Rows in 2-D: distances 5 and 5 from (3, 4) (a 3-4-5 triangle), and one round per state.
    states = [[[0.0, 0.0], [6.0, 8.0]], [[3.0, 4.0], [3.0, 4.0]]]
    np.testing.assert_allclose(consensus_distance(states), [5.0, 0.0])


def test_mixing_errors():
    with pytest.raises(ValueError, match="num_nodes"):
        ring_mixing(2)
    with pytest.raises(ValueError, match="self_weight"):
        ring_mixing(5, self_weight=1.0)
    with pytest.raises(ValueError, match="symmetric"):
        mixing_rate(np.array([[0.5, 0.5], [0.0, 1.0]]))
