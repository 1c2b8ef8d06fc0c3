"""Invariants of the update rules, checked by hypothesis on random float32 arrays."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sgd_utils import optim

FINITE = st.floats(-100.0, 100.0, width=32)
SMALL_SETTINGS = settings(max_examples=30, deadline=None)


def float32_arrays(shape=hnp.array_shapes(max_dims=2, max_side=4)):
    return hnp.arrays(np.float32, shape, elements=FINITE)


@st.composite
def param_and_grad(draw):
    param = draw(float32_arrays())
    grad = draw(hnp.arrays(np.float32, param.shape, elements=FINITE))
    return param, grad


# every rule with arguments that switch on all of its options
RULES = {
    "gd": (optim.gd_init, optim.gd_update, {"lr": 0.1}),
    "sgd": (
        optim.sgd_init,
        optim.sgd_update,
        {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01, "nesterov": True},
    ),
    "adagrad": (
        lambda p: optim.adagrad_init(p, 0.1),
        optim.adagrad_update,
        {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.01},
    ),
    "rmsprop": (
        lambda p: optim.rmsprop_init(p, momentum=0.9, centered=True),
        optim.rmsprop_update,
        {"lr": 0.01, "momentum": 0.9, "centered": True, "weight_decay": 0.01},
    ),
    "adam": (
        lambda p: optim.adam_init(p, amsgrad=True),
        optim.adam_update,
        {"lr": 0.01, "weight_decay": 0.01, "amsgrad": True},
    ),
    "adamw": (
        lambda p: optim.adam_init(p, amsgrad=True),
        optim.adamw_update,
        {"lr": 0.01, "amsgrad": True},
    ),
}


def state_arrays(state):
    return [value for value in state if isinstance(value, np.ndarray)]


@SMALL_SETTINGS
@given(param_and_grad(), st.sampled_from(sorted(RULES)))
def test_rules_are_pure_and_stay_float32(arrays, name):
    """Two steps (the second from a non-trivial state): no input is written, every output
    is float32."""
    param, grad = arrays
    init, update, kwargs = RULES[name]
    param1, state1 = update(param, grad, init(param), **kwargs)
    copies = [param1.copy(), grad.copy()] + [value.copy() for value in state_arrays(state1)]
    param2, state2 = update(param1, grad, state1, **kwargs)
    for before, after in zip(copies, [param1, grad] + state_arrays(state1)):
        np.testing.assert_array_equal(after, before, strict=True)
    assert param2.dtype == np.float32 and param2.shape == param.shape
    for value in state_arrays(state2):
        assert value.dtype == np.float32 and value.shape == param.shape
        assert not np.shares_memory(value, grad)  # the state never aliases the caller's gradient


@SMALL_SETTINGS
@given(param_and_grad(), st.sampled_from(sorted(set(RULES) - {"gd"})))
def test_maximize_is_minimizing_with_the_gradient_negated(arrays, name):
    """Two steps, bit for bit: negation is exact, and it comes before everything else."""
    param, grad = arrays
    init, update, kwargs = RULES[name]
    results = []
    for maximize, sign in [(True, 1), (False, -1)]:
        new_param, state = param, init(param)
        for _ in range(2):
            new_param, state = update(new_param, sign * grad, state, maximize=maximize, **kwargs)
        results.append([new_param] + state_arrays(state))
    for ascended, descended in zip(*results):
        np.testing.assert_array_equal(ascended, descended, strict=True)


@SMALL_SETTINGS
@given(param_and_grad(), st.floats(0.0, 1.0), st.floats(0.0, 0.5))
def test_sgd_without_momentum_is_gradient_descent(arrays, lr, dampening):
    param, grad = arrays
    sgd_param, state = optim.sgd_update(param, grad, optim.sgd_init(param), lr=lr,
                                        dampening=dampening)
    gd_param, _ = optim.gd_update(param, grad, optim.gd_init(param), lr=lr)
    np.testing.assert_array_equal(sgd_param, gd_param, strict=True)
    assert state.momentum_buffer is None


@SMALL_SETTINGS
@given(
    float32_arrays(),
    st.floats(1e-4, 1.0),
    st.floats(0.0, 0.99),
    st.floats(0.0, 0.999),
)
def test_adam_first_step_moves_each_coordinate_by_about_lr(param, lr, beta1, beta2):
    """At t = 1 the bias-corrected moments are g and g^2, so the step is lr * g / (|g| + eps)."""
    grad = np.where(np.arange(param.size).reshape(param.shape) % 2 == 0,
                    1.0, -1.0).astype(np.float32)
    grad *= np.linspace(0.01, 100.0, param.size, dtype=np.float32).reshape(param.shape)
    new_param, _ = optim.adam_update(param, grad, optim.adam_init(param), lr=lr,
                                     betas=(beta1, beta2))
    step = param.astype(np.float64) - new_param.astype(np.float64)
    # up to eps / |g| <= 1e-6 relatively, and the float32 rounding of param (up to |param| <= 100)
    np.testing.assert_allclose(step, lr * np.sign(grad), rtol=1e-5, atol=2e-5)


@SMALL_SETTINGS
@given(param_and_grad())
def test_adagrad_first_step_moves_each_coordinate_by_about_lr(arrays):
    param, grad = arrays
    grad = np.where(np.abs(grad) < 1e-2, np.float32(1.0), grad)
    new_param, _ = optim.adagrad_update(param, grad, optim.adagrad_init(param), lr=0.5)
    step = param.astype(np.float64) - new_param.astype(np.float64)
    np.testing.assert_allclose(step, 0.5 * np.sign(grad), rtol=1e-5, atol=2e-5)


@SMALL_SETTINGS
@given(param_and_grad(), st.floats(0.0, 0.5),
       st.floats(1e-8, 0.1))  # eps = 0 with g = 0 is 0/0, in PyTorch too
def test_adamw_without_decay_is_adam(arrays, lr, eps):
    param, grad = arrays
    state = optim.adam_init(param)
    adam_param, adam_state = optim.adam_update(param, grad, state, lr=lr, eps=eps)
    adamw_param, adamw_state = optim.adamw_update(param, grad, state, lr=lr, eps=eps,
                                                  weight_decay=0.0)
    np.testing.assert_array_equal(adam_param, adamw_param, strict=True)
    np.testing.assert_array_equal(adam_state.exp_avg_sq, adamw_state.exp_avg_sq, strict=True)


@SMALL_SETTINGS
@given(param_and_grad())
def test_a_zero_learning_rate_leaves_params_unchanged(arrays):
    param, grad = arrays
    for name, (init, update, kwargs) in RULES.items():
        if name == "adamw":
            # lr * weight_decay is 0 anyway; keep the test about lr
            kwargs = {**kwargs, "weight_decay": 0.0}
        new_param, _ = update(param, grad, init(param), **{**kwargs, "lr": 0.0})
        np.testing.assert_array_equal(new_param, param, err_msg=name)


@SMALL_SETTINGS
@given(param_and_grad(), st.floats(1e-3, 0.5), st.floats(0.1, 0.99))  # momentum 0 keeps no buffer
def test_pytorch_momentum_equals_sutskevers_at_a_constant_lr(arrays, lr, momentum):
    """The sgd_update docstring's claim: v <- mu v - lr g, x <- x + v gives the same iterates,
    v = -lr b, for the same sequence of gradients. (Not gradients taken at each form's own
    iterate, such as cos(x) g: with |g| = 80 and lr = 0.5 a rounding difference then grows 40x
    a step, and the comparison measures that chaos, not the identity; hypothesis found it.)"""
    param, grad = arrays
    x, state = param.astype(np.float64), optim.sgd_init(param)
    y, velocity = param.astype(np.float64), np.zeros(param.shape)
    for step in range(5):
        g = np.cos(step) * grad  # a gradient that changes from step to step
        x, state = optim.sgd_update(x, g, state, lr=lr, momentum=momentum)
        velocity = momentum * velocity - lr * g
        y = y + velocity
        np.testing.assert_allclose(x, y, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(-lr * state.momentum_buffer, velocity, rtol=1e-9, atol=1e-9)


@SMALL_SETTINGS
@given(param_and_grad(), st.sampled_from(sorted(RULES)))
def test_numpy_float64_hyperparameters_do_not_upcast(arrays, name):
    """np.float64(0.1) * float32 array is float64 in NumPy 2; the rules take float(...) of
    every setting."""
    param, grad = arrays
    init, update, kwargs = RULES[name]
    kwargs = {key: np.float64(value) if isinstance(value, float) else value
              for key, value in kwargs.items()}
    if name.startswith("adam"):
        kwargs["betas"] = (np.float64(0.9), np.float64(0.999))
    new_param, state = update(param, grad, init(param), **kwargs)
    assert new_param.dtype == np.float32
    for value in state_arrays(state):
        assert value.dtype == np.float32
