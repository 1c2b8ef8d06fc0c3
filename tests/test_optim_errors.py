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
