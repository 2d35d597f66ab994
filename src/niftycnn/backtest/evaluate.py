"""One call from a predictions frame to every table the report renders.

``evaluate(predictions, close, config)`` backtests each model, scores its predictions,
and (unless ``significance=False``) adds bootstrap intervals, permutation p-values,
PSR/DSR and Diebold-Mariano tests of the reference model ("cnn") against each baseline.
The resampling knobs are ``[backtest]``'s (``BacktestConfig``): ``block`` 0 means the
median label horizon (>= 1); the DM test always uses h = that median (rounded);
``loss`` is the DM test's per-sample loss, "log_loss" or "zero_one" (pairs where either
side has no probabilities fall back to "zero_one", and pairs where either side has no
class to the squared error of r_pred). All outputs are tidy DataFrames; the buy-and-hold
benchmark is the row/column ``"buy_and_hold"`` of the trading tables.

Several paths (CPCV, the ``path`` column of :mod:`niftycnn.schema`): each path is a full
out-of-sample history, so the backtest and the significance tests run on each path on
its own; ``paths`` has one row per (path, model) (the distribution of path Sharpes and
losses), ``metrics`` is the mean over paths, ``significance`` and ``per_fold`` /
``per_year`` stack the paths (a ``path`` column), ``equity`` / ``returns`` are the
path-mean curves, and the Diebold-Mariano tests compare losses averaged over the paths
per date (``niftycnn.backtest.losses``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from niftycnn.backtest.engine import BacktestResult, backtest, buy_and_hold, validate_close
from niftycnn.backtest.losses import loss_kind, loss_table
from niftycnn.backtest.metrics import per_year_table, sharpe_ratio, trading_metrics
from niftycnn.backtest.model_significance import Resampling, significance_row
from niftycnn.backtest.prediction_metrics import (
    classification_scores,
    confusion,
    regression_scores,
)
from niftycnn.backtest.significance import bootstrap_ci, diebold_mariano
from niftycnn.config import BacktestConfig
from niftycnn.schema import (
    labelled,
    n_classes_of,
    prediction_columns,
    proba_columns,
    require_columns,
    with_defaults,
)

BENCHMARK = "buy_and_hold"
# the columns of ``paths``: a path's trading and prediction scores
PATH_COLUMNS = (
    "sharpe",
    "sharpe_low",
    "sharpe_high",
    "total_return",
    "max_drawdown",
    "accuracy",
    "log_loss",
    "rmse",
)


@dataclass(frozen=True)
class EvaluationResult:
    """Tables for the report. ``metrics``: one row per model (and buy_and_hold), prediction
    and trading metrics as columns. ``per_fold``: (model, fold) rows. ``per_year``:
    (model, year) rows. ``equity`` / ``equity_gross``: date x model equity curves.
    ``confusion``: tidy (model, true, pred, count). ``significance``: one row per model.
    ``diebold_mariano``: one row per baseline, the reference model's loss against it:
    mean losses, their difference (model - baseline; negative = model better) with a
    block-bootstrap interval (diff_low, diff_high), the DM statistic and p-values.

    ``significance`` columns: sharpe (annualised, net) with its block-bootstrap interval
    sharpe_low/sharpe_high; sharpe_p, the circular-shift p-value of the gross Sharpe of
    held[t-1] * r[t] (the position path rotated against market returns); psr (against
    SR* = 0) and dsr (``n_trials``); accuracy and ic with intervals and permutation
    p-values (accuracy_p, ic_p); block_len, the block length used throughout.

    ``returns``: date x model daily net returns (0 where flat). ``paths``: one row per
    (path, model): :data:`PATH_COLUMNS` (one row per model for a walk-forward). With
    several paths see the module docstring; ``backtests`` are then path 0's."""

    metrics: pd.DataFrame
    per_fold: pd.DataFrame
    per_year: pd.DataFrame
    equity: pd.DataFrame
    equity_gross: pd.DataFrame
    confusion: pd.DataFrame
    significance: pd.DataFrame
    diebold_mariano: pd.DataFrame
    backtests: dict[str, BacktestResult] = field(repr=False)
    returns: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    paths: pd.DataFrame = field(default_factory=pd.DataFrame)


def prediction_scores(rows: pd.DataFrame, k: int) -> dict[str, float]:
    lab = labelled(rows)
    y_pred = lab["y_pred"].to_numpy(dtype=np.int64)
    proba = lab[proba_columns(k)].to_numpy(dtype=float)
    scores: dict[str, float] = {"n": float(len(lab))}
    if len(lab) and np.all(y_pred >= 0):
        has_proba = bool(np.all(np.isfinite(proba)))
        y_true = lab["y_true"].to_numpy()
        scores |= classification_scores(y_true, y_pred, k, proba if has_proba else None)
    else:
        scores |= classification_scores(np.array([], np.int64), np.array([], np.int64), k)
    scores |= regression_scores(
        lab["y_return"].to_numpy(), lab["r_pred"].to_numpy(), lab["train_mean"].to_numpy()
    )
    return scores


