"""SPA / StepM against all baselines at once: size on noise, power with a planted edge,
the families of a predictions table; accuracy against the majority class and chance."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from niftycnn.backtest.multiple import accuracy_table, multiple_comparisons, spa_tests
from niftycnn.backtest.significance import diebold_mariano
from niftycnn.config import BacktestConfig

BEATS_SOME, NONE_BETTER = 0, 1  # the rows spa_tests returns


def _losses(seed: int, n: int, hit: dict[str, float]) -> pd.DataFrame:
    """Zero-one losses of models with the given hit rates, sharing a common day effect
    (some days are hard for every model), as real forecasts do."""
    rng = np.random.default_rng(seed)
    hard = rng.random(n) < 0.3
    out = {}
    for name, p in hit.items():
        # on hard days everyone is worse; p is the average hit rate
        p_day = np.where(hard, p - 0.1, p + 0.1 * 0.3 / 0.7)
        out[name] = (rng.random(n) > p_day).astype(float)
    return pd.DataFrame(out)


NOISE = {"cnn": 0.5, "a": 0.5, "b": 0.5, "c": 0.5, "d": 0.5}


@pytest.mark.slow
def test_spa_size_is_near_nominal_on_noise():
    # 200 seeds, every model a coin flip: the rejection rate at 5 % should be ~5 %, for
    # both directions. bench/multiple.py measures 1000 seeds (figures in its docstring).
    rows = [spa_tests(_losses(s, 500, NOISE), "cnn", block=1, reps=200, seed=s) for s in range(200)]
    for which in (BEATS_SOME, NONE_BETTER):
        p = np.array([r[which]["p_value"] for r in rows])
        rate = float(np.mean(p < 0.05))
        assert 0.01 <= rate <= 0.09, (which, rate)  # binomial 99 % band, 200 draws
        assert stats.kstest(p, "uniform").pvalue > 0.001


def test_spa_rejects_a_planted_edge_and_stepm_names_what_it_beats():
    # CNN hits 55 % against four coin flips over 2,000 days (a realistic next-day edge
    # would be smaller; bench/multiple.py measures power at 52-55 %)
    losses = _losses(0, 2000, {**NOISE, "cnn": 0.55})
    beats, none_better = spa_tests(losses, "cnn", block=1, reps=500, seed=1)
    assert beats["p_value"] < 0.01
    assert beats["stepm"] == "a, b, c, d"
    assert none_better["p_value"] > 0.5 and none_better["stepm"] == ""


def test_spa_finds_a_baseline_better_than_the_cnn():
    losses = _losses(2, 2000, {**NOISE, "c": 0.56})
    beats, none_better = spa_tests(losses, "cnn", block=1, reps=500, seed=3)
    assert none_better["p_value"] < 0.01 and none_better["stepm"] == "c"
    assert beats["p_value"] > 0.2


def _predictions(n: int = 600) -> pd.DataFrame:
    """Two-class predictions of the CNN (probabilities), a majority and a regression
    baseline (classes only), on the same dates."""
    rng = np.random.default_rng(4)
    dates = pd.bdate_range("2020-01-01", periods=n, name="date")
    y = rng.integers(0, 2, n)
    frames = []
    for model, proba in (("cnn", True), ("majority", True), ("ridge", False)):
        p_up = np.clip(0.5 + 0.2 * (y - 0.5) + rng.normal(0, 0.2, n), 0.01, 0.99)
        if model == "majority":
            p_up = np.full(n, 0.4)  # always Down
        y_pred = (p_up > 0.5).astype(int) if model != "ridge" else rng.integers(0, 2, n)
        frames.append(
            pd.DataFrame(
                {
                    "model": model,
                    "path": 0,
                    "horizon": 1,
                    "y_true": y,
                    "y_return": np.where(y == 1, 0.01, -0.01),
                    "y_pred": y_pred,
                    "r_pred": 0.0,
                    "proba_0": (1 - p_up) if proba else np.nan,
                    "proba_1": p_up if proba else np.nan,
                },
                index=dates,
            )
        )
    return pd.concat(frames)


def test_a_family_per_loss_covers_every_baseline():
    table = multiple_comparisons(_predictions(), BacktestConfig(bootstrap=200), seed=0)
    assert list(table["loss"]) == ["log_loss", "log_loss", "zero_one", "zero_one"]
    assert list(table["baselines"]) == [
        "majority",
        "majority",
        "majority, ridge",
        "majority, ridge",
    ]
    # the CNN reads y; majority and a random ridge cannot: both beaten
    beats = table[table["null"].str.startswith("every")]
    assert (beats["p_value"] < 0.01).all() and beats["stepm"].iloc[-1] == "majority, ridge"


def test_accuracy_against_the_majority_class_and_chance_by_hand():
    preds = _predictions()
    table = accuracy_table(preds, BacktestConfig(bootstrap=200), seed=0).iloc[0]
    cnn, majority = preds[preds.model == "cnn"], preds[preds.model == "majority"]
    hit = (cnn.y_pred == cnn.y_true).to_numpy(float)
    assert table.accuracy == pytest.approx(hit.mean(), abs=1e-15)
    assert table.majority_accuracy == pytest.approx((majority.y_true == 0).mean(), abs=1e-15)
    assert table.accuracy_low < table.accuracy < table.accuracy_high
    assert table.chance == 0.5 and table.benchmark == "majority baseline"
    miss_majority = (majority.y_true != 0).to_numpy(float)
    expected = diebold_mariano(1 - hit, miss_majority, 1).p_less
    assert table.p_vs_majority == pytest.approx(expected, rel=1e-12)
    assert table.p_vs_chance == pytest.approx(diebold_mariano(1 - hit, np.full(600, 0.5), 1).p_less)
    # without a majority baseline: the test period's most common class, in hindsight
    alone = accuracy_table(preds[preds.model != "majority"], BacktestConfig(bootstrap=200))
    share = max((cnn.y_true == 0).mean(), (cnn.y_true == 1).mean())
    assert alone.iloc[0].majority_accuracy == pytest.approx(share)
    assert alone.iloc[0].benchmark.startswith("most common class")
