"""Run an experiment into a run directory, resume one, or redo its filter analysis.

Nothing is written until the plan (``niftycnn.workflow.plan``) has loaded the data,
built the windows, labels and folds and checked every later stage; then the run
directory is created and the stages run in order, the report rendered from the finished
directory's files alone (``niftycnn.report``)::

    plan -> config -> data (+ check) -> labels -> walk-forward (CNN + baselines)
         -> backtest, metrics, significance (verdict.json) -> filter analysis (first
         layer and effective kernels, with their nulls; added to verdict.json) -> report

A run that fails (or is interrupted) before its first fold is written leaves no
directory behind; after that, ``resume_run`` finishes it, holding it to the config and
the data it started with (``niftycnn.workflow.resume``). The stages (and the heavy
libraries behind them: scipy, matplotlib) are imported only once the plan has passed, so
a bad experiment fails in about the time it takes to import torch and load the data.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from niftycnn.config import Experiment
from niftycnn.errors import ConfigError, RunDirError
from niftycnn.rundir import (
    RunLayout,
    discard_run_dir,
    finished_folds,
    new_run_dir,
    read_json,
    require_run_dir,
)
from niftycnn.workflow import resume
from niftycnn.workflow.engine import Engine
from niftycnn.workflow.plan import Plan, check_experiment, load_experiment, plan_run

OnStart = Callable[[RunLayout], None]
"""Called with the run directory once it exists, before any stage runs (the CLI prints it)."""

stored_experiment = resume.stored_experiment


def run_experiment(
    experiment: Experiment,
    out_root: str | Path = "reports",
    *,
    command: str = "run",
    origin: str = "<experiment>",
    progress: bool = True,
    on_start: OnStart | None = None,
    engine: Engine | None = None,
) -> RunLayout:
    """Plan ``experiment``, then run it (``command`` "run"), its ``[sweep]`` grid
    ("sweep") or its ``[search]`` ("search") into a new directory under ``out_root``
    (sweep and search points on ``engine``), and render the report."""
    if command == "sweep" and experiment.sweep is None:
        raise ConfigError(f"{origin}: no [sweep] table; add one, or use `niftycnn run`")
    if command == "search" and experiment.search is None:
        raise ConfigError(f"{origin}: no [search] table; add one, or use `niftycnn run`")
    if experiment.model.head == "segmentation":
        return _run_segmentation(experiment, out_root, origin, progress, on_start)
    plan = plan_run(experiment, origin)
    layout = new_run_dir(out_root, experiment.name)
    try:
        if on_start is not None:
            on_start(layout)
        return _execute(plan, layout, command, progress, engine)
    except BaseException:
        if not finished_folds(layout):
            discard_run_dir(layout)
        raise


def _run_segmentation(
    experiment: Experiment,
    out_root: str | Path,
    origin: str,
    progress: bool,
    on_start: OnStart | None,
) -> RunLayout:
    """A per-day run (``niftycnn.workflow.segmentation``): one split, no folds to resume,
    so a run that fails leaves no directory."""
    from niftycnn.workflow.segmentation import plan_segmentation, run_segmentation

    plan = plan_segmentation(experiment, origin)
    layout = new_run_dir(out_root, experiment.name)
    try:
        if on_start is not None:
            on_start(layout)
        return run_segmentation(plan, layout, "run", progress)
    except BaseException:
        discard_run_dir(layout)
        raise


def run_experiment_file(
    path: str | Path,
    *,
    data: dict[str, Any] | None = None,
    train: dict[str, Any] | None = None,
    out_root: str | Path = "reports",
    command: str = "run",
    progress: bool = True,
    on_start: OnStart | None = None,
    engine: Engine | None = None,
) -> RunLayout:
    """Load an experiment file, apply CLI overrides, run it into a new run directory."""
    experiment = load_experiment(path)
    overrides = {k: v for k, v in (("data", data), ("train", train)) if v}
    if overrides:
        experiment = check_experiment(experiment.with_overrides(**overrides), str(path))
    return run_experiment(
        experiment,
        out_root,
        command=command,
        origin=str(path),
        progress=progress,
        on_start=on_start,
        engine=engine,
    )


def resume_run(
    run_dir: str | Path,
    *,
    progress: bool = True,
    on_start: OnStart | None = None,
    engine: Engine | None = None,
) -> RunLayout:
    """Finish an interrupted run: folds already on disk are loaded, not retrained. The
    config and the data must be the ones the run started with; nothing in the directory
    changes before that is checked."""
    layout, plan = _reopen(run_dir)
    resume.remove_stale_temps(layout)
    if on_start is not None:
        on_start(layout)
    record = resume.started_with(layout)
    if record is not None:
        command = str(record["command"])
    else:  # an older run: a sweep is recognised by its points
        swept = plan.experiment.sweep is not None and layout.points_dir.is_dir()
        command = "sweep" if swept else "run"
    return _execute(plan, layout, command, progress, engine)


def analyze_run_filters(run_dir: str | Path, *, progress: bool = False) -> str:
    """Redo the filter analysis of a finished run (e.g. with another null size) and
    re-render its report; returns the verdict."""
    from niftycnn.report import render_report
    from niftycnn.workflow import stages
    from niftycnn.workflow.verdict import verdict_stage

    layout, plan = _reopen(run_dir)
    if not layout.folds():
        raise RunDirError(f"{layout.root} has no folds/ (was the walk-forward run?); run it first")
    stages.filters_stage(layout, plan, progress)
    verdict_stage(layout, plan.experiment)
    render_report(layout.root)
    if not layout.filter_verdict.is_file():
        raise RunDirError(
            f"{layout.root}: the first layer has no filters of length >= 3 to analyse"
        )
    return str(read_json(layout.filter_verdict)["verdict"])


def _reopen(run_dir: str | Path) -> tuple[RunLayout, Plan]:
    """An existing run directory and the plan of its stored experiment, once its config
    and data are the ones it started with."""
    layout = require_run_dir(run_dir)
    experiment = resume.stored_experiment(layout)
    if experiment.model.head == "segmentation":
        raise RunDirError(
            f"{layout.root} is a per-day (segmentation) run: it has no folds to resume and "
            "no filters to analyse; run its experiment again (`niftycnn report` re-renders it)"
        )
    resume.check_config(layout, experiment)
    resume.check_windows(layout)
    plan = plan_run(experiment, origin=str(layout.config))
    resume.check_data(layout, plan.provenance)
    return layout, plan


def _execute(
    plan: Plan, layout: RunLayout, command: str, progress: bool, engine: Engine | None = None
) -> RunLayout:
    """Every stage of the planned run (sweep, search) into ``layout``, then the report."""
    from niftycnn.files import write_json
    from niftycnn.report import render_report
    from niftycnn.workflow import stages
    from niftycnn.workflow.sweep import run_sweep
    from niftycnn.workflow.verdict import verdict_stage

    stages.record_stage(layout, plan, command)
    timings: dict[str, float] = {}
    with stages.timed(timings, "data"):
        stages.data_stage(layout, plan)
    stages.windows_stage(layout, plan)
    if command == "sweep":
        return run_sweep(plan, layout, progress=progress, engine=engine)
    if command == "search":
        from niftycnn.workflow.search import run_search

        return run_search(plan, layout, progress=progress, engine=engine)
    with stages.timed(timings, "walkforward"):
        predictions = stages.walkforward_stage(layout, plan, progress)
    with stages.timed(timings, "backtest"):
        stages.backtest_stage(layout, plan, predictions, progress)
    with stages.timed(timings, "filters"):
        stages.filters_stage(layout, plan, progress)
    verdict_stage(layout, plan.experiment)
    write_json(layout.timings, timings)
    stages.status(progress, "report: rendering ...")
    render_report(layout.root)
    return layout
