"""Weight similarity: signed cosines, shape cosines, energy share and channel views."""

from __future__ import annotations

import numpy as np
import pytest

from niftycnn.errors import FilterAnalysisError
from niftycnn.filters.similarity import best_reference, make_views, view_taps, weight_similarity
from niftycnn.kernels import gram_basis, reference_matrix


def test_minus_two_momentum_has_cosine_minus_one_and_full_energy_share() -> None:
    names, _ = reference_matrix(3)
    out = weight_similarity(-2.0 * gram_basis(3)[1])
    assert out["cosine"][names.index("momentum")] == pytest.approx(-1.0)
    assert out["cosine"][names.index("curvature")] == pytest.approx(0.0, abs=1e-12)
    assert out["energy_share"] == pytest.approx(1.0)
    idx, sign = best_reference(out["cosine"])
    assert names[int(idx)] == "momentum" and sign == -1  # anti-momentum


def test_shape_cosine_ignores_the_level_component() -> None:
    # a ramp on top of a large offset: weight cosine says "level", shape says momentum
    names, _ = reference_matrix(5)
    basis = gram_basis(5)
    taps = 5.0 * basis[0] + 0.5 * basis[1]
    out = weight_similarity(taps)
    assert abs(out["cosine"][names.index("momentum")]) < 0.2
    assert out["shape_cosine"][names.index("momentum")] == pytest.approx(1.0)
    assert np.isnan(out["shape_cosine"][names.index("level")])


def test_energy_share_is_below_one_only_for_k_above_three() -> None:
    rng = np.random.default_rng(0)
    assert np.allclose(weight_similarity(rng.normal(size=(50, 3)))["energy_share"], 1.0)
    share = weight_similarity(rng.normal(size=(50, 7)))["energy_share"]
    assert np.all(share < 1.0) and np.all(share > 0.0)
    # the mean share of an isotropic vector in a 3-D subspace of R^7 is 3/7
    assert share.mean() == pytest.approx(3 / 7, abs=0.08)


def test_vectorised_over_models_filters_and_views() -> None:
    rng = np.random.default_rng(1)
    w = rng.normal(size=(2, 4, 5, 3))
    views = make_views(("open", "high", "low", "close", "volume"))
    assert views.names == ("open", "high", "low", "close", "volume", "price")
    taps = view_taps(w, views)
    np.testing.assert_allclose(taps[..., 5, :], w[..., :4, :].sum(axis=-2))
    out = weight_similarity(taps)
    assert out["cosine"].shape == (2, 4, 6, 4)
    single = weight_similarity(w[1, 2, 3])["cosine"]
    np.testing.assert_allclose(out["cosine"][1, 2, 3], single)


def test_zero_filter_gives_nan_not_an_error() -> None:
    out = weight_similarity(np.zeros(3))
    assert np.all(np.isnan(out["cosine"]))


def test_views_skip_absent_default_groups_and_reject_bad_explicit_ones() -> None:
    assert make_views(("close", "volume")).names == ("close", "volume")
    with pytest.raises(FilterAnalysisError):
        make_views(("close", "volume"), {"price": ("open", "close")})
    with pytest.raises(FilterAnalysisError):
        make_views(("close", "close"))
