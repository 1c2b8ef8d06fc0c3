"""LeastSquares.from_data: the same problem as the constructor's on the same data, an exact optimum
checked against the normal equations, copied inputs, and its error paths."""

import numpy as np
import pytest

from sgd_utils.problems import LeastSquares


def test_same_problem_as_the_constructor():
    drawn = LeastSquares(num_samples=50, dim=3, noise=0.2, seed=1)
    given = LeastSquares.from_data(drawn.X, drawn.y)
    w = np.array([0.5, -1.0, 2.0])
    assert given.loss(w) == drawn.loss(w)
    assert np.array_equal(given.grad(w, [1, 4]), drawn.grad(w, [1, 4]))
    assert np.allclose(given.minimizer, drawn.minimizer)
    assert np.allclose(given.eigenvalues, drawn.eigenvalues)
    assert given.true_params is None


def test_badly_scaled_features_give_the_normal_equations_solution_and_spectrum():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 2)) * [3.0, 0.1]
    y = X @ np.array([1.0, -2.0]) + 0.1 * rng.standard_normal(400)
    problem = LeastSquares.from_data(X, y, name="scaled")
    assert problem.name == "scaled"
    assert np.allclose(problem.minimizer, np.linalg.solve(X.T @ X, X.T @ y))
    assert problem.L / problem.mu == pytest.approx(900, rel=0.2)
    assert np.abs(problem.grad(problem.minimizer)).max() < 1e-12


def test_inputs_are_copied():
    X, y = np.eye(3), np.arange(3.0)
    problem = LeastSquares.from_data(X, y)
    X[0, 0], y[0] = 100.0, 100.0
    assert problem.X[0, 0] == 1.0 and problem.y[0] == 0.0


@pytest.mark.parametrize("X, y, match", [
    (np.ones(3), np.ones(3), "2-D"),
    (np.ones((0, 2)), np.ones(0), "2-D"),
    (np.ones((3, 2)), np.ones(2), "y must have shape"),
    (np.array([[1.0, np.nan]]), np.ones(1), "finite"),
])
def test_errors(X, y, match):
    with pytest.raises(ValueError, match=match):
        LeastSquares.from_data(X, y)
