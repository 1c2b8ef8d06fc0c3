"""The facades: in-place updates, settable lr, inspectable state, and equality with the
pure rules."""

import inspect
import itertools

import numpy as np
import pytest

from sgd_utils import optim

SHAPES = [(6, 5), (5,), ()]


def random_params_and_grads(seed, num_steps):
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(shape).astype(np.float32) for shape in SHAPES]
    grads = [[rng.standard_normal(shape).astype(np.float32) for shape in SHAPES]
             for _ in range(num_steps)]
    return params, grads


SGD_KWARGS = [
    dict(momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov,
         maximize=maximize)
    for momentum, dampening, weight_decay, nesterov, maximize in itertools.product(
        [0.0, 0.9], [0.0, 0.3], [0.0, 0.01], [False, True], [False, True]
    )
    if not (nesterov and (momentum == 0 or dampening != 0))
]


@pytest.mark.parametrize("kwargs", SGD_KWARGS, ids=str)
def test_sgd_fast_path_is_bitwise_the_pure_rule(kwargs):
    """SGD.step writes through preallocated arrays; it must compute exactly sgd_update."""
    params, grads = random_params_and_grads(1, 20)
    opt = optim.SGD([param.copy() for param in params], lr=0.1, **kwargs)
    states = [optim.sgd_init(param) for param in params]
    for step, step_grads in enumerate(grads):
        opt.lr = 0.1 / (1 + step)  # a changing lr must reach both paths
        opt.step(step_grads)
        for index, grad in enumerate(step_grads):
            params[index], states[index] = optim.sgd_update(
                params[index], grad, states[index], lr=0.1 / (1 + step), **kwargs
            )
    for param, expected, state, expected_state in zip(opt.params, params, opt.state, states):
        np.testing.assert_array_equal(param, expected, strict=True)
        if kwargs["momentum"]:
            np.testing.assert_array_equal(state.momentum_buffer, expected_state.momentum_buffer,
                                          strict=True)
        else:
            assert state.momentum_buffer is None and expected_state.momentum_buffer is None


FACADES = {
    "GD": (optim.GD, {}, optim.gd_init, optim.gd_update),
    "SGD": (optim.SGD, {"momentum": 0.9, "nesterov": True}, optim.sgd_init, optim.sgd_update),
    "Adagrad": (
        optim.Adagrad, {"lr_decay": 0.01, "initial_accumulator_value": 0.1},
        lambda p: optim.adagrad_init(p, 0.1), optim.adagrad_update,
    ),
    "RMSprop": (
        optim.RMSprop, {"momentum": 0.5, "centered": True},
        lambda p: optim.rmsprop_init(p, 0.5, True), optim.rmsprop_update,
    ),
    "Adagrad weight_decay": (
        optim.Adagrad, {"weight_decay": 0.1, "eps": 1e-3},
        optim.adagrad_init, optim.adagrad_update,
    ),
    "RMSprop weight_decay": (
        optim.RMSprop, {"alpha": 0.9, "weight_decay": 0.1},
        optim.rmsprop_init, optim.rmsprop_update,
    ),
    # alpha < 0.5 takes lerp's other formula for the centered average
    "RMSprop small alpha": (
        optim.RMSprop, {"alpha": 0.25, "centered": True},
        lambda p: optim.rmsprop_init(p, 0, True), optim.rmsprop_update,
    ),
    "Adam": (
        optim.Adam, {"amsgrad": True, "weight_decay": 0.01},
        lambda p: optim.adam_init(p, True), optim.adam_update,
    ),
    "AdamW": (optim.AdamW, {"betas": (0.8, 0.9)}, optim.adam_init, optim.adamw_update),
    # beta1 < 0.5 takes lerp's other formula, in both the rule and Adam's in-place step
    "AdamW small beta1": (
        optim.AdamW, {"betas": (0.3, 0.9), "amsgrad": True},
        lambda p: optim.adam_init(p, True), optim.adamw_update,
    ),
    "Adam small beta1": (
        optim.Adam, {"betas": (0.0, 0.5), "weight_decay": 0.1},
        optim.adam_init, optim.adam_update,
    ),
    # maximize negates the gradient first, before the weight decay and everything else
    "SGD maximize": (
        optim.SGD, {"momentum": 0.9, "weight_decay": 0.1, "maximize": True},
        optim.sgd_init, optim.sgd_update,
    ),
    "Adagrad maximize": (
        optim.Adagrad, {"weight_decay": 0.1, "initial_accumulator_value": 0.1, "maximize": True},
        lambda p: optim.adagrad_init(p, 0.1), optim.adagrad_update,
    ),
    "RMSprop maximize": (
        optim.RMSprop, {"momentum": 0.5, "centered": True, "weight_decay": 0.1, "maximize": True},
        lambda p: optim.rmsprop_init(p, 0.5, True), optim.rmsprop_update,
    ),
    "Adam maximize": (
        optim.Adam, {"amsgrad": True, "weight_decay": 0.01, "maximize": True},
        lambda p: optim.adam_init(p, True), optim.adam_update,
    ),
    "AdamW maximize": (
        optim.AdamW, {"betas": (0.8, 0.9), "maximize": True},
        optim.adam_init, optim.adamw_update,
    ),
}


