"""Bootstrap, permutation, PSR/DSR and Diebold-Mariano on synthetic data."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats

from niftycnn.backtest.significance import (
    block_bootstrap_indices,
    bootstrap_ci,
    deflated_sharpe_ratio,
    diebold_mariano,
    expected_max_sharpe,
    permutation_test,
    probabilistic_sharpe_ratio,
    resampled_ranks,
)
from niftycnn.errors import BacktestError


@pytest.mark.parametrize("method", ["stationary", "moving"])
def test_bootstrap_indices_are_blocks_of_consecutive_days(method: str) -> None:
    idx = block_bootstrap_indices(500, 200, 10.0, np.random.default_rng(0), method)
    assert idx.shape == (200, 500)
    assert idx.min() >= 0 and idx.max() < 500
    steps = np.diff(idx, axis=1)
    continued = (steps == 1) | (steps == -499)  # stationary blocks wrap around
    # With mean block length 10, about 9 in 10 steps continue the current block.
    assert 0.85 < continued.mean() < 0.95


def test_moving_blocks_have_exactly_the_block_length() -> None:
    idx = block_bootstrap_indices(100, 50, 10, np.random.default_rng(0), "moving")
    blocks = idx.reshape(50, 10, 10)
    np.testing.assert_array_equal(np.diff(blocks, axis=2), 1)
    assert blocks[:, :, 0].max() <= 90


def test_sharpe_permutation_rotates_positions_against_returns() -> None:
    rng = np.random.default_rng(6)
    market = rng.normal(0.0, 0.01, 1500)
    timed = np.sign(market + rng.normal(0.0, 0.01, 1500))  # sees tomorrow, noisily
    blind = np.sign(rng.normal(size=1500))
    assert permutation_test("sharpe", timed, market, n_perm=200, rng=0).p_value < 0.01
    assert permutation_test("sharpe", blind, market, n_perm=200, rng=0).p_value > 0.05


def test_resampled_ranks_equal_rankdata_row_by_row() -> None:
    rng = np.random.default_rng(8)
    values = rng.integers(0, 7, size=40).astype(float)  # many ties
    idx = block_bootstrap_indices(40, 30, 4, rng)
    np.testing.assert_allclose(resampled_ranks(values, idx), stats.rankdata(values[idx], axis=1))


def test_bootstrap_is_reproducible_from_the_seed() -> None:
    x = np.random.default_rng(1).normal(size=300)
    a = bootstrap_ci("sharpe", x, rng=7, n_boot=200)
    b = bootstrap_ci("sharpe", x, rng=np.random.default_rng(7), n_boot=200)
    assert a == b
    assert a.low < a.estimate < a.high


def test_bootstrap_ci_of_the_mean_covers_the_truth_at_about_the_nominal_rate() -> None:
    rng = np.random.default_rng(3)
    covered = [
        bootstrap_ci("mean", rng.normal(0.0, 1.0, 200), block_len=3, n_boot=300, rng=rng).contains(
            0
        )
        for _ in range(60)
    ]
    assert 0.85 <= np.mean(covered) <= 1.0


def test_permutation_separates_signal_from_noise() -> None:
    rng = np.random.default_rng(0)
    y = rng.normal(size=800)
    informed = y + rng.normal(scale=2.0, size=800)
    noise = rng.normal(size=800)
    assert permutation_test("ic", informed, y, n_perm=300, rng=1).p_value < 0.01
    assert permutation_test("ic", noise, y, n_perm=300, rng=1).p_value > 0.05
    with pytest.raises(BacktestError, match="too short"):
        permutation_test("ic", noise[:8], y[:8], min_shift=5)


def test_psr_matches_the_published_formula() -> None:
    r = np.random.default_rng(2).standard_t(df=5, size=1000) * 0.01 + 0.001
    sr = r.mean() / r.std(ddof=1)
    g3, g4 = stats.skew(r), stats.kurtosis(r, fisher=False)
    z = sr * math.sqrt(999) / math.sqrt(1 - g3 * sr + (g4 - 1) / 4 * sr**2)
    assert math.isclose(probabilistic_sharpe_ratio(r), stats.norm.cdf(z))


def test_deflated_sharpe_falls_with_the_number_of_trials() -> None:
    r = np.random.default_rng(5).normal(0.001, 0.01, size=1000)
    assert expected_max_sharpe(1, 0.01) == 0.0
    assert math.isclose(deflated_sharpe_ratio(r, 1), probabilistic_sharpe_ratio(r))
    dsr = [deflated_sharpe_ratio(r, n) for n in (1, 10, 100, 1000)]
    assert all(a > b for a, b in itertools.pairwise(dsr))
    # E[max SR], N=1000 unit-variance trials: (1-γ)·Φ⁻¹(0.999) + γ·Φ⁻¹(1-1/(1000e)) ≈ 3.255.
    assert math.isclose(expected_max_sharpe(1000, 1.0), 3.2552, abs_tol=1e-3)


def test_diebold_mariano_by_hand_for_h_equal_one() -> None:
    # h = 1: no autocovariance terms, HLN factor sqrt((n - 1) / n) -> the paired t statistic.
    d = np.array([0.1, -0.2, 0.3, 0.05, -0.1, 0.2, 0.15, -0.05])
    res = diebold_mariano(d, np.zeros_like(d), horizon=1)
    n = len(d)
    dm = d.mean() / math.sqrt(np.var(d) / n) * math.sqrt((n - 1) / n)
    assert math.isclose(res.statistic, dm)
    assert math.isclose(res.statistic, stats.ttest_1samp(d, 0).statistic)
    assert math.isclose(res.p_value, 2 * stats.t.sf(abs(dm), n - 1))


def test_diebold_mariano_detects_a_better_forecast() -> None:
    rng = np.random.default_rng(4)
    y = rng.normal(size=600)
    good = (y - (y + rng.normal(scale=0.5, size=600))) ** 2
    bad = (y - rng.normal(size=600)) ** 2
    res = diebold_mariano(good, bad, horizon=5)
    assert res.statistic < 0 and res.p_less < 0.01
