"""One step of each update rule against its formula written out here, element by element.

The formulas are typed in from PyTorch's documented algorithms with plain Python
floats in float64, independently of the package's NumPy code; the package runs
in float32, so the comparison allows float32 rounding.
"""

import math

import numpy as np
import pytest

from sgd_utils import optim

THETA = [0.5, -1.25, 2.0]
GRAD = [0.3, 0.7, -1.1]
BUFFER = [0.2, -0.4, 0.6]


def f32(values):
    return np.array(values, dtype=np.float32)


def assert_step(new_param, expected):
    assert new_param.dtype == np.float32
    np.testing.assert_allclose(new_param, expected, rtol=2e-6, atol=1e-7)


def test_gd_one_step():
    new_param, state = optim.gd_update(f32(THETA), f32(GRAD), optim.gd_init(f32(THETA)), lr=0.1)
    assert_step(new_param, [t - 0.1 * g for t, g in zip(THETA, GRAD)])
    assert state == optim.GDState()


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_first_step_sets_buffer_to_the_gradient(nesterov):
    lr, mu, wd = 0.1, 0.9, 0.01
    state = optim.sgd_init(f32(THETA))
    new_param, state = optim.sgd_update(
        f32(THETA), f32(GRAD), state, lr=lr, momentum=mu, weight_decay=wd, nesterov=nesterov
    )
    decayed = [g + wd * t for t, g in zip(THETA, GRAD)]
    np.testing.assert_allclose(state.momentum_buffer, decayed, rtol=2e-6)
    direction = [d + mu * d for d in decayed] if nesterov else decayed
    assert_step(new_param, [t - lr * d for t, d in zip(THETA, direction)])


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_later_step(nesterov):
    lr, mu, tau, wd = 0.05, 0.8, 0.0 if nesterov else 0.25, 0.02
    state = optim.SGDState(momentum_buffer=f32(BUFFER))
    new_param, new_state = optim.sgd_update(
        f32(THETA), f32(GRAD), state, lr=lr, momentum=mu, dampening=tau, weight_decay=wd, nesterov=nesterov
    )
    decayed = [g + wd * t for t, g in zip(THETA, GRAD)]
    buffer = [mu * b + (1 - tau) * d for b, d in zip(BUFFER, decayed)]
    direction = [d + mu * b for d, b in zip(decayed, buffer)] if nesterov else buffer
    np.testing.assert_allclose(new_state.momentum_buffer, buffer, rtol=2e-6)
    assert_step(new_param, [t - lr * d for t, d in zip(THETA, direction)])


def test_sgd_without_momentum_keeps_no_buffer():
    new_param, state = optim.sgd_update(f32(THETA), f32(GRAD), optim.sgd_init(f32(THETA)), lr=0.1, weight_decay=0.5)
    assert state.momentum_buffer is None
    assert_step(new_param, [t - 0.1 * (g + 0.5 * t) for t, g in zip(THETA, GRAD)])
