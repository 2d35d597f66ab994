"""Trading metrics of a daily return series, and a per-year table.

Notation: r_1..r_n the strategy's daily simple returns (net of costs unless stated),
P = periods_per_year (252), rf = annual risk-free rate, rf_d = rf / P per day,
E_t = prod_{s<=t} (1 + r_s) with E_0 = 1 (the starting capital counts as a peak).

- total return = E_n - 1
- annualised return (CAGR) = E_n ** (P / n) - 1
- annualised volatility = std(r, ddof=1) * sqrt(P)
- Sharpe = mean(r - rf_d) / std(r - rf_d, ddof=1) * sqrt(P)  (Sharpe 1994; NaN if std=0)
- Sortino = mean(r - rf_d) / DD * sqrt(P), downside deviation
  DD = sqrt( (1/n) * sum_t min(r_t - rf_d, 0)^2 ), over *all* n days with the risk-free
  rate as the minimum acceptable return (Sortino & Price 1994; NaN if DD=0)
- drawdown_t = 1 - E_t / max_{s<=t} E_s; maximum drawdown = max_t drawdown_t (a
  positive fraction); its duration = the longest run of consecutive days with
  drawdown_t > 0 (peak to recovery, or to the end if never recovered), in trading days
- Calmar = annualised return / maximum drawdown (Young 1991; NaN if no drawdown)
- hit rate = share of trades with net return > 0; average win / loss = mean net return
  of trades with net return > 0 / <= 0 (the loss is <= 0)
- turnover = sum_t |Δposition_t| / n * P (two-way, per year, in units of equity)
- exposure = mean_t |position_t| (fraction of time in the market for +-1 positions)
- number of trades = rows of the trade list (see engine.py for what a trade is).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from niftycnn.backtest.engine import BacktestResult

TRADING_METRICS: tuple[str, ...] = (
    "total_return",
    "annual_return",
    "annual_volatility",
    "sharpe",
    "sortino",
    "max_drawdown",
    "max_drawdown_duration",
    "calmar",
    "hit_rate",
    "avg_win",
    "avg_loss",
    "turnover",
    "exposure",
    "n_trades",
)


def _safe_div(a: float, b: float) -> float:
    return float(a / b) if b > 0 and np.isfinite(b) else float("nan")


def sharpe_rows(
    returns: np.ndarray, periods_per_year: int = 252, risk_free: float = 0.0
) -> np.ndarray:
    """Annualised Sharpe along the last axis (every row of a resample at once):
    mean(r - rf_d) / std(r - rf_d, ddof=1) * sqrt(P); NaN where std = 0 or n < 2."""
    x = np.asarray(returns, dtype=float) - risk_free / periods_per_year
    if x.shape[-1] < 2:
        return np.full(x.shape[:-1], np.nan)
    sd = x.std(axis=-1, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sd > 0, x.mean(axis=-1) / sd, np.nan) * np.sqrt(periods_per_year)


def sharpe_ratio(returns: np.ndarray, periods_per_year: int = 252, risk_free: float = 0.0) -> float:
    """Annualised Sharpe of one return series (see :func:`sharpe_rows`)."""
    return float(sharpe_rows(np.asarray(returns, dtype=float), periods_per_year, risk_free))


def sortino_ratio(
    returns: np.ndarray, periods_per_year: int = 252, risk_free: float = 0.0
) -> float:
    """Annualised Sortino: mean(r - rf_d) / sqrt(mean(min(r - rf_d, 0)^2)) * sqrt(P)."""
    x = np.asarray(returns, dtype=float) - risk_free / periods_per_year
    if len(x) == 0:
        return float("nan")
    dd = np.sqrt(np.mean(np.minimum(x, 0.0) ** 2))
    return _safe_div(x.mean(), dd) * np.sqrt(periods_per_year)


def drawdown(returns: np.ndarray) -> np.ndarray:
    """drawdown_t = 1 - E_t / max(1, max_{s<=t} E_s), with E_t = prod_{s<=t}(1 + r_s)."""
    equity = np.cumprod(1.0 + np.asarray(returns, dtype=float))
    peak = np.maximum.accumulate(np.maximum(equity, 1.0))
    return 1.0 - equity / peak


def max_drawdown(returns: np.ndarray) -> tuple[float, int]:
    """Maximum drawdown (positive fraction) and the longest underwater run in periods."""
    dd = drawdown(returns)
    if len(dd) == 0:
        return float("nan"), 0
    under = dd > 1e-15
    # Length of the current underwater run at each t: t - (last index not underwater).
    idx = np.arange(len(dd))
    last_dry = np.maximum.accumulate(np.where(~under, idx, -1))
    return float(dd.max()), int((idx - last_dry).max())


def trading_metrics(
    result: BacktestResult, periods_per_year: int = 252, risk_free: float = 0.0, net: bool = True
) -> dict[str, float]:
    """Every metric of the module docstring for one backtest, as a flat dict."""
    r = result.net if net else result.gross
    n = len(r)
    total = float(np.prod(1.0 + r) - 1.0)
    annual = float((1.0 + total) ** (periods_per_year / n) - 1.0) if n else float("nan")
    mdd, mdd_len = max_drawdown(r)
    trade_ret = result.trades["net_return" if net else "gross_return"].to_numpy(dtype=float)
    wins, losses = trade_ret[trade_ret > 0], trade_ret[trade_ret <= 0]
    return {
        "total_return": total,
        "annual_return": annual,
        "annual_volatility": float(np.std(r, ddof=1) * np.sqrt(periods_per_year))
        if n > 1
        else float("nan"),
        "sharpe": sharpe_ratio(r, periods_per_year, risk_free),
        "sortino": sortino_ratio(r, periods_per_year, risk_free),
        "max_drawdown": mdd,
        "max_drawdown_duration": float(mdd_len),
        "calmar": _safe_div(annual, mdd),
        "hit_rate": float(len(wins) / len(trade_ret)) if len(trade_ret) else float("nan"),
        "avg_win": float(wins.mean()) if len(wins) else float("nan"),
        "avg_loss": float(losses.mean()) if len(losses) else float("nan"),
        "turnover": float(result.turnover.sum() / n * periods_per_year) if n else float("nan"),
        "exposure": float(np.abs(result.held).mean()) if n else float("nan"),
        "n_trades": float(len(trade_ret)),
    }


def per_year_table(
    results: dict[str, BacktestResult], periods_per_year: int = 252, risk_free: float = 0.0
) -> pd.DataFrame:
    """Tidy per-(model, year) table: return, volatility, Sharpe, max drawdown, days.

    Year return = prod(1 + r) - 1 over that calendar year's days; volatility and Sharpe are
    annualised as above; max drawdown restarts from the year's opening equity.
    """
    frames = []
    for model, res in results.items():
        years = res.dates.year.to_numpy()
        r = res.net
        bounds = np.flatnonzero(np.diff(years)) + 1
        starts = np.concatenate(([0], bounds))
        ends = np.concatenate((bounds, [len(r)]))
        log_sum = np.add.reduceat(np.log1p(r), starts)
        rows = {
            "model": model,
            "year": years[starts],
            "return": np.expm1(log_sum),
            "volatility": [
                np.std(r[a:b], ddof=1) * np.sqrt(periods_per_year) if b - a > 1 else np.nan
                for a, b in zip(starts, ends, strict=True)
            ],
            "sharpe": [
                sharpe_ratio(r[a:b], periods_per_year, risk_free)
                for a, b in zip(starts, ends, strict=True)
            ],
            "max_drawdown": [max_drawdown(r[a:b])[0] for a, b in zip(starts, ends, strict=True)],
            "days": ends - starts,
        }
        frames.append(pd.DataFrame(rows))
    if not frames:
        return pd.DataFrame(columns=["model", "year", "return", "volatility", "sharpe"])
    return pd.concat(frames, ignore_index=True)
