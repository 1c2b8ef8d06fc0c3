"""Tests of sgd_utils.nn.train: batching, schedules, determinism, divergence, history, accuracy."""
import math
import warnings

import matplotlib
import numpy as np
import pytest

from sgd_utils.nn.mlp import MLP
from sgd_utils.optim import SGD
from sgd_utils.nn.train import History, fit

matplotlib.use("Agg")


def toy_data(num_rows=50, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((num_rows, 6), dtype=np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64) + (X[:, 2] > 1)
    return X, y


def train_toy(seed=0, fused=None, **kwargs):
    X, y = toy_data()
    model = MLP([6, 8, 3], seed=1)
    options = dict(epochs=3, batch_size=16, validation=toy_data(20, seed=9), seed=seed,
                   progress=False) | kwargs
    history = fit(model, SGD(model.params, lr=0.1, momentum=0.9, fused=fused), X, y, **options)
    return model, history


@pytest.mark.parametrize("fused", [False, True])
def test_fit_equals_a_hand_written_loop_on_the_same_permutations(fused):
    """Bit for bit with SGD(fused=False); with the fused momentum path, equal up to rounding."""
    X, y = toy_data()
    model, history = train_toy(seed=7, fused=fused)
    reference = MLP([6, 8, 3], seed=1)
    optimizer = SGD(reference.params, lr=0.1, momentum=0.9)
    rng, losses = np.random.default_rng(7), []
    for _ in range(3):
        order = rng.permutation(50)
        for start in range(0, 50, 16):  # batches of 16, 16, 16 and a last one of 2
            rows = order[start:start + 16]
            loss, grads = reference.loss_and_grads(X[rows], y[rows])
            optimizer.step(grads)
            losses.append(loss)
    check = (np.testing.assert_array_equal if not fused else
             lambda ours, theirs: np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6))
    check(history.losses, losses)
    for ours, theirs in zip(model.params, reference.params):
        check(ours, theirs)


def test_history_shapes_and_epoch_metrics():
    model, history = train_toy()
    assert history.steps_per_epoch == 4 and len(history.losses) == len(history.lrs) == 12
    for name in ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "epoch_times"):
        assert getattr(history, name).shape == (3,)
    assert np.all(history.lrs == 0.1) and history.diverged_at is None
    assert np.all(history.epoch_times > 0)
    X_val, y_val = toy_data(20, seed=9)
    assert (history.val_loss[-1], history.val_accuracy[-1]) == model.evaluate(X_val, y_val)
    assert (history.train_loss[-1], history.train_accuracy[-1]) == model.evaluate(*toy_data())


def test_without_eval_train_the_epoch_loss_is_the_mean_step_loss():
    _, history = train_toy(eval_train=False, validation=None)
    np.testing.assert_allclose(history.train_loss, history.losses.reshape(3, 4).mean(axis=1))
    assert np.isnan(history.train_accuracy).all() and history.val_loss.size == 0


def test_same_seed_is_bit_identical_and_another_seed_differs():
    first_model, first = train_toy(seed=3)
    second_model, second = train_toy(seed=3)
    for p, q in zip(first_model.params, second_model.params):
        assert p.tobytes() == q.tobytes()
    for name in ("losses", "lrs", "train_loss", "train_accuracy", "val_loss", "val_accuracy"):
        assert getattr(first, name).tobytes() == getattr(second, name).tobytes()
    _, other = train_toy(seed=4)
    assert not np.array_equal(first.losses, other.losses)


def test_schedule_sets_the_learning_rate_before_each_step():
    seen = []

    def schedule(step):
        seen.append(step)
        return 0.1 / (1 + step)

    X, y = toy_data()
    model = MLP([6, 8, 3], seed=1)
    optimizer = SGD(model.params, lr=1.0, momentum=0.9)
    history = fit(model, optimizer, X, y, 2, 16, schedule=schedule, progress=False)
    assert seen == list(range(8))
    np.testing.assert_allclose(history.lrs, [0.1 / (1 + t) for t in range(8)])
    assert optimizer.lr == pytest.approx(0.1 / 8)


