"""Tests for sgd_utils.problems: finite differences, minimisers, dtypes, sample means."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sgd_utils.problems.sparse import sparse_least_squares
from sgd_utils.problems import (Beale, Himmelblau, LeastSquares, LogisticRegression, Quadratic,
                                Rosenbrock, Saddle, random_rotation)

TOY = {
    "quadratic": Quadratic.from_condition_number(25.0, rotation=0.4, center=[0.5, -1.0]),
    "quadratic_5d": Quadratic.from_condition_number(100.0, dim=5, rotation=random_rotation(5, 3)),
    "rosenbrock": Rosenbrock(),
    "rosenbrock_a2": Rosenbrock(a=2.0, b=10.0),
    "beale": Beale(),
    "himmelblau": Himmelblau(),
    "saddle": Saddle(),
}
STOCHASTIC = {
    "least_squares": LeastSquares(num_samples=200, dim=4, noise=0.3, seed=1),
    "logistic": LogisticRegression(num_samples=300, dim=3, noise=0.5, l2=0.05, seed=2),
}
ALL = {**TOY, **STOCHASTIC}


def central_difference_grad(loss, x, h=1e-6):
    grad = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        grad[i] = (loss(x + e) - loss(x - e)) / (2 * h)
    return grad


def start_points(problem, count=5):
    rng = np.random.default_rng(0)
    return problem.minimizer + rng.uniform(-1.5, 1.5, size=(count, problem.dim))


@pytest.mark.parametrize("name", ALL)
def test_grad_matches_central_differences(name):
    problem = ALL[name]
    for x in start_points(problem):
        expected = central_difference_grad(problem.loss, x)
        np.testing.assert_allclose(problem.grad(x), expected, rtol=1e-6,
                                   atol=1e-6 * max(1, abs(problem.loss(x))))


@pytest.mark.parametrize("name", STOCHASTIC)
def test_minibatch_grad_matches_central_differences(name):
    problem = ALL[name]
    idx = np.array([3, 17, 17, 40])  # repeats allowed: a batch drawn with replacement
    x = start_points(problem)[0]
    expected = central_difference_grad(lambda w: problem.loss(w, idx), x)
    np.testing.assert_allclose(problem.grad(x, idx), expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", ALL)
def test_gradient_vanishes_at_every_minimizer(name):
    problem = ALL[name]
    for point in problem.minimizers:
        assert np.abs(problem.grad(point)).max() < 1e-12
        assert problem.loss(point) == pytest.approx(problem.min_loss, abs=1e-14)


def test_known_minimizers_and_values():
    np.testing.assert_allclose(Rosenbrock(a=2.0).minimizer, [2.0, 4.0])
    np.testing.assert_allclose(Beale().minimizer, [3.0, 0.5])
    himmelblau = Himmelblau()
    assert himmelblau.minimizers.shape == (4, 2)
    np.testing.assert_allclose(himmelblau.minimizers[1:], [[-2.805118, 3.131312],
                                                           [-3.779310, -3.283186],
                                                           [3.584428, -1.848126]], atol=1e-6)
    for point in himmelblau.minimizers:  # the loss formula written out here
        x, y = point
        assert (x * x + y - 11) ** 2 + (x + y * y - 7) ** 2 < 1e-25
    assert Rosenbrock().loss(np.array([0.0, 1.0])) == 1.0 + 100.0
    assert Beale().loss(np.array([0.0, 0.0])) == 1.5**2 + 2.25**2 + 2.625**2


def test_saddle_is_stationary_but_unbounded_below():
    saddle = Saddle()
    np.testing.assert_array_equal(saddle.grad(saddle.minimizer), [0.0, 0.0])
    assert saddle.loss(np.array([0.0, 1e3])) < saddle.min_loss - 1e5


def test_quadratic_spectrum():
    q = Quadratic.from_condition_number(100.0, dim=4, mu=0.5, rotation=random_rotation(4, 0))
    np.testing.assert_allclose(q.eigenvalues,
                               0.5 * np.array([1.0, 100 ** (1 / 3), 100 ** (2 / 3), 100.0]))
    np.testing.assert_allclose(np.linalg.eigvalsh(q.hessian), q.eigenvalues)
    assert (q.mu, q.L) == pytest.approx((0.5, 50.0))
    assert q.condition_number == pytest.approx(100.0)


def test_quadratic_rotation_angle_turns_the_eigenvectors():
    q = Quadratic([1.0, 9.0], rotation=np.pi / 4)
    # The written-out Hessian: eigenvalue 1 along (1, 1), 9 along (-1, 1).
    np.testing.assert_allclose(q.hessian, [[5.0, -4.0], [-4.0, 5.0]])
    x = np.array([1.0, 2.0])
    assert q.loss(x) == pytest.approx(0.5 * (5 * 1 - 8 * 2 + 5 * 4))


def test_least_squares_optimum_solves_normal_equations():
    problem = STOCHASTIC["least_squares"]
    X, y = problem.X, problem.y
    np.testing.assert_allclose(X.T @ X @ problem.minimizer, X.T @ y, rtol=1e-12, atol=1e-10)
    assert problem.min_loss == pytest.approx(0.5 * np.mean((X @ problem.minimizer - y) ** 2))
    np.testing.assert_allclose(problem.hessian, X.T @ X / problem.num_samples)


def test_least_squares_loss_gaps_are_the_loss_minus_its_minimum_in_bulk():
    """loss_gaps against the loss itself, point by point (an independent route: the mean of the
    per-sample squared residuals), for a path and a stack of paths."""
    problem = STOCHASTIC["least_squares"]
    points = problem.minimizer + np.random.default_rng(0).standard_normal((3, 5, problem.dim))
    expected = np.array([[problem.loss(w) - problem.min_loss for w in path] for path in points])
    np.testing.assert_allclose(problem.loss_gaps(points), expected, rtol=1e-10)
    np.testing.assert_allclose(problem.loss_gaps(points[0, 0]), expected[0, 0], rtol=1e-10)
    assert problem.loss_gaps(problem.minimizer) == 0.0
    with pytest.raises(ValueError, match=r"points must have shape \(\.\.\., 4\), got \(5, 3\)"):
        problem.loss_gaps(np.zeros((5, 3)))


def test_logistic_loss_written_out():
    problem = STOCHASTIC["logistic"]
    w = np.array([0.3, -0.2, 0.5])
    z = problem.X @ w
    expected = np.mean(np.log1p(np.exp(z)) - problem.y * z) + 0.5 * 0.05 * w @ w
    assert problem.loss(w) == pytest.approx(expected, rel=1e-13)
    assert set(np.unique(problem.y)) == {0.0, 1.0}


def test_logistic_labels_without_noise_are_the_side_of_the_true_hyperplane():
    # y_i = [x_i^T w_star > 0]: with noise 0 the labels are a function of X and true_params
    problem = LogisticRegression(num_samples=500, dim=3, noise=0.0, seed=4)
    np.testing.assert_array_equal(problem.y, (problem.X @ problem.true_params > 0).astype(float))
    assert 0.2 < problem.y.mean() < 0.8  # both labels occur often, so a flip would show


def test_least_squares_targets_are_the_true_model_plus_noise_of_the_given_size():
    exact = LeastSquares(num_samples=50, dim=4, noise=0.0, seed=5)
    np.testing.assert_allclose(exact.minimizer, exact.true_params, rtol=1e-12, atol=1e-12)
    assert exact.min_loss < 1e-25
    # noise 0.5: the residuals y - X w_star are 0.5 times standard normals; their sample standard
    # deviation over 2000 samples is within 0.5 / sqrt(2 * 2000) ~ 1.6% of 0.5 (5% is 3 of those)
    noisy = LeastSquares(num_samples=2000, dim=4, noise=0.5, seed=5)
    assert np.std(noisy.y - noisy.X @ noisy.true_params) == pytest.approx(0.5, rel=0.05)


def test_random_rotation_is_orthogonal_with_haar_mean_zero():
    """A uniformly random (Haar) orthogonal matrix has mean 0 and entries of variance 1/d: the
    mean of 3000 draws in d = 3 stays within 5 standard errors sqrt(1 / (3 * 3000)) of 0 in
    every entry. Without the sign fix QR's convention biases the diagonal."""
    draws = np.array([random_rotation(3, seed) for seed in range(3000)])
    np.testing.assert_allclose(draws[0] @ draws[0].T, np.eye(3), atol=1e-12)
    assert np.abs(draws.mean(axis=0)).max() < 5 / np.sqrt(3 * 3000)


