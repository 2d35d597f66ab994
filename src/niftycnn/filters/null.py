"""The null: untrained filters, and the tests of learned statistics against them.

Null filters are drawn exactly as ``torch.nn.Conv1d`` initialises its weight:
``kaiming_uniform_(w, a=sqrt(5))`` on a float32 (n, C, k) tensor, whose fan-in is C * k,
i.e. U(-1/sqrt(C k), 1/sqrt(C k)) i.i.d. per tap, from a seeded ``torch.Generator`` (the
same numbers ``nn.Conv1d(C, n, k)`` gets after ``torch.manual_seed(seed)``). The
cosine statistics are scale-free, so only the shape of this law matters.

Tests (all one-sided, "more aligned than an untrained filter"):

- per filter: p = (1 + #{null >= x}) / (n_null + 1) for x = |cosine| (the Monte Carlo
  p-value of Davison & Hinkley, never 0), and the percentile of x in the null;
- per view and reference (the headline): T = mean of x over the n learned filters. Under
  H0 ("the learned filters are draws from the init law") the n values are i.i.d. from
  the null, so T's null law is that of the mean of n null draws, estimated from
  ``n_resamples`` means of n draws (with replacement) from the null pool:
  p = (1 + #{T* >= T}) / (n_resamples + 1). This pools the weak evidence of many filters
  and needs no multiple-testing correction (one test per view x reference x statistic);
- "which filters": Benjamini-Hochberg q-values of the per-filter p-values within a view
  x reference, and a one-sided binomial test of the number of filters with p <= alpha
  against Binomial(n, alpha).

What H0 does not cover: training moves filters even when there is nothing to learn
(towards high-variance input directions: on random-walk price patches the momentum
direction has 3x the variance of the curvature direction, and the level direction far
more). So a rejection means "not an untrained filter", and it is only evidence of a
learned pattern where training on pattern-free data does not also reject. Early
stopping keeps that drift small but not zero, and the mean test's power grows with the
number of filters: on pattern-free synthetic markets, the default statistic (price-view
shape cosine with momentum) gave p >= 0.06 on 10/10 data seeds with 64 filters (4
models), but p < 0.05 on 4 of 8 runs with 192 filters (12 models), from a drift of
0.02-0.06 in the mean. Two defences, both in the package: a *trained null*
(:func:`two_sample_test` against the same model trained on label-shuffled data, which
has the same drift; p >= 0.10 on those same runs) and a minimum effect size in
``verdict``. Raw weight cosines are dominated by a growing level component on
last-close-normalised prices (they fall *below* the null under training), which is why
the default statistic removes the level first. Filters of one model are not independent
once trained, which only matters under the alternative.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from scipy import stats

from niftycnn.errors import FilterAnalysisError


def draw_init_filters(n: int, in_channels: int, k: int, seed: int = 0) -> np.ndarray:
    """``n`` untrained Conv1d filters (n, in_channels, k), with the layer's own init."""
    if n < 1 or in_channels < 1 or k < 1:
        raise FilterAnalysisError(f"need n, in_channels, k >= 1, got {n}, {in_channels}, {k}")
    gen = torch.Generator().manual_seed(seed)
    weight = torch.empty(n, in_channels, k, dtype=torch.float32)  # the layer's dtype
    torch.nn.init.kaiming_uniform_(weight, a=math.sqrt(5), generator=gen)
    return weight.numpy().astype(np.float64)


