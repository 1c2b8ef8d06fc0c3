"""Tests of SGD's fused path (sgd_utils.optim.fused_sgd): the fused momentum step against PyTorch
and the plain step, when it applies, and how fit uses it."""
import math

import numpy as np
import pytest

from sgd_utils.nn.mlp import MLP
from sgd_utils.nn.train import fit
from sgd_utils.optim import SGD
from sgd_utils.optim.fused_sgd import RESCALE_BELOW


def batches(num_steps, batch_size, num_inputs=6, seed=0):
    rng = np.random.default_rng(seed)
    for _ in range(num_steps):
        X = rng.standard_normal((batch_size, num_inputs))
        yield X, (X[:, 0] + X[:, 1] > 0).astype(np.int64) + (X[:, 2] > 1)


def run_fused(model, optimizer, steps):
    assert optimizer.fused is True
    return [optimizer.train_step(model, np.ascontiguousarray(X, model.dtype), y) for X, y in steps]


def run_plain(model, optimizer, steps):
    losses = []
    for X, y in steps:
        loss, grads = model.loss_and_grads(X, y)
        optimizer.step(grads)
        losses.append(loss)
    return losses


@pytest.mark.parametrize("batch_size", [1, 7])
@pytest.mark.parametrize("momentum, weight_decay", [(0.9, 0.0), (0.5, 1e-2), (0.99, 0.0)])
def test_matches_torch_sgd_over_many_steps_with_a_schedule(batch_size, momentum, weight_decay):
    """float64 against torch.optim.SGD: 200 steps, long enough for several rescalings of u."""
    torch = pytest.importorskip("torch")
    model = MLP([6, 8, 5, 3], "tanh", seed=3, dtype=np.float64)
    params = [torch.tensor(p, requires_grad=True) for p in model.params]
    optimizer = SGD(model.params, lr=0.05, momentum=momentum, weight_decay=weight_decay,
                    fused=True)
    reference = torch.optim.SGD(params, lr=0.05, momentum=momentum, weight_decay=weight_decay)
    for t, (X, y) in enumerate(batches(200, batch_size)):
        lr = 0.05 * (1 + math.cos(math.pi * t / 200)) / 2  # the learning rate moves every step
        optimizer.lr = lr
        for group in reference.param_groups:
            group["lr"] = lr
        optimizer.train_step(model, X, y)
        hidden = torch.tanh(torch.tanh(torch.tensor(X) @ params[0] + params[1]) @ params[2]
                            + params[3])
        loss = torch.nn.functional.cross_entropy(hidden @ params[4] + params[5], torch.tensor(y))
        reference.zero_grad()
        loss.backward()
        reference.step()
    for ours, theirs in zip(model.params, params):
        np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
    for state, param in zip(optimizer.state, params):
        # Rounding is relative to a buffer's largest entries: at momentum 0.99 it sums about 100
        # gradients, and a small entry is the difference of large terms (an entry of 0.0086
        # differed by 1e-11 under OpenBLAS's AVX-512 kernel, 1.2e-9 of itself).
        expected = reference.state[param]["momentum_buffer"].numpy()
        np.testing.assert_allclose(state.momentum_buffer, expected, rtol=1e-9,
                                   atol=1e-10 * np.abs(expected).max())


@pytest.mark.parametrize("dtype, rtol", [(np.float32, 2e-5), (np.float64, 1e-12)])
def test_equals_the_plain_facade_up_to_rounding(dtype, rtol):
    steps = list(batches(60, 5))  # mu = 0.5: s falls below 2^-16 after 17 steps
    fused_model, plain_model = (MLP([6, 8, 3], seed=0, dtype=dtype),
                                MLP([6, 8, 3], seed=0, dtype=dtype))
    fused_optimizer = SGD(fused_model.params, lr=0.1, momentum=0.5, fused=True)
    plain_optimizer = SGD(plain_model.params, lr=0.1, momentum=0.5, fused=False)
    assert 0.5**17 < RESCALE_BELOW
    fused_losses = run_fused(fused_model, fused_optimizer, steps)
    plain_losses = run_plain(plain_model, plain_optimizer, steps)
    np.testing.assert_allclose(fused_losses, plain_losses, rtol=rtol)
    for ours, theirs in zip(fused_model.params, plain_model.params):
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=rtol)
    for ours, theirs in zip(fused_optimizer.state, plain_optimizer.state):
        assert ours.momentum_buffer.dtype == dtype
        np.testing.assert_allclose(ours.momentum_buffer, theirs.momentum_buffer, rtol=rtol,
                                   atol=rtol)


def test_training_continues_across_paths_from_the_written_back_state():
    """The fused path, then optimizer.step (plain) on the state it gives back, equals plain
    throughout, up to rounding."""
    steps = list(batches(30, 4))
    first, second = (MLP([6, 8, 3], seed=1, dtype=np.float64),
                     MLP([6, 8, 3], seed=1, dtype=np.float64))
    mixed = SGD(first.params, lr=0.1, momentum=0.9, fused=True)
    plain = SGD(second.params, lr=0.1, momentum=0.9)
    run_fused(first, mixed, steps[:15])
    run_plain(first, mixed, steps[15:])
    run_plain(second, plain, steps)
    for ours, theirs in zip(first.params, second.params):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)


