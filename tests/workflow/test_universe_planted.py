"""The pipeline finds a planted cross-sectional pattern in a synthetic universe, and does
not find one where none is planted: experiments/synthetic_universe.toml (cross-sectional
momentum of the last 20 closes, 5-day labels, quintile long-short rebalanced every 5
days) at 30 stocks x 1,500 sessions, 4 refits, one training seed, 5 epochs (for time;
the file trains 10 with patience 3).

Strength: oracle Sharpe 2, i.e. a trader who knew each stock's planted drift and held the
top minus the bottom decile, rebalanced daily before costs, would earn an annualised
Sharpe of 2; the CNN, ranking 30 stocks every 5 days after costs, earns 1.4-1.9. At
oracle Sharpe 1 the CNN's interval clears 0 on one seed in three, at 1.5 on one in three
(mean IC p < 0.01 on two): the edge this size of study resolves starts near 2. The null
is the same universe (the same random numbers) with nothing planted."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from niftycnn.backtest.cross_section import cross_section
from niftycnn.walkforward import run_walkforward
from niftycnn.windows import labeler_for
from niftycnn.workflow.plan import load_experiment, plan_run

SEEDS = (0, 1, 2)


def cnn_stats(seed: int, oracle_sharpe: float) -> dict[str, float]:
    """The CNN's cross-sectional numbers on the universe of ``seed``."""
    experiment = load_experiment("experiments/synthetic_universe.toml").with_overrides(
        seed=seed,
        data={
            "synthetic": {
                "n_symbols": 30,
                "n_days": 1500,
                "universe": {"oracle_sharpe": oracle_sharpe},
            }
        },
        train={"epochs": 5, "patience": 2, "seeds": 1},
        baselines={"models": ["majority"]},
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the universe's planted gaps and late listings
        plan = plan_run(experiment)
    assert len(plan.folds) == 4 and plan.dataset.is_panel
    predictions = run_walkforward(
        plan.dataset,
        plan.architecture,
        plan.splitter,
        experiment.train,
        seed=experiment.seed,
        labeler=labeler_for(experiment.labels),
        baselines=plan.baselines,
        progress=False,
    )
    cnn = predictions[predictions["model"] == "cnn"]
    return cross_section(cnn, experiment.backtest, seed=seed).stats


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_a_planted_cross_sectional_pattern_is_recovered(seed: int) -> None:
    stats = cnn_stats(seed, oracle_sharpe=2.0)
    assert stats["sharpe_low"] > 0, stats
    assert stats["mean_ic"] > 0 and stats["ic_p"] < 0.01, stats


@pytest.mark.slow
def test_without_a_pattern_nothing_is_found_and_the_p_values_are_calibrated() -> None:
    """No seed of the null shows an edge (long-short interval above 0 with IC p < 0.01),
    the IC and long-short p-values of 9 null universes (the 3 seeds and 6 more) reject no
    more often than a calibrated test would, and the IC's p-values centre near 0.5: a
    test that rejected true nulls too often would fail here. (p > 0.05 on each of 3
    seeds happens to a calibrated test only 86 % of the time; seed 0's IC p is 0.03.)"""
    stats = [cnn_stats(seed, oracle_sharpe=0.0) for seed in (*SEEDS, 3, 4, 5, 6, 7, 8)]
    for s in stats:
        assert not (s["sharpe_low"] > 0 and s["ic_p"] < 0.01), s
    ic_p = np.array([s["ic_p"] for s in stats])
    sharpe_p = np.array([s["sharpe_p"] for s in stats])  # net of costs: mostly above 0.5
    for p in (ic_p, sharpe_p):
        assert np.isfinite(p).all()
        assert (p < 0.01).sum() == 0 and (p < 0.05).sum() <= 2, p  # binomial(9, 0.05): P = 0.99
    assert 0.2 < np.median(ic_p) < 0.8, ic_p
