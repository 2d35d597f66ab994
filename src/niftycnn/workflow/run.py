"""Run an experiment into a run directory, resume one, or redo its filter analysis.

The stages (``niftycnn.workflow.stages``) run in order; the report is rendered from the
finished directory's files alone (``niftycnn.report``)::

    config -> data (+ check) -> windows & labels -> walk-forward (CNN + baselines)
           -> backtest, metrics, significance -> filter analysis (first layer and
           effective kernels, with their nulls) -> verdict.json -> report
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from niftycnn.config import Experiment, parse_experiment
from niftycnn.errors import RunDirError
from niftycnn.files import write_json
from niftycnn.report import render_report
from niftycnn.rundir import RunLayout, new_run_dir, read_json, require_run_dir
from niftycnn.workflow import stages
from niftycnn.workflow.plan import check_experiment, load_experiment
from niftycnn.workflow.sweep import run_sweep
from niftycnn.workflow.verdict import verdict_stage


def run_experiment(
    experiment: Experiment, layout: RunLayout, *, progress: bool = True
) -> RunLayout:
    """Run every stage of ``experiment`` into ``layout`` and render its report."""
    timings: dict[str, float] = {}
    frame, dataset = stages.prepare(layout, experiment, timings)
    with stages.timed(timings, "walkforward"):
        predictions = stages.walkforward_stage(layout, experiment, dataset, progress)
    with stages.timed(timings, "backtest"):
        stages.backtest_stage(layout, experiment, predictions, frame)
    with stages.timed(timings, "filters"):
        stages.filters_stage(layout, experiment, dataset, frame)
    verdict_stage(layout, experiment)
    write_json(layout.timings, timings)
    render_report(layout.root)
    return layout


def run_experiment_file(
    path: str | Path,
    *,
    data: dict[str, Any] | None = None,
    train: dict[str, Any] | None = None,
    out_root: str | Path = "reports",
    progress: bool = True,
) -> RunLayout:
    """Load an experiment file, apply CLI overrides, run it into a new run directory."""
    experiment = load_experiment(path)
    overrides = {k: v for k, v in (("data", data), ("train", train)) if v}
    if overrides:
        experiment = check_experiment(experiment.with_overrides(**overrides), str(path))
    return run_experiment(experiment, new_run_dir(out_root, experiment.name), progress=progress)


def stored_experiment(layout: RunLayout) -> Experiment:
    """The resolved experiment a run directory holds."""
    raw = tomllib.loads(layout.config.read_text(encoding="utf-8"))
    return parse_experiment(raw, origin=str(layout.config))


def resume_run(run_dir: str | Path, *, progress: bool = True) -> RunLayout:
    """Finish an interrupted run: folds already on disk are loaded, not retrained."""
    layout = require_run_dir(run_dir)
    experiment = stored_experiment(layout)
    if experiment.sweep is not None and layout.points_dir.is_dir():
        return run_sweep(experiment, layout, progress=progress)
    return run_experiment(experiment, layout, progress=progress)


def analyze_run_filters(run_dir: str | Path) -> str:
    """Redo the filter analysis of a finished run (e.g. with another null size) and
    re-render its report; returns the verdict."""
    layout = require_run_dir(run_dir)
    if not layout.folds():
        raise RunDirError(f"{layout.root} has no folds/ (was the walk-forward run?); run it first")
    experiment = stored_experiment(layout)
    frame, dataset = stages.prepare(layout, experiment, {})
    stages.filters_stage(layout, experiment, dataset, frame)
    verdict_stage(layout, experiment)
    render_report(layout.root)
    if not layout.filter_verdict.is_file():
        raise RunDirError(
            f"{layout.root}: the first layer has no filters of length >= 3 to analyse"
        )
    return str(read_json(layout.filter_verdict)["verdict"])