def _model_tables(
    groups: dict[str, pd.DataFrame], results: dict[str, BacktestResult], config: BacktestConfig
) -> tuple[pd.DataFrame, list[dict[str, object]], list[pd.DataFrame]]:
    """Per model: the summary row, the per-fold rows and the confusion counts."""
    ppy, rf = config.periods_per_year, config.risk_free
    metric_rows, fold_rows, cm_frames = {}, [], []
    for model, res in results.items():
        row: dict[str, object] = {**trading_metrics(res, ppy, rf)}
        if model in groups:
            rows = groups[model]
            k = n_classes_of(rows)
            row = {"task": rows["task"].iloc[0], **prediction_scores(rows, k), **row}
            lab = labelled(rows)
            cm = confusion(lab["y_true"].to_numpy(), lab["y_pred"].to_numpy(), k)
            t, p = np.indices(cm.shape)
            cm_frames.append(
                pd.DataFrame(
                    {"model": model, "true": t.ravel(), "pred": p.ravel(), "count": cm.ravel()}
                )
            )
            for fold, frows in rows.groupby("fold"):
                lo, hi = frows.index.min(), frows.index.max()
                r_fold = res.net[(res.dates >= lo) & (res.dates <= hi)]
                fold_rows.append(
                    {
                        "model": model,
                        "fold": int(fold),
                        "start": lo,
                        "end": hi,
                        **prediction_scores(frows, k),
                        "sharpe": sharpe_ratio(r_fold, ppy, rf),
                        "total_return": float(np.prod(1.0 + r_fold) - 1.0),
                    }
                )
        metric_rows[model] = row
    metrics = pd.DataFrame.from_dict(metric_rows, orient="index")
    metrics.index.name = "model"
    return metrics, fold_rows, cm_frames


def evaluate(
    predictions: pd.DataFrame,
    close: pd.Series,
    config: BacktestConfig | None = None,
    *,
    n_trials: int = 1,
    seed: int = 0,
    reference: str = "cnn",
    significance: bool = True,
    progress: bool = False,
) -> EvaluationResult:
    """Backtest, score and test every model of ``predictions`` (see the module docstring),
    each path on its own.

    ``n_trials``: how many configurations were tried (a sweep's size), for the deflated
    Sharpe ratio; ``seed`` seeds the resampling; ``reference``: the model the
    Diebold-Mariano tests compare with each baseline; ``progress`` shows a bar over the
    models' significance tests (the slow part: bootstrap and permutation resamples).
    """
    config = config or BacktestConfig()
    predictions = with_defaults(predictions)
    require_columns(predictions, prediction_columns(n_classes_of(predictions)))
    validate_close(close)
    horizons = labelled(predictions)["horizon"].to_numpy(dtype=float)
    median_h = max(float(np.median(horizons)) if len(horizons) else 1.0, 1.0)
    rs = Resampling(config, config.block or median_h, n_trials)
    by_path = {int(p): rows for p, rows in predictions.groupby("path", sort=True)}
    results = {
        p: _evaluate_path(rows, close, rs, seed, significance, progress)
        for p, rows in by_path.items()
    }
    result = results[min(results)] if len(results) == 1 else _combine(results)
    if significance:
        groups = dict(tuple(predictions.groupby("model", sort=False)))
        dm = dm_table(groups, config, reference, round(median_h), seed)
        result = replace(result, diebold_mariano=dm)
    return result


def _evaluate_path(
    predictions: pd.DataFrame,
    close: pd.Series,
    rs: Resampling,
    seed: int,
    significance: bool,
    progress: bool,
) -> EvaluationResult:
    """Every table but the Diebold-Mariano tests, for one path's predictions."""
    config = rs.config
    results = backtest(predictions, close, config)
    first = min(r.dates[0] for r in results.values())
    last = max(r.dates[-1] for r in results.values())
    results_all = {**results, BENCHMARK: buy_and_hold(close, pd.DatetimeIndex([first, last]))}
    groups = dict(tuple(predictions.groupby("model", sort=False)))
    metrics, fold_rows, cm_frames = _model_tables(groups, results_all, config)
    sig_table = pd.DataFrame()
    if significance:
        models = tqdm(list(results), desc="significance", unit="model", disable=not progress)
        sig_rows = {
            m: significance_row(groups[m], results[m], rs, seed + i) for i, m in enumerate(models)
        }
        sig_table = pd.DataFrame.from_dict(sig_rows, orient="index")
        sig_table.index.name = "model"
        sig_table["block_len"] = rs.block
    returns = pd.DataFrame({m: pd.Series(r.net, index=r.dates) for m, r in results_all.items()})
    paths = metrics.reindex(columns=list(PATH_COLUMNS)).drop(index=BENCHMARK)
    if len(sig_table):
        paths[["sharpe_low", "sharpe_high"]] = sig_table[["sharpe_low", "sharpe_high"]]
    return EvaluationResult(
        metrics=metrics,
        per_fold=pd.DataFrame(fold_rows),
        per_year=per_year_table(results_all, config.periods_per_year, config.risk_free),
        equity=pd.DataFrame({m: r.equity(net=True) for m, r in results_all.items()}),
        equity_gross=pd.DataFrame({m: r.equity(net=False) for m, r in results_all.items()}),
        confusion=pd.concat(cm_frames, ignore_index=True) if cm_frames else pd.DataFrame(),
        significance=sig_table,
        diebold_mariano=pd.DataFrame(),
        backtests=results_all,
        returns=returns.fillna(0.0),
        paths=paths.reset_index().assign(path=int(predictions["path"].iloc[0])),
    )