def test_divergence_stops_cleanly_without_warnings():
    X, y = toy_data()
    X = X * 1e3
    model = MLP([6, 8, 3], "sigmoid", seed=1)
    optimizer = SGD(model.params, lr=1e30, momentum=0.9)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning fails the test
        history = fit(model, optimizer, X, y, epochs=50, batch_size=10, progress=False)
    t = history.diverged_at
    assert t is not None and len(history.losses) == t + 1
    if history.diverged_because == "loss":
        assert not math.isfinite(history.losses[-1]) and np.isfinite(history.losses[:-1]).all()
    else:
        assert history.diverged_because == "update" and np.isfinite(history.losses).all()
    assert all(np.isfinite(p).all() for p in model.params)   # the last finite parameters
    assert len(history.train_loss) == t // history.steps_per_epoch  # completed epochs only
    ax_loss, _ = history.plot()  # a diverged history still plots, with a marker
    assert ax_loss.lines[-1].get_xdata()[0] == t
    import matplotlib.pyplot as plt

    plt.close("all")


def test_progress_bar_reports_steps(capsys):
    train_toy(progress=True)
    err = capsys.readouterr().err
    assert "12/12" in err and "val_acc" in err


def test_plot_draws_loss_and_accuracy():
    _, history = train_toy()
    ax_loss, ax_acc = history.plot()
    assert len(ax_loss.lines) == 3 and len(ax_acc.lines) == 2
    assert ax_acc.get_xlabel() == "epoch"
    import matplotlib.pyplot as plt

    _, ax = plt.subplots()
    left, right = history.plot(ax)
    assert left is ax and right is not ax
    plt.close("all")


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(epochs=-1), ValueError, "epochs must be >= 0, got -1"),
    (dict(epochs=1.5), TypeError, "epochs must be an int"),
    (dict(batch_size=0), ValueError, "batch_size must be >= 1, got 0"),
    (dict(y=np.zeros(49, int)), ValueError, r"y must have shape \(50,\)"),
    (dict(y=np.full(50, 3)), ValueError, r"labels in \[0, 3\)"),
    (dict(validation=(np.zeros((4, 5)), np.zeros(4, int))), ValueError,
     r"validation\[0\] must have shape \(batch, 6\)"),
    (dict(validation=(np.zeros((4, 6)), np.zeros(3, int))), ValueError,
     r"validation\[1\] must have shape \(4,\)"),
    (dict(validation=np.zeros((4, 6))), TypeError, "validation must be a pair"),
])
def test_bad_arguments_raise_errors_naming_them(kwargs, error, match):
    X, y = toy_data()
    model = MLP([6, 8, 3])
    arguments = dict(X=X, y=y, epochs=1, batch_size=8) | kwargs
    with pytest.raises(error, match=match):
        fit(model, SGD(model.params, lr=0.1), progress=False, **arguments)


def test_one_epoch_matches_a_torch_loop():
    torch = pytest.importorskip("torch")
    X, y = toy_data(40)
    model = MLP([6, 8, 3], "tanh", seed=2).astype(np.float64)
    initial = [p.copy() for p in model.params]
    fit(model, SGD(model.params, lr=0.05, momentum=0.9), X.astype(np.float64), y, 1, 8,
        seed=5, progress=False)
    params = [torch.tensor(p, requires_grad=True) for p in initial]
    optimizer = torch.optim.SGD(params, lr=0.05, momentum=0.9)
    X_t, y_t = torch.tensor(X, dtype=torch.float64), torch.tensor(y)
    for start in range(0, 40, 8):
        rows = torch.tensor(np.random.default_rng(5).permutation(40)[start:start + 8])
        hidden = torch.tanh(X_t[rows] @ params[0] + params[1])
        loss = torch.nn.functional.cross_entropy(hidden @ params[2] + params[3], y_t[rows])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    for ours, theirs in zip(model.params, params):
        np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=1e-12, atol=1e-14)


