"""The random-kernel baselines: features by hand, bits independent of the batch, and the
power to see a shape wherever it sits in the window."""

from __future__ import annotations

import numpy as np
import pytest

from niftycnn.walkforward.baselines import BASELINES, estimators
from niftycnn.walkforward.rocket import (
    ALPHAS,
    KernelBank,
    KernelGroup,
    Rocket,
    RocketRidge,
    blocked_splits,
    draw_kernels,
    fit_biases,
    ridge_alpha,
    transform,
)


def test_ppv_and_max_of_a_hand_made_kernel() -> None:
    # momentum [-1, 0, 1] on [0, 1, 3, 6] (valid): outputs 3, 5; [0, 0, 1] dilation 2,
    # padding 2 on the same series: x[t + 2] over t = -2..1 -> 1, 3, 6, 0 (padding)
    bank = KernelBank(
        (
            KernelGroup(np.array([0]), np.array([[[-1.0, 0.0, 1.0]]]), 3, 1, 0),
            KernelGroup(np.array([1]), np.array([[[0.0, 0.0, 1.0]]]), 3, 2, 2),
        ),
        quantiles=np.array([0.75, 0.5]),
    )
    X = np.array([[[0.0, 1.0, 3.0, 6.0]]])
    features = transform(bank, np.array([4.0, 2.0]), X)
    np.testing.assert_array_equal(features, [[0.5, 0.5, 5.0, 6.0]])
    # bias: the q-quantile at the nearest sorted position, round(q * (n - 1)): outputs
    # [3, 5] at q = 0.75 -> position 1; [0, 1, 3, 6] at q = 0.5 -> position 2
    np.testing.assert_array_equal(fit_biases(bank, X), [5.0, 3.0])


def test_kernels_fit_the_window_and_are_mean_centred() -> None:
    bank = draw_kernels(300, channels=5, length=20, seed=1)
    assert bank.n_kernels == 300
    assert sorted(np.concatenate([g.index for g in bank.groups])) == list(range(300))
    for g in bank.groups:
        span = (g.length - 1) * g.dilation + 1
        assert g.length in (7, 9, 11) and span <= 20 + 2 * g.padding
        used = np.abs(g.weights).sum(-1) > 0
        assert used.any(1).all()  # every kernel reads at least one channel
        np.testing.assert_allclose(g.weights.sum(-1), 0.0, atol=1e-12)
    dilations = {g.dilation for g in bank.groups}
    assert 1 in dilations and max(dilations) > 1
    same = draw_kernels(300, channels=5, length=20, seed=1)
    assert all(
        np.array_equal(a.weights, b.weights) for a, b in zip(bank.groups, same.groups, strict=True)
    )


def test_a_windows_features_and_prediction_do_not_depend_on_its_batch() -> None:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 5, 20)) * 0.02
    y = rng.integers(0, 3, 300)
    model = Rocket(n_kernels=50).fit(X[:200], y[:200], y[:200] * 0.01, 3)
    proba, _ = model.predict(X[200:])
    for cut in (1, 37, 64, 65):
        part, _ = model.predict(X[200 : 200 + cut])
        assert np.array_equal(part, proba[:cut])
    shifted, _ = model.predict(X[203:])
    assert np.array_equal(shifted, proba[3:])


