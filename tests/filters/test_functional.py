"""Functional similarity: outputs on windows, invariant to input and filter scale."""

from __future__ import annotations

import numpy as np
import pytest

from niftycnn.errors import FilterAnalysisError
from niftycnn.filters.functional import functional_similarity, view_anchors
from niftycnn.filters.similarity import make_views
from niftycnn.kernels import gram_basis, reference_matrix

CHANNELS = ("open", "high", "low", "close", "volume")


def _windows(n: int = 200, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    close = np.cumsum(rng.normal(0, 0.01, (n, 20)), axis=1)
    close -= close[:, -1:]
    prices = close[:, None, :] + rng.normal(0, 0.002, (n, 4, 20))
    volume = rng.normal(size=(n, 1, 20))
    return np.concatenate([prices, volume], axis=1).astype(np.float32)


def test_momentum_on_close_correlates_perfectly_with_the_momentum_reference() -> None:
    names, _ = reference_matrix(3)
    views = make_views(CHANNELS)
    w = np.zeros((1, 5, 3))
    w[0, 3] = -3.0 * gram_basis(3)[1]
    out = functional_similarity(w, _windows(), views, view_anchors(views, CHANNELS))
    close, price = views.names.index("close"), views.names.index("price")
    assert out["functional_corr"][0, close, names.index("momentum")] == pytest.approx(-1.0)
    # the price group's output is the close term alone here, compared on the close anchor
    assert out["functional_corr"][0, price, names.index("momentum")] == pytest.approx(-1.0)
    assert out["functional_shape_corr"][0, close, names.index("momentum")] == pytest.approx(-1.0)


def test_functional_correlation_is_invariant_to_input_and_filter_scale() -> None:
    views = make_views(CHANNELS)
    anchors = view_anchors(views, CHANNELS)
    rng = np.random.default_rng(3)
    w, x = rng.normal(size=(6, 5, 3)), _windows()
    a = functional_similarity(w, x, views, anchors)["functional_corr"]
    b = functional_similarity(7.0 * w, 100.0 * x, views, anchors)["functional_corr"]
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-8)


def test_windows_must_match_the_filters_channels() -> None:
    views = make_views(CHANNELS)
    with pytest.raises(FilterAnalysisError):
        functional_similarity(np.ones((1, 5, 3)), np.ones((4, 3, 20)), views, (0,) * 6)


def test_correlations_equal_those_of_the_materialised_outputs() -> None:
    views = make_views(CHANNELS)
    anchors = view_anchors(views, CHANNELS)
    names, refs = reference_matrix(3)
    x = _windows(60, seed=4).astype(np.float64)
    w = np.random.default_rng(5).normal(size=(2, 5, 3))
    out = functional_similarity(w, x, views, anchors)
    price = views.names.index("price")
    members, anchor = views.members[price], anchors[price]
    patches = np.lib.stride_tricks.sliding_window_view(x, 3, axis=-1)  # (N, C, P, 3)
    filt = np.einsum("ncpk,ck->np", patches[:, list(members)], w[1, list(members)]).ravel()
    ref = np.einsum("npk,rk->rnp", patches[:, anchor], refs).reshape(len(names), -1)
    mom, level = names.index("momentum"), names.index("level")
    corr = np.corrcoef(np.vstack([filt, ref]))
    assert out["functional_corr"][1, price, mom] == pytest.approx(corr[0, 1 + mom], abs=1e-12)
    # shape: the correlation of the residuals of both outputs on the level output
    z = ref[level]

    def resid(a: np.ndarray) -> np.ndarray:
        return a - np.polyval(np.polyfit(z, a, 1), z)

    partial = np.corrcoef(resid(filt), resid(ref[mom]))[0, 1]
    assert out["functional_shape_corr"][1, price, mom] == pytest.approx(partial, abs=1e-10)
