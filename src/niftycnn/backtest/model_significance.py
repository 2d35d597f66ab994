"""Per-model significance: the net Sharpe with its block-bootstrap interval and
circular-shift p-value, PSR and DSR, and the accuracy and IC with intervals and
permutation p-values (the ``significance`` table of :func:`niftycnn.backtest.evaluate`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from niftycnn.backtest.engine import BacktestResult
from niftycnn.backtest.significance import (
    Interval,
    bootstrap_ci,
    deflated_sharpe_ratio,
    permutation_test,
    probabilistic_sharpe_ratio,
)
from niftycnn.config import BacktestConfig
from niftycnn.schema import labelled


@dataclass(frozen=True)
class Resampling:
    """The resampling settings of one evaluation."""

    config: BacktestConfig
    block: float  # bootstrap block length and minimum permutation shift, in sessions
    n_trials: int  # for the deflated Sharpe ratio

    def bootstrap(
        self, statistic: str, x: np.ndarray, y: np.ndarray | None, gen: np.random.Generator
    ) -> Interval:
        c = self.config
        return bootstrap_ci(
            statistic,
            x,
            y,
            block_len=self.block,
            n_boot=c.bootstrap,
            alpha=c.alpha,
            method=c.bootstrap_method,
            rng=gen,
            periods_per_year=c.periods_per_year,
        )


def _sharpe_tests(bt: BacktestResult, rs: Resampling, gen: np.random.Generator) -> dict[str, float]:
    """Net Sharpe with its interval, its circular-shift p-value, PSR and DSR."""
    nan = float("nan")
    s = rs.bootstrap("sharpe", bt.net, None, gen)
    out = {"sharpe": s.estimate, "sharpe_low": s.low, "sharpe_high": s.high}
    out |= {"psr": nan, "dsr": nan, "sharpe_p": nan}
    if bt.market is not None and len(bt.net) > 2 * rs.block + 2 and np.any(bt.held != 0):
        # Position path rotated against the market's next-day returns (gross, daily marks).
        perm = permutation_test(
            "sharpe",
            bt.held[:-1],
            bt.market[1:],
            n_perm=rs.config.permutations,
            min_shift=int(np.ceil(rs.block)),
            rng=gen,
            periods_per_year=rs.config.periods_per_year,
        )
        out["sharpe_p"] = perm.p_value
    if np.std(bt.net) > 0 and len(bt.net) > 2:
        out["psr"] = probabilistic_sharpe_ratio(bt.net)
        out["dsr"] = deflated_sharpe_ratio(bt.net, rs.n_trials)
    return out


def significance_row(
    rows: pd.DataFrame, bt: BacktestResult, rs: Resampling, seed: int
) -> dict[str, float]:
    lab = labelled(rows)
    gen = np.random.default_rng(seed)
    out = _sharpe_tests(bt, rs, gen)
    nan = float("nan")
    min_shift = int(np.ceil(rs.block))
    y_pred, y_true = lab["y_pred"].to_numpy(np.int64), lab["y_true"].to_numpy(np.int64)
    r_pred, y_ret = lab["r_pred"].to_numpy(float), lab["y_return"].to_numpy(float)
    enough = len(lab) > 2 * min_shift
    for name, x, y, ok in (
        ("accuracy", y_pred, y_true, enough and np.all(y_pred >= 0)),
        ("ic", r_pred, y_ret, enough),
    ):
        out |= {name: nan, f"{name}_low": nan, f"{name}_high": nan, f"{name}_p": nan}
        if not ok or np.all(x == x[0]):
            continue
        ci = rs.bootstrap(name, x, y, gen)
        n_perm = rs.config.permutations
        perm = permutation_test(name, x, y, n_perm=n_perm, min_shift=min_shift, rng=gen)
        out |= {name: ci.estimate, f"{name}_low": ci.low, f"{name}_high": ci.high}
        out[f"{name}_p"] = perm.p_value
    return out
