"""The null: Conv1d's own init, Monte Carlo p-values, the mean test and BH."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from niftycnn.filters.null import bh_qvalues, draw_init_filters, mean_test, share_test, upper_tail


def test_null_draws_are_exactly_what_conv1d_initialises() -> None:
    torch.manual_seed(7)
    conv = torch.nn.Conv1d(5, 16, 3)
    draws = draw_init_filters(16, 5, 3, seed=7)
    np.testing.assert_array_equal(draws, conv.weight.detach().numpy().astype(np.float64))
    big = draw_init_filters(2000, 5, 3, seed=0)
    bound = 1 / np.sqrt(15)
    assert np.abs(big).max() <= bound
    assert big.std() == pytest.approx(bound / np.sqrt(3), rel=0.02)  # U(-b, b)


def test_upper_tail_p_values_and_percentiles_by_hand() -> None:
    null = np.array([[0.1], [0.2], [0.3], [0.4]])
    p, pct = upper_tail(np.array([[0.05], [0.3], [0.9], [np.nan]]), null)
    np.testing.assert_allclose(p[:3, 0], [5 / 5, 3 / 5, 1 / 5])
    np.testing.assert_allclose(pct[:3, 0], [0.0, 62.5, 100.0])
    assert np.isnan(p[3, 0])


def test_mean_test_is_calibrated_under_the_null_and_detects_a_shift() -> None:
    rng = np.random.default_rng(0)
    pool = rng.uniform(size=1000)
    p_null = [mean_test(rng.uniform(size=40), pool, 2000, seed=s)[2] for s in range(200)]
    assert np.mean(np.array(p_null) <= 0.05) == pytest.approx(0.05, abs=0.04)
    assert mean_test(rng.uniform(0.2, 1.0, size=40), pool, 2000)[2] < 0.01


def test_bh_and_binomial_share() -> None:
    q = bh_qvalues(np.array([0.01, 0.04, 0.03, 0.5, np.nan]))
    np.testing.assert_allclose(q[:4], [0.04, 0.16 / 3, 0.16 / 3, 0.5])  # step-up monotone
    assert np.isnan(q[4])
    hits, n, p = share_test(np.array([0.01] * 5 + [0.5] * 15), alpha=0.05)
    assert (hits, n) == (5, 20) and p < 0.01


def test_two_sample_permutation_test_is_calibrated_and_detects_a_shift() -> None:
    from niftycnn.filters.null import two_sample_test

    rng = np.random.default_rng(1)
    p_null = [
        two_sample_test(rng.uniform(size=30), rng.uniform(size=40), 500, s)[1] for s in range(200)
    ]
    assert np.mean(np.array(p_null) <= 0.05) == pytest.approx(0.05, abs=0.04)
    reference = rng.uniform(size=200)
    mean_ref, p = two_sample_test(rng.uniform(0.3, 1.0, 200), reference, 2000)
    assert p < 0.01 and mean_ref == pytest.approx(reference.mean())


def test_batched_tests_draw_once_per_shape_and_match_each_pair_alone() -> None:
    from niftycnn.filters.null import mean_tests, two_sample_test, two_sample_tests

    rng = np.random.default_rng(2)
    with_nan = rng.uniform(size=30)
    with_nan[3] = np.nan  # a pair of another shape once NaN is dropped
    pairs = [(rng.uniform(0.1, 1, 30), rng.uniform(size=50)) for _ in range(3)]
    pairs.append((with_nan, rng.uniform(size=50)))
    alone = [mean_test(x, y, 300, seed=7) for x, y in pairs]
    np.testing.assert_allclose(mean_tests(pairs, 300, seed=7), alone, rtol=1e-12)
    alone2 = [two_sample_test(x, y, 300, seed=7) for x, y in pairs]
    np.testing.assert_allclose(two_sample_tests(pairs, 300, seed=7), alone2, rtol=1e-12)
    # a pair alone is the old per-pair draw: means of pool[indices], label permutations
    x, y = pairs[0]
    draws = np.random.default_rng(7).integers(0, y.size, (300, x.size))
    p = (1 + np.sum(y[draws].mean(1) >= x.mean())) / 301
    assert alone[0][2] == pytest.approx(p)
