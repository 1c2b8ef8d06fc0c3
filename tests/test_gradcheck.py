"""Tests of sgd_utils.nn.gradcheck: exactness on polynomials, the error model, bugs caught,
errors."""
import numpy as np
import pytest

from sgd_utils.nn.gradcheck import GradCheck, central_difference, check_gradients, relative_error
from sgd_utils.nn.mlp import MLP


def test_central_difference_is_exact_for_quadratics():
    # f(x) = c . x^2 has zero third derivative: the only error is rounding.
    c = np.array([0.5, -2.0, 3.0])
    x = np.array([1.0, 0.25, -4.0])
    loss = lambda: float(c @ x**2)
    for i in range(3):
        assert central_difference(loss, x, i, 1e-3) == pytest.approx(2 * c[i] * x[i], rel=1e-10)


def test_truncation_error_matches_h_squared_over_six():
    # f(x) = exp(x): D_h f - f' = f''' h^2 / 6 + O(h^4), with f''' = exp(x)
    x = np.array([0.3])
    loss = lambda: float(np.exp(x[0]))
    for h in (1e-1, 3e-2):
        error = central_difference(loss, x, 0, h) - np.exp(0.3)
        assert error == pytest.approx(np.exp(0.3) * h**2 / 6, rel=1e-2)


def test_parameters_are_restored_bit_for_bit():
    rng = np.random.default_rng(0)
    params = [rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal(4)]
    saved = [p.copy() for p in params]
    loss = lambda: float(np.sum(np.sin(params[0])) + np.sum(params[1] ** 3))
    check_gradients(loss, params, [np.cos(params[0]), 3 * params[1] ** 2], eps=1e-2)
    for p, s in zip(params, saved):
        assert p.dtype == s.dtype and np.array_equal(p, s)


def test_restored_even_when_the_loss_raises():
    x = np.array([1.0, 2.0])

    def loss():
        if x[0] != 1.0:
            raise RuntimeError("boom")
        return 0.0

    with pytest.raises(RuntimeError):
        central_difference(loss, x, 0, 0.1)
    assert x[0] == 1.0


def test_float32_step_is_measured_not_assumed():
    # 1 + 1e-4 is not representable in float32; dividing by 2 eps would be off by ~1e-3.
    x = np.array([1.0], dtype=np.float32)
    loss = lambda: float(np.float64(x[0]) * 3.0)  # exactly linear: the slope must be 3
    assert central_difference(loss, x, 0, 1e-4) == pytest.approx(3.0, rel=1e-12)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_backprop_of_the_mlp_passes_in_float64(activation):
    model = MLP([6, 8, 8, 3], activation, seed=3).astype(np.float64)
    for p in model.params[1::2]:  # nonzero biases: no pre-activation sits exactly on ReLU's kink
        p += 0.1
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((7, 6)), rng.integers(0, 3, 7)
    _, grads = model.loss_and_grads(X, y)
    checks = check_gradients(lambda: model.loss(X, y), model.params, grads, eps=1e-6)
    assert [len(c.entries) for c in checks] == [p.size for p in model.params]
    # rounding gives |error| ~ u |f| / h ~ 1e-10; relative to entries of ~1e-4 or more: < 1e-5
    assert max(c.max_relative_error for c in checks) < 1e-5


def test_a_kink_of_relu_fools_finite_differences():
    # Zero biases and an input row of zeros put every pre-activation exactly at 0, where ReLU
    # has no derivative: backprop uses relu'(0) = 0, the central difference the average slope.
    model = MLP([2, 3, 2], "relu", seed=0).astype(np.float64)
    X, y = np.zeros((1, 2)), np.array([1])
    _, grads = model.loss_and_grads(X, y)
    check = check_gradients(lambda: model.loss(X, y), model.params, grads)[1]  # b1
    assert np.all(check.analytic == 0) and np.any(np.abs(check.numeric) > 1e-3)


def test_a_wrong_gradient_is_caught():
    model = MLP([6, 5, 3], "tanh", seed=0).astype(np.float64)
    rng = np.random.default_rng(2)
    X, y = rng.standard_normal((4, 6)), rng.integers(0, 3, 4)
    _, grads = model.loss_and_grads(X, y)
    grads[2] = 2 * grads[2]  # a factor-2 bug in dW2, as a forgotten 1/2 would give
    checks = check_gradients(lambda: model.loss(X, y), model.params, grads)
    assert checks[0].max_relative_error < 1e-6
    assert checks[2].max_relative_error == pytest.approx(1 / 2, rel=1e-5)


def test_sampled_entries_are_distinct_sorted_and_seeded():
    x = np.linspace(-1, 1, 50)
    loss = lambda: float(np.sum(x**2))
    first = check_gradients(loss, [x], [2 * x], num_entries=10, rng=np.random.default_rng(5))[0]
    again = check_gradients(loss, [x], [2 * x], num_entries=10, rng=np.random.default_rng(5))[0]
    assert isinstance(first, GradCheck)
    assert np.array_equal(first.entries, again.entries)
    assert len(set(first.entries.tolist())) == 10 and np.all(np.diff(first.entries) > 0)
    np.testing.assert_allclose(first.numeric, 2 * x[first.entries], rtol=1e-8, atol=1e-9)
    # num_entries at least the size checks everything and needs no rng
    assert len(check_gradients(loss, [x], [2 * x], num_entries=99)[0].entries) == 50


def test_relative_error_formula_and_floor():
    np.testing.assert_allclose(relative_error([2.0, -1.0, 0.0], [1.0, 1.0, 0.0]), [0.5, 2.0, 0.0])
    assert relative_error([1e-20], [0.0], floor=1e-12)[0] == pytest.approx(1e-8)
    assert GradCheck(np.arange(0), np.zeros(0), np.zeros(0)).max_relative_error == 0.0


def test_error_paths():
    x = np.ones(3)
    loss = lambda: float(np.sum(x))
    with pytest.raises(ValueError, match="same length"):
        check_gradients(loss, [x], [])
    with pytest.raises(ValueError, match="shape"):
        check_gradients(loss, [x], [np.ones(2)])
    with pytest.raises(TypeError, match="float ndarray"):
        check_gradients(loss, [np.ones(3, dtype=int)], [np.ones(3)])
    with pytest.raises(ValueError, match="C-contiguous"):
        check_gradients(loss, [np.ones((3, 2))[:, 0]], [np.ones(3)])
    for eps in (0, -1e-3, np.inf, "0.1"):
        with pytest.raises(ValueError, match="eps"):
            check_gradients(loss, [x], [x], eps=eps)
    for num in (0, 2.5, True):
        with pytest.raises(ValueError, match="num_entries"):
            check_gradients(loss, [x], [x], num_entries=num)
    with pytest.raises(ValueError, match="rounds back"):  # 1 + 1e-9 == 1 in float32
        central_difference(loss, np.ones(3, dtype=np.float32), 0, 1e-9)
    with pytest.raises(TypeError, match="Generator"):
        check_gradients(loss, [x], [x], num_entries=2)
    with pytest.raises(ValueError, match="same shape"):
        relative_error([1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="floor"):
        relative_error([1.0], [1.0], floor=0)
