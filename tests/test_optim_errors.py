"""Every error a user can hit through the facades, with the message checked."""

import re

import numpy as np
import pytest

from sgd_utils import optim

ALL = [optim.GD, optim.SGD, optim.Adagrad, optim.RMSprop, optim.Adam, optim.AdamW]


def x32():
    return np.zeros(3, dtype=np.float32)


@pytest.mark.parametrize("cls", ALL)
def test_negative_lr(cls):
    with pytest.raises(ValueError, match=re.escape("Invalid lr: -0.1 (must be >= 0)")):
        cls([x32()], lr=-0.1)


@pytest.mark.parametrize("cls", ALL)
def test_negative_lr_set_later(cls):
    opt = cls([x32()], lr=0.1)
    with pytest.raises(ValueError, match=re.escape("Invalid lr: -1.0")):
        opt.lr = -1.0
    assert opt.lr == 0.1


@pytest.mark.parametrize("cls", ALL)
def test_nan_lr(cls):
    with pytest.raises(ValueError, match=re.escape("Invalid lr: nan")):
        cls([x32()], lr=float("nan"))


@pytest.mark.parametrize("lr", ["0.1", None, True, np.array([0.1])])
def test_lr_of_the_wrong_type(lr):
    with pytest.raises(TypeError, match="lr must be a real number, got"):
        optim.SGD([x32()], lr=lr)


@pytest.mark.parametrize(
    ("cls", "name"),
    [
        (optim.SGD, "momentum"),
        (optim.SGD, "weight_decay"),
        (optim.Adagrad, "lr_decay"),
        (optim.Adagrad, "weight_decay"),
        (optim.Adagrad, "initial_accumulator_value"),
        (optim.Adagrad, "eps"),
        (optim.RMSprop, "alpha"),
        (optim.RMSprop, "eps"),
        (optim.RMSprop, "weight_decay"),
        (optim.RMSprop, "momentum"),
        (optim.Adam, "eps"),
        (optim.Adam, "weight_decay"),
        (optim.AdamW, "eps"),
        (optim.AdamW, "weight_decay"),
    ],
)
def test_negative_hyperparameter(cls, name):
    with pytest.raises(ValueError, match=re.escape(f"Invalid {name}: -0.5 (must be >= 0)")):
        cls([x32()], **{name: -0.5})


@pytest.mark.parametrize("cls", [optim.Adam, optim.AdamW])
@pytest.mark.parametrize(("betas", "message"), [
    ((1.0, 0.999), "Invalid beta parameter at index 0: 1.0"),
    ((0.9, 1.5), "Invalid beta parameter at index 1: 1.5"),
    ((-0.1, 0.999), "Invalid betas[0]: -0.1"),
    ((0.9, -0.2), "Invalid betas[1]: -0.2"),
])
def test_betas_outside_the_unit_interval(cls, betas, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        cls([x32()], betas=betas)


@pytest.mark.parametrize("betas", [0.9, (0.9,), (0.9, 0.99, 0.999), "ab"])
def test_betas_not_a_pair(betas):
    with pytest.raises(TypeError, match="betas must be a pair of floats"):
        optim.Adam([x32()], betas=betas)


@pytest.mark.parametrize(("momentum", "dampening"), [(0.0, 0.0), (0.9, 0.1)])
def test_nesterov_needs_momentum_and_no_dampening(momentum, dampening):
    with pytest.raises(ValueError, match=re.escape(
        f"Nesterov momentum requires a momentum and zero dampening, got nesterov=True, "
        f"momentum={momentum}, dampening={dampening}"
    )):
        optim.SGD([x32()], lr=0.1, momentum=momentum, dampening=dampening, nesterov=True)


@pytest.mark.parametrize("cls", ALL)
def test_a_single_array_is_not_a_list_of_params(cls):
    with pytest.raises(TypeError, match="params must be a list of NumPy arrays, got ndarray; "
                                        "wrap a single array as"):
        cls(x32())


def test_params_of_the_wrong_container_type():
    with pytest.raises(TypeError, match="params must be a list of NumPy arrays, got generator"):
        optim.SGD(p for p in [x32()])


def test_empty_params():
    with pytest.raises(ValueError, match="params is an empty list"):
        optim.Adam([])


@pytest.mark.parametrize("param", [[1.0, 2.0], 3.0, None])
def test_non_array_param(param):
    with pytest.raises(TypeError, match=r"params\[1\] must be a NumPy array, got"):
        optim.SGD([x32(), param])


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.bool_, np.complex64])
def test_non_float_param(dtype):
    with pytest.raises(TypeError,
                       match=rf"params\[0\] has dtype {np.dtype(dtype)}: it must be a float array"):
        optim.Adam([np.zeros(3, dtype=dtype)])


