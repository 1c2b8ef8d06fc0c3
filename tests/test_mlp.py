"""Tests of sgd_utils.nn.mlp: gradients against finite differences and torch, costs, errors."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from sgd_utils.nn.mlp import ACTIVATIONS, COSTS, MLP

SIZES = [5, 4, 3, 3]  # two hidden layers, so BP2 runs twice


def batch(num_rows, num_inputs=5, num_classes=3, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((num_rows, num_inputs)).astype(dtype)
    return X, rng.integers(0, num_classes, num_rows)


def finite_difference_grads(model, X, y, eps=1e-6):
    """Central differences (C(p + eps) - C(p - eps)) / (2 eps), one parameter entry at a time."""
    grads = []
    for p in model.params:
        g = np.empty_like(p)
        for index in np.ndindex(p.shape):
            saved = p[index]
            p[index] = saved + eps
            up = model.loss(X, y)
            p[index] = saved - eps
            down = model.loss(X, y)
            p[index] = saved
            g[index] = (up - down) / (2 * eps)
        grads.append(g)
    return grads


@pytest.mark.parametrize("num_rows", [1, 4])  # batch 1 takes the np.dot outer-product path
@pytest.mark.parametrize("cost", COSTS)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_gradients_match_finite_differences(activation, cost, num_rows):
    model = MLP(SIZES, activation, cost=cost, seed=1).astype(np.float64)
    X, y = batch(num_rows)
    loss, grads = model.loss_and_grads(X, y)
    assert loss == pytest.approx(model.loss(X, y), rel=1e-12)
    for analytic, numeric in zip(grads, finite_difference_grads(model, X, y)):
        np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("cost", COSTS)
def test_network_without_hidden_layer_is_softmax_or_sigmoid_regression(cost):
    model = MLP([5, 3], cost=cost, seed=4).astype(np.float64)
    X, y = batch(7)
    _, grads = model.loss_and_grads(X, y)
    for analytic, numeric in zip(grads, finite_difference_grads(model, X, y)):
        np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-8)
    if cost == "cross_entropy":  # dC/dW = X^T (softmax(XW + b) - Y) / B, written out
        W, b = model.params
        z = X @ W + b
        softmax = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        np.testing.assert_allclose(grads[0], X.T @ (softmax - np.eye(3)[y]) / 7, rtol=1e-12)


def test_astype_copies_values_into_the_new_dtype():
    model = MLP([5, 4, 3], "tanh", cost="quadratic", seed=6)
    clone = model.astype(np.float64)
    assert (clone.activation, clone.cost, clone.sizes) == ("tanh", "quadratic", [5, 4, 3])
    for p, q in zip(model.params, clone.params):
        assert q.dtype == np.float64 and np.array_equal(p, q) and not np.shares_memory(p, q)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cost", COSTS)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_loss_and_gradients_match_torch_autograd(activation, cost, dtype):
    torch = pytest.importorskip("torch")
    model = MLP(SIZES, activation, cost=cost, seed=2, dtype=dtype)
    X, y = batch(6, dtype=dtype)
    loss, grads = model.loss_and_grads(X, y)

    params = [torch.tensor(p, requires_grad=True) for p in model.params]
    a = torch.tensor(X)
    for i in range(0, len(params), 2):
        z = a @ params[i] + params[i + 1]
        a = getattr(torch, activation)(z)
    y_t = torch.tensor(y)
    if cost == "cross_entropy":
        expected = torch.nn.functional.cross_entropy(z, y_t)
    else:
        one_hot = torch.nn.functional.one_hot(y_t, 3).to(z.dtype)
        expected = 0.5 * ((torch.sigmoid(z) - one_hot) ** 2).sum(dim=1).mean()
    expected.backward()
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(loss, expected.item(), **tol)
    for ours, param in zip(grads, params):
        np.testing.assert_allclose(ours, param.grad.numpy(), **tol)


def test_costs_match_formulas_written_out():
    model = MLP([5, 7, 3], "tanh", seed=3).astype(np.float64)
    X, y = batch(8)
    W1, b1, W2, b2 = model.params
    z = np.tanh(X @ W1 + b1) @ W2 + b2
    log_softmax = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    assert model.loss(X, y) == pytest.approx(-log_softmax[np.arange(8), y].mean(), rel=1e-12)
    np.testing.assert_allclose(model.forward(X), np.exp(log_softmax), rtol=1e-12)

    quadratic = MLP([5, 7, 3], "tanh", cost="quadratic", seed=3).astype(np.float64)
    a = 1 / (1 + np.exp(-z))
    half_squared_error = 0.5 * ((a - np.eye(3)[y]) ** 2).sum(axis=1)  # Nielsen's C_x
    assert quadratic.loss(X, y) == pytest.approx(half_squared_error.mean(), rel=1e-12)
    np.testing.assert_allclose(quadratic.forward(X), a, rtol=1e-12)


def test_float32_stays_float32_even_for_float64_inputs():
    model = MLP([5, 4, 3], seed=0)
    X, y = batch(4)  # float64 inputs are converted once, not promoted through the network
    loss, grads = model.loss_and_grads(X, y)
    assert type(loss) is float
    assert all(g.dtype == np.float32 for g in grads)
    assert all(p.dtype == np.float32 for p in model.params)
    assert model.forward(X).dtype == np.float32
    assert model.predict(X).dtype == np.int64


def test_softmax_cross_entropy_is_stable_for_huge_logits():
    model = MLP([5, 3], seed=0)
    model.params[0] *= 1e4  # logits of order 1e4: a naive exp overflows
    X, y = batch(4, dtype=np.float32)
    loss, grads = model.loss_and_grads(X, y)  # RuntimeWarnings are errors under pytest
    assert np.isfinite(loss) and all(np.isfinite(g).all() for g in grads)
    z = (X @ model.params[0].astype(np.float64)) + model.params[1]
    expected = (np.max(z, axis=1) - z[np.arange(4), y]).mean()  # log-sum-exp -> max
    assert loss == pytest.approx(expected, rel=1e-3)


@pytest.mark.parametrize("num_rows", [1, 7, 128, 600])
def test_softmax_is_the_textbook_formula_to_the_bit(num_rows):
    """The row max is taken over a transposed copy (speed); the shift must be the same max,
    so the probabilities equal exp(z - max) / sum exp(z - max) written out, bit for bit."""
    model = MLP([20, 10], seed=1)
    model.params[0] *= 30  # logits of order 100: a wrong shift would change or overflow exp
    X, _ = batch(num_rows, num_inputs=20, dtype=np.float32)
    z = X @ model.params[0] + model.params[1]
    e = np.exp(z - z.max(axis=1, keepdims=True))
    np.testing.assert_array_equal(model.forward(X), e / e.sum(axis=1, keepdims=True))


@settings(max_examples=15, deadline=None)
@given(num_rows=st.integers(1, 9), seed=st.integers(0, 2**16))
def test_batch_gradient_is_the_mean_of_per_example_gradients(num_rows, seed):
    model = MLP([5, 6, 3], "sigmoid", seed=seed).astype(np.float64)
    X, y = batch(num_rows, seed=seed)
    loss, grads = model.loss_and_grads(X, y)
    singles = [model.loss_and_grads(X[i:i + 1], y[i:i + 1]) for i in range(num_rows)]
    assert loss == pytest.approx(np.mean([s[0] for s in singles]), rel=1e-12)
    for k, g in enumerate(grads):
        np.testing.assert_allclose(g, np.mean([s[1][k] for s in singles], axis=0),
                                   rtol=1e-10, atol=1e-14)


def test_reused_buffers_do_not_leak_between_batch_sizes():
    model = MLP([5, 8, 3], seed=0)
    X, y = batch(6, dtype=np.float32)
    first_loss, first = model.loss_and_grads(X, y)
    model.loss_and_grads(X[:1], y[:1])
    model.loss_and_grads(batch(3000, dtype=np.float32)[0][:, :5], np.zeros(3000, int))
    again_loss, again = model.loss_and_grads(X, y, out=[np.empty_like(p) for p in model.params])
    assert again_loss == first_loss
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)


def test_predict_accuracy_and_evaluate_agree_with_forward_across_chunks():
    model = MLP([5, 8, 3], seed=0)
    X, y = batch(4500, dtype=np.float32)  # more than one 2048-row evaluation chunk
    labels = model.predict(X)
    np.testing.assert_array_equal(labels, model.forward(X).argmax(axis=1))
    loss, accuracy = model.evaluate(X, y)
    assert accuracy == model.accuracy(X, y) == np.mean(labels == y)
    per_chunk = [model.loss_and_grads(X[i:i + 500], y[i:i + 500])[0] for i in range(0, 4500, 500)]
    assert loss == pytest.approx(np.mean(per_chunk), rel=1e-5)


@pytest.mark.parametrize("init, expected_std", [
    ("he", np.sqrt(2 / 400)),
    ("xavier", np.sqrt(2 / (400 + 300))),  # U(-r, r) has std r / sqrt(3)
    ("normal", 1.0),
])
def test_initialisation_scales(init, expected_std):
    W, b = MLP([400, 300], init=init, seed=0).params
    assert W.std() == pytest.approx(expected_std, rel=0.02)
    assert abs(W.mean()) < 0.01 * expected_std * 10
    if init == "normal":
        assert b.std() == pytest.approx(1.0, rel=0.25)
    else:
        assert not b.any()
    if init == "xavier":
        assert np.abs(W).max() <= np.sqrt(6 / 700)


def test_glorot_is_xavier_and_seed_controls_the_draw():
    a, b = MLP([6, 5, 2], init="glorot", seed=4), MLP([6, 5, 2], init="xavier", seed=4)
    for p, q in zip(a.params, b.params):
        np.testing.assert_array_equal(p, q)
    assert not np.array_equal(a.params[0], MLP([6, 5, 2], init="xavier", seed=5).params[0])
    assert MLP([6, 5, 2], "tanh").init == "xavier" and MLP([6, 5, 2]).init == "he"


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(sizes=[784]), ValueError, "sizes"),
    (dict(sizes=[784, 0, 10]), ValueError, "sizes"),
    (dict(sizes="abc"), TypeError, "sizes"),
    (dict(sizes=[4, 2], activation="softplus"), ValueError, "activation.*softplus"),
    (dict(sizes=[4, 2], init="zeros"), ValueError, "init.*zeros"),
    (dict(sizes=[4, 2], cost="hinge"), ValueError, "cost.*hinge"),
    (dict(sizes=[4, 2], dtype=np.int32), TypeError, "dtype"),
])
def test_constructor_errors_name_the_argument(kwargs, error, match):
    with pytest.raises(error, match=match):
        MLP(**kwargs)


@pytest.mark.parametrize("X, y, error, match", [
    (np.zeros((3, 4)), np.zeros(3, int), ValueError, r"X must have shape \(batch, 5\).*\(3, 4\)"),
    (np.zeros(5), np.zeros(1, int), ValueError, "X must have shape"),
    (np.zeros((0, 5)), np.zeros(0, int), ValueError, "X must have shape"),
    (np.full((2, 5), "a"), np.zeros(2, int), TypeError, "X must hold real numbers"),
    (np.zeros((3, 5)), np.zeros(2, int), ValueError, r"y must have shape \(3,\)"),
    (np.zeros((3, 5)), np.zeros(3), TypeError, "y must hold integer"),
    (np.zeros((3, 5)), np.array([0, 3, 1]), ValueError, r"labels in \[0, 3\).*0 to 3"),
    (np.zeros((3, 5)), np.array([0, -1, 1]), ValueError, r"labels in \[0, 3\).*-1 to 1"),
])
def test_bad_batches_raise_errors_naming_the_argument(X, y, error, match):
    model = MLP([5, 4, 3])
    with pytest.raises(error, match=match):
        model.loss_and_grads(X, y)
    with pytest.raises(error, match=match):
        model.evaluate(X, y)


def test_bad_out_list_is_rejected():
    model = MLP([5, 4, 3])
    X, y = batch(2)
    with pytest.raises(ValueError, match="out"):
        model.loss_and_grads(X, y, out=[np.empty_like(p) for p in model.params[:2]])
    with pytest.raises(ValueError, match="out"):
        model.loss_and_grads(X, y, out=[np.empty(p.shape, np.float64) for p in model.params])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_blas_accumulation_adds_in_place_and_refuses_a_copy(dtype):
    """The fused step's two BLAS helpers: c += alpha a^T b and y += alpha a^T x, written out
    with NumPy; a result that BLAS could only write into a copy must raise, not be lost."""
    from sgd_utils.nn.mlp import _gemm_accumulate, _gemv_accumulate

    rng = np.random.default_rng(0)
    a, b, x = (rng.standard_normal(shape).astype(dtype) for shape in [(7, 3), (7, 4), (7,)])
    c, y = rng.standard_normal((3, 4)).astype(dtype), rng.standard_normal(3).astype(dtype)
    expected_c, expected_y = c + 0.5 * a.T @ b, y + 0.5 * a.T @ x
    _gemm_accumulate(0.5, a, b, c)
    _gemv_accumulate(0.5, a, x, y)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(c, expected_c, rtol=tol, atol=tol)
    np.testing.assert_allclose(y, expected_y, rtol=tol, atol=tol)
    strided_c = np.zeros((3, 8), dtype)[:, ::2]  # (3, 4), not contiguous
    with pytest.raises(RuntimeError, match="gemm did not accumulate in place"):
        _gemm_accumulate(0.5, a, b, strided_c)
    strided_y = np.zeros(6, dtype)[::2]
    with pytest.raises(RuntimeError, match="gemv did not accumulate in place"):
        _gemv_accumulate(0.5, a, x, strided_y)


@pytest.mark.parametrize("sizes", [[4, 2.7, 2], [4, True, 2], [4, "3", 2], "432", 5])
def test_layer_sizes_are_integers_not_truncated(sizes):
    with pytest.raises(TypeError, match="sizes must be a sequence of int"):
        MLP(sizes)


def test_numpy_integer_sizes_are_fine():
    assert MLP([np.int64(4), np.int32(3), 2]).sizes == [4, 3, 2]


@pytest.mark.parametrize("seed, error", [(1.5, TypeError), (True, TypeError), ("0", TypeError),
                                         (-1, ValueError)])
def test_seed_is_named(seed, error):
    with pytest.raises(error, match="seed"):
        MLP([4, 3, 2], seed=seed)


def test_dtype_is_named():
    with pytest.raises(TypeError, match="dtype must be float32 or float64, got 'floaty'"):
        MLP([4, 3, 2], dtype="floaty")
