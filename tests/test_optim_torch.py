"""The optimizers against PyTorch's, over every combination of their arguments.

PyTorch is an optional, independent oracle: these tests skip without it. Both
sides start from the same float32 parameters and see the same float32
gradients for ``NUM_STEPS`` steps. They cannot agree bit for bit: PyTorch's CPU
kernels fuse multiply-adds (one rounding where NumPy rounds twice) and its
float32 ``sqrt`` is not correctly rounded, so results differ in the last
units in the place. Those differences are relative to the size of the numbers
being added, not to the result (a coordinate that wanders back to zero keeps an
error of an ulp of its earlier size), so each array is compared with
``rtol=RTOL`` plus an absolute tolerance of ``RTOL`` times its largest entry.

Measured over these grids with 300 steps and two seeds (torch 2.13 CPU, AVX-512):
max |ours - torch| / max |torch| was 2.6e-7 (SGD), 4.4e-7 (Adagrad), 4.1e-7
(RMSprop), 2.6e-7 (Adam, AdamW), i.e. a few float32 ulps of the array's scale.
"""

import itertools

import numpy as np
import pytest

from sgd_utils import optim

torch = pytest.importorskip("torch")

NUM_STEPS = 100
RTOL = 1e-6
SHAPES = [(7, 9), (4,)]  # 63 elements reach PyTorch's vectorised loop and its scalar tail


def random_problem(seed, num_steps=NUM_STEPS):
    """Float32 starting parameters and a sequence of float32 gradients."""
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(shape).astype(np.float32) for shape in SHAPES]
    grads = [[rng.standard_normal(shape).astype(np.float32) for shape in SHAPES]
             for _ in range(num_steps)]
    return params, grads


def run_ours(optimizer_class, kwargs, params, grads):
    params = [param.copy() for param in params]
    opt = optimizer_class(params, **kwargs)
    for step_grads in grads:
        opt.step(step_grads)
    return opt


def run_torch(optimizer_class, kwargs, params, grads):
    tensors = [torch.tensor(param) for param in params]
    opt = optimizer_class(tensors, **kwargs)
    for step_grads in grads:
        for tensor, grad in zip(tensors, step_grads):
            tensor.grad = torch.tensor(grad)
        opt.step()
    return tensors, opt


def assert_close(ours, theirs, err_msg=""):
    assert ours.dtype == np.float32, err_msg
    scale = float(np.max(np.abs(theirs)))
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=RTOL * scale, err_msg=err_msg)


def scaled_gap(ours, theirs):
    """max |ours - theirs| / max |theirs| over every array: the figure reported in the docs."""
    return max(float(np.max(np.abs(a - b)) / np.max(np.abs(b))) for a, b in zip(ours, theirs))


def assert_matches_torch(name, kwargs, seed=0):
    params, grads = random_problem(seed)
    ours = run_ours(getattr(optim, name), kwargs, params, grads)
    tensors, theirs = run_torch(getattr(torch.optim, name), kwargs, params, grads)
    torch_params = [tensor.numpy() for tensor in tensors]
    for param, torch_param in zip(ours.params, torch_params):
        assert_close(param, torch_param, "params")
    # the state too: every field PyTorch keeps, under the same name
    for state, tensor in zip(ours.state, tensors):
        for key, value in theirs.state[tensor].items():
            ours_value = getattr(state, key)
            if key == "step":
                assert ours_value == int(value.item())
            else:
                assert_close(ours_value, value.numpy(), key)
    return scaled_gap(ours.params, torch_params)


SGD_GRID = [
    dict(lr=0.05, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
         nesterov=nesterov)
    for momentum, dampening, weight_decay, nesterov in itertools.product(
        [0.0, 0.9], [0.0, 0.3], [0.0, 0.05], [False, True]
    )
    if not (nesterov and (momentum == 0 or dampening != 0))
]


@pytest.mark.parametrize("kwargs", SGD_GRID, ids=str)
def test_sgd_matches_torch(kwargs):
    assert_matches_torch("SGD", kwargs)


def test_sgd_defaults_match_torch():
    assert_matches_torch("SGD", {})


# Every on/off combination of the options; the continuous settings (lr, eps, ...) vary in pairs, not
# all crossed, to keep the suite to a few seconds.
ADAGRAD_GRID = [
    dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay, initial_accumulator_value=initial,
         eps=eps)
    for (lr, eps), lr_decay, weight_decay, initial in itertools.product(
        [(0.01, 1e-10), (0.5, 1e-3)], [0.0, 0.01], [0.0, 0.05], [0.0, 0.1]
    )
]


@pytest.mark.parametrize("kwargs", ADAGRAD_GRID, ids=str)
def test_adagrad_matches_torch(kwargs):
    assert_matches_torch("Adagrad", kwargs)


RMSPROP_GRID = [
    dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
         centered=centered)
    for (lr, alpha, eps), weight_decay, momentum, centered in itertools.product(
        [(0.001, 0.99, 1e-8), (0.01, 0.9, 1e-3)], [0.0, 0.05], [0.0, 0.9], [False, True]
    )
]


@pytest.mark.parametrize("kwargs", RMSPROP_GRID, ids=str)
def test_rmsprop_matches_torch(kwargs):
    assert_matches_torch("RMSprop", kwargs)


ADAM_GRID = [
    dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)
    for (lr, betas, eps), weight_decay, amsgrad in itertools.product(
        [(0.001, (0.9, 0.999), 1e-8), (0.05, (0.5, 0.9), 1e-3), (0.05, (0.0, 0.0), 1e-8)],
        [0.0, 0.05], [False, True]
    )
]


@pytest.mark.parametrize("name", ["Adam", "AdamW"])
@pytest.mark.parametrize("kwargs", ADAM_GRID, ids=str)
def test_adam_and_adamw_match_torch(name, kwargs):
    assert_matches_torch(name, kwargs)


@pytest.mark.parametrize("name", ["Adagrad", "RMSprop", "Adam", "AdamW"])
def test_defaults_match_torch(name):
    assert_matches_torch(name, {})


# maximize=True negates the gradient before anything else: a few configurations per optimizer,
# with every option that reads the gradient after the negation (decay, momentum, centering, ...).
MAXIMIZE_CASES = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9, weight_decay=0.05, nesterov=True)),
    ("Adagrad", dict(lr=0.5, lr_decay=0.01, initial_accumulator_value=0.1, eps=1e-3)),
    ("Adagrad", dict(lr=0.01, weight_decay=0.05)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-3, weight_decay=0.05, momentum=0.9,
                     centered=True)),
    ("RMSprop", dict(lr=0.001, weight_decay=0.05)),
    ("Adam", dict(lr=0.05, betas=(0.5, 0.9), eps=1e-3, weight_decay=0.05, amsgrad=True)),
    ("Adam", dict(lr=0.001)),
    ("AdamW", dict(lr=0.05, betas=(0.5, 0.9), eps=1e-3, weight_decay=0.05, amsgrad=True)),
    ("AdamW", dict(lr=0.001)),
]


@pytest.mark.parametrize("name, kwargs", MAXIMIZE_CASES, ids=str)
def test_maximize_matches_torch(name, kwargs):
    assert_matches_torch(name, {**kwargs, "maximize": True})