@pytest.mark.parametrize("name", STOCHASTIC)
def test_minibatch_grad_is_mean_of_per_sample_grads(name):
    problem = ALL[name]
    x = start_points(problem)[1]
    idx = np.array([5, 0, 99, 7])
    per_sample = problem.per_sample_grads(x, idx)
    assert per_sample.shape == (4, problem.dim)
    np.testing.assert_allclose(per_sample.mean(axis=0), problem.grad(x, idx), rtol=1e-12,
                               atol=1e-14)
    np.testing.assert_allclose(problem.per_sample_grads(x).mean(axis=0), problem.grad(x),
                               rtol=1e-12, atol=1e-14)
    single = [problem.grad(x, [i]) for i in idx]
    np.testing.assert_allclose(per_sample, single, rtol=1e-12, atol=1e-14)


def test_same_seed_same_data_and_rng_accepted():
    a = LeastSquares(num_samples=50, dim=3, seed=7)
    b = LeastSquares(num_samples=50, dim=3, rng=np.random.default_rng(7))
    np.testing.assert_array_equal(a.X, b.X)
    assert not np.array_equal(a.X, LeastSquares(num_samples=50, dim=3, seed=8).X)


@pytest.mark.parametrize("name", ALL)
def test_float32_in_float32_out_without_warnings(name):
    problem = ALL[name]
    x = start_points(problem)[2].astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        grad = problem.grad(x)
        loss = problem.loss(x)
        if name in STOCHASTIC:
            assert problem.grad(x, np.arange(10)).dtype == np.float32
            assert problem.per_sample_grads(x, np.arange(10)).dtype == np.float32
    assert grad.dtype == np.float32 and grad.shape == x.shape
    assert type(loss) is float
    np.testing.assert_allclose(grad, problem.grad(x.astype(np.float64)), rtol=2e-4, atol=2e-4)


