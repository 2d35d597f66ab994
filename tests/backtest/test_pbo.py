"""Probability of backtest overfitting (CSCV) on cases with known answers, and the
deflated Sharpe ratio with the real number of trials."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from niftycnn.backtest.pbo import overfitting_table, probability_of_overfitting
from niftycnn.errors import BacktestError


def test_two_strategies_that_swap_places_overfit_every_time():
    # A wins the first half, B the second: whichever wins in sample loses out of sample
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 0.001, (200, 2))
    r = noise + np.where(np.arange(200)[:, None] < 100, [0.01, -0.01], [-0.01, 0.01])
    res = probability_of_overfitting(r, n_blocks=2)
    assert res.n_combinations == 2 and res.pbo == 1.0 and res.prob_oos_loss == 1.0
    # logit of rank 1 of 2: log((1/3) / (2/3))
    assert res.median_logit == pytest.approx(np.log(0.5))


def test_pure_noise_strategies_give_pbo_near_one_half():
    # 10 skill-less strategies, 1000 days; one estimate varies a lot (sd about 0.2), so
    # average over seeds: measured mean 0.53 over 20 seeds with 16 blocks
    pbo = [
        probability_of_overfitting(np.random.default_rng(s).normal(0, 0.01, (1000, 10)), 12).pbo
        for s in range(30)
    ]
    assert 0.4 < np.mean(pbo) < 0.6


def test_one_truly_better_strategy_gives_pbo_near_zero():
    # one strategy with a daily Sharpe of 0.1 (annualised 1.6) among 9 noise strategies
    # over 2500 days (10 years). Measured (20 seeds, 16 blocks): mean PBO 0.016, max 0.09;
    # with an annualised 0.8 instead, mean 0.25 (and 0.12 over 4000 days).
    for seed in range(5):
        r = np.random.default_rng(seed).normal(0, 0.01, (2500, 10))
        r[:, 3] += 0.001
        res = probability_of_overfitting(r)
        assert res.pbo < 0.1 and res.n_combinations == 12870


def test_overfitting_table_deflates_with_the_number_of_strategies():
    rng = np.random.default_rng(1)
    r = pd.DataFrame(rng.normal(0, 0.01, (1500, 6)), columns=[f"m{j}" for j in range(6)])
    r["cnn"] = rng.normal(0.0008, 0.01, 1500)
    few = overfitting_table(r[["cnn", "m0"]], "cnn", "models")
    many = overfitting_table(r, "cnn", "models")
    assert many.loc[0, "n_strategies"] == 7 and 0.0 <= many.loc[0, "pbo"] <= 1.0
    # the same strategy's DSR falls when it was picked among more (and more dispersed) trials
    assert many.loc[0, "reference_dsr"] < few.loc[0, "reference_dsr"]


def test_bad_inputs_are_named():
    with pytest.raises(BacktestError, match=">= 2 strategies"):
        probability_of_overfitting(np.zeros((100, 1)))
    with pytest.raises(BacktestError, match="even number"):
        probability_of_overfitting(np.zeros((100, 3)), n_blocks=5)
    with pytest.raises(BacktestError, match="fewer blocks"):
        probability_of_overfitting(np.zeros((20, 3)), n_blocks=16)