def _shape_windows(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Random walks (daily steps 0.01); class 1 windows hold a 5-day spike-and-revert
    peaking 0.03 (3 daily sigmas) above the walk, anywhere in the window."""
    X = np.cumsum(rng.standard_normal((n, 1, 20)) * 0.01, axis=-1)
    y = rng.integers(0, 2, n)
    spike = np.array([0.0, 1.0, 2.0, 1.0, 0.0]) * 0.015
    for i in np.flatnonzero(y):
        start = rng.integers(0, 16)
        X[i, 0, start : start + 5] += spike
    return X - X[:, :, -1:], y


def test_rocket_sees_a_shape_wherever_it_sits_where_logistic_on_the_window_does_not() -> None:
    rng = np.random.default_rng(5)
    X, y = _shape_windows(1600, rng)
    (_, logistic), (_, rocket) = estimators(["logistic", "rocket"], ["close"])
    accuracy = {}
    for name, model in (("logistic", logistic), ("rocket", rocket)):
        model.fit(X[:1200], y[:1200], np.zeros(1200), 2)
        proba, _ = model.predict(X[1200:])
        accuracy[name] = float((proba.argmax(1) == y[1200:]).mean())
    # measured: rocket 0.755, logistic 0.5525 (chance 0.5)
    assert accuracy["rocket"] > 0.7, accuracy
    assert accuracy["rocket"] > accuracy["logistic"] + 0.15, accuracy


def test_rocket_ridge_predicts_returns_and_serves_both_heads() -> None:
    assert BASELINES["rocket"].heads == ("classification",)
    assert BASELINES["rocket_ridge"].heads == ("classification", "regression")
    rng = np.random.default_rng(2)
    X, y = _shape_windows(600, rng)
    r = np.where(y == 1, 0.01, -0.01) + rng.standard_normal(600) * 0.002
    model = RocketRidge(n_kernels=50).fit(X[:400], y[:400], r[:400], 2)
    proba, r_pred = model.predict(X[400:])
    assert proba is None and r_pred.shape == (200,)
    # measured 0.498 (blocked-CV alpha 100; leave-one-out chose 316: 0.505)
    assert np.corrcoef(r_pred, r[400:])[0, 1] > 0.45


@pytest.mark.parametrize("n", [1, 5])
def test_short_windows_get_kernels_no_longer_than_the_window(n: int) -> None:
    bank = draw_kernels(10, channels=2, length=n, seed=0)
    assert all(g.length <= n for g in bank.groups)
    features = transform(bank, fit_biases(bank, np.ones((3, 2, n))), np.ones((3, 2, n)))
    assert features.shape == (3, 20) and np.isfinite(features).all()


def _no_signal_windows(n: int, horizon: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Daily windows of a fat-tailed random walk (normalised by the last close, as the
    windows are) and their overlapping ``horizon``-day forward returns: nothing to
    predict, but neighbours share most of their label, as expiry labels do."""
    rng = np.random.default_rng(seed)
    steps = 0.01 * rng.standard_t(4, n + 20 + horizon) / np.sqrt(2.0)
    log_close = np.cumsum(steps)
    windows = np.lib.stride_tricks.sliding_window_view(log_close, 20)[:n]
    X = (windows - windows[:, -1:])[:, None, :]
    ends = np.arange(n) + 19
    return X, log_close[ends + horizon] - log_close[ends]


def test_rocket_ridge_stays_near_the_mean_out_of_sample_on_a_series_without_signal() -> None:
    X, r = _no_signal_windows(2000, horizon=5, seed=3)
    train, test = slice(0, 1500), slice(1525, None)
    y = np.zeros(len(r), dtype=np.int64)
    _, r_pred = RocketRidge().fit(X[train], y[train], r[train], 2).predict(X[test])
    ((_, mean_model),) = estimators(["mean"], ["close"])
    _, r_mean = mean_model.fit(X[train], y[train], r[train], 2).predict(X[test])
    benchmark = ((r[test] - r[train].mean()) ** 2).sum()
    r2 = 1 - ((r[test] - r_pred) ** 2).sum() / benchmark
    r2_mean = 1 - ((r[test] - r_mean) ** 2).sum() / benchmark
    # leave-one-out alpha (the neighbours of a left-out window stay in: it chose 31.6)
    # gave R^2 -0.23 here; blocked folds choose a large alpha, near the training mean
    assert r2 > -0.05 and abs(r2 - r2_mean) < 0.05, (r2, r2_mean)


def test_blocked_splits_hold_out_contiguous_blocks_with_a_gap() -> None:
    splits = blocked_splits(100, 5, gap=5)
    assert [(int(t.min()), int(t.max())) for _, t in splits] == [
        (0, 19), (20, 39), (40, 59), (60, 79), (80, 99)
    ]  # fmt: skip
    train, _ = splits[2]
    assert set(train) == set(range(35)) | set(range(65, 100))  # 5 rows either side dropped
    # a short training side: two blocks, a narrower gap, rows to fit on in every split
    assert all(len(tr) > 0 for tr, _ in blocked_splits(30, 5, gap=40))


def test_ridge_alpha_picks_what_ridgecv_picks_over_the_same_blocked_splits() -> None:
    from sklearn.linear_model import RidgeCV

    rng = np.random.default_rng(4)
    F = rng.standard_normal((300, 30))
    for noise in (0.3, 3.0, 30.0):  # from a small alpha to "predict the mean"
        y = F[:, :3].sum(1) + noise * rng.standard_normal(300) + 5.0
        splits = blocked_splits(300, 5, gap=5)
        ours = ridge_alpha(F, y, splits, ALPHAS)
        sklearn = RidgeCV(alphas=ALPHAS, cv=splits, scoring="neg_mean_squared_error").fit(F, y)
        assert ours == sklearn.alpha_, noise