def test_updates_the_models_own_arrays_in_place():
    model = MLP([6, 8, 3], seed=0)
    arrays, before = list(model.params), [p.copy() for p in model.params]
    run_fused(model, SGD(model.params, lr=0.1, momentum=0.9, fused=True), batches(3, 4))
    assert all(p is q for p, q in zip(model.params, arrays))
    assert all(not np.array_equal(p, q) for p, q in zip(model.params, before))


def test_a_non_finite_loss_changes_nothing():
    model = MLP([6, 8, 3], seed=0)
    optimizer = SGD(model.params, lr=0.1, momentum=0.9, fused=True)
    X, y = next(batches(1, 4))
    optimizer.train_step(model, X.astype(np.float32), y)
    fused = optimizer._fused                     # the scaled buffers themselves, b = s u
    params, buffers = [p.copy() for p in model.params], [u.copy() for u in fused.scaled_buffers]
    scale = fused.scale
    X_bad = X.astype(np.float32)
    X_bad[0, 0] = np.nan
    with np.errstate(all="ignore"):
        assert math.isnan(optimizer.train_step(model, X_bad, y))
    assert optimizer._fused is fused and fused.scale == scale
    for p, q in zip(model.params + fused.scaled_buffers, params + buffers):
        np.testing.assert_array_equal(p, q)


def test_fit_diverges_at_the_same_step_on_both_paths():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((40, 6), dtype=np.float32) * 10, rng.integers(0, 3, 40)
    histories = []
    for fused in (True, False):
        model = MLP([6, 8, 3], seed=1)
        optimizer = SGD(model.params, lr=50.0, momentum=0.9, fused=fused)
        histories.append(fit(model, optimizer, X, y, epochs=20, batch_size=10, progress=False))
    fused_run, plain_run = histories
    assert fused_run.diverged_at is not None and fused_run.diverged_at == plain_run.diverged_at
    np.testing.assert_allclose(fused_run.losses[:-1], plain_run.losses[:-1], rtol=1e-3)


@pytest.mark.parametrize("settings", [
    dict(),                                     # no momentum: nothing to fuse
    dict(momentum=0.9, nesterov=True),
    dict(momentum=0.9, dampening=0.1),
    dict(momentum=1.5),
    dict(momentum=0.9, maximize=True),          # the fused step descends
])
def test_fused_applies_only_to_plain_momentum(settings):
    model = MLP([6, 8, 3], seed=0)
    with pytest.raises(ValueError, match="plain momentum"):
        SGD(model.params, lr=0.1, fused=True, **settings)
    SGD(model.params, lr=0.1, momentum=0.9, weight_decay=1e-4, fused=True)   # plain: accepted


def test_fused_needs_the_models_own_params_and_otherwise_falls_back():
    model = MLP([6, 8, 3], seed=0)
    X, y = next(batches(1, 4))
    X = X.astype(np.float32)
    with pytest.raises(ValueError, match="model's own"):
        SGD([p.copy() for p in model.params], lr=0.1, momentum=0.9, fused=True).train_step(
            model, X, y)
    # fused=None takes the plain path there, bit for bit fused=False: the model's gradients,
    # applied to the arrays the optimizer holds
    before = [p.copy() for p in model.params]
    copies = [[p.copy() for p in model.params] for _ in range(2)]
    auto, plain = (SGD(copies[0], lr=0.1, momentum=0.9),
                   SGD(copies[1], lr=0.1, momentum=0.9, fused=False))
    for optimizer in (auto, plain):
        assert optimizer.train_step(model, X, y) > 0
    assert auto._fused is None
    for a, b, original in zip(*copies, before):
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, original)
    for p, original in zip(model.params, before):
        np.testing.assert_array_equal(p, original)     # the model's own arrays are not touched


@pytest.mark.parametrize("fused", [1, "True", np.True_])
def test_fused_must_be_a_bool_or_none(fused):
    with pytest.raises(TypeError, match="fused"):
        SGD([np.zeros(2)], lr=0.1, momentum=0.9, fused=fused)


def test_fit_with_maximize_takes_the_plain_path():
    """SGD with maximize takes the plain path (bit for bit fused=False), which ascends the loss."""
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((40, 6), dtype=np.float32), rng.integers(0, 3, 40)
    models, histories = [], []
    for fused in (None, False):
        model = MLP([6, 8, 3], seed=1)
        optimizer = SGD(model.params, lr=0.05, momentum=0.9, maximize=True, fused=fused)
        histories.append(fit(model, optimizer, X, y, epochs=3, batch_size=10, progress=False))
        models.append(model)
    np.testing.assert_array_equal(histories[0].losses, histories[1].losses, strict=True)
    assert histories[0].losses[-1] > histories[0].losses[0]
    for ours, theirs in zip(*(model.params for model in models)):
        np.testing.assert_array_equal(ours, theirs, strict=True)