def rule_kwargs(name, kwargs):
    """The facade's keyword arguments as the update rule takes them (init-only options removed)."""
    kwargs = dict(kwargs)
    kwargs.pop("initial_accumulator_value", None)
    if name.startswith("AdamW"):
        kwargs.setdefault("weight_decay", 1e-2)
    return kwargs


@pytest.mark.parametrize("name", sorted(FACADES))
def test_facade_is_the_pure_rule_with_a_changing_lr(name):
    """step(grads) applies the rule with the lr set just before it, in place, for each parameter."""
    cls, kwargs, init, update = FACADES[name]
    params, grads = random_params_and_grads(2, 15)
    arrays = [param.copy() for param in params]
    opt = cls(arrays, lr=0.1, **kwargs)
    states = [init(param) for param in params]
    for step, step_grads in enumerate(grads):
        lr = 0.1 * 0.8**step
        opt.lr = lr
        assert opt.lr == lr
        opt.step(step_grads)
        for index, grad in enumerate(step_grads):
            params[index], states[index] = update(params[index], grad, states[index], lr=lr,
                                                  **rule_kwargs(name, kwargs))
    assert all(a is b for a, b in zip(opt.params, arrays))  # opt.params holds the caller's arrays
    for param, expected in zip(arrays, params):
        np.testing.assert_array_equal(param, expected, strict=True)
    for state, expected in zip(opt.state, states):
        assert type(state) is type(expected)
        for field, value in state._asdict().items():
            if isinstance(value, np.ndarray):
                np.testing.assert_array_equal(value, getattr(expected, field), strict=True)
            else:
                assert value == getattr(expected, field)


def test_setting_lr_takes_effect_on_the_next_step():
    x = np.array([1.0], dtype=np.float32)
    opt = optim.SGD([x], lr=0.5)
    opt.step([np.array([1.0], dtype=np.float32)])
    assert x[0] == 0.5
    opt.lr = 0.25
    opt.step([np.array([1.0], dtype=np.float32)])
    assert x[0] == 0.25
    opt.lr = np.float64(0.125)  # a NumPy scalar from a schedule is stored as a Python float
    assert type(opt.lr) is float
    opt.step([np.array([1.0], dtype=np.float32)])
    assert x[0] == 0.125 and x.dtype == np.float32


@pytest.mark.parametrize("name", sorted(FACADES))
def test_state_history_stays_valid(name):
    """Each step makes new state arrays, so a list of past states is a true history for plots."""
    cls, kwargs, _, _ = FACADES[name]
    x = np.array([1.0, -2.0], dtype=np.float32)
    opt = cls([x], lr=0.1, **kwargs)
    history = []
    for _ in range(3):
        opt.step([2 * x])
        history.append(opt.state[0])
    arrays = [[value for value in state if isinstance(value, np.ndarray)] for state in history]
    for earlier, later in zip(arrays, arrays[1:]):
        for a, b in zip(earlier, later):
            assert not np.shares_memory(a, b)
            assert not np.array_equal(a, b)  # the history records three different states


@pytest.mark.parametrize("name", sorted(FACADES))
def test_float32_in_float32_out_and_float64_stays_float64(name):
    cls, kwargs, _, _ = FACADES[name]
    for dtype in (np.float32, np.float64):
        x = np.array([1.0, -2.0], dtype=dtype)
        opt = cls([x], lr=0.1, **kwargs)
        opt.step([2 * x])
        assert x.dtype == dtype
        for value in opt.state[0]:
            if isinstance(value, np.ndarray):
                assert value.dtype == dtype


def test_state_field_names_follow_pytorch():
    assert optim.SGDState._fields == ("momentum_buffer",)
    assert optim.AdagradState._fields == ("step", "sum")
    assert optim.RMSpropState._fields == ("step", "square_avg", "momentum_buffer", "grad_avg")
    assert optim.AdamState._fields == ("step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq")


