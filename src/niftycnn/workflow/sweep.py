"""A sweep: every grid point of ``[sweep]`` as its own walk-forward, in one run directory
(``points/<name>/``), with training vs test error per point in ``sweep.csv``, and the
probability that picking the best point overfits (PBO across the points' CNN net
returns, with the best point's deflated Sharpe against N = the points) in
``metrics/overfitting.csv``.

Each point is one task (:func:`sweep_point`) that writes only its own folder; the
engine (``niftycnn.workflow.engine``) runs the tasks in this process or on Ray. A point
is done once its ``result.json`` is written, so a resumed sweep skips it; a point cut
off mid-way resumes from its finished folds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from niftycnn.backtest import evaluate, overfitting_table
from niftycnn.backtest.prediction_metrics import classification_scores, regression_scores
from niftycnn.errors import ConfigError
from niftycnn.files import write_json
from niftycnn.models import GridPoint, summary_table, sweep_grid
from niftycnn.models.checks import sample_shape
from niftycnn.report import render_report
from niftycnn.rundir import RunLayout, read_json, write_csv, write_parquet
from niftycnn.schema import labelled, n_classes_of, proba_columns
from niftycnn.walkforward import run_walkforward, splits_table
from niftycnn.windows import labeler_for
from niftycnn.workflow.engine import Engine, map_tasks
from niftycnn.workflow.plan import Plan, architecture
from niftycnn.workflow.stages import timed


@dataclass(frozen=True)
class PointResult:
    """A finished point (or trial): its ``sweep.csv`` row and the CNN's daily net returns."""

    row: dict[str, Any]
    returns: pd.Series


def run_sweep(
    plan: Plan, layout: RunLayout, *, progress: bool = True, engine: Engine | None = None
) -> RunLayout:
    """The planned sweep in ``layout`` (resumable: finished points and folds are kept)."""
    experiment, dataset = plan.experiment, plan.dataset
    if experiment.sweep is None:
        raise ConfigError(f"{experiment.name} has no [sweep] table; add one or use `run`")
    timings: dict[str, float] = {}
    write_csv(layout.splits, splits_table(list(plan.folds), dataset), index=False)
    grid = sweep_grid(experiment.sweep, experiment.windows.length)
    with timed(timings, "sweep"):
        results = run_points(plan, layout, {p.name: p for p in grid}, progress, engine)
    rows = [results[p.name].row for p in grid]
    write_csv(layout.sweep, pd.DataFrame(rows), index=False)
    returns = {p.name: results[p.name].returns for p in grid}
    if len(returns) > 1:
        table = overfitting_table(pd.DataFrame(returns), "", "sweep points")
        write_csv(layout.metric("overfitting"), table, index=False)
    write_json(layout.timings, timings)
    render_report(layout.root)
    return layout


def run_points(
    plan: Plan,
    layout: RunLayout,
    points: dict[str, GridPoint],
    progress: bool,
    engine: Engine | None,
    where: str = "points",
) -> dict[str, PointResult]:
    """Every point of ``points`` (name -> point; ``where`` "points" of a sweep or
    "trials" of a search), finished ones read back, the others run on ``engine``."""
    results = {
        n: r for n, p in points.items() if (r := load_point(point_layout(layout, where, n), p))
    }
    todo = {n: (where, p) for n, p in points.items() if n not in results}
    results |= map_tasks(engine, point_task, plan, todo, layout, progress=progress, what=where)
    return results


def point_layout(layout: RunLayout, where: str, name: str) -> RunLayout:
    """The folder of a sweep point (``points/<name>``) or a search trial (``trials/``)."""
    if where == "trials":
        return layout.trial(int(name.removeprefix("trial_")))
    return layout.point(name)


def point_task(
    plan: Plan, item: tuple[str, GridPoint], layout: RunLayout, progress: bool
) -> PointResult:
    """One engine task: a point's (or trial's) walk-forward in its own folder."""
    where, point = item
    return sweep_point(plan, point, point_layout(layout, where, point.name), progress)


def sweep_point(plan: Plan, point: GridPoint, out: RunLayout, progress: bool) -> PointResult:
    """One grid point's walk-forward (CNN only) into ``out``, its errors and returns;
    ``result.json`` and ``returns.parquet`` are written last (the point is done)."""
    experiment, dataset = plan.experiment, plan.dataset
    at = experiment.with_overrides(
        model={"preset": None, "layers": list(point.layers)}, train=point.train
    )
    arch = architecture(at)
    write_csv(out.splits, splits_table(list(plan.folds), dataset), index=False)
    predictions = run_walkforward(
        dataset,
        arch,
        plan.splitter,
        at.train,
        seed=at.seed,
        labeler=labeler_for(at.labels),
        baselines=(),
        out=out,
        progress=progress,
    )
    table = summary_table(arch, *sample_shape(dataset.X.shape))
    params = int(table["params"].iloc[-1])
    errors = sweep_errors(_curves(out), predictions, arch.head)
    row = {"point": point.name, **point.knobs, "params": params, **errors}
    cnn = predictions[predictions["model"] == "cnn"]
    assert plan.frame is not None  # the plan refuses a universe sweep
    result = evaluate(cnn, plan.frame["close"], at.backtest, significance=False)
    returns = result.returns["cnn"].rename("cnn")
    write_parquet(out.returns, returns.to_frame())
    write_json(out.result, row)
    return PointResult(row, returns)


def load_point(out: RunLayout, point: GridPoint) -> PointResult | None:
    """A finished point's result (its row in ``sweep.csv`` order), or None when it has
    not finished."""
    if not (out.result.is_file() and out.returns.is_file()):
        return None
    returns = pd.read_parquet(out.returns)["cnn"]
    stored = dict(read_json(out.result))
    order = ["point", *point.knobs, "params", *ERRORS]
    return PointResult({k: stored[k] for k in order if k in stored}, returns)


ERRORS = ("train_loss", "val_loss", "test_loss", "test_accuracy", "gap")


def _curves(out: RunLayout) -> pd.DataFrame:
    return pd.concat(pd.read_csv(f.curves).assign(fold=f.index) for f in out.folds())


def sweep_errors(curves: pd.DataFrame, predictions: pd.DataFrame, head: str) -> dict[str, float]:
    """In-sample loss (training curves at each member's restored epoch: minibatch mean
    in training mode, so with dropout active), validation loss, and out-of-sample loss
    of the seed-averaged CNN on the labelled test rows (cross-entropy or squared error)."""
    cnn_curves = curves[curves["model"] == "cnn"]
    best = cnn_curves.loc[cnn_curves.groupby(["fold", "seed"])["val_loss"].idxmin()]
    train_loss = float(best["train_loss"].mean())
    cnn = labelled(predictions[predictions["model"] == "cnn"])
    if head == "classification":
        k = n_classes_of(cnn)
        proba = cnn[proba_columns(k)].to_numpy()
        scores = classification_scores(cnn["y_true"].to_numpy(), cnn["y_pred"].to_numpy(), k, proba)
        test_loss, accuracy = scores["log_loss"], scores["accuracy"]
    else:
        scores = regression_scores(cnn["y_return"].to_numpy(), cnn["r_pred"].to_numpy())
        test_loss, accuracy = scores["rmse"] ** 2, scores["directional_accuracy"]
    return {
        "train_loss": round(train_loss, 5),
        "val_loss": round(float(best["val_loss"].mean()), 5),
        "test_loss": round(test_loss, 5),
        "test_accuracy": round(accuracy, 4),
        "gap": round(test_loss - train_loss, 5),
    }
