"""The facades: in-place updates, settable lr, inspectable state, and equality with the pure rules."""

import itertools

import numpy as np
import pytest

from sgd_utils import optim

SHAPES = [(6, 5), (5,), ()]


def random_params_and_grads(seed, num_steps):
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(shape).astype(np.float32) for shape in SHAPES]
    grads = [[rng.standard_normal(shape).astype(np.float32) for shape in SHAPES] for _ in range(num_steps)]
    return params, grads


SGD_KWARGS = [
    dict(momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov)
    for momentum, dampening, weight_decay, nesterov in itertools.product([0.0, 0.9], [0.0, 0.3], [0.0, 0.01], [False, True])
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
            np.testing.assert_array_equal(state.momentum_buffer, expected_state.momentum_buffer, strict=True)
        else:
            assert state.momentum_buffer is None and expected_state.momentum_buffer is None