def test_defaults_are_pytorchs():
    x = [np.zeros(2, dtype=np.float32)]
    assert optim.SGD(x).lr == 1e-3
    assert optim.SGD(x).hyperparams == dict(momentum=0.0, dampening=0.0, weight_decay=0.0,
                                            nesterov=False, maximize=False)
    assert optim.Adagrad(x).lr == 1e-2
    assert optim.Adagrad(x).hyperparams == dict(lr_decay=0.0, weight_decay=0.0, eps=1e-10,
                                                maximize=False)
    assert optim.Adagrad(x).initial_accumulator_value == 0.0
    assert optim.RMSprop(x).lr == 1e-2
    assert optim.RMSprop(x).hyperparams == dict(alpha=0.99, eps=1e-8, weight_decay=0.0,
                                                momentum=0.0, centered=False, maximize=False)
    assert optim.Adam(x).lr == 1e-3
    # decoupled_weight_decay as torch's (2.6 on); bias_correction is this package's addition
    assert optim.Adam(x).hyperparams == dict(betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                                             amsgrad=False, maximize=False,
                                             decoupled_weight_decay=False, bias_correction=True)
    assert optim.AdamW(x).hyperparams == dict(betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                                              amsgrad=False, maximize=False,
                                              decoupled_weight_decay=True, bias_correction=True)


def test_repr_names_the_settings():
    assert repr(optim.SGD([np.zeros(1)], lr=0.1, momentum=0.9)) == (
        "SGD(lr=0.1, momentum=0.9, dampening=0.0, weight_decay=0.0, nesterov=False, "
        "maximize=False)"
    )


@pytest.mark.parametrize("cls", [optim.SGD, optim.Adagrad, optim.RMSprop, optim.Adam, optim.AdamW])
def test_maximize_is_keyword_only_and_stored_as_a_bool(cls):
    """Keyword-only, as in PyTorch's SGD, Adagrad, Adam and AdamW; PyTorch's RMSprop also takes
    it by position, after ``capturable`` and ``foreach``, which have no counterpart here."""
    parameter = inspect.signature(cls).parameters["maximize"]
    assert parameter.kind is inspect.Parameter.KEYWORD_ONLY and parameter.default is False
    x = [np.zeros(2, dtype=np.float32)]
    assert cls(x, maximize=np.bool_(True)).hyperparams["maximize"] is True
    assert "maximize=True" in repr(cls(x, maximize=True))
    for not_a_bool in (1, "False", None):   # 'False' is truthy: it would switch maximize on
        with pytest.raises(TypeError, match=f"maximize must be True or False, got {not_a_bool!r}"):
            cls(x, maximize=not_a_bool)


# --- snapshot and restore: rewinding training ----------------------------------------------------

@pytest.mark.parametrize("make", [
    lambda p: optim.SGD(p, lr=0.1, momentum=0.9, fused=False),
    lambda p: optim.Adam(p, lr=0.01, amsgrad=True),
    lambda p: optim.RMSprop(p, lr=0.01, momentum=0.5, centered=True),
    lambda p: optim.Adagrad(p, lr=0.1),
])
def test_restore_rewinds_steps_bit_for_bit(make):
    rng = np.random.default_rng(0)
    params = [rng.standard_normal((3, 2)), rng.standard_normal(2)]
    opt = make(params)
    grads = [[rng.standard_normal(p.shape) for p in params] for _ in range(6)]
    for g in grads[:2]:
        opt.step(g)
    saved = opt.snapshot()
    for g in grads[2:]:
        opt.step(g)
    after = [p.copy() for p in params]
    opt.restore(saved)
    for g in grads[2:]:
        opt.step(g)
    for p, q in zip(params, after):
        np.testing.assert_array_equal(p, q)


def test_restore_rewinds_the_fused_path_without_changing_its_rounding():
    from sgd_utils.nn.mlp import MLP
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((12, 4), dtype=np.float32), rng.integers(0, 3, 12)
    model = MLP([4, 5, 3], seed=0)
    opt = optim.SGD(model.params, lr=0.1, momentum=0.9, weight_decay=1e-3)
    for _ in range(3):
        opt.train_step(model, X, y)
    saved = opt.snapshot()
    losses = [opt.train_step(model, X, y) for _ in range(4)]
    after = [p.copy() for p in model.params]
    opt.restore(saved)
    assert [opt.train_step(model, X, y) for _ in range(4)] == losses
    for p, q in zip(model.params, after):
        np.testing.assert_array_equal(p, q)
