"""Vectorised backtest of one model's predictions against the close series.

Conventions (all returns are simple returns, indexed by the close at which they end):

- ``held[t]``: the position decided at t's close and held from t's close to t+1's close
  (fraction of equity; 0 on calendar days with no prediction).
- ``r[t] = close[t] / close[t-1] - 1`` (0 on the first calendar day).
- ``turnover[t] = |held[t] - held[t-1]|`` with ``held[-1] = 0``: traded at t's close.
- ``gross[t]``: the strategy return from t-1's close to t's close.
  Daily holding: ``gross[t] = held[t-1] * r[t]`` (equity fraction re-set every close).
  Label-end holding (``"label_end"``, formerly ``"expiry"``): a *static* trade of
  ``pos`` entered at close ``P_e`` and untouched until the label end's close, marked to
  market daily:
  ``gross[t] = pos * (P_t - P_{t-1}) / (P_e + pos * (P_{t-1} - P_e))``, so that the
  product of (1 + gross) over the trade equals ``1 + pos * (P_exit / P_e - 1)`` exactly.
- ``net[t] = gross[t] - c * turnover[t]`` with ``c = (cost_bps + slippage_bps) / 1e4``:
  costs are charged at the close where the position changes, on every change (entry,
  exit, reversal, resize).
- Equity: ``E_t = prod_{s <= t} (1 + net[s])`` (and the same with gross), ``E_{-1} = 1``.
- Label-end holding exits at the last session on or before the label end
  (``label_end``: the expiry, the horizon's last day or the first barrier touch); signals
  whose label end lies beyond the close series (unlabelled windows) open no trade.
- Trades: daily holding, a maximal run of days with the same non-zero position;
  label-end holding, each trade taken. A trade's gross return is the product of (1 + gross) over
  its days; its net return subtracts a round trip ``2 * c * |pos|``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from niftycnn.backtest.signals import (
    positions_from_scores,
    select_non_overlapping,
    signal_scores,
)
from niftycnn.config import BacktestConfig
from niftycnn.errors import BacktestError
from niftycnn.schema import require_columns


@dataclass(frozen=True)
class BacktestResult:
    """One model's backtest on the calendar ``dates`` (arrays aligned with it)."""

    dates: pd.DatetimeIndex
    held: np.ndarray
    turnover: np.ndarray
    gross: np.ndarray
    net: np.ndarray
    trade_id: np.ndarray  # 1..n_trades for days a trade is held from, 0 when flat
    trades: pd.DataFrame  # entry, exit, position, gross_return, net_return
    market: np.ndarray | None = None  # r[t] = close[t] / close[t-1] - 1, 0 on day 0

    def equity(self, net: bool = True) -> pd.Series:
        """Equity curve E_t = prod_{s<=t}(1 + ret_s), starting from 1 before the first day."""
        ret = self.net if net else self.gross
        return pd.Series(np.cumprod(1.0 + ret), index=self.dates, name="equity")


def validate_close(close: pd.Series) -> pd.Series:
    """Check the close series: DatetimeIndex, increasing, unique, finite and positive."""
    if not isinstance(close, pd.Series) or not isinstance(close.index, pd.DatetimeIndex):
        raise BacktestError("close must be a pd.Series indexed by a DatetimeIndex")
    if not close.index.is_monotonic_increasing or close.index.has_duplicates:
        raise BacktestError("close index must be strictly increasing dates; sort it")
    values = close.to_numpy(dtype=float)
    if not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise BacktestError("close has non-finite or non-positive prices; clean it first")
    return close


def _locate(index: pd.DatetimeIndex, dates: pd.DatetimeIndex, what: str) -> np.ndarray:
    pos = index.get_indexer(dates)
    if np.any(pos < 0):
        bad = dates[pos < 0][0]
        raise BacktestError(f"{what} date {bad.date()} is not a session of the close series")
    return pos


