"""Planted-pattern recovery: train q10 on a planted-momentum market and on a market with
nothing planted, and check the filter analysis finds momentum in the first and not in
the second.

The measured view is ``price``: the close-path filter as the network applies it, i.e.
its taps summed over the collinear open/high/low/close channels (see
``niftycnn.filters.similarity``), tested with the level-removed shape cosine against
1,000 untrained filters. The close channel alone is asserted too at the fixed seed, but
it is the less robust view: splitting one momentum response over four collinear channels
makes single-channel taps noisy.

Measured robustness (this pipeline; p of the mean test vs 1,000 untrained filters, floor
1/5001 = 0.0002; "trained" = permutation test vs the same q10 trained on shuffled labels):
- strength 1.5, data seeds 0-7, 4 models: price p = 0.0002 on 8/8; close 0.0002 on 7/8
  (one 0.13);
- strength 1.0, data seeds 0-7, 4 models: price p = 0.0002 on 7/8, 0.0102 on one; close
  p < 0.05 on 7/8 (< 0.01 on 2/8); trained-null p (seeds 0-5): price <= 0.018 on 6/6;
- nothing planted, data seeds 0-9, 4 models: price p in 0.06-0.94, close 0.11-0.90;
  none < 0.05. With 12 models (192 filters) the init-null p for price fell below 0.05 on
  4 of 8 runs (training drift of 0.02-0.06 in the mean, see ``niftycnn.filters.null``);
  the trained-null p stayed >= 0.10 and the verdict (effect floor 0.1) said "neither".
- The functional shape correlation on price gave p < 0.05 on 3 of 10 null-arm seeds
  (4 models): it is descriptive only (see ``niftycnn.filters.functional``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from niftycnn.filters import FilterAnalysis, analyze_filters, verdict

from .planted import CHANNELS, make_windows, planted_series, train_first_layers

SEEDS = (0, 1, 2, 3)  # model seeds
N_DAYS, N_TRAIN = 7000, 5976  # train on the first windows, analyse on the rest


def _run_arm(strength: float, data_seed: int) -> tuple[FilterAnalysis, FilterAnalysis]:
    """(analysis against untrained filters only, analysis with a label-shuffled null)."""
    torch.set_num_threads(1)
    X, y, _ = make_windows(planted_series(N_DAYS, strength, data_seed))
    weights = train_first_layers(X[:N_TRAIN], y[:N_TRAIN], seeds=SEEDS)
    shuffled = np.random.default_rng(data_seed).permutation(y[:N_TRAIN])
    trained_null = train_first_layers(X[:N_TRAIN], shuffled, seeds=SEEDS)
    index = pd.DataFrame({"fold": 0, "seed": list(SEEDS)})
    init_only = analyze_filters(
        weights, index, CHANNELS, windows=X[N_TRAIN:], max_windows=300, n_resamples=5000
    )
    both = analyze_filters(weights, index, CHANNELS, trained_null=trained_null, n_resamples=5000)
    return init_only, both


def _p(analysis: FilterAnalysis, channel: str, reference: str, col: str = "p_mean") -> float:
    s = analysis.summary.set_index(["channel", "reference", "statistic"])
    return float(s.loc[(channel, reference, "abs_shape_cosine"), col])


@pytest.mark.slow
def test_planted_momentum_is_found_in_the_price_filters() -> None:
    analysis, with_trained_null = _run_arm(strength=1.5, data_seed=0)
    assert _p(analysis, "price", "momentum") < 0.01
    assert verdict(analysis, "price").startswith("price: momentum-like")
    # and against q10 trained on the same windows with shuffled labels
    assert _p(with_trained_null, "price", "momentum", "p_trained_null") < 0.01
    assert verdict(with_trained_null, "price").startswith("price: momentum-like")
    # the close channel alone also passes at this seed (it did on 7 of 8 data seeds)
    assert _p(analysis, "close", "momentum") < 0.01
    assert _p(analysis, "price", "curvature") > 0.5


@pytest.mark.slow
def test_nothing_planted_reports_no_momentum() -> None:
    analysis, with_trained_null = _run_arm(strength=0.0, data_seed=0)
    for channel in ("price", "close"):
        assert _p(analysis, channel, "momentum") >= 0.05, channel
        assert "momentum-like" not in verdict(analysis, channel)
        assert _p(with_trained_null, channel, "momentum", "p_trained_null") >= 0.05, channel
        assert "momentum-like" not in verdict(with_trained_null, channel)
    assert np.isfinite(analysis.summary["p_mean"]).any()
