"""A sweep: every grid point of ``[sweep]`` as its own walk-forward, in one run directory
(``points/<name>/``), with training vs test error per point in ``sweep.csv``, and the
probability that picking the best point overfits (PBO across the points' CNN net
returns, with the best point's deflated Sharpe against N = the points) in
``metrics/overfitting.csv``."""

from __future__ import annotations

import pandas as pd

from niftycnn.backtest import evaluate, overfitting_table
from niftycnn.backtest.prediction_metrics import classification_scores, regression_scores
from niftycnn.errors import ConfigError
from niftycnn.files import write_json
from niftycnn.models import summary_table, sweep_grid
from niftycnn.models.checks import spatial_size
from niftycnn.report import render_report
from niftycnn.rundir import RunLayout, write_csv
from niftycnn.schema import labelled, n_classes_of, proba_columns
from niftycnn.walkforward import run_walkforward, splits_table
from niftycnn.windows import labeler_for
from niftycnn.workflow.plan import Plan, architecture
from niftycnn.workflow.stages import timed


def run_sweep(plan: Plan, layout: RunLayout, *, progress: bool = True) -> RunLayout:
    """The planned sweep in ``layout`` (resumable: finished points and folds are kept)."""
    experiment, dataset, splitter = plan.experiment, plan.dataset, plan.splitter
    if experiment.sweep is None:
        raise ConfigError(f"{experiment.name} has no [sweep] table; add one or use `run`")
    timings: dict[str, float] = {}
    write_csv(layout.splits, splits_table(list(plan.folds), dataset), index=False)
    rows, returns = [], {}
    with timed(timings, "sweep"):
        for point in sweep_grid(experiment.sweep, experiment.windows.length):
            at = experiment.with_overrides(model={"preset": None, "layers": list(point.layers)})
            arch = architecture(at)
            out = layout.point(point.name)
            predictions = run_walkforward(
                dataset,
                arch,
                splitter,
                at.train,
                seed=at.seed,
                labeler=labeler_for(at.labels),
                baselines=(),
                out=out,
                progress=progress,
            )
            table = summary_table(arch, dataset.X.shape[1], spatial_size(dataset.X.shape))
            params = int(table["params"].iloc[-1])
            errors = sweep_errors(_curves(out), predictions, arch.head)
            rows.append({"point": point.name, **point.knobs, "params": params, **errors})
            cnn = predictions[predictions["model"] == "cnn"]
            assert plan.frame is not None  # the plan refuses a universe sweep
            result = evaluate(cnn, plan.frame["close"], at.backtest, significance=False)
            returns[point.name] = result.returns["cnn"]
    write_csv(layout.sweep, pd.DataFrame(rows), index=False)
    if len(returns) > 1:
        table = overfitting_table(pd.DataFrame(returns), "", "sweep points")
        write_csv(layout.metric("overfitting"), table, index=False)
    write_json(layout.timings, timings)
    render_report(layout.root)
    return layout


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
