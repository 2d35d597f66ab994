"""A search: Optuna's TPE over the ``[search]`` knobs, every trial a walk-forward on the
years before a held-out final period that no trial sees, then the best trial refitted
walking forward through that period.

Held out: every window whose label ends on or after ``holdout_start`` (or the start of
the last ``holdout`` share of sessions) is dropped before any trial is planned, so no
trial trains, validates, early-stops or is scored on it; each trial records its folds
(``trials/trial_XXXX/splits.csv``, with the latest label date on each side). Trials are
asked of the sampler ``parallel`` at a time and run on the engine (in this process or on
Ray: same seed, same trials); a finished trial is read back on resume, and the seeded
sampler, told the same results, asks the same next ones.

Written: ``search.csv`` (a row per trial: knobs, parameters, errors, the objective
``test_loss``), ``trials/``, ``holdout/`` (the best trial's refit), ``metrics/summary.csv``
and ``significance.csv`` of the held-out period (its deflated Sharpe against N = the
trials), ``metrics/overfitting.csv`` (PBO across the trials' pre-holdout returns, and the
held-out deflated Sharpe with N = the trials and their Sharpe ratios' variance).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from niftycnn.backtest import evaluate, overfitting_table
from niftycnn.backtest.significance import deflated_sharpe_ratio
from niftycnn.config import SearchConfig
from niftycnn.errors import ConfigError
from niftycnn.extras import require
from niftycnn.files import write_json
from niftycnn.models import GridPoint, grid_layers
from niftycnn.report import render_report
from niftycnn.rundir import RunLayout, write_csv
from niftycnn.walkforward import splits_table
from niftycnn.workflow.engine import Engine
from niftycnn.workflow.plan import Plan, folds_for
from niftycnn.workflow.stages import timed
from niftycnn.workflow.sweep import PointResult, run_points, sweep_point


def run_search(
    plan: Plan, layout: RunLayout, *, progress: bool = True, engine: Engine | None = None
) -> RunLayout:
    """The planned ``[search]`` in ``layout`` (module docstring); resumable."""
    optuna = require("optuna", "a [search]")
    cfg = plan.experiment.search
    if cfg is None:
        raise ConfigError(f"{plan.experiment.name} has no [search] table; add one or use `run`")
    if plan.experiment.walkforward.scheme == "cpcv":
        raise ConfigError(
            "[search] refits its best trial walking forward into the held-out period; set "
            '[walkforward] scheme = "expanding" or "rolling" (CPCV trains on later data)'
        )
    start = holdout_start(plan)
    before = before_holdout(plan, start)
    write_csv(layout.splits, splits_table(list(before.folds), before.dataset), index=False)
    timings: dict[str, float] = {}
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(seed=plan.experiment.seed)
    study = optuna.create_study(direction="minimize", sampler=sampler)
    results: dict[str, PointResult] = {}
    points: dict[str, GridPoint] = {}
    length = plan.experiment.windows.length
    with timed(timings, "trials"):
        while len(study.trials) < cfg.trials:
            asked = [study.ask() for _ in range(min(cfg.parallel, cfg.trials - len(study.trials)))]
            batch = {p.name: p for p in (trial_point(t, cfg, length) for t in asked)}
            done = run_points(before, layout, batch, progress, engine, where="trials")
            for trial, point in zip(asked, batch.values(), strict=True):
                loss = float(done[point.name].row["test_loss"])
                study.tell(trial, loss if np.isfinite(loss) else None)
            points |= batch
            results |= done
    rows = [results[name].row for name in points]
    write_csv(layout.search, pd.DataFrame(rows), index=False)
    best = points[f"trial_{study.best_trial.number:04d}"]
    with timed(timings, "holdout"):
        _holdout(plan, layout, best, start, results, progress)
    write_json(layout.timings, timings)
    render_report(layout.root)
    return layout


def trial_point(trial: Any, cfg: SearchConfig, length: int) -> GridPoint:
    """The network and training knobs an Optuna trial draws from the ``[search]`` ranges."""
    filters = trial.suggest_int("filters", *cfg.filters, log=True)
    kernel = trial.suggest_int("kernel", *cfg.kernel)
    depth = trial.suggest_int("depth", *cfg.depth)
    dropout = trial.suggest_float("dropout", *cfg.dropout)
    train = {
        "lr": trial.suggest_float("lr", *cfg.lr, log=True),
        "weight_decay": trial.suggest_float("weight_decay", *cfg.weight_decay, log=True),
    }
    knobs = {"filters": filters, "kernel": kernel, "depth": depth, "dropout": dropout, **train}
    layers = tuple(grid_layers(filters, kernel, depth, dropout, length))
    return GridPoint(f"trial_{trial.number:04d}", knobs, layers, train)


def holdout_start(plan: Plan) -> pd.Timestamp:
    """The first session of the held-out final period."""
    cfg = plan.experiment.search
    assert cfg is not None
    sessions = plan.dataset.end_dates.unique().sort_values()
    if cfg.holdout_start is not None:
        start = pd.Timestamp(cfg.holdout_start)
    else:
        start = sessions[min(int(len(sessions) * (1.0 - cfg.holdout)), len(sessions) - 1)]
    if not sessions[0] < start <= sessions[-1]:
        raise ConfigError(
            f"[search] holdout_start = {start.date()} is outside the windows' dates "
            f"({sessions[0].date()} to {sessions[-1].date()}); choose a date inside them"
        )
    return start


def before_holdout(plan: Plan, start: pd.Timestamp) -> Plan:
    """The plan restricted to the windows whose labels end before ``start`` (and the
    bars before it): what every trial sees."""
    keep = np.flatnonzero(plan.dataset.label_end < start)
    dataset = plan.dataset.subset(keep)
    origin = f"[search] before the held-out period (from {start.date()})"
    splitter, folds = folds_for(plan.experiment, dataset, origin)
    assert plan.frame is not None  # the plan refuses a universe search
    frame = plan.frame[plan.frame.index < start]
    return dataclasses.replace(
        plan, frame=frame, dataset=dataset, splitter=splitter, folds=tuple(folds)
    )


def _holdout(
    plan: Plan,
    layout: RunLayout,
    best: GridPoint,
    start: pd.Timestamp,
    trials: dict[str, PointResult],
    progress: bool,
) -> None:
    """Refit the best trial walking forward through the held-out period and test it,
    counting every trial (module docstring)."""
    experiment = plan.experiment.with_overrides(
        walkforward={"first_test": start.date().isoformat()}
    )
    splitter, folds = folds_for(experiment, plan.dataset, "[search] held-out refit")
    refit = dataclasses.replace(plan, experiment=experiment, splitter=splitter, folds=tuple(folds))
    out = layout.holdout
    result = sweep_point(refit, best, out, progress)
    n_trials = len(trials)
    predictions = pd.concat(pd.read_parquet(f.predictions) for f in out.folds())
    assert plan.frame is not None
    evaluation = evaluate(
        predictions, plan.frame["close"], plan.experiment.backtest, n_trials=n_trials
    )
    write_csv(layout.metric("summary"), evaluation.metrics)
    write_csv(layout.metric("significance"), evaluation.significance)
    returns = pd.DataFrame({name: r.returns for name, r in trials.items()})
    table = overfitting_table(returns, best.name, "search trials", n_trials=n_trials)
    std = returns.std(ddof=1)
    sharpes = (returns.mean() / std.where(std > 0)).dropna().to_numpy(dtype=float)
    held = result.returns.to_numpy(dtype=float)
    table["holdout_start"] = start.date().isoformat()
    table["holdout_sharpe_daily"] = float(held.mean() / held.std(ddof=1))
    table["holdout_dsr"] = deflated_sharpe_ratio(held, n_trials, sharpes)
    write_csv(layout.metric("overfitting"), table, index=False)