@pytest.mark.parametrize("name", [n for n in ALL if ALL[n].dim == 2])
def test_loss_grid_matches_pointwise_loss(name):
    problem = ALL[name]
    x_min, x_max, y_min, y_max = problem.bounds
    xs, ys = np.meshgrid(np.linspace(x_min, x_max, 7), np.linspace(y_min, y_max, 5))
    expected = [[problem.loss(np.array([a, b])) for a, b in zip(row_x, row_y)]
                for row_x, row_y in zip(xs, ys)]
    np.testing.assert_allclose(problem.loss_grid(xs, ys), expected, rtol=1e-12, atol=1e-12)


def test_two_dimensional_stochastic_problem_has_bounds():
    problem = LogisticRegression(num_samples=100, dim=2, seed=0)
    assert problem.bounds[0] < problem.minimizer[0] < problem.bounds[1]
    xs, ys = np.meshgrid(np.linspace(-1, 1, 4), np.linspace(-1, 1, 3))
    assert problem.loss_grid(xs, ys).shape == (3, 4)
    assert STOCHASTIC["least_squares"].bounds is None


@settings(max_examples=25, deadline=None)
@given(kappa=st.floats(1.0, 1e4), angle=st.floats(-3.2, 3.2))
def test_quadratic_gradient_descent_with_lr_one_over_l_contracts(kappa, angle):
    q = Quadratic.from_condition_number(kappa, rotation=angle)
    x = np.array([1.0, -1.0])
    x_next = x - q.grad(x) / q.L
    # Each eigen-component shrinks by 1 - lambda / L <= 1 - 1 / kappa.
    assert np.linalg.norm(x_next) <= (1 - 1 / kappa) * np.linalg.norm(x) + 1e-12


