"""Planted-pattern recovery: train q10 on a planted-momentum market and on a market with
nothing planted, and check the filter analysis finds momentum in the first and not in
the second.

The measured view is ``price``: the close-path filter as the network applies it, i.e.
its taps summed over the collinear open/high/low/close channels (see
``niftycnn.filters.similarity``), tested with the level-removed shape cosine against
1,000 untrained filters. Single-channel ``close`` numbers are checked for direction only:
splitting one momentum response over four collinear channels makes them noisy (over
data seeds 0-7 the close-only p-value ranged 0.0002-0.6 under the plant).
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


def _run_arm(strength: float, data_seed: int) -> FilterAnalysis:
    torch.set_num_threads(1)
    X, y, _ = make_windows(planted_series(N_DAYS, strength, data_seed))
    weights = train_first_layers(X[:N_TRAIN], y[:N_TRAIN], seeds=SEEDS)
    index = pd.DataFrame({"fold": 0, "seed": list(SEEDS)})
    return analyze_filters(
        weights,
        index,
        CHANNELS,
        windows=X[N_TRAIN:],
        null_draws=1000,
        seed=0,
        max_windows=300,
        n_resamples=5000,
    )


def _p(analysis: FilterAnalysis, channel: str, reference: str) -> float:
    s = analysis.summary.set_index(["channel", "reference", "statistic"])
    return float(s.loc[(channel, reference, "abs_shape_cosine"), "p_mean"])


@pytest.mark.slow
def test_planted_momentum_is_found_in_the_price_filters() -> None:
    analysis = _run_arm(strength=1.5, data_seed=0)
    assert _p(analysis, "price", "momentum") < 0.01
    assert verdict(analysis, "price").startswith("price: momentum-like")
    s = analysis.summary.set_index(["channel", "reference", "statistic"])
    close = s.loc[("close", "momentum", "abs_shape_cosine")]
    assert close["mean_learned"] > close["mean_null"]  # same direction on close alone


@pytest.mark.slow
def test_nothing_planted_reports_no_momentum() -> None:
    analysis = _run_arm(strength=0.0, data_seed=0)
    for channel in ("price", "close"):
        assert _p(analysis, channel, "momentum") >= 0.05, channel
        assert "momentum-like" not in verdict(analysis, channel)
    assert np.isfinite(analysis.summary["p_mean"]).any()
