"""Probability of backtest overfitting (PBO) by combinatorially symmetric cross-validation
(Bailey, Borwein, López de Prado & Zhu 2017, "The probability of backtest overfitting"),
and the deflated Sharpe ratio of the selected strategy with the real number of trials.

Given the daily returns of N strategies (the models of one run, or the points of a sweep)
over T days: cut the days into S contiguous blocks; for each of the C(S, S/2) ways of
taking half the blocks as the in-sample set (the rest out of sample), select the strategy
with the best in-sample Sharpe ratio and find the relative rank w of its out-of-sample
Sharpe among the N (w = rank / (N + 1), rank 1 the worst; ties share their mean rank).
With logit l = log(w / (1 - w)), PBO = the share of combinations with l <= 0: how often
the in-sample winner is at best median out of sample. About 0.5 when all strategies are
equally skilless, near 0 when one is truly better. ``prob_oos_loss`` is the share of
combinations where the selected strategy's out-of-sample Sharpe is negative.

The deflated Sharpe ratio (``niftycnn.backtest.significance.deflated_sharpe_ratio``) of a
strategy is then computed with N trials and the variance of the N strategies' own
Sharpe ratios: the number of things actually tried, not an assumed one.

Everything is vectorised over the combinations: per-block sums and sums of squares, then
one (combinations x blocks) indicator matrix product for the in-sample moments.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats

from niftycnn.backtest.significance import deflated_sharpe_ratio
from niftycnn.errors import BacktestError


@dataclass(frozen=True)
class PBOResult:
    """PBO and the statistics of the selected strategies (see the module docstring)."""

    pbo: float
    prob_oos_loss: float
    median_logit: float
    n_strategies: int
    n_blocks: int
    n_combinations: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def _block_moments(returns: np.ndarray, n_blocks: int) -> tuple[np.ndarray, ...]:
    """(S, N) count, sum and sum of squares of each contiguous block of days."""
    bounds = np.linspace(0, len(returns), n_blocks + 1).astype(int)
    count = np.diff(bounds).astype(float)[:, None] * np.ones((1, returns.shape[1]))
    total = np.add.reduceat(returns, bounds[:-1], axis=0)
    squares = np.add.reduceat(returns**2, bounds[:-1], axis=0)
    return count, total, squares


def _sharpe(count: np.ndarray, total: np.ndarray, squares: np.ndarray) -> np.ndarray:
    """Per-period Sharpe ratio from moments (ddof = 1); 0 where the variance is 0."""
    mean = total / count
    var = (squares - total * mean) / (count - 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(var > 0, mean / np.sqrt(np.maximum(var, 0.0)), 0.0)


def probability_of_overfitting(returns: np.ndarray | pd.DataFrame, n_blocks: int = 16) -> PBOResult:
    """PBO of selecting the best-Sharpe strategy among the columns of ``returns`` (T x N
    daily returns), by CSCV over ``n_blocks`` (even) blocks of days."""
    r = np.asarray(returns, dtype=float)
    if r.ndim != 2 or r.shape[1] < 2:
        raise BacktestError(f"PBO needs returns of >= 2 strategies (T x N), got shape {r.shape}")
    if n_blocks < 2 or n_blocks % 2:
        raise BacktestError(f"PBO needs an even number of blocks >= 2, got {n_blocks}")
    if len(r) < 2 * n_blocks or not np.isfinite(r).all():
        raise BacktestError(
            f"PBO needs finite returns on >= {2 * n_blocks} days for {n_blocks} blocks, "
            f"got {len(r)}; use fewer blocks"
        )
    count, total, squares = _block_moments(r, n_blocks)
    combos = np.array(list(combinations(range(n_blocks), n_blocks // 2)))
    in_sample = np.zeros((len(combos), n_blocks))
    in_sample[np.arange(len(combos))[:, None], combos] = 1.0
    moments = [in_sample @ m for m in (count, total, squares)]
    sharpe_in = _sharpe(*moments)
    sharpe_out = _sharpe(
        *[m.sum(axis=0) - x for m, x in zip((count, total, squares), moments, strict=True)]
    )
    best = sharpe_in.argmax(axis=1)
    rows = np.arange(len(combos))
    rank = stats.rankdata(sharpe_out, axis=1)[rows, best]
    w = rank / (r.shape[1] + 1.0)
    logit = np.log(w / (1.0 - w))
    return PBOResult(
        pbo=float(np.mean(logit <= 0)),
        prob_oos_loss=float(np.mean(sharpe_out[rows, best] < 0)),
        median_logit=float(np.median(logit)),
        n_strategies=int(r.shape[1]),
        n_blocks=int(n_blocks),
        n_combinations=len(combos),
    )


def overfitting_table(
    returns: pd.DataFrame,
    reference: str,
    what: str,
    n_blocks: int = 16,
    n_trials: int | None = None,
) -> pd.DataFrame:
    """One row: PBO across the columns of ``returns`` (``what``: "models", "sweep
    points", "search trials"), the best strategy over the whole period and the
    reference, each with its Sharpe and its deflated Sharpe ratio against N = ``n_trials``
    (default: the number of columns; a search counts every trial it ran)."""
    returns = returns.dropna(how="all").fillna(0.0)
    blocks = min(n_blocks, 2 * (len(returns) // 4))
    res = probability_of_overfitting(returns, blocks)
    std = returns.std(ddof=1)
    sharpes = (returns.mean() / std.where(std > 0)).dropna()
    trial = sharpes.to_numpy(dtype=float)
    best = str(sharpes.idxmax()) if len(sharpes) else ""
    n_trials = returns.shape[1] if n_trials is None else n_trials
    row: dict[str, object] = {"set": what, **res.as_dict(), "best": best, "n_trials": n_trials}
    for label, name in (("best", best), ("reference", reference)):
        if name not in sharpes:
            continue
        row[f"{label}_sharpe_daily"] = float(sharpes[name])
        row[f"{label}_dsr"] = deflated_sharpe_ratio(returns[name].to_numpy(), n_trials, trial)
    row["reference"] = reference
    return pd.DataFrame([row])
