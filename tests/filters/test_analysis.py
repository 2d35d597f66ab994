"""analyze_filters / verdict / figures on hand-made weights (no training: fast)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from niftycnn.errors import FilterAnalysisError
from niftycnn.filters import analyze_filters, figures, stack_folds, verdict, write_tables
from niftycnn.filters.null import draw_init_filters
from niftycnn.kernels import gram_basis, random_kernel_weights

CHANNELS = ("open", "high", "low", "close", "volume")


def _index(n_folds: int, n_seeds: int) -> pd.DataFrame:
    folds, seeds = np.meshgrid(np.arange(n_folds), np.arange(n_seeds), indexing="ij")
    return pd.DataFrame({"fold": folds.ravel(), "seed": seeds.ravel()})


def _momentum_weights(n_models: int, seed: int = 0) -> np.ndarray:
    """Init-like filters whose price taps carry a large level and a momentum ramp."""
    rng = np.random.default_rng(seed)
    w = draw_init_filters(n_models * 16, 5, 3, seed=seed + 100).reshape(n_models, 16, 5, 3)
    basis = gram_basis(3)
    sign = rng.choice([-1.0, 1.0], size=(n_models, 16, 1, 1))
    level = rng.normal(0, 0.4, size=(n_models, 16, 1, 1))
    w[:, :, :4] += sign * 0.3 * basis[1] + level * basis[0]
    return w


def _windows(n: int = 120) -> np.ndarray:
    rng = np.random.default_rng(5)
    close = np.cumsum(rng.normal(0, 0.01, (n, 20)), axis=1)
    close -= close[:, -1:]
    prices = close[:, None, :] + rng.normal(0, 0.002, (n, 4, 20))
    return np.concatenate([prices, rng.normal(size=(n, 1, 20))], axis=1).astype(np.float32)


@pytest.fixture(scope="module")
def planted_analysis():
    w = _momentum_weights(6)
    return analyze_filters(w, _index(3, 2), CHANNELS, windows=_windows(), n_resamples=2000)


def test_momentum_ramps_are_reported_momentum_like(planted_analysis) -> None:
    for channel in ("close", "price"):
        sentence = verdict(planted_analysis, channel)
        assert sentence.startswith(f"{channel}: momentum-like"), sentence
    s = planted_analysis.summary.set_index(["channel", "reference", "statistic"])
    assert s.loc[("price", "momentum", "abs_shape_cosine"), "p_mean"] < 0.01
    assert s.loc[("price", "curvature", "abs_shape_cosine"), "p_mean"] > 0.5


def test_untrained_filters_are_reported_as_neither() -> None:
    w = draw_init_filters(64, 5, 3, seed=42).reshape(4, 16, 5, 3)
    analysis = analyze_filters(w, _index(1, 4), CHANNELS, n_resamples=2000)
    for channel in ("close", "price", "volume"):
        assert ": neither" in verdict(analysis, channel)
    assert analysis.table["functional_corr"].isna().all()  # no windows given


def test_tidy_table_has_one_row_per_model_filter_channel_reference(planted_analysis) -> None:
    table = planted_analysis.table
    assert len(table) == 6 * 16 * 6 * 4  # models x filters x (5 channels + price) x refs
    for column in (
        "fold",
        "seed",
        "filter",
        "channel",
        "reference",
        "cosine",
        "abs_cosine",
        "p_value",
        "percentile",
        "shape_cosine",
        "energy_share",
        "functional_corr",
        "functional_p_value",
        "best_reference",
        "best_sign",
    ):
        assert column in table, column
    assert table["p_value"].between(0, 1).all()
    assert (table["shape_q_value"].dropna() >= table["shape_p_value"].dropna()).all()
    s = planted_analysis.summary.set_index(["channel", "reference", "statistic"])
    n_bh = s.loc[("price", "momentum", "abs_shape_cosine"), "n_bh"]
    price_mom = table[(table["channel"] == "price") & (table["reference"] == "momentum")]
    assert n_bh == (price_mom["shape_q_value"] <= 0.05).sum()
    assert table["functional_corr"].notna().any()
    assert table.loc[table["reference"] == "level", "shape_cosine"].isna().all()
    assert np.allclose(table["energy_share"], 1.0)  # k = 3: trivially 1 ...
    assert any("trivially 1" in note for note in planted_analysis.notes)  # ... and said so


def test_by_fold_reports_shares_and_stability_over_time(planted_analysis) -> None:
    by_fold = planted_analysis.by_fold
    price = by_fold[by_fold["channel"] == "price"].sort_values("fold")
    assert list(price["fold"]) == [0, 1, 2]
    assert (price["share_momentum_like"] > 2 * planted_analysis.alpha).all()
    assert price["matched_abs_cosine"].iloc[1:].notna().all()
    assert price["null_matched_abs_cosine"].notna().all()
    assert len(planted_analysis.matches) == 4 * 16  # folds 1, 2 x 2 seeds x 16 filters


def test_bad_inputs_raise_spec_errors() -> None:
    w = _momentum_weights(2)
    with pytest.raises(FilterAnalysisError, match="n_models"):
        analyze_filters(w[0], _index(1, 2), CHANNELS)
    with pytest.raises(FilterAnalysisError, match="model_index"):
        analyze_filters(w, _index(1, 3), CHANNELS)
    with pytest.raises(FilterAnalysisError, match="channel names"):
        analyze_filters(w, _index(1, 2), CHANNELS[:4])
    with pytest.raises(FilterAnalysisError, match="needs windows"):
        analyze_filters(w, _index(1, 2), CHANNELS, statistic="functional_abs_corr")


def test_figures_are_saved(planted_analysis, tmp_path) -> None:
    figures.filter_heatmaps(planted_analysis, fold=1, seed=0, path=tmp_path / "heat.png")
    figures.null_histograms(planted_analysis, "price", path=tmp_path / "null.png")
    figures.momentum_share_by_fold(planted_analysis, path=tmp_path / "share.png")
    for name in ("heat.png", "null.png", "share.png"):
        assert (tmp_path / name).stat().st_size > 1000
    with pytest.raises(FilterAnalysisError):
        figures.filter_heatmaps(planted_analysis, fold=9, seed=0)


def test_stack_folds_and_write_tables(planted_analysis, tmp_path) -> None:
    per_fold = {2: np.zeros((3, 16, 5, 3)), 1: np.ones((2, 16, 5, 3))}
    weights, index = stack_folds(per_fold)
    assert weights.shape == (5, 16, 5, 3)
    assert list(index["fold"]) == [1, 1, 2, 2, 2] and list(index["seed"]) == [0, 1, 0, 1, 2]
    assert weights[0].sum() == 16 * 15
    with pytest.raises(FilterAnalysisError):
        stack_folds({0: np.zeros((2, 16, 5, 3)), 1: np.zeros((2, 16, 4, 3))})
    paths = write_tables(planted_analysis, tmp_path / "run")
    summary = pd.read_csv(paths["summary"])
    assert {"channel", "reference", "statistic", "p_mean"} <= set(summary.columns)
    assert "trivially 1" in paths["notes"].read_text()


@pytest.mark.parametrize("k", [2, 5])
def test_other_kernel_lengths_run_end_to_end(k: int) -> None:
    w = draw_init_filters(32, 5, k, seed=1).reshape(2, 16, 5, k)
    analysis = analyze_filters(w, _index(2, 1), CHANNELS, windows=_windows(40), n_resamples=500)
    assert analysis.k == k and len(analysis.by_fold) == 2 * 6
    if k == 2:
        assert "curvature" not in set(analysis.table["reference"])
        with pytest.raises(FilterAnalysisError, match="no curvature"):
            verdict(analysis, "price")
    else:
        assert analysis.table["energy_share"].max() < 1.0  # informative for k >= 4
        assert ": neither" in verdict(analysis, "price")


def test_trained_null_is_used_by_the_verdict_and_the_effect_floor_applies() -> None:
    w = _momentum_weights(4)
    same_law = _momentum_weights(4, seed=7)  # a "trained null" with the same pattern
    analysis = analyze_filters(w, _index(1, 4), CHANNELS, trained_null=same_law, n_resamples=2000)
    s = analysis.summary.set_index(["channel", "reference", "statistic"])
    assert s.loc[("price", "momentum", "abs_shape_cosine"), "p_trained_null"] > 0.05
    sentence = verdict(analysis, "price")
    assert "neither" in sentence and "label-shuffled" in sentence
    untrained = draw_init_filters(64, 5, 3, seed=3).reshape(4, 16, 5, 3)
    vs_init = analyze_filters(w, _index(1, 4), CHANNELS, trained_null=untrained, n_resamples=2000)
    assert verdict(vs_init, "price").startswith("price: momentum-like")
    assert ": neither" in verdict(vs_init, "price", min_effect=0.9)  # effect floor


def test_random_rocket_kernels_are_a_second_null(planted_analysis) -> None:
    """Momentum ramps beat random ROCKET kernels on momentum; random kernels fed in as
    'learned' do not beat their own law."""
    rows = planted_analysis.summary.set_index(["channel", "reference", "statistic"])
    ramp = rows.loc[("close", "momentum", planted_analysis.statistic)]
    assert ramp["p_random_kernels"] < 0.01 and ramp["mean_learned"] > ramp["mean_random_kernels"]
    assert "Against random ROCKET kernels" in verdict(planted_analysis, "close")
    w = random_kernel_weights(64, 5, 3, seed=9).reshape(4, 16, 5, 3)
    same = analyze_filters(w, _index(1, 4), CHANNELS, n_resamples=2000).summary
    p = same["p_random_kernels"].dropna()
    assert len(p) > 0 and (p < 0.01).mean() <= 0.1 and p.median() > 0.1
