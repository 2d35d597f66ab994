"""One call from a predictions frame to every table the report renders.

``evaluate(predictions, close, config)`` backtests each model, scores its predictions,
and (unless ``significance=None``) adds bootstrap intervals, permutation p-values,
PSR/DSR and Diebold-Mariano tests of the reference model ("cnn") against each baseline.
All outputs are tidy DataFrames; the buy-and-hold NIFTY benchmark is the row/column
``"buy_and_hold"`` of the trading tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import pandas as pd

from niftycnn.backtest.engine import (
    BacktestConfig,
    BacktestResult,
    backtest,
    buy_and_hold,
    validate_close,
)
from niftycnn.backtest.metrics import per_year_table, sharpe_ratio, trading_metrics
from niftycnn.backtest.prediction_metrics import (
    EPS,
    N_CLASSES,
    classification_scores,
    confusion,
    fold_train_means,
    regression_scores,
)
from niftycnn.backtest.signals import require_columns
from niftycnn.backtest.significance import (
    bootstrap_ci,
    deflated_sharpe_ratio,
    diebold_mariano,
    permutation_test,
    probabilistic_sharpe_ratio,
)
from niftycnn.errors import ConfigError
from niftycnn.walkforward.predictions import prediction_columns, proba_columns

BENCHMARK = "buy_and_hold"


@dataclass(frozen=True)
class SignificanceConfig:
    """Resampling settings. ``block_len=None``: the median label horizon (>= 1); the DM
    test always uses h = the median label horizon (rounded, >= 1).
    ``n_trials``: the experiment's sweep size, for the deflated Sharpe ratio.
    ``classification_loss``: per-sample loss of the DM test, "log_loss" or "zero_one"
    (pairs where either side has no probabilities fall back to "zero_one", and pairs
    where either side has no class to squared error of r_pred)."""

    n_boot: int = 1000
    n_perm: int = 500
    block_len: float | None = None
    method: str = "stationary"
    alpha: float = 0.05
    n_trials: int = 1
    classification_loss: str = "log_loss"
    reference_model: str = "cnn"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.classification_loss not in ("log_loss", "zero_one"):
            raise ConfigError(
                f"classification_loss={self.classification_loss!r} is not 'log_loss' or 'zero_one'"
            )
        if self.n_boot < 1 or self.n_perm < 1 or self.n_trials < 1:
            raise ConfigError("n_boot, n_perm and n_trials must all be >= 1")
        if not 0 < self.alpha < 1:
            raise ConfigError(f"alpha must lie in (0, 1), got {self.alpha}")


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
    p-values (accuracy_p, ic_p); block_len, the block length used throughout."""

    metrics: pd.DataFrame
    per_fold: pd.DataFrame
    per_year: pd.DataFrame
    equity: pd.DataFrame
    equity_gross: pd.DataFrame
    confusion: pd.DataFrame
    significance: pd.DataFrame
    diebold_mariano: pd.DataFrame
    backtests: dict[str, BacktestResult] = field(repr=False)


def _labelled(rows: pd.DataFrame) -> pd.DataFrame:
    return rows[(rows["y_true"].to_numpy() >= 0) & np.isfinite(rows["y_return"].to_numpy(float))]


def _prediction_scores(rows: pd.DataFrame, means: Mapping[int, float]) -> dict[str, float]:
    lab = _labelled(rows)
    y_pred = lab["y_pred"].to_numpy(dtype=np.int64)
    proba = lab[proba_columns(N_CLASSES)].to_numpy(dtype=float)
    scores: dict[str, float] = {"n": float(len(lab))}
    if len(lab) and np.all(y_pred >= 0):
        has_proba = bool(np.all(np.isfinite(proba)))
        scores |= classification_scores(
            lab["y_true"].to_numpy(), y_pred, proba if has_proba else None
        )
    else:
        scores |= classification_scores(np.array([], dtype=np.int64), np.array([], dtype=np.int64))
    fold_means = pd.Series(dict(means), dtype=float)
    train_mean = fold_means.reindex(lab["fold"].to_numpy(dtype=np.int64)).to_numpy(dtype=float)
    scores |= regression_scores(lab["y_return"].to_numpy(), lab["r_pred"].to_numpy(), train_mean)
    return scores