def upper_tail(learned: np.ndarray, null: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Monte Carlo p-value and percentile of learned values against null draws.

    ``learned`` has shape (..., S) and ``null`` (n_null, S): each of the S statistics
    (trailing axis) has its own null column. NaN in, NaN out; NaN null draws are dropped.
    Percentile = 100 * (#{null < x} + #{null == x} / 2) / n_null.
    """
    flat = learned.reshape(-1, learned.shape[-1])
    p_value = np.full(flat.shape, np.nan)
    percentile = np.full(flat.shape, np.nan)
    for s in range(flat.shape[1]):
        column = np.sort(null[:, s][~np.isnan(null[:, s])])
        if column.size == 0:
            continue
        x = flat[:, s]
        ok = ~np.isnan(x)
        below = np.searchsorted(column, x[ok], side="left")
        not_above = np.searchsorted(column, x[ok], side="right")
        n = column.size
        p_value[ok, s] = (1.0 + n - below) / (n + 1.0)
        percentile[ok, s] = 100.0 * (below + (not_above - below) / 2.0) / n
    return p_value.reshape(learned.shape), percentile.reshape(learned.shape)


def _no_nan(a: np.ndarray) -> np.ndarray:
    return a[~np.isnan(a)]


def _by_shape(pairs: Sequence[tuple[np.ndarray, np.ndarray]]) -> dict[tuple[int, int], list[int]]:
    """Positions of the (learned, null) pairs by their (NaN-free) sizes: pairs of one shape
    share one set of random draws (the draws depend on the seed and the sizes only)."""
    groups: dict[tuple[int, int], list[int]] = {}
    for i, (x, y) in enumerate(pairs):
        groups.setdefault((x.size, y.size), []).append(i)
    return groups


def mean_tests(
    pairs: Sequence[tuple[np.ndarray, np.ndarray]], n_resamples: int = 10_000, seed: int = 0
) -> list[tuple[float, float, float]]:
    """:func:`mean_test` of many (learned, null) pairs at once: the resampled indices are
    drawn once per shape (the same draws ``mean_test`` makes for each pair alone) and
    every pair's null means are one product of the draws' counts with its pool."""
    clean = [(_no_nan(x), _no_nan(y)) for x, y in pairs]
    out = [(float("nan"),) * 3] * len(clean)
    for (n, m), members in _by_shape(clean).items():
        if n == 0 or m == 0:
            continue
        pools = np.stack([clean[i][1] for i in members], axis=1)  # (m, S)
        rng = np.random.default_rng(seed)
        means = np.empty((n_resamples, len(members)))
        chunk = max(1, 2_000_000 // n)
        for start in range(0, n_resamples, chunk):
            stop = min(n_resamples, start + chunk)
            draws = rng.integers(0, m, (stop - start, n))
            rows = np.arange(stop - start)[:, None] * m
            counts = np.bincount((rows + draws).ravel(), minlength=(stop - start) * m)
            means[start:stop] = counts.reshape(stop - start, m) @ pools / n
        for j, i in enumerate(members):
            observed = float(clean[i][0].mean())
            p = (1.0 + np.sum(means[:, j] >= observed)) / (n_resamples + 1.0)
            out[i] = (observed, float(pools[:, j].mean()), float(p))
    return out


def mean_test(
    learned: np.ndarray, null: np.ndarray, n_resamples: int = 10_000, seed: int = 0
) -> tuple[float, float, float]:
    """Test the mean of ``learned`` against means of as many draws from ``null``.

    Returns (observed mean, null mean, p). NaNs are dropped on both sides.
    """
    return mean_tests([(learned, null)], n_resamples, seed)[0]


def bh_qvalues(p_values: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values) of a 1-D array; NaN kept as NaN."""
    q = np.full(p_values.shape, np.nan)
    ok = ~np.isnan(p_values)
    if ok.any():
        q[ok] = stats.false_discovery_control(p_values[ok], method="bh")
    return q


def share_test(p_values: np.ndarray, alpha: float) -> tuple[int, int, float]:
    """(#significant, n, one-sided binomial p) for "more filters with p <= alpha than alpha n".

    The Monte Carlo p-values are discrete (steps of 1/(n_null+1)), so P(p <= alpha) under
    H0 is at most alpha: the binomial test is (slightly) conservative.
    """
    p = p_values[~np.isnan(p_values)]
    hits = int(np.sum(p <= alpha))
    if p.size == 0:
        return 0, 0, float("nan")
    return hits, int(p.size), float(stats.binom.sf(hits - 1, p.size, alpha))


def two_sample_tests(
    pairs: Sequence[tuple[np.ndarray, np.ndarray]], n_resamples: int = 10_000, seed: int = 0
) -> list[tuple[float, float]]:
    """:func:`two_sample_test` of many (learned, reference) pairs at once: the
    permutations are drawn once per shape (the ones ``two_sample_test`` draws for each
    pair alone) and each pair's permuted means are products of the permutations'
    membership masks with its pooled sample."""
    clean = [(_no_nan(x), _no_nan(y)) for x, y in pairs]
    out = [(float("nan"),) * 2] * len(clean)
    for (n, m), members in _by_shape(clean).items():
        if n == 0 or m == 0:
            continue
        pooled = np.stack([np.concatenate(clean[i]) for i in members], axis=1)  # (n + m, S)
        rng = np.random.default_rng(seed)
        diffs = np.empty((n_resamples, len(members)))
        chunk = max(1, 2_000_000 // (n + m))
        for start in range(0, n_resamples, chunk):
            stop = min(n_resamples, start + chunk)
            perm = rng.permuted(np.tile(np.arange(n + m), (stop - start, 1)), axis=1)
            first = np.zeros(perm.shape)
            np.put_along_axis(first, perm[:, :n], 1.0, axis=1)
            diffs[start:stop] = first @ pooled / n - (1.0 - first) @ pooled / m
        for j, i in enumerate(members):
            x, y = clean[i]
            observed = x.mean() - y.mean()
            p = (1.0 + np.sum(diffs[:, j] >= observed - 1e-12)) / (n_resamples + 1.0)
            out[i] = (float(y.mean()), float(p))
    return out


def two_sample_test(
    learned: np.ndarray, reference: np.ndarray, n_resamples: int = 10_000, seed: int = 0
) -> tuple[float, float]:
    """One-sided permutation test of mean(learned) > mean(reference); returns (ref mean, p).

    For a *trained* null (filters of the same model trained on label-shuffled or
    pattern-free data): under H0 both samples come from one law, so their labels are
    exchangeable; p = (1 + #{permuted difference >= observed}) / (n_resamples + 1).
    """
    return two_sample_tests([(learned, reference)], n_resamples, seed)[0]