def recipe_from_docstring(docstring, heading):
    """The indented code block of the first ``::`` paragraph at or after ``heading``."""
    text = docstring[docstring.index(heading):]
    lines = text[text.index("::\n") + 3:].splitlines()
    block = []
    for line in lines:
        if line.strip() and not line.startswith("    "):
            break
        block.append(line[4:])
    return "\n".join(block).strip()


def test_default_recipe_on_the_bundled_sample_reaches_96_percent():
    """Runs the module docstring's recipe verbatim, so the documented recipe is the tested one."""
    import sgd_utils.nn.train

    recipe = recipe_from_docstring(sgd_utils.nn.train.__doc__, "Default recipe")
    assert "MLP([784, 256, 128, 10]" in recipe and "epochs=20, batch_size=32" in recipe
    namespace = {}
    exec(recipe.replace("y_test), seed=0)", "y_test), seed=0, progress=False)"), namespace)
    history = namespace["history"]
    assert history.val_accuracy[-1] >= 0.96  # measured: 0.9645 (Haswell), 0.969 (SkylakeX)
    assert history.train_accuracy[-1] >= 0.99 and history.diverged_at is None


def test_history_is_a_plain_dataclass():
    history = History(losses=np.ones(2), lrs=np.ones(2), steps_per_epoch=2)
    assert history.train_loss.size == 0 and history.diverged_at is None


def test_blas_runs_on_one_thread_during_training():
    from threadpoolctl import threadpool_info

    def blas_thread_counts():
        return {info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"}

    seen = []

    def schedule(step):  # runs inside the training loop
        seen.append(blas_thread_counts())
        return 0.1

    before = blas_thread_counts()
    train_toy(schedule=schedule, blas_threads=1)
    assert seen and all(counts == {1} for counts in seen)
    assert blas_thread_counts() == before  # restored afterwards
    with pytest.raises(ValueError, match="blas_threads must be >= 1, got 0"):
        train_toy(blas_threads=0)


# --- Ctrl-C: the first lets the step finish and returns the history; a second raises at once ----

def interrupting_schedule(at_steps, lr=0.1):
    """A constant rate that sends this process SIGINT before each step in ``at_steps``."""
    import os
    import signal

    def schedule(step):
        if step in at_steps:
            os.kill(os.getpid(), signal.SIGINT)
        return lr
    return schedule


def small_problem():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 4), dtype=np.float32)
    return X, (X[:, 0] > 0).astype(int)


def test_ctrl_c_finishes_the_step_and_returns_what_was_learned():
    X, y = small_problem()
    model = MLP([4, 6, 2], seed=0)
    optimizer = SGD(model.params, lr=0.1, momentum=0.9)
    history = fit(model, optimizer, X, y, epochs=5, batch_size=8, progress=False,
                  schedule=interrupting_schedule({12}))
    assert history.interrupted and history.diverged_at is None
    assert len(history.losses) == len(history.lrs) == 13           # steps 0..12 were taken
    assert len(history.train_loss) == 2                           # epochs 1 and 2 completed
    # the parameters are those of 13 uninterrupted steps: nothing half-applied
    reference = MLP([4, 6, 2], seed=0)
    reference_history = fit(reference, SGD(reference.params, lr=0.1, momentum=0.9), X, y,
                            epochs=5, batch_size=8, progress=False)
    np.testing.assert_array_equal(history.losses, reference_history.losses[:13])
    # and training goes on from there
    more = fit(model, optimizer, X, y, epochs=1, batch_size=8, progress=False)
    assert not more.interrupted and len(more.losses) == 5


def test_a_second_ctrl_c_raises_with_the_history_attached():
    X, y = small_problem()
    model = MLP([4, 6, 2], seed=0)
    with pytest.raises(KeyboardInterrupt) as excinfo:
        # the first SIGINT ends training after the step; the schedule then sends a second one
        # within the same step, which the restored handler raises at once
        fit(model, SGD(model.params, lr=0.1), X, y, epochs=3, batch_size=8, progress=False,
            schedule=lambda step: interrupting_schedule({7})(step) and
            interrupting_schedule({7})(step))
    history = excinfo.value.history
    assert history.interrupted and len(history.train_loss) == 1 and len(history.losses) == 5