def _per_sample_loss(rows: pd.DataFrame, kind: str) -> pd.Series:
    y = rows["y_true"].to_numpy(dtype=np.int64)
    if kind == "log_loss":
        p = rows[proba_columns(N_CLASSES)].to_numpy(dtype=float)
        loss = -np.log(np.clip(p[np.arange(len(y)), y], EPS, 1.0))
    elif kind == "zero_one":
        loss = (rows["y_pred"].to_numpy(dtype=np.int64) != y).astype(float)
    else:
        loss = (rows["y_return"].to_numpy(float) - rows["r_pred"].to_numpy(float)) ** 2
    return pd.Series(loss, index=rows.index)


def _loss_kind(a: pd.DataFrame, b: pd.DataFrame, preferred: str) -> str:
    cols = proba_columns(N_CLASSES)
    has_proba = all(np.all(np.isfinite(x[cols].to_numpy(float))) for x in (a, b))
    has_class = all(np.all(x["y_pred"].to_numpy() >= 0) for x in (a, b))
    if preferred == "log_loss" and has_proba:
        return "log_loss"
    return "zero_one" if has_class else "squared_error"


def _significance_row(
    rows: pd.DataFrame,
    bt: BacktestResult,
    sig: SignificanceConfig,
    block: float,
    seed: int,
    ppy: int,
) -> dict[str, float]:
    lab = _labelled(rows)
    gen = np.random.default_rng(seed)
    boot = partial(
        bootstrap_ci,
        block_len=block,
        n_boot=sig.n_boot,
        alpha=sig.alpha,
        method=sig.method,
        rng=gen,
        periods_per_year=ppy,
    )
    out: dict[str, float] = {}
    s = boot("sharpe", bt.net)
    out |= {"sharpe": s.estimate, "sharpe_low": s.low, "sharpe_high": s.high}
    nan = float("nan")
    out |= {"psr": nan, "dsr": nan, "sharpe_p": nan}
    if bt.market is not None and len(bt.net) > 2 * block + 2 and np.any(bt.held != 0):
        # Position path rotated against the market's next-day returns (gross, daily marks).
        perm_sr = permutation_test(
            "sharpe",
            bt.held[:-1],
            bt.market[1:],
            n_perm=sig.n_perm,
            min_shift=int(np.ceil(block)),
            rng=gen,
            periods_per_year=ppy,
        )
        out["sharpe_p"] = perm_sr.p_value
    if np.std(bt.net) > 0 and len(bt.net) > 2:
        out["psr"] = probabilistic_sharpe_ratio(bt.net)
        out["dsr"] = deflated_sharpe_ratio(bt.net, sig.n_trials)
    min_shift = int(np.ceil(block))
    y_pred, y_true = lab["y_pred"].to_numpy(np.int64), lab["y_true"].to_numpy(np.int64)
    for name, x, y, ok in (
        ("accuracy", y_pred, y_true, len(lab) > 2 * min_shift and np.all(y_pred >= 0)),
        (
            "ic",
            lab["r_pred"].to_numpy(float),
            lab["y_return"].to_numpy(float),
            len(lab) > 2 * min_shift,
        ),
    ):
        out |= {name: nan, f"{name}_low": nan, f"{name}_high": nan, f"{name}_p": nan}
        if not ok or np.all(x == x[0]):
            continue
        ci = boot(name, x, y)
        perm = permutation_test(name, x, y, n_perm=sig.n_perm, min_shift=min_shift, rng=gen)
        out |= {name: ci.estimate, f"{name}_low": ci.low, f"{name}_high": ci.high}
        out[f"{name}_p"] = perm.p_value
    return out


