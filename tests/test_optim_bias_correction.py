"""Tests of Adam without bias correction (sgd_utils.optim.adam, bias_correction=False): against a
loop written out here, RMSprop and Adam, and uncorrected_step_ratio's prediction."""

import numpy as np
import pytest

from sgd_utils.optim import Adam, RMSprop, adam_init, adam_update, uncorrected_step_ratio

GRADS = np.random.default_rng(0).standard_normal((40, 3))


def test_rule_equals_the_recursion_written_out():
    beta1, beta2, lr, eps = 0.8, 0.95, 0.05, 1e-6
    x = np.array([1.0, -2.0, 0.5])
    param, state = x.copy(), adam_init(x)
    m = v = np.zeros(3)
    expected = x.copy()
    for grad in GRADS:
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad**2
        expected = expected - lr * m / (np.sqrt(v) + eps)
        param, state = adam_update(param, grad, state, lr=lr, betas=(beta1, beta2), eps=eps,
                                   bias_correction=False)
    np.testing.assert_allclose(param, expected, rtol=1e-12)
    assert state.step == len(GRADS)
    np.testing.assert_allclose(state.exp_avg, m, rtol=1e-12)
    np.testing.assert_allclose(state.exp_avg_sq, v, rtol=1e-12)


def test_without_momentum_it_is_rmsprop():
    x, y = np.array([1.0, -2.0, 0.5]), np.array([1.0, -2.0, 0.5])
    ours, rmsprop = (Adam([x], bias_correction=False, lr=0.01, betas=(0.0, 0.9)),
                     RMSprop([y], lr=0.01, alpha=0.9))
    for grad in GRADS:
        ours.step([grad])
        rmsprop.step([grad])
    np.testing.assert_allclose(x, y, rtol=1e-13)


def test_it_approaches_adam_once_the_bias_has_decayed():
    # With a constant gradient both moments are exact after many steps, so the steps agree.
    x, y = np.array([5.0]), np.array([5.0])
    ours, adam = (Adam([x], bias_correction=False, lr=1e-3, betas=(0.5, 0.9)),
                  Adam([y], lr=1e-3, betas=(0.5, 0.9)))
    for _ in range(400):
        ours.step([np.array([1.0])])
        adam.step([np.array([1.0])])
    before_x, before_y = x.copy(), y.copy()
    ours.step([np.array([1.0])])
    adam.step([np.array([1.0])])
    np.testing.assert_allclose(before_x - x, before_y - y, rtol=1e-9)


@pytest.mark.parametrize("betas", [(0.9, 0.999), (0.0, 0.99), (0.5, 0.9)])
def test_constant_gradient_steps_match_the_ratio(betas):
    x = np.array([0.0, 0.0])
    opt = Adam([x], bias_correction=False, lr=1e-3, betas=betas, eps=0.0)
    steps = []
    for _ in range(30):
        before = x.copy()
        opt.step([np.array([3.0, -0.01])])
        steps.append(np.abs(before - x) / 1e-3)
    expected = uncorrected_step_ratio(np.arange(1, 31), betas)
    np.testing.assert_allclose(np.array(steps), np.stack([expected, expected], axis=1), rtol=1e-10)


def test_ratio_scalar_and_peak():
    assert uncorrected_step_ratio(1) == pytest.approx(0.1 / np.sqrt(0.001))
    ratios = uncorrected_step_ratio(np.arange(1, 5000))
    assert isinstance(ratios, np.ndarray) and 6 < ratios.max() < 7 and abs(ratios[-1] - 1) < 0.01


def test_errors():
    with pytest.raises(ValueError, match="step must hold integers >= 1"):
        uncorrected_step_ratio(0)
    with pytest.raises(ValueError, match="step must hold integers"):
        uncorrected_step_ratio(1.5)
    with pytest.raises(ValueError, match="beta"):
        uncorrected_step_ratio(1, betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="Invalid lr"):
        Adam([np.zeros(2)], bias_correction=False, lr=-1.0)
    with pytest.raises(ValueError, match="Invalid eps"):
        Adam([np.zeros(2)], bias_correction=False, eps=-1.0)
    with pytest.raises(TypeError, match="betas must be a pair"):
        Adam([np.zeros(2)], bias_correction=False, betas=0.9)


def test_float32_stays_float32():
    x = np.array([1.0, 2.0], dtype=np.float32)
    opt = Adam([x], bias_correction=False, lr=0.1)
    opt.step([np.array([0.5, -0.5], dtype=np.float32)])
    assert x.dtype == np.float32 and opt.state[0].exp_avg.dtype == np.float32
