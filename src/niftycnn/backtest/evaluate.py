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
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from niftycnn.backtest.engine import BacktestResult, backtest, buy_and_hold, validate_close
from niftycnn.backtest.metrics import per_year_table, sharpe_ratio, trading_metrics
from niftycnn.backtest.prediction_metrics import (
    classification_scores,
    confusion,
    regression_scores,
)
from niftycnn.backtest.significance import (
    Interval,
    bootstrap_ci,
    deflated_sharpe_ratio,
    diebold_mariano,
    permutation_test,
    probabilistic_sharpe_ratio,
)
from niftycnn.config import BacktestConfig
from niftycnn.schema import (
    labelled,
    n_classes_of,
    prediction_columns,
    proba_columns,
    require_columns,
)

BENCHMARK = "buy_and_hold"
EPS = float(np.finfo(np.float64).eps)


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


def _prediction_scores(rows: pd.DataFrame, k: int) -> dict[str, float]:
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


def _per_sample_loss(rows: pd.DataFrame, kind: str) -> pd.Series:
    y = rows["y_true"].to_numpy(dtype=np.int64)
    if kind == "log_loss":
        p = rows[proba_columns(n_classes_of(rows))].to_numpy(dtype=float)
        loss = -np.log(np.clip(p[np.arange(len(y)), y], EPS, 1.0))
    elif kind == "zero_one":
        loss = (rows["y_pred"].to_numpy(dtype=np.int64) != y).astype(float)
    else:
        loss = (rows["y_return"].to_numpy(float) - rows["r_pred"].to_numpy(float)) ** 2
    return pd.Series(loss, index=rows.index)


def _loss_kind(a: pd.DataFrame, b: pd.DataFrame, preferred: str) -> str:
    cols = proba_columns(n_classes_of(a))
    has_proba = all(np.all(np.isfinite(x[cols].to_numpy(float))) for x in (a, b))
    has_class = all(np.all(x["y_pred"].to_numpy() >= 0) for x in (a, b))
    if preferred == "log_loss" and has_proba:
        return "log_loss"
    return "zero_one" if has_class else "squared_error"


@dataclass(frozen=True)
class _Resampling:
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


def _sharpe_tests(
    bt: BacktestResult, rs: _Resampling, gen: np.random.Generator
) -> dict[str, float]:
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


def _significance_row(
    rows: pd.DataFrame, bt: BacktestResult, rs: _Resampling, seed: int
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
            row = {"task": rows["task"].iloc[0], **_prediction_scores(rows, k), **row}
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
                        **_prediction_scores(frows, k),
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
    """Backtest, score and test every model of ``predictions`` (see the module docstring).

    ``n_trials``: how many configurations were tried (a sweep's size), for the deflated
    Sharpe ratio; ``seed`` seeds the resampling; ``reference``: the model the
    Diebold-Mariano tests compare with each baseline; ``progress`` shows a bar over the
    models' significance tests (the slow part: bootstrap and permutation resamples).
    """
    config = config or BacktestConfig()
    require_columns(predictions, prediction_columns(n_classes_of(predictions)))
    validate_close(close)
    results = backtest(predictions, close, config)
    first = min(r.dates[0] for r in results.values())
    last = max(r.dates[-1] for r in results.values())
    results_all = {**results, BENCHMARK: buy_and_hold(close, pd.DatetimeIndex([first, last]))}
    groups = dict(tuple(predictions.groupby("model", sort=False)))
    metrics, fold_rows, cm_frames = _model_tables(groups, results_all, config)

    horizons = labelled(predictions)["horizon"].to_numpy(dtype=float)
    median_h = max(float(np.median(horizons)) if len(horizons) else 1.0, 1.0)
    rs = _Resampling(config, config.block or median_h, n_trials)
    sig_table, dm_table = pd.DataFrame(), pd.DataFrame()
    if significance:
        models = tqdm(list(results), desc="significance", unit="model", disable=not progress)
        sig_rows = {
            m: _significance_row(groups[m], results[m], rs, seed + i) for i, m in enumerate(models)
        }
        sig_table = pd.DataFrame.from_dict(sig_rows, orient="index")
        sig_table.index.name = "model"
        sig_table["block_len"] = rs.block
        dm_table = _dm_table(groups, config, reference, round(median_h), seed)
    return EvaluationResult(
        metrics=metrics,
        per_fold=pd.DataFrame(fold_rows),
        per_year=per_year_table(results_all, config.periods_per_year, config.risk_free),
        equity=pd.DataFrame({m: r.equity(net=True) for m, r in results_all.items()}),
        equity_gross=pd.DataFrame({m: r.equity(net=False) for m, r in results_all.items()}),
        confusion=pd.concat(cm_frames, ignore_index=True) if cm_frames else pd.DataFrame(),
        significance=sig_table,
        diebold_mariano=dm_table,
        backtests=results_all,
    )


def _dm_table(
    groups: dict[str, pd.DataFrame], config: BacktestConfig, ref: str, horizon: int, seed: int
) -> pd.DataFrame:
    if ref not in groups:
        return pd.DataFrame()
    ref_rows = labelled(groups[ref])
    out = []
    for name, rows in groups.items():
        if name == ref:
            continue
        base = labelled(rows)
        common = ref_rows.index.intersection(base.index)
        a, b = ref_rows.loc[common], base.loc[common]
        kind = _loss_kind(a, b, config.loss)
        loss_a, loss_b = _per_sample_loss(a, kind), _per_sample_loss(b, kind)
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