# --- an update that overflows is undone: the model keeps the last finite parameters -------------

def spike_at(step, lr=0.1, spike=1e39):
    """A constant rate with one enormous step, which overflows the float32 parameters."""
    return lambda t: spike if t == step else (lr if t < step else 0.0)


@pytest.mark.parametrize("bad_step", [3, 9, 10])  # mid-epoch, an epoch's last step, the first
def test_an_overflowing_update_is_undone_and_named(bad_step):
    X, y = toy_data()
    model = MLP([6, 8, 3], seed=1)
    history = fit(model, SGD(model.params, lr=0.1, momentum=0.9), X, y, epochs=4,
                  batch_size=10, progress=False, schedule=spike_at(bad_step))
    assert history.diverged_at == bad_step and history.diverged_because == "update"
    assert len(history.losses) == bad_step + 1 and np.isfinite(history.losses).all()
    # the parameters are those before the bad step: the same run with lr = 0 from there on
    reference = MLP([6, 8, 3], seed=1)
    fit(reference, SGD(reference.params, lr=0.1, momentum=0.9), X, y, epochs=4, batch_size=10,
        progress=False, schedule=spike_at(bad_step, spike=0.0))
    for p, q in zip(model.params, reference.params):
        np.testing.assert_array_equal(p, q)


def test_a_non_finite_loss_is_named_and_skips_its_update():
    X, y = toy_data()
    model = MLP([6, 8, 3], seed=1)
    model.params[0][:], model.params[2][:] = 1e30, 1e30   # finite, but the logits overflow
    before = [p.copy() for p in model.params]
    history = fit(model, SGD(model.params, lr=0.1), X, y, epochs=2, batch_size=10, seed=0,
                  progress=False)
    assert history.diverged_at == 0 and history.diverged_because == "loss"
    assert not math.isfinite(history.losses[-1])
    for p, q in zip(model.params, before):
        np.testing.assert_array_equal(p, q)


def test_non_finite_data_is_bad_input_not_divergence():
    X, y = toy_data()
    X[13, 2] = np.nan
    model = MLP([6, 8, 3], seed=1)
    with pytest.raises(ValueError, match=r"X holds non-finite values .* 1 rows, the first row 13"):
        fit(model, SGD(model.params, lr=0.1), X, y, epochs=1, batch_size=10, progress=False)
    with pytest.raises(ValueError, match="validation.0. holds non-finite"):
        fit(model, SGD(model.params, lr=0.1), toy_data()[0], y, epochs=1, batch_size=10,
            progress=False, validation=(X, y))
    with pytest.raises(ValueError, match="X holds non-finite"):
        model.evaluate(X, y)


def test_an_optimizer_of_another_model_is_refused_naming_what_it_holds():
    X, y = toy_data()
    model, other = MLP([6, 8, 3], seed=1), MLP([6, 8, 3], seed=2)
    with pytest.raises(ValueError, match="the model's shapes but other arrays"):
        fit(model, SGD(other.params, lr=0.1), X, y, epochs=1, batch_size=10, progress=False)
    with pytest.raises(ValueError, match=r"holds 1 arrays of shapes \[\(6, 8\)\]"):
        fit(model, SGD(model.params[:1], lr=0.1), X, y, epochs=1, batch_size=10,
            progress=False)
    with pytest.raises(TypeError, match="optimizer must be an optimizer"):
        fit(model, "sgd", X, y, epochs=1, batch_size=10, progress=False)


def test_on_divergence_raise_names_the_step_and_keeps_the_history():
    X, y = toy_data()
    model = MLP([6, 8, 3], seed=1)
    with pytest.raises(FloatingPointError, match="diverged at step 5: its update made"):
        fit(model, SGD(model.params, lr=0.1, momentum=0.9), X, y, epochs=2, batch_size=10,
            progress=False, schedule=spike_at(5), on_divergence="raise")
    with pytest.raises(ValueError, match="on_divergence"):
        fit(model, SGD(model.params, lr=0.1), X, y, epochs=1, batch_size=10, progress=False,
            on_divergence="ignore")