def test_read_only_param():
    param = x32()
    param.flags.writeable = False
    with pytest.raises(ValueError, match=r"params\[0\] is read-only"):
        optim.SGD([param])


@pytest.mark.parametrize("cls", ALL)
def test_grads_of_a_different_length(cls):
    opt = cls([x32(), x32()], lr=0.1)
    with pytest.raises(ValueError, match="grads has 1 arrays but params has 2"):
        opt.step([x32()])


@pytest.mark.parametrize("cls", ALL)
def test_grads_of_a_different_shape(cls):
    opt = cls([x32(), np.zeros((2, 3), dtype=np.float32)], lr=0.1)
    with pytest.raises(ValueError, match=re.escape("grads[1] has shape (3, 2) "
                                                   "but params[1] has shape (2, 3)")):
        opt.step([x32(), np.zeros((3, 2), dtype=np.float32)])


@pytest.mark.parametrize("cls", ALL)
def test_grads_of_a_different_dtype(cls):
    opt = cls([x32()], lr=0.1)
    with pytest.raises(TypeError, match=re.escape(
        "grads[0] has dtype float64 but params[0] has dtype float32; "
        "cast it with .astype(np.float32)"
    )):
        opt.step([np.zeros(3)])


def test_grads_not_arrays():
    opt = optim.SGD([x32()], lr=0.1)
    with pytest.raises(TypeError, match="grads must be a list of NumPy arrays, got ndarray"):
        opt.step(x32())
    with pytest.raises(TypeError, match=r"grads\[0\] must be a NumPy array, got list"):
        opt.step([[0.0, 0.0, 0.0]])


@pytest.mark.parametrize("cls", ALL)
def test_a_failed_step_changes_nothing(cls):
    """Checks run before any parameter is written, so a bad call leaves params and state intact."""
    first, second = np.ones(3, dtype=np.float32), np.ones(2, dtype=np.float32)
    opt = cls([first, second], lr=0.1)
    state = list(opt.state)
    with pytest.raises(ValueError):
        opt.step([np.ones(3, dtype=np.float32), np.ones(3, dtype=np.float32)])
    np.testing.assert_array_equal(first, 1.0)
    assert opt.state == state


# --- all-or-nothing steps: whatever was replaced since the last step is checked first ------------

FULL = [  # every optimizer, with the options that give its state every field
    lambda params: optim.GD(params, lr=0.1),
    lambda params: optim.SGD(params, lr=0.1, momentum=0.9, fused=False),
    lambda params: optim.Adagrad(params, lr=0.1),
    lambda params: optim.RMSprop(params, lr=0.1, momentum=0.9, centered=True),
    lambda params: optim.Adam(params, lr=0.1, amsgrad=True),
    lambda params: optim.AdamW(params, lr=0.1),
]


def snapshot(opt):
    """Copies of every parameter and state field, to compare bit for bit."""
    copy = lambda value: value.copy() if isinstance(value, np.ndarray) else value
    return ([p.copy() for p in opt.params],
            [tuple(copy(field) for field in state) for state in opt.state])


def assert_unchanged(opt, before):
    params, states = snapshot(opt)
    for now, then in zip(params, before[0]):
        np.testing.assert_array_equal(now, then)
    for now, then in zip(states, before[1]):
        assert len(now) == len(then)
        for a, b in zip(now, then):
            if isinstance(a, np.ndarray):
                np.testing.assert_array_equal(a, b)
            else:
                assert a == b