@pytest.mark.parametrize("make, message", [
    (lambda: Quadratic([1.0, -1.0]), "eigenvalues"),
    (lambda: Quadratic([]), "eigenvalues"),
    (lambda: Quadratic([1.0, 2.0, 3.0], rotation=0.3), "dim=3"),
    (lambda: Quadratic([1.0, 2.0], rotation=[[1.0, 1.0], [0.0, 1.0]]), "rotation"),
    (lambda: Quadratic([1.0, 2.0], center=[1.0]), "center"),
    (lambda: Quadratic.from_condition_number(0.5), "condition_number=0.5"),
    (lambda: Quadratic.from_condition_number(10.0, dim=0), "dim=0"),
    (lambda: Quadratic.from_condition_number(10.0, mu=0.0), "mu=0.0"),
    (lambda: LeastSquares(num_samples=0), "num_samples=0"),
    (lambda: LeastSquares(dim=2.5), "dim=2.5"),
    (lambda: LeastSquares(noise=-1.0), "noise=-1.0"),
    (lambda: LeastSquares(seed=1, rng=np.random.default_rng(1)), "seed=1"),
    (lambda: LogisticRegression(l2=0.0), "l2=0.0"),
    (lambda: Rosenbrock(b=-1.0), "b=-1.0"),
    (lambda: STOCHASTIC["logistic"].grad(np.zeros(3), []), r"idx=\[\]"),
    (lambda: Rosenbrock().grad(np.zeros(3)), r"x.shape=\(3,\)"),
    (lambda: STOCHASTIC["least_squares"].loss_grid(np.zeros(2), np.zeros(2)), "dim=4"),
])
def test_bad_arguments_raise_value_error(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_non_real_point_raises_type_error():
    with pytest.raises(TypeError, match="complex"):
        Rosenbrock().loss(np.zeros(2, dtype=complex))
    assert Rosenbrock().loss([0, 0]) == 1.0  # integers are promoted to float64


def test_minibatch_gradient_variance_follows_sampling_without_replacement():
    # Over all C(n, B) batches, the batch-mean gradient is unbiased and its variance is
    # sigma^2 / B * (n - B) / (n - 1), sigma^2 the per-sample gradient variance: SGD's noise.
    from itertools import combinations

    problem = LeastSquares(num_samples=8, dim=2, noise=0.5, seed=3)
    x = np.array([0.7, -0.4])
    per_sample = problem.per_sample_grads(x)
    sigma2 = np.mean(np.sum((per_sample - problem.grad(x)) ** 2, axis=1))
    for batch_size in (1, 3, 8):
        grads = np.array([problem.grad(x, list(b)) for b in combinations(range(8), batch_size)])
        np.testing.assert_allclose(grads.mean(axis=0), problem.grad(x), atol=1e-14)
        variance = np.mean(np.sum((grads - problem.grad(x)) ** 2, axis=1))
        assert variance == pytest.approx(sigma2 / batch_size * (8 - batch_size) / 7, rel=1e-12,
                                         abs=1e-28)


def test_sparse_least_squares_rows_and_minimizer():
    problem = sparse_least_squares(200, 20, 3, seed=1)
    assert problem.indices.shape == (200, 3)
    assert all(len(set(row)) == 3 for row in problem.indices.tolist())
    np.testing.assert_allclose(np.sum(problem.values**2, axis=1), 1.0)
    dense = np.zeros((200, 20))
    np.put_along_axis(dense, problem.indices, problem.values, axis=1)
    np.testing.assert_allclose(dense.T @ (dense @ problem.minimizer - problem.targets), 0,
                               atol=1e-10)
    # The noise is what the 20 parameters cannot fit: least squares leaves 200 - 20 of its 200
    # degrees of freedom, a residual of about 0.1 * sqrt(180 / 200) per sample; none without it.
    residual = dense @ problem.minimizer - problem.targets
    assert np.sqrt(np.mean(residual**2)) == pytest.approx(0.1 * np.sqrt(180 / 200), rel=0.2)
    exact = sparse_least_squares(200, 20, 3, noise=0.0, seed=1)
    exact_dense = np.zeros((200, 20))
    np.put_along_axis(exact_dense, exact.indices, exact.values, axis=1)
    np.testing.assert_allclose(exact_dense @ exact.minimizer, exact.targets, atol=1e-12)
    with pytest.raises(ValueError, match="nnz"):
        sparse_least_squares(10, 3, 4)
