"""Careless and hostile arguments at every entry point: each call either works or raises
TypeError or ValueError naming the argument, and then nothing has changed.

Hypothesis draws each argument from values a careless user passes: strings that look like
numbers or flags, bools where numbers go, None, NaN, infinities, negatives, huge numbers, floats
where integers go, lists and arrays. Every other argument keeps a valid value, so the error, if
any, must name the one drawn.
"""

import math
import socket
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sgd_utils import optim
from sgd_utils.nn import data
from sgd_utils.nn.mlp import MLP
from sgd_utils.nn.train import fit
from sgd_utils.optim import schedules
from sgd_utils.viz.widgets import Slider, slider_figure

CARELESS = st.one_of(
    st.none(), st.booleans(), st.sampled_from(["0.1", "False", "True", "", "relu", "1e-3"]),
    st.sampled_from([math.nan, math.inf, -math.inf, -1.0, -1, 0, 0.0, 1e308, 2.5, 1e-300]),
    st.integers(-10, 10**6), st.floats(allow_nan=True, allow_infinity=True),
    st.lists(st.integers(0, 3), max_size=3), st.just(np.array([0.1, 0.2])),
    st.just(np.float32(0.5)), st.just(np.int64(3)), st.just(object()))


def named(error, name):
    return name in str(error)


def check_call(call, name):
    """``call()`` works, or raises TypeError/ValueError naming ``name``."""
    try:
        return call()
    except (TypeError, ValueError) as error:
        assert named(error, name), f"{type(error).__name__} does not name {name}: {error}"
        return None


OPTIMIZERS = {
    optim.SGD: dict(lr=0.1, momentum=0.9, dampening=0.0, weight_decay=0.0, nesterov=False,
                    maximize=False, fused=None),
    optim.Adam: dict(lr=0.1, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
                     maximize=False, decoupled_weight_decay=False, bias_correction=True),
    optim.AdamW: dict(lr=0.1, eps=1e-8, weight_decay=0.01, amsgrad=False, maximize=False),
    optim.RMSprop: dict(lr=0.1, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                        centered=False, maximize=False),
    optim.Adagrad: dict(lr=0.1, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                        eps=1e-10, maximize=False),
    optim.GD: dict(lr=0.1),
}


def each_argument(defaults_by_class):
    """Parametrize a test over every (class, argument name) of a table of valid defaults."""
    pairs = [(cls, name) for cls, defaults in defaults_by_class.items() for name in defaults]
    return pytest.mark.parametrize("cls, name", pairs,
                                   ids=[f"{cls.__name__}-{name}" for cls, name in pairs])


@each_argument(OPTIMIZERS)
@settings(max_examples=15, deadline=None)
@given(value=CARELESS)
def test_optimizer_arguments(cls, name, value):
    x = np.ones(3, dtype=np.float32)
    opt = check_call(lambda: cls([x], **(OPTIMIZERS[cls] | {name: value})), name)
    if opt is not None:   # accepted: finite settings that a step can use
        values = opt.hyperparams | {"lr": opt.lr}
        assert all(not isinstance(v, float) or math.isfinite(v) for v in values.values())
        assert all(not isinstance(v, np.bool_) for v in values.values())
        # a finite but huge setting (lr = 1e308) may overflow float32 params, as in torch;
        # what must not happen is an error from a value the constructor let through
        with np.errstate(over="ignore", invalid="ignore"):
            opt.step([np.full(3, 0.5, np.float32)])


@settings(max_examples=15, deadline=None)
@given(value=CARELESS, position=st.integers(0, 1))
def test_step_gradients_leave_everything_unchanged_when_refused(value, position):
    params = [np.ones(3, dtype=np.float32), np.ones(2, dtype=np.float32)]
    opt = optim.Adam(params, lr=0.1)
    opt.step([np.full(3, 0.5, np.float32), np.full(2, 0.5, np.float32)])
    before = ([p.copy() for p in params], [(s.step, s.exp_avg.copy()) for s in opt.state])
    grads = [np.zeros(3, np.float32), np.zeros(2, np.float32)]
    grads[position] = value
    try:
        opt.step(grads)
    except (TypeError, ValueError) as error:
        assert f"grads[{position}]" in str(error) or "grads" in str(error)
        for p, q in zip(params, before[0]):
            np.testing.assert_array_equal(p, q)
        assert [(s.step, s.exp_avg.tolist()) for s in opt.state] == [
            (step, avg.tolist()) for step, avg in before[1]]


MLP_DEFAULTS = dict(sizes=[4, 3, 2], activation="relu", init=None, cost="cross_entropy", seed=0,
                    dtype=np.float32)


@pytest.mark.parametrize("name", list(MLP_DEFAULTS))
@settings(max_examples=15, deadline=None)
@given(value=CARELESS)
def test_mlp_arguments(name, value):
    arguments = MLP_DEFAULTS | {name: value}
    sizes = arguments.pop("sizes")
    model = check_call(lambda: MLP(sizes, **arguments), name)
    if model is not None:
        assert all(isinstance(n, int) and not isinstance(n, bool) for n in model.sizes)


