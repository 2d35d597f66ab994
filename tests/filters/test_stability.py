"""Stability: Hungarian matching of filters across folds and seeds."""

from __future__ import annotations

import numpy as np
import pandas as pd

from niftycnn.filters.null import draw_init_filters
from niftycnn.filters.stability import filter_matches, match_filters, null_matched_cosine


def test_a_permuted_sign_flipped_copy_is_matched_back_exactly() -> None:
    a = draw_init_filters(16, 5, 3, seed=1)
    perm = np.random.default_rng(0).permutation(16)
    signs = np.where(np.arange(16) % 2 == 0, 1.0, -1.0)[:, None, None]
    b = (a * signs)[perm]
    order, abs_cos, sign = match_filters(a, b)
    np.testing.assert_array_equal(perm[order], np.arange(16))
    np.testing.assert_allclose(abs_cos, 1.0)
    np.testing.assert_array_equal(sign, signs[:, 0, 0])


def test_fold_to_fold_matching_rows_and_null_baseline() -> None:
    base = draw_init_filters(8, 5, 3, seed=2)
    weights = np.stack([base, base, base + 0.01, base + 0.01])
    index = pd.DataFrame({"fold": [0, 0, 1, 1], "seed": [0, 1, 0, 1]})
    matches = filter_matches(weights, index)
    assert len(matches) == 16  # fold 1 against fold 0, per seed
    assert set(matches["matched_fold"]) == {0}
    assert (matches["abs_cosine"] > 0.99).all()
    one_fold = filter_matches(weights[:2], index.iloc[:2])
    assert len(one_fold) == 8 and (one_fold["matched_seed"] == 0).all()
    baseline = null_matched_cosine(draw_init_filters(1000, 5, 3, seed=0), 8)
    assert 0.3 < baseline < 0.8
