"""Cross-sectional evaluation of one model's predictions on a universe: quantile
portfolios, the long-short spread with costs, and the rank IC per date.

Conventions (``[backtest]``, :class:`~niftycnn.config.BacktestConfig`):

- **Score**: the model's ``signal`` (expected return, P(up) - P(down), or the class
  direction; ``niftycnn.backtest.signals``) at the window's end t.
- **Rebalance dates**: every ``rebalance`` sessions of the test dates (0: the median
  label horizon h), from the first one. At each, the symbols with a score and a label are
  ranked (ties share the average rank) and sorted into ``quantiles`` portfolios:
  q = floor(Q (rank - 1/2) / n), 0 the lowest score. A portfolio's weights are equal or
  proportional to 1 / sigma_i (``weighting = "volatility"``; sigma_i the symbol's
  trailing 20-session volatility of daily log returns at t, from its closes up to t),
  summing to 1.
- **Holding**: each position earns its label return, exp(y_return) - 1, from t's close
  to its label end (h of its sessions), so with rebalance = h the periods do not overlap
  and compound into the long-short equity.
- **Long-short**: long portfolio Q - 1, short portfolio 0, one unit each: gross period
  return = R_long - R_short. Turnover = sum_i |w_it - w_i,t-1| over both legs (w > 0
  long, < 0 short; the first rebalance buys both legs: 2); net = gross - c x turnover,
  c = (cost_bps + slippage_bps) / 1e4 per unit traded on each side.
- **Rank IC**: on every test date with >= 3 symbols, the Spearman correlation between
  score and label return across the symbols. ICIR = mean IC / sd IC (per date, not
  annualised). Consecutive ICs overlap by h - 1 sessions, so the p-value of "mean IC >
  0" is a t-test with the long-run variance of that overlap
  (:func:`niftycnn.backtest.significance.mean_test`); the long-short's "mean net return
  > 0" is the same test with no overlap (the periods do not overlap).
- **Sharpe**: of the net period returns, annualised with periods_per_year / rebalance,
  with a block-bootstrap interval over rebalance dates (blocks of the label horizon,
  or ``[backtest] block`` sessions, in periods; at least 1).
- **Monotonicity**: the Spearman correlation of the portfolios' mean returns with their
  rank (1: returns rise with every step up in score).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from niftycnn.backtest.signals import signal_scores
from niftycnn.backtest.significance import bootstrap_ci, mean_test
from niftycnn.config import BacktestConfig
from niftycnn.schema import labelled

VOL_WINDOW = 20
MIN_SYMBOLS_IC = 3


@dataclass(frozen=True)
class CrossSection:
    """One model's cross-sectional tables (module docstring). ``periods``: one row per
    rebalance date (long, short, gross, turnover, net, n). ``quantiles``: mean period
    return and mean size of each portfolio. ``ic``: rank IC per date. ``stats``: the
    summary numbers."""

    periods: pd.DataFrame
    quantiles: pd.DataFrame
    ic: pd.Series
    stats: dict[str, float]


def trailing_volatility(closes: pd.DataFrame, window: int = VOL_WINDOW) -> pd.DataFrame:
    """date x symbol: sd of each symbol's last ``window`` daily log returns (its own
    bars, up to and including the date); NaN before it has ``window // 2`` returns."""
    out = {}
    for s in closes.columns:
        c = closes[s].dropna()
        out[s] = np.log(c).diff().rolling(window, min_periods=window // 2).std()
    return pd.DataFrame(out).reindex(closes.index)


def rebalance_step(rows: pd.DataFrame, config: BacktestConfig) -> int:
    """Sessions between rebalances: ``[backtest] rebalance``, else the median horizon."""
    if config.rebalance:
        return int(config.rebalance)
    h = labelled(rows)["horizon"].to_numpy(float)
    return max(round(float(np.median(h))) if len(h) else 1, 1)


def cross_section(
    rows: pd.DataFrame,
    config: BacktestConfig,
    volatility: pd.DataFrame | None = None,
    seed: int = 0,
) -> CrossSection:
    """The cross-sectional evaluation of one model's rows of one path (module
    docstring); ``volatility`` (:func:`trailing_volatility`) is needed for volatility
    weights."""
    lab = labelled(rows)
    frame = pd.DataFrame(
        {
            "date": lab.index,
            "symbol": lab["symbol"].to_numpy(),
            "score": signal_scores(lab, config.signal),
            "ret": np.expm1(lab["y_return"].to_numpy(float)),
            "log_ret": lab["y_return"].to_numpy(float),
        }
    )
    frame = frame[np.isfinite(frame["score"].to_numpy())]
    step = rebalance_step(rows, config)
    ic = rank_ic(frame)
    dates = np.unique(frame["date"].to_numpy())
    at = frame[frame["date"].isin(dates[::step])]
    weights = _weights(at, config, volatility)
    periods, quantiles = _portfolios(at, weights, config)
    stats = _stats(periods, quantiles, ic, config, step, rows, seed)
    return CrossSection(periods, quantiles, ic, stats)


def rank_ic(frame: pd.DataFrame) -> pd.Series:
    """Spearman IC of score vs log return per date (dates with >= 3 symbols and scores
    that are not all equal), vectorised over dates."""
    g = frame.groupby("date", sort=True)
    n = g["score"].transform("size")
    spread = g["score"].transform("nunique")
    keep = (n >= MIN_SYMBOLS_IC) & (spread > 1)
    f = frame[keep.to_numpy()]
    if f.empty:
        return pd.Series(dtype=float, name="ic")
    g = f.groupby("date", sort=True)
    centre = (g["score"].transform("size") + 1) / 2  # the mean rank
    a = g["score"].rank() - centre
    b = g["log_ret"].rank() - centre
    parts = pd.DataFrame({"date": f["date"], "ab": a * b, "aa": a * a, "bb": b * b})
    sums = parts.groupby("date", sort=True).sum()
    den = np.sqrt(sums["aa"] * sums["bb"])
    ic = (sums["ab"] / den.where(den > 0)).rename("ic")
    ic.index = pd.DatetimeIndex(ic.index, name="date")
    return ic.dropna()


def _weights(
    at: pd.DataFrame, config: BacktestConfig, volatility: pd.DataFrame | None
) -> pd.DataFrame:
    """Each row's portfolio (0 .. Q - 1) and its weight inside it (summing to 1)."""
    q = config.quantiles
    g = at.groupby("date", sort=True)["score"]
    n = g.transform("size").to_numpy(float)
    rank = g.rank(method="average").to_numpy(float)
    bucket = np.clip(np.floor(q * (rank - 0.5) / n), 0, q - 1).astype(np.int64)
    raw = np.ones(len(at))
    if config.weighting == "volatility":
        if volatility is None:
            raise ValueError("volatility weights need the trailing volatility table")
        stack = volatility.stack()
        sig = stack.reindex(pd.MultiIndex.from_arrays([at["date"], at["symbol"]])).to_numpy()
        fallback = np.nanmedian(sig) if np.isfinite(sig).any() else 1.0
        raw = 1.0 / np.where(np.isfinite(sig) & (sig > 0), sig, fallback)
    out = pd.DataFrame(
        {"date": at["date"].to_numpy(), "symbol": at["symbol"].to_numpy(), "q": bucket, "raw": raw}
    )
    out["w"] = out["raw"] / out.groupby(["date", "q"])["raw"].transform("sum")
    return out


def _portfolios(
    at: pd.DataFrame, weights: pd.DataFrame, config: BacktestConfig
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per rebalance date the long, short and long-short returns, turnover and net; per
    portfolio its mean return over the dates."""
    q = config.quantiles
    w = weights.assign(ret=at["ret"].to_numpy())
    w["contrib"] = w["w"] * w["ret"]
    by_q = w.pivot_table(index="date", columns="q", values="contrib", aggfunc="sum")
    size = w.pivot_table(index="date", columns="q", values="w", aggfunc="size")
    by_q = by_q.reindex(columns=range(q))
    long = by_q[q - 1].fillna(0.0)
    short = by_q[0].fillna(0.0)
    side = np.where(w["q"] == q - 1, 1.0, np.where(w["q"] == 0, -1.0, 0.0))
    signed = pd.DataFrame(
        {"date": w["date"], "symbol": w["symbol"], "w": side * w["w"].to_numpy()}
    ).pivot_table(index="date", columns="symbol", values="w", aggfunc="sum", fill_value=0.0)
    turnover = signed.diff().abs().sum(axis=1)
    turnover.iloc[:1] = signed.iloc[:1].abs().sum(axis=1).to_numpy()
    gross = long - short
    periods = pd.DataFrame(
        {
            "long": long,
            "short": short,
            "gross": gross,
            "turnover": turnover.reindex(gross.index).fillna(0.0),
            "n": w.groupby("date").size().reindex(gross.index),
        }
    )
    periods["net"] = periods["gross"] - config.cost_rate * periods["turnover"]
    periods.index = pd.DatetimeIndex(periods.index, name="date")
    quantiles = pd.DataFrame(
        {
            "quantile": range(q),
            "mean_return": by_q.mean().to_numpy(),
            "mean_size": size.reindex(columns=range(q)).mean().to_numpy(),
        }
    )
    return periods, quantiles


def _stats(
    periods: pd.DataFrame,
    quantiles: pd.DataFrame,
    ic: pd.Series,
    config: BacktestConfig,
    step: int,
    rows: pd.DataFrame,
    seed: int,
) -> dict[str, float]:
    nan = float("nan")
    h = rebalance_step(rows, BacktestConfig(rebalance=0))
    ppy = max(round(config.periods_per_year / step), 1)
    net = periods["net"].to_numpy(float)
    out: dict[str, float] = {"periods": float(len(net)), "rebalance": float(step)}
    out |= dict.fromkeys(("sharpe", "sharpe_low", "sharpe_high", "sharpe_p"), nan)
    if len(net) > 3 and np.std(net) > 0:
        block = max((config.block or h) / step, 1.0)
        ci = bootstrap_ci(
            "sharpe",
            net,
            block_len=block,
            n_boot=config.bootstrap,
            alpha=config.alpha,
            method=config.bootstrap_method,
            rng=np.random.default_rng(seed),
            periods_per_year=ppy,
        )
        out |= {"sharpe": ci.estimate, "sharpe_low": ci.low, "sharpe_high": ci.high}
        out["sharpe_p"] = mean_test(net, 1)
    years = len(net) / ppy if ppy else nan
    growth = float(np.prod(1.0 + net)) if len(net) else nan
    out["annual_return"] = growth ** (1 / years) - 1 if years and growth > 0 else nan
    out["gross_mean"] = float(periods["gross"].mean()) if len(net) else nan
    out["turnover"] = float(periods["turnover"].iloc[1:].mean()) if len(net) > 1 else nan
    values = ic.to_numpy(float)
    out["ic_dates"] = float(len(values))
    out |= dict.fromkeys(("mean_ic", "ic_sd", "icir", "ic_p"), nan)
    if len(values):
        out["mean_ic"] = float(values.mean())
    if len(values) > 2:
        sd = float(values.std(ddof=1))
        out["ic_sd"] = sd
        out["icir"] = float(values.mean() / sd) if sd > 0 else nan
        out["ic_p"] = mean_test(values, h)
    means = quantiles["mean_return"].to_numpy(float)
    ok = np.isfinite(means)
    out["monotonicity"] = (
        float(pd.Series(means[ok]).corr(pd.Series(np.arange(len(means))[ok]), "spearman"))
        if ok.sum() > 2
        else nan
    )
    return out