def small_run():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    model = MLP([4, 3, 2], seed=0)
    return model, optim.SGD(model.params, lr=0.1, momentum=0.9), X, y


FIT_DEFAULTS = dict(epochs=1, batch_size=5, schedule=None, validation=None, seed=0,
                    progress=False, eval_train=False, blas_threads=1, on_divergence="stop")


@pytest.mark.parametrize("name", list(FIT_DEFAULTS))
@settings(max_examples=15, deadline=None)
@given(value=CARELESS)
def test_fit_arguments_leave_the_model_unchanged_when_refused(name, value):
    model, optimizer, X, y = small_run()
    before = [p.copy() for p in model.params]
    history = check_call(lambda: fit(model, optimizer, X, y, **(FIT_DEFAULTS | {name: value})),
                         name)
    if history is None:
        for p, q in zip(model.params, before):
            np.testing.assert_array_equal(p, q)


SCHEDULES = {
    schedules.StepLR: dict(lr=0.1, step_size=3, gamma=0.5),
    schedules.ExponentialLR: dict(lr=0.1, gamma=0.9),
    schedules.CosineAnnealingLR: dict(lr=0.1, T_max=10, eta_min=0.0),
    schedules.LinearLR: dict(lr=0.1, start_factor=0.5, end_factor=1.0, total_iters=4),
    schedules.InverseTime: dict(a=1.0, b=10.0, power=1.0),
    schedules.OneCycleLR: dict(max_lr=1.0, total_steps=20, pct_start=0.3, anneal_strategy="cos",
                               div_factor=25.0, final_div_factor=1e4, three_phase=False),
}


@each_argument(SCHEDULES)
@settings(max_examples=15, deadline=None)
@given(value=CARELESS)
def test_schedule_arguments(cls, name, value):
    schedule = check_call(lambda: cls(**(SCHEDULES[cls] | {name: value})), name)
    if schedule is not None:
        for step in (0, 1, 5):
            try:
                assert math.isfinite(schedule(step))
            except ValueError as error:   # a rate that overflows is named by the schedule
                assert "no finite learning rate" in str(error)


SLIDER_DEFAULTS = dict(alt="A line", figsize=(3.0, 2.0), dpi=40, mode="live", max_state_mb=2.0)


@pytest.mark.parametrize("name", list(SLIDER_DEFAULTS))
@settings(max_examples=10, deadline=None)
@given(value=CARELESS)
def test_slider_figure_arguments(name, value):
    def draw(fig, lr):
        fig.add_subplot().plot([0, 1], [0, lr])
    check_call(lambda: slider_figure(draw, Slider("lr", [0.1, 0.2]),
                                     **(SLIDER_DEFAULTS | {name: value})), name)


@settings(max_examples=15, deadline=None)
@given(X=st.one_of(CARELESS, st.just(np.full((3, 4), np.nan)), st.just(np.ones((3, 5)))),
       y=st.one_of(CARELESS, st.just(np.array([0, 1, 2])), st.just(np.array([0.0, 1.0, 1.0]))))
def test_evaluate_arguments(X, y):
    model = MLP([4, 3, 2], seed=0)
    before = [p.copy() for p in model.params]
    try:
        cost, accuracy = model.evaluate(X, y)
        assert math.isfinite(cost) and 0 <= accuracy <= 1
    except (TypeError, ValueError) as error:
        assert named(error, "X") or named(error, "y"), str(error)
    for p, q in zip(model.params, before):
        np.testing.assert_array_equal(p, q)


def closed_port_mirror():
    """A URL on 127.0.0.1 where nothing listens: a call that gets past its checks fails fast
    with DownloadError, and one that does not must not even have tried."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/"


LOAD_MNIST_DEFAULTS = dict(checksums=data.MNIST_SHA256, sizes=data.MNIST_SIZES,
                           progressbar=False, timeout=5.0, deadline=5.0)


@pytest.mark.parametrize("name", ["cache_dir", "mirrors", *LOAD_MNIST_DEFAULTS])
@settings(max_examples=15, deadline=None)
@given(value=CARELESS)
def test_load_mnist_arguments_leave_the_cache_empty(name, value):
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache"
        arguments = LOAD_MNIST_DEFAULTS | {"cache_dir": cache, "mirrors": [closed_port_mirror()]}
        if name == "cache_dir" and isinstance(value, str):
            value = Path(tmp) / value   # a string is a valid path: keep it inside tmp
        arguments[name] = value
        try:
            data.load_mnist(**arguments)
            raise AssertionError("no MNIST can be served from a closed port")
        except data.DownloadError:   # got past every check: tried the network and said so
            pass
        except (TypeError, ValueError) as error:
            assert named(error, name), f"{type(error).__name__} does not name {name}: {error}"
        leftovers = [p for p in Path(tmp).rglob("*") if p.is_file()]
        assert leftovers == []


@settings(max_examples=15, deadline=None)
@given(value=CARELESS)
def test_read_idx_path(value):
    if isinstance(value, str):
        return   # a string is a path; read_idx's own tests cover real and corrupt files
    with pytest.raises(TypeError, match="path"):
        data.read_idx(value)
