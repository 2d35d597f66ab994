"""One call from a universe's predictions to every table its report renders.

``evaluate_universe(predictions, closes, config)`` evaluates each model

- *across* the symbols (:mod:`niftycnn.backtest.cross_section`): quantile portfolios,
  the long-short spread after costs with its Sharpe, interval and p-value, turnover,
  rank IC per date and ICIR; every baseline ranked the same way;
- *per symbol*, as a single series (:func:`niftycnn.backtest.evaluate` on the symbol's
  rows and closes, without the resampling tests): one row per (symbol, model);
- *pooled*: the prediction scores over every (date, symbol) row, and the
  Diebold-Mariano tests of the reference model against each baseline on the panel's
  loss per date (``niftycnn.backtest.losses``).

Several paths (CPCV): the cross-section runs on each path; ``cross_section`` has one row
per (model, path), the summary the mean over paths, and the curves are path 0's.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from niftycnn.backtest.cross_section import CrossSection, cross_section, trailing_volatility
from niftycnn.backtest.evaluate import dm_table, evaluate, prediction_scores
from niftycnn.config import BacktestConfig
from niftycnn.errors import BacktestError
from niftycnn.schema import labelled, n_classes_of, with_defaults

XS_COLUMNS = (
    "sharpe",
    "sharpe_low",
    "sharpe_high",
    "sharpe_p",
    "annual_return",
    "turnover",
    "mean_ic",
    "ic_p",
    "icir",
    "monotonicity",
    "periods",
    "rebalance",
)


@dataclass(frozen=True)
class UniverseResult:
    """Tables for the report (module docstring). ``summary``: one row per model, pooled
    prediction scores and the cross-sectional numbers (:data:`XS_COLUMNS`, path mean).
    ``cross_section``: one row per (model, path). ``quantiles``: (model, quantile) mean
    period return and size. ``long_short``: date x model net long-short period returns;
    ``equity`` their cumulative product. ``ic``: date x model rank IC. ``per_symbol``:
    (symbol, model) single-series trading and prediction scores. ``coverage``: symbol x
    year count of predicted dates. ``diebold_mariano``: as ``evaluate``'s."""

    summary: pd.DataFrame
    cross_section: pd.DataFrame
    quantiles: pd.DataFrame
    long_short: pd.DataFrame
    equity: pd.DataFrame
    ic: pd.DataFrame
    per_symbol: pd.DataFrame
    coverage: pd.DataFrame
    diebold_mariano: pd.DataFrame


def evaluate_universe(
    predictions: pd.DataFrame,
    closes: pd.DataFrame,
    config: BacktestConfig | None = None,
    *,
    seed: int = 0,
    reference: str = "cnn",
    per_symbol: bool = True,
) -> UniverseResult:
    """Evaluate every model of a universe's ``predictions`` against ``closes`` (date x
    symbol); see the module docstring."""
    config = config or BacktestConfig()
    predictions = with_defaults(predictions)
    missing = sorted(set(predictions["symbol"]) - set(closes.columns))
    if missing:
        raise BacktestError(f"closes lack the predicted symbols {missing[:5]}; pass every one")
    vol = trailing_volatility(closes) if config.weighting == "volatility" else None
    groups = dict(tuple(predictions.groupby("model", sort=False)))
    xs_rows, q_frames, ls, ic = [], [], {}, {}
    for i, (model, rows) in enumerate(groups.items()):
        for path, part in rows.groupby("path", sort=True):
            res = cross_section(part, config, vol, seed=seed + i)
            xs_rows.append({"model": model, "path": int(path), **res.stats})
            if int(path) == int(rows["path"].min()):
                q_frames.append(res.quantiles.assign(model=model))
                ls[model], ic[model] = res.periods["net"], res.ic
    xs = pd.DataFrame(xs_rows)
    summary = _summary(groups, xs)
    long_short = pd.DataFrame(ls).sort_index()
    horizon = labelled(predictions)["horizon"].to_numpy(float)
    h = max(round(float(np.median(horizon))) if len(horizon) else 1, 1)
    return UniverseResult(
        summary=summary,
        cross_section=xs,
        quantiles=pd.concat(q_frames, ignore_index=True)[
            ["model", "quantile", "mean_return", "mean_size"]
        ],
        long_short=long_short,
        equity=(1.0 + long_short.fillna(0.0)).cumprod(),
        ic=pd.DataFrame(ic).sort_index(),
        per_symbol=_per_symbol(predictions, closes, config) if per_symbol else pd.DataFrame(),
        coverage=coverage(predictions),
        diebold_mariano=dm_table(groups, config, reference, h, seed),
    )


def _summary(groups: dict[str, pd.DataFrame], xs: pd.DataFrame) -> pd.DataFrame:
    rows = {}
    mean = xs.groupby("model", sort=False)[list(XS_COLUMNS)].mean()
    for model, part in groups.items():
        k = n_classes_of(part)
        rows[model] = {
            "task": part["task"].iloc[0],
            **prediction_scores(part, k),
            **mean.loc[model].to_dict(),
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "model"
    return out


def _per_symbol(
    predictions: pd.DataFrame, closes: pd.DataFrame, config: BacktestConfig
) -> pd.DataFrame:
    """Each symbol backtested as a single series (no resampling tests)."""
    frames = []
    first_path = predictions[predictions["path"] == predictions["path"].min()]
    for symbol, rows in first_path.groupby("symbol", sort=True):
        close = closes[symbol].dropna()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = evaluate(rows, close, config, significance=False)
        table = result.metrics.reset_index().assign(symbol=symbol)
        frames.append(table)
    out = pd.concat(frames, ignore_index=True)
    return out[["symbol", *[c for c in out.columns if c != "symbol"]]]


def coverage(predictions: pd.DataFrame) -> pd.DataFrame:
    """symbol x year: how many dates each symbol is predicted on (one model, one path)."""
    first = predictions[
        (predictions["model"] == predictions["model"].iloc[0])
        & (predictions["path"] == predictions["path"].min())
    ]
    table = pd.crosstab(first["symbol"], pd.DatetimeIndex(first.index).year)
    table.index.name, table.columns.name = "symbol", None
    table.columns = [str(c) for c in table.columns]
    return table


__all__ = ["XS_COLUMNS", "CrossSection", "UniverseResult", "coverage", "evaluate_universe"]