def stepped(make):
    """An optimizer over two float32 arrays, after two good steps (so every buffer exists)."""
    params = [np.linspace(-1, 1, 3, dtype=np.float32), np.linspace(1, 2, 2, dtype=np.float32)]
    opt = make(params)
    for _ in range(2):
        opt.step([np.full(3, 0.5, np.float32), np.full(2, -0.25, np.float32)])
    return opt


def corrupt_array_field(state):
    """The state with its first array field replaced by one of another shape."""
    fields = list(state)
    index = next(i for i, field in enumerate(fields) if isinstance(field, np.ndarray))
    fields[index] = np.zeros(7, dtype=np.float32)
    return type(state)(*fields)


@pytest.mark.parametrize("make", FULL, ids=["GD", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW"])
def test_a_param_replaced_by_another_shape_is_refused_before_any_write(make):
    opt = stepped(make)
    opt.params[1] = np.ones(5, dtype=np.float32)   # the grads will match it, the state does not
    before = snapshot(opt)
    grads = [np.ones(3, np.float32), np.ones(5, np.float32)]
    if type(opt).__name__ == "GD":   # no state to disagree: the step is fine
        opt.step(grads)
        return
    with pytest.raises(ValueError, match=r"state\[1\]\.\w+ has shape \(2,\).*params\[1\] has "
                                         r"shape \(5,\)"):
        opt.step(grads)
    assert_unchanged(opt, before)


@pytest.mark.parametrize("make", FULL[1:], ids=["SGD", "Adagrad", "RMSprop", "Adam", "AdamW"])
@pytest.mark.parametrize("damage, error, match", [
    (corrupt_array_field, ValueError, r"state\[1\]\.\w+ has shape \(7,\)"),
    (lambda state: state._replace(**{state._fields[-1]: "buffer"}), TypeError,
     r"state\[1\]\.\w+ must be a NumPy array, got str"),
    (lambda state: None, TypeError, r"state\[1\] must be a \w+State, got None"),
])
def test_a_corrupt_state_is_refused_before_any_write(make, damage, error, match):
    opt = stepped(make)
    before = snapshot(opt)
    opt.state[1] = damage(opt.state[1])
    with pytest.raises(error, match=match):
        opt.step([np.ones(3, np.float32), np.ones(2, np.float32)])
    np.testing.assert_array_equal(opt.params[0], before[0][0])   # params[0] was not stepped
    np.testing.assert_array_equal(opt.params[1], before[0][1])
    for a, b in zip(opt.state[0], before[1][0]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("make", [FULL[2], FULL[4]], ids=["Adagrad", "Adam"])
def test_a_step_count_that_is_not_a_count_is_refused(make):
    opt = stepped(make)
    before = snapshot(opt)
    for bad in (-1, 2.5, True):
        opt.state[1] = opt.state[1]._replace(step=bad)
        with pytest.raises(ValueError, match=r"state\[1\]\.step must be a step count"):
            opt.step([np.ones(3, np.float32), np.ones(2, np.float32)])
        np.testing.assert_array_equal(opt.params[0], before[0][0])


def test_a_required_buffer_set_to_none_is_refused():
    opt = stepped(FULL[4])  # Adam: exp_avg is always an array
    opt.state[0] = opt.state[0]._replace(exp_avg=None)
    with pytest.raises(ValueError, match=r"state\[0\]\.exp_avg must be an array"):
        opt.step([np.ones(3, np.float32), np.ones(2, np.float32)])


def test_sgd_momentum_buffer_may_start_empty_again():
    """SGD's buffer is None until the first step: assigning a fresh state is a valid reset."""
    opt = stepped(FULL[1])
    opt.state = [optim.sgd_init(p) for p in opt.params]
    opt.step([np.ones(3, np.float32), np.ones(2, np.float32)])
    np.testing.assert_array_equal(opt.state[0].momentum_buffer, 1.0)


@pytest.mark.parametrize("cls", ALL)
def test_the_same_array_twice_is_refused(cls):
    x = np.zeros(4)
    for params, pair in (([x, x], "params[0] and params[1]"),
                         ([np.ones(2), x[:3], x[2:]], "params[1] and params[2]")):
        with pytest.raises(ValueError, match=re.escape(pair) + " share memory"):
            cls(params, lr=0.1)
    cls([x[:2], x[2:]], lr=0.1)   # disjoint views of one array are fine


def test_a_different_number_of_params_is_refused():
    opt = stepped(FULL[1])
    opt.params.append(np.ones(1, np.float32))
    with pytest.raises(ValueError, match="has 3 params and 2 states but was built for 2"):
        opt.step([np.ones(3, np.float32), np.ones(2, np.float32), np.ones(1, np.float32)])


def test_the_fused_path_checks_a_corrupt_state_before_any_write():
    from sgd_utils.nn.mlp import MLP
    model = MLP([4, 3, 2], seed=0)
    opt = optim.SGD(model.params, lr=0.1, momentum=0.9)
    X, y = np.ones((5, 4), np.float32), np.array([0, 1, 0, 1, 1])
    opt.train_step(model, X, y)
    state = opt.state                       # the fused path's buffers, given back
    state[2] = state[2]._replace(momentum_buffer=np.zeros((9, 9), np.float32))
    before = [p.copy() for p in model.params]
    with pytest.raises(ValueError, match=r"state\[2\]\.momentum_buffer has shape \(9, 9\)"):
        opt.train_step(model, X, y)
    for now, then in zip(model.params, before):
        np.testing.assert_array_equal(now, then)



# --- options are booleans, reals are finite and in range -----------------------------------------

@pytest.mark.parametrize("make, name", [
    (lambda v: optim.Adam([x32()], amsgrad=v), "amsgrad"),
    (lambda v: optim.Adam([x32()], decoupled_weight_decay=v), "decoupled_weight_decay"),
    (lambda v: optim.Adam([x32()], bias_correction=v), "bias_correction"),
    (lambda v: optim.AdamW([x32()], amsgrad=v), "amsgrad"),
    (lambda v: optim.SGD([x32()], lr=0.1, momentum=0.9, nesterov=v), "nesterov"),
    (lambda v: optim.RMSprop([x32()], centered=v), "centered"),
])
@pytest.mark.parametrize("value", ["False", "no", 0, 1, None, [True]])
def test_options_must_be_booleans(make, name, value):
    message = f"{name} must be True or False, got {re.escape(repr(value))}"
    with pytest.raises(TypeError, match=message):
        make(value)


@pytest.mark.parametrize("make, message", [
    (lambda: optim.SGD([x32()], lr=float("inf")), "Invalid lr: inf (must be finite)"),
    (lambda: optim.SGD([x32()], lr=0.1, momentum=float("inf")), "Invalid momentum: inf"),
    (lambda: optim.SGD([x32()], lr=0.1, weight_decay=float("inf")), "Invalid weight_decay: inf"),
    (lambda: optim.SGD([x32()], lr=0.1, momentum=0.9, dampening=1.5),
     "Invalid dampening: 1.5 (must be in [0, 1])"),
    (lambda: optim.RMSprop([x32()], alpha=1.5), "Invalid alpha: 1.5 (must be in [0, 1])"),
    (lambda: optim.Adam([x32()], eps=float("inf")), "Invalid eps: inf"),
    (lambda: optim.Adagrad([x32()], lr_decay=float("inf")), "Invalid lr_decay: inf"),
    (lambda: optim.Adagrad([x32()], initial_accumulator_value=float("inf")),
     "Invalid initial_accumulator_value: inf"),
])
def test_reals_must_be_finite_and_in_range(make, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        make()


def test_dampening_must_be_a_number_not_a_bool():
    with pytest.raises(TypeError, match="dampening must be a real number, got True"):
        optim.SGD([x32()], lr=0.1, momentum=0.9, dampening=True)