def _combine(results: dict[int, EvaluationResult]) -> EvaluationResult:
    """Several paths' tables as one result (see the module docstring)."""
    parts = list(results.values())

    def stacked(name: str, index: bool = False) -> pd.DataFrame:
        frames = [getattr(r, name) for r in parts]
        frames = [f.reset_index() if index else f for f in frames]
        out = [f.assign(path=p) for p, f in zip(results, frames, strict=True) if len(f)]
        return pd.concat(out, ignore_index=True) if out else pd.DataFrame()

    def mean(name: str) -> pd.DataFrame:
        return pd.concat([getattr(r, name) for r in parts]).groupby(level=0, sort=False).mean()

    first = parts[0]
    metrics = pd.concat([r.metrics.drop(columns="task", errors="ignore") for r in parts])
    metrics = metrics.groupby(level=0, sort=False).mean()
    if "task" in first.metrics:
        metrics.insert(0, "task", first.metrics["task"])
    confusion = pd.concat([r.confusion for r in parts])
    if len(confusion):
        confusion = confusion.groupby(["model", "true", "pred"], sort=False, as_index=False).sum()
    sig = stacked("significance", index=True)
    return EvaluationResult(
        metrics=metrics.rename_axis("model"),
        per_fold=stacked("per_fold"),
        per_year=stacked("per_year"),
        equity=mean("equity"),
        equity_gross=mean("equity_gross"),
        confusion=confusion,
        significance=sig.set_index("model") if len(sig) else sig,
        diebold_mariano=pd.DataFrame(),
        backtests=first.backtests,
        returns=mean("returns").fillna(0.0),
        paths=pd.concat([r.paths for r in parts], ignore_index=True),
    )


def dm_table(
    groups: dict[str, pd.DataFrame], config: BacktestConfig, ref: str, horizon: int, seed: int
) -> pd.DataFrame:
    if ref not in groups:
        return pd.DataFrame()
    out = []
    for name, rows in groups.items():
        if name == ref:
            continue
        kind = loss_kind([labelled(groups[ref]), labelled(rows)], config.loss)
        losses = loss_table({ref: groups[ref], name: rows}, kind)
        loss_a, loss_b = losses[ref], losses[name]
        res = diebold_mariano(loss_a, loss_b, horizon)
        diff = bootstrap_ci(
            "mean",
            (loss_a - loss_b).to_numpy(),
            block_len=max(horizon, 1),
            n_boot=config.bootstrap,
            alpha=config.alpha,
            method=config.bootstrap_method,
            rng=np.random.default_rng(seed),
        )
        out.append(
            {
                "model": ref,
                "baseline": name,
                "loss": kind,
                "n": res.n,
                "horizon": res.horizon,
                "model_loss": float(loss_a.mean()),
                "baseline_loss": float(loss_b.mean()),
                "mean_loss_diff": res.mean_diff,
                "diff_low": diff.low,
                "diff_high": diff.high,
                "dm": res.statistic,
                "p_value": res.p_value,
                "p_model_better": res.p_less,
            }
        )
    return pd.DataFrame(out)


def comparison_outcome(ci_low: float, ci_high: float, p_value: float, alpha: float) -> str:
    """``beats`` / ``worse`` / ``ties``: the one rule by which the report and
    ``verdict.json`` read a comparison row. The CNN beats a baseline when the difference's
    ``1 - alpha`` interval lies above 0 *and* the one-sided test rejects at ``alpha``
    (both, so that one resampling scheme's luck alone decides nothing); worse, mirrored."""
    if p_value < alpha and ci_low > 0:
        return "beats"
    if p_value < alpha and ci_high < 0:
        return "worse"
    return "ties"


def comparison_table(dm: pd.DataFrame) -> pd.DataFrame:
    """The verdict's rows: the reference model vs each baseline on the per-sample loss, as
    improvements.

    ``difference`` = baseline loss - CNN loss (positive: the CNN is better), with the
    block-bootstrap interval of that difference and the one-sided Diebold-Mariano p-value
    of "the CNN's loss is lower".
    """
    if dm.empty:
        return pd.DataFrame()
    return pd.DataFrame(
        {
            "baseline": dm["baseline"],
            "metric": dm["loss"].str.replace("_", " ") + " (lower is better)",
            "cnn": dm["model_loss"],
            "baseline_value": dm["baseline_loss"],
            "difference": -dm["mean_loss_diff"],
            "ci_low": -dm["diff_high"],
            "ci_high": -dm["diff_low"],
            "p_value": dm["p_model_better"],
            "test": "one-sided Diebold-Mariano",
        }
    )