def _trades_from_runs(held: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Entry and exit indices of maximal runs of equal non-zero position, and trade ids."""
    prev = np.concatenate(([0.0], held[:-1]))
    start = (held != 0) & (held != prev)
    trade_id = np.where(held != 0, np.cumsum(start), 0)
    entry = np.flatnonzero(start)
    nxt = np.concatenate((held[1:], [0.0]))
    exit_ = np.flatnonzero((held != 0) & (held != nxt)) + 1
    return entry, np.minimum(exit_, len(held) - 1), trade_id


def backtest_model(
    predictions: pd.DataFrame, close: pd.Series, config: BacktestConfig
) -> BacktestResult:
    """Backtest one model's rows of the predictions frame (index ``date``)."""
    holding_columns = ["label_end"] if config.holding != "daily" else []
    require_columns(predictions, ["r_pred", *holding_columns])
    if len(predictions) == 0:
        raise BacktestError("predictions frame has no rows for this model; nothing to backtest")
    if predictions.index.has_duplicates:
        raise BacktestError("predictions of one model have duplicate dates; one row per date")
    predictions = predictions.sort_index()
    sessions = close.index
    prices = close.to_numpy(dtype=float)
    pred_pos = _locate(sessions, pd.DatetimeIndex(predictions.index), "prediction")
    pos = positions_from_scores(
        signal_scores(predictions, config.signal),
        band=config.band,
        long_short=config.long_short,
        sizing=config.sizing,
        scale=config.scale,
    )
    last_session = len(sessions) - 1
    if config.holding != "daily":
        expiry = pd.DatetimeIndex(predictions["label_end"])
        exit_all = sessions.searchsorted(expiry, side="right") - 1
        ok = (pos != 0) & expiry.notna() & (expiry <= sessions[-1]) & (exit_all > pred_pos)
        cand_entry, cand_exit, cand_pos = pred_pos[ok], exit_all[ok], pos[ok]
        taken = select_non_overlapping(cand_entry, cand_exit)
        entry, exit_, tpos = cand_entry[taken], cand_exit[taken], cand_pos[taken]
        end = max(min(pred_pos[-1] + 1, last_session), exit_[-1] if len(exit_) else 0)
    else:
        end = min(pred_pos[-1] + 1, last_session) if len(pred_pos) else 0
    start = pred_pos[0] if len(pred_pos) else 0
    n = end - start + 1
    p = prices[start : end + 1]
    r = np.concatenate(([0.0], p[1:] / p[:-1] - 1.0))
    held = np.zeros(n)
    if config.holding != "daily":
        diff = np.zeros(n + 1)
        np.add.at(diff, entry - start, tpos)
        np.add.at(diff, exit_ - start, -tpos)
        held = np.cumsum(diff)[:n]
        # Trade held over (t-1, t]: the last entry at or before t-1, if it exits after t-1.
        t_prev = np.arange(n) - 1
        k = np.searchsorted(entry - start, t_prev, side="right") - 1
        active = (k >= 0) & (t_prev < (exit_ - start)[np.maximum(k, 0)]) if len(entry) else k >= 0
        kk = np.maximum(k, 0)
        p_entry = p[(entry - start)[kk]] if len(entry) else np.ones(n)
        tp = tpos[kk] if len(entry) else np.zeros(n)
        p_prev = np.concatenate(([p[0]], p[:-1]))
        gross = np.where(active, tp * (p - p_prev) / (p_entry + tp * (p_prev - p_entry)), 0.0)
        trade_id = np.zeros(n, dtype=np.int64)
        if len(entry):
            trade_id = np.where(held != 0, np.searchsorted(entry - start, np.arange(n), "right"), 0)
        t_entry, t_exit = entry - start, exit_ - start
    else:
        held[pred_pos - start] = pos
        gross = np.concatenate(([0.0], held[:-1] * r[1:]))
        t_entry, t_exit, trade_id = _trades_from_runs(held)
        tpos = held[t_entry]
    turnover = np.abs(np.diff(held, prepend=0.0))
    net = gross - config.cost_rate * turnover
    log_g = np.cumsum(np.log1p(gross))
    trade_gross = np.expm1(log_g[t_exit] - log_g[t_entry])
    dates = sessions[start : end + 1]
    trades = pd.DataFrame(
        {
            "entry": dates[t_entry],
            "exit": dates[t_exit],
            "position": tpos,
            "gross_return": trade_gross,
            "net_return": trade_gross - 2.0 * config.cost_rate * np.abs(tpos),
        }
    )
    return BacktestResult(
        dates=pd.DatetimeIndex(dates, name="date"),
        held=held,
        turnover=turnover,
        gross=gross,
        net=net,
        trade_id=np.asarray(trade_id, dtype=np.int64),
        trades=trades,
        market=r,
    )


def buy_and_hold(close: pd.Series, dates: pd.DatetimeIndex) -> BacktestResult:
    """Benchmark: long 1 from the first to the last of ``dates``, no costs."""
    p = close.loc[dates[0] : dates[-1]].to_numpy(dtype=float)
    n = len(p)
    gross = np.concatenate(([0.0], p[1:] / p[:-1] - 1.0))
    held = np.ones(n)
    trades = pd.DataFrame(
        {
            "entry": [dates[0]],
            "exit": [dates[-1]],
            "position": [1.0],
            "gross_return": [p[-1] / p[0] - 1.0],
            "net_return": [p[-1] / p[0] - 1.0],
        }
    )
    return BacktestResult(
        dates=pd.DatetimeIndex(close.loc[dates[0] : dates[-1]].index, name="date"),
        held=held,
        turnover=np.concatenate(([1.0], np.zeros(n - 1))),
        gross=gross,
        net=gross.copy(),
        trade_id=np.ones(n, dtype=np.int64),
        trades=trades,
        market=gross.copy(),
    )


def backtest(
    predictions: pd.DataFrame, close: pd.Series, config: BacktestConfig
) -> dict[str, BacktestResult]:
    """Backtest every model of a predictions frame; keys are model names."""
    require_columns(predictions, ["model", "r_pred"])
    validate_close(close)
    return {
        str(name): backtest_model(group, close, config)
        for name, group in predictions.groupby("model", sort=False)
    }
