"""Tests of sgd_utils.nn.backprop, the readable reference: against the fast MLP and finite
differences, and its own parts against their definitions."""

import numpy as np
import pytest

from sgd_utils.nn.backprop import activation_derivative, backprop, log_softmax, sigmoid
from sgd_utils.nn.gradcheck import central_difference
from sgd_utils.nn.mlp import ACTIVATIONS, COSTS, MLP


def batch(num_rows, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((num_rows, 6)), rng.integers(0, 4, num_rows)


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("cost", COSTS)
@pytest.mark.parametrize("num_rows", [1, 7, 64])
def test_reference_equals_the_fast_path_to_rounding(activation, cost, num_rows):
    model = MLP([6, 9, 5, 4], activation=activation, cost=cost, dtype=np.float64, seed=3)
    X, y = batch(num_rows)
    loss, grads = backprop(model.params, X, y, activation=activation, cost=cost)
    fast_loss, fast_grads = model.loss_and_grads(X, y)
    assert loss == pytest.approx(fast_loss, rel=1e-13)
    for g, fast in zip(grads, fast_grads):
        np.testing.assert_allclose(g, fast, rtol=1e-11, atol=1e-14)


def test_float32_reference_agrees_to_float32_rounding():
    model = MLP([6, 9, 4], seed=1)
    X, y = batch(32, seed=2)
    X = X.astype(np.float32)
    loss, grads = backprop(model.params, X, y)
    fast_loss, fast_grads = model.loss_and_grads(X, y)
    assert loss == pytest.approx(fast_loss, rel=1e-5)
    for g, fast in zip(grads, fast_grads):
        assert g.dtype == np.float32
        np.testing.assert_allclose(g, fast, rtol=1e-4, atol=1e-6)


def test_reference_gradients_match_finite_differences():
    model = MLP([6, 5, 4], activation="tanh", dtype=np.float64, seed=0)
    X, y = batch(10, seed=4)
    _, grads = backprop(model.params, X, y, activation="tanh")
    loss = lambda: backprop(model.params, X, y, activation="tanh")[0]
    for param, grad in zip(model.params, grads):
        for entry in (0, param.size - 1):
            estimate = central_difference(loss, param, entry, 1e-5)
            assert grad.reshape(-1)[entry] == pytest.approx(estimate, rel=1e-6, abs=1e-9)


def test_parts_match_their_definitions():
    z = np.array([[1.0, 2.0, 3.0], [1000.0, 0.0, -1000.0]])
    expected = z[0] - np.log(np.sum(np.exp(z[0])))
    np.testing.assert_allclose(log_softmax(z)[0], expected, rtol=1e-15)
    assert np.isfinite(log_softmax(z)).all()   # 1000 would overflow exp without the shift
    np.testing.assert_allclose(sigmoid(np.array([-3.0, 0.0, 2.0])),
                               1 / (1 + np.exp(-np.array([-3.0, 0.0, 2.0]))), rtol=1e-15)
    zs = np.linspace(-2, 2, 9)
    for name, f in (("sigmoid", sigmoid), ("tanh", np.tanh), ("relu", lambda v: np.maximum(v, 0))):
        numeric = (f(zs + 1e-6) - f(zs - 1e-6)) / 2e-6
        exact = activation_derivative(name, f(zs))
        mask = zs != 0                        # the ReLU has no derivative at 0
        np.testing.assert_allclose(exact[mask], numeric[mask], atol=1e-8)


def test_bad_choices_and_labels_are_named():
    model = MLP([6, 4], dtype=np.float64)
    X, y = batch(3)
    with pytest.raises(ValueError, match="activation"):
        backprop(model.params, X, y, activation="gelu")
    with pytest.raises(ValueError, match="y"):
        backprop(model.params, X, np.array([0, 1, 7]))
