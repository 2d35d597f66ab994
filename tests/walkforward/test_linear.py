"""Warm-started logistic fits: the same solution as a cold fit, in fewer iterations."""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_limits

from niftycnn.walkforward.baselines import Logistic


def _data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = np.cumsum(rng.normal(size=(n, 5, 20)), -1).astype(np.float32)  # correlated taps
    score = X[:, 3, -5:].sum(1) + 3 * rng.normal(size=n)
    return X, np.digitize(score, np.quantile(score, [0.2, 0.4, 0.6, 0.8]))


def _fit(X: np.ndarray, y: np.ndarray, tol: float, warm: Logistic | None = None) -> Logistic:
    model = Logistic()
    model.tol = tol
    if warm is not None:
        model.warm_start(warm.solution())
    with threadpool_limits(limits=1):  # as the walk-forward fits them
        return model.fit(X, y, np.zeros(len(y)), 5)


def test_a_warm_start_from_the_previous_fold_reaches_the_cold_fit_in_fewer_iterations() -> None:
    X, y = _data(1200)
    test = X[1100:]
    for tol, atol in ((1e-10, 1e-6), (1e-4, 2e-2)):  # tight, and the default tolerance
        earlier = _fit(X[:900], y[:900], tol)  # the previous fold: a prefix of the data
        cold = _fit(X[:1100], y[:1100], tol)
        warm = _fit(X[:1100], y[:1100], tol, warm=earlier)
        np.testing.assert_allclose(warm.predict(test)[0], cold.predict(test)[0], atol=atol)
        assert warm.model_.n_iter_[0] < cold.model_.n_iter_[0]


def test_a_warm_start_with_other_classes_is_ignored() -> None:
    X, y = _data(600)
    fewer = _fit(X[:300], np.minimum(y[:300], 3), 1e-4)  # four classes seen
    cold = _fit(X, y, 1e-4)
    warm = _fit(X, y, 1e-4, warm=fewer)
    np.testing.assert_array_equal(warm.model_.coef_, cold.model_.coef_)
