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
        f32(THETA), f32(GRAD), state, lr=lr, momentum=mu, dampening=tau, weight_decay=wd,
        nesterov=nesterov
    )
    decayed = [g + wd * t for t, g in zip(THETA, GRAD)]
    buffer = [mu * b + (1 - tau) * d for b, d in zip(BUFFER, decayed)]
    direction = [d + mu * b for d, b in zip(decayed, buffer)] if nesterov else buffer
    np.testing.assert_allclose(new_state.momentum_buffer, buffer, rtol=2e-6)
    assert_step(new_param, [t - lr * d for t, d in zip(THETA, direction)])


def test_sgd_without_momentum_keeps_no_buffer():
    new_param, state = optim.sgd_update(f32(THETA), f32(GRAD), optim.sgd_init(f32(THETA)), lr=0.1,
                                        weight_decay=0.5)
    assert state.momentum_buffer is None
    assert_step(new_param, [t - 0.1 * (g + 0.5 * t) for t, g in zip(THETA, GRAD)])


@pytest.mark.parametrize("step", [0, 4])
def test_adagrad_one_step(step):
    lr, lr_decay, wd, eps = 0.1, 0.05, 0.01, 1e-3
    old_sum = [0.5, 1.5, 0.25]
    state = optim.AdagradState(step=step, sum=f32(old_sum))
    new_param, new_state = optim.adagrad_update(
        f32(THETA), f32(GRAD), state, lr=lr, lr_decay=lr_decay, weight_decay=wd, eps=eps
    )
    t = step + 1
    decayed = [g + wd * th for th, g in zip(THETA, GRAD)]
    new_sum = [s + d * d for s, d in zip(old_sum, decayed)]
    clr = lr / (1 + (t - 1) * lr_decay)
    assert new_state.step == t
    np.testing.assert_allclose(new_state.sum, new_sum, rtol=2e-6)
    assert_step(new_param, [th - clr * d / (math.sqrt(s) + eps)
                            for th, d, s in zip(THETA, decayed, new_sum)])


def test_adagrad_init_fills_the_accumulator():
    state = optim.adagrad_init(f32(THETA), initial_accumulator_value=0.3)
    assert state.step == 0 and state.sum.dtype == np.float32
    np.testing.assert_array_equal(state.sum, f32([0.3, 0.3, 0.3]))


@pytest.mark.parametrize("centered", [False, True])
@pytest.mark.parametrize("momentum", [0.0, 0.7])
def test_rmsprop_one_step(centered, momentum):
    lr, alpha, eps, wd = 0.01, 0.9, 1e-4, 0.02
    old_sq, old_avg = [0.5, 1.5, 0.25], [0.1, -0.2, 0.3]
    state = optim.RMSpropState(
        step=3, square_avg=f32(old_sq), momentum_buffer=f32(BUFFER) if momentum else None,
        grad_avg=f32(old_avg) if centered else None,
    )
    new_param, new_state = optim.rmsprop_update(
        f32(THETA), f32(GRAD), state, lr=lr, alpha=alpha, eps=eps, weight_decay=wd,
        momentum=momentum, centered=centered
    )
    decayed = [g + wd * th for th, g in zip(THETA, GRAD)]
    sq = [alpha * v + (1 - alpha) * d * d for v, d in zip(old_sq, decayed)]
    avg = [alpha * a + (1 - alpha) * d for a, d in zip(old_avg, decayed)]
    var = [v - a * a for v, a in zip(sq, avg)] if centered else sq
    scaled = [d / (math.sqrt(v) + eps) for d, v in zip(decayed, var)]
    if momentum:
        buffer = [momentum * b + s for b, s in zip(BUFFER, scaled)]
        np.testing.assert_allclose(new_state.momentum_buffer, buffer, rtol=2e-6)
        expected = [th - lr * b for th, b in zip(THETA, buffer)]
    else:
        assert new_state.momentum_buffer is None
        expected = [th - lr * s for th, s in zip(THETA, scaled)]
    assert new_state.step == 4
    np.testing.assert_allclose(new_state.square_avg, sq, rtol=2e-6)
    if centered:
        np.testing.assert_allclose(new_state.grad_avg, avg, rtol=2e-6)
    else:
        assert new_state.grad_avg is None
    assert_step(new_param, expected)


@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("decoupled", [False, True])
def test_adam_and_adamw_one_step(amsgrad, decoupled):
    lr, beta1, beta2, eps, wd, step = 0.01, 0.8, 0.95, 1e-3, 0.1, 2
    old_m, old_v, old_max = [0.1, -0.2, 0.3], [0.5, 0.01, 0.25], [0.6, 0.005, 0.3]
    state = optim.AdamState(step=step, exp_avg=f32(old_m), exp_avg_sq=f32(old_v),
                            max_exp_avg_sq=f32(old_max) if amsgrad else None)
    update = optim.adamw_update if decoupled else optim.adam_update
    new_param, new_state = update(
        f32(THETA), f32(GRAD), state, lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=wd,
        amsgrad=amsgrad
    )
    t = step + 1
    if decoupled:  # AdamW: shrink the parameter first, leave the gradient alone
        theta = [th * (1 - lr * wd) for th in THETA]
        grad = GRAD
    else:  # Adam: L2 penalty added to the gradient
        theta = THETA
        grad = [g + wd * th for th, g in zip(THETA, GRAD)]
    m = [beta1 * a + (1 - beta1) * g for a, g in zip(old_m, grad)]
    v = [beta2 * a + (1 - beta2) * g * g for a, g in zip(old_v, grad)]
    v_hat = [max(a, b) for a, b in zip(old_max, v)] if amsgrad else v
    m_corrected = [a / (1 - beta1**t) for a in m]
    v_corrected = [a / (1 - beta2**t) for a in v_hat]
    expected = [th - lr * a / (math.sqrt(b) + eps)
                for th, a, b in zip(theta, m_corrected, v_corrected)]
    assert new_state.step == t
    np.testing.assert_allclose(new_state.exp_avg, m, rtol=2e-6)
    np.testing.assert_allclose(new_state.exp_avg_sq, v, rtol=2e-6)
    if amsgrad:
        np.testing.assert_allclose(new_state.max_exp_avg_sq, v_hat, rtol=2e-6)
    else:
        assert new_state.max_exp_avg_sq is None
    assert_step(new_param, expected)