def evaluate(
    predictions: pd.DataFrame,
    close: pd.Series,
    config: BacktestConfig | None = None,
    *,
    significance: SignificanceConfig | None = None,
    train_means: Mapping[int, float] | None = None,
    skip_significance: bool = False,
) -> EvaluationResult:
    """Backtest, score and test every model of ``predictions`` (see the module docstring).

    ``train_means``: training-label mean per fold for the OOS R^2; by default taken from
    the "mean" baseline (see ``prediction_metrics.fold_train_means``).
    """
    config = config or BacktestConfig()
    sig = significance or SignificanceConfig()
    require_columns(predictions, prediction_columns(N_CLASSES))
    validate_close(close)
    ppy, rf = config.periods_per_year, config.risk_free
    results = backtest(predictions, close, config)
    first = min(r.dates[0] for r in results.values())
    last = max(r.dates[-1] for r in results.values())
    results_all = {**results, BENCHMARK: buy_and_hold(close, pd.DatetimeIndex([first, last]))}
    means = fold_train_means(predictions, train_means)
    groups = dict(tuple(predictions.groupby("model", sort=False)))

    metric_rows, fold_rows, cm_frames = {}, [], []
    for model, res in results_all.items():
        row = trading_metrics(res, ppy, rf)
        if model in groups:
            rows = groups[model]
            row = {"task": rows["task"].iloc[0], **_prediction_scores(rows, means), **row}
            lab = _labelled(rows)
            cm = confusion(lab["y_true"].to_numpy(), lab["y_pred"].to_numpy())
            t, p = np.indices(cm.shape)
            cm_frames.append(
                pd.DataFrame(
                    {"model": model, "true": t.ravel(), "pred": p.ravel(), "count": cm.ravel()}
                )
            )
            for fold, frows in rows.groupby("fold"):
                lo, hi = frows.index.min(), frows.index.max()
                in_fold = (res.dates >= lo) & (res.dates <= hi)
                r_fold = res.net[in_fold]
                fold_rows.append(
                    {
                        "model": model,
                        "fold": int(fold),
                        "start": lo,
                        "end": hi,
                        **_prediction_scores(frows, means),
                        "sharpe": sharpe_ratio(r_fold, ppy, rf),
                        "total_return": float(np.prod(1.0 + r_fold) - 1.0),
                    }
                )
        metric_rows[model] = row
    metrics = pd.DataFrame.from_dict(metric_rows, orient="index")
    metrics.index.name = "model"

    equity = pd.DataFrame({m: r.equity(net=True) for m, r in results_all.items()})
    equity_gross = pd.DataFrame({m: r.equity(net=False) for m, r in results_all.items()})

    horizons = _labelled(predictions)["horizon"].to_numpy(dtype=float)
    median_h = max(float(np.median(horizons)) if len(horizons) else 1.0, 1.0)
    block = sig.block_len or median_h
    sig_table = pd.DataFrame()
    dm_table = pd.DataFrame()
    if not skip_significance:
        sig_rows = {
            m: _significance_row(groups[m], results[m], sig, block, sig.seed + i, ppy)
            for i, m in enumerate(results)
        }
        sig_table = pd.DataFrame.from_dict(sig_rows, orient="index")
        sig_table.index.name = "model"
        sig_table["block_len"] = block
        dm_table = _dm_table(groups, sig, round(median_h))
    return EvaluationResult(
        metrics=metrics,
        per_fold=pd.DataFrame(fold_rows),
        per_year=per_year_table(results_all, ppy, rf),
        equity=equity,
        equity_gross=equity_gross,
        confusion=pd.concat(cm_frames, ignore_index=True) if cm_frames else pd.DataFrame(),
        significance=sig_table,
        diebold_mariano=dm_table,
        backtests=results_all,
    )


def _dm_table(groups: dict, sig: SignificanceConfig, horizon: int) -> pd.DataFrame:
    ref = sig.reference_model
    if ref not in groups:
        return pd.DataFrame()
    ref_rows = _labelled(groups[ref])
    out = []
    for name, rows in groups.items():
        if name == ref:
            continue
        base = _labelled(rows)
        common = ref_rows.index.intersection(base.index)
        a, b = ref_rows.loc[common], base.loc[common]
        kind = _loss_kind(a, b, sig.classification_loss)
        loss_a, loss_b = _per_sample_loss(a, kind), _per_sample_loss(b, kind)
        res = diebold_mariano(loss_a, loss_b, horizon)
        diff = bootstrap_ci(
            "mean",
            (loss_a - loss_b).to_numpy(),
            block_len=max(horizon, 1),
            n_boot=sig.n_boot,
            alpha=sig.alpha,
            method=sig.method,
            rng=np.random.default_rng(sig.seed),
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
