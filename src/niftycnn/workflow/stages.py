"""One function per stage of a run. Each says what it reads and writes in the run's
:class:`~niftycnn.rundir.RunLayout`, and calls into its stage's package for the work."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any

import numpy as np
import pandas as pd

from niftycnn.backtest import (
    accuracy_table,
    comparison_table,
    evaluate,
    multiple_comparisons,
)
from niftycnn.config import DataChecksConfig, Experiment, to_toml
from niftycnn.data import Provenance, format_report
from niftycnn.data.load import bar_check
from niftycnn.data.stats import market_stats
from niftycnn.data.validate import report_for
from niftycnn.environment import environment
from niftycnn.files import write_bytes, write_json, write_text
from niftycnn.filters import FilterAnalysis, analyze_filters, stack_folds, verdict
from niftycnn.filters import figures as filter_figures
from niftycnn.filters.verdict import verdict_entry
from niftycnn.models import summary_table
from niftycnn.models.checks import sample_shape
from niftycnn.report.figures import to_png
from niftycnn.rundir import (
    RunLayout,
    read_npy,
    write_csv,
    write_parquet,
)
from niftycnn.schema import LabelVocabulary
from niftycnn.walkforward import run_walkforward, splits_table
from niftycnn.walkforward.run import first_layer_of
from niftycnn.walkforward.train import torch_device
from niftycnn.windows import labeler_for
from niftycnn.windows.windows import LOG_PERCENT
from niftycnn.workflow import compare, kernels
from niftycnn.workflow.plan import FILTER_MIN_TAPS, Plan, planted
from niftycnn.workflow.records import Tables, overfitting, records, write_metrics
from niftycnn.workflow.universe_stages import universe_backtest_stage, universe_data_stage
from niftycnn.workflow.verdict import analysed_channels


def record_stage(layout: RunLayout, plan: Plan, command: str) -> None:
    """Writes ``config.toml`` (the resolved experiment), ``run.json`` (the command, that
    config and the data fingerprint: what ``--resume`` holds the run to) and
    ``environment.json``, each once: a resumed run keeps the ones it started with."""
    write_record(layout, plan.experiment, asdict(plan.provenance), command)


def write_record(
    layout: RunLayout, experiment: Experiment, data: dict[str, Any], command: str
) -> None:
    """``config.toml``, ``run.json`` (with ``data``, the data's fingerprint, and
    ``log_unit``, the windows' unit of log changes) and
    ``environment.json`` of any run (see :func:`record_stage`), each written once."""
    if not layout.run_record.is_file():
        resolved = experiment.resolved_dict()
        write_text(layout.config, to_toml(resolved))
        record = {"command": command, "config": resolved, "data": data, "log_unit": LOG_PERCENT}
        write_json(layout.run_record, record)
    if not layout.environment.is_file():
        device = str(torch_device(experiment.train.device))
        write_json(layout.environment, environment(experiment.seed, device, sys.argv))


def data_stage(layout: RunLayout, plan: Plan) -> None:
    """Writes ``data.json``: the data's provenance (fingerprint), its check, with the
    implausible bars by date, and its stylised facts (``market``: volatility, tails,
    clustering, drift, the best and worst year; ``niftycnn.data.stats``). A universe:
    every symbol's check (``universe_data_stage``)."""
    if plan.universe is not None:
        universe_data_stage(layout, plan)
        return
    assert plan.frame is not None
    record = data_record(plan.frame, plan.provenance, plan.experiment.data.checks)
    write_json(layout.data, record | {"market": market_stats(plan.frame)})


def data_record(
    frame: pd.DataFrame, provenance: Provenance, checks: DataChecksConfig
) -> dict[str, Any]:
    """``data.json``'s provenance and data check (implausible bars by date) of a series."""
    bars, limits = bar_check(frame, provenance.symbol, checks, provenance.fetched_at)
    check = format_report(report_for(frame, implausible=bars, limits=limits.describe()))
    return {"provenance": asdict(provenance), "check": check}


def windows_stage(layout: RunLayout, plan: Plan) -> None:
    """Writes ``labels.csv`` (count, share and mean return of each class among the
    labelled windows)."""
    dataset = plan.dataset
    labelled = dataset.y_class[dataset.labelled]
    returns = dataset.y_return[dataset.labelled]
    k = dataset.n_classes
    counts = np.bincount(labelled, minlength=k)
    means = [float(np.mean(returns[labelled == c])) if n else np.nan for c, n in enumerate(counts)]
    table = pd.DataFrame(
        {"class": range(k), "name": dataset.vocabulary.names, "count": counts}
    ).assign(share=counts / max(int(counts.sum()), 1), mean_return=means)
    write_csv(layout.labels, table, index=False)


def walkforward_stage(layout: RunLayout, plan: Plan, progress: bool) -> pd.DataFrame:
    """Trains the CNN and the baselines fold by fold (resumable). Writes ``splits.csv``,
    ``architecture.csv``, ``manifest.json``, ``folds/`` and ``predictions.parquet``."""
    experiment, dataset, splitter = plan.experiment, plan.dataset, plan.splitter
    write_csv(layout.splits, splits_table(list(plan.folds), dataset), index=False)
    arch = plan.architecture
    write_csv(layout.architecture, summary_table(arch, *sample_shape(dataset.X.shape)), index=False)
    predictions = run_walkforward(
        dataset,
        arch,
        splitter,
        experiment.train,
        seed=experiment.seed,
        labeler=labeler_for(experiment.labels),
        baselines=plan.baselines,
        out=layout,
        progress=progress,
        synthetic=planted(experiment),
    )
    if plan.images is not None:  # [compare]: the image CNN on the same folds
        images = compare.image_walkforward(layout, experiment, plan.images, splitter, progress)
        predictions = pd.concat([predictions, images]).sort_values("fold", kind="stable")
        compare.samples_stage(layout, experiment, plan.images, splitter)
    write_parquet(layout.predictions, predictions)
    return predictions


def backtest_stage(
    layout: RunLayout, plan: Plan, predictions: pd.DataFrame, progress: bool
) -> None:
    """Backtests every model (each path on its own), scores it, tests the CNN against
    each baseline and against all at once, and measures overfitting across the models.
    Writes ``metrics/`` (summary, per_fold, per_year, equity, significance,
    diebold_mariano, comparison, confusion, paths, multiple, accuracy, overfitting) and
    ``verdict.json`` (a universe: across and per symbol, ``universe_backtest_stage``)."""
    if plan.universe is not None:
        universe_backtest_stage(layout, plan, predictions)
        return
    experiment = plan.experiment
    config, seed = experiment.backtest, experiment.seed
    assert plan.frame is not None
    result = evaluate(
        predictions,
        plan.frame["close"],
        config,
        n_trials=experiment.sweep.size if experiment.sweep else 1,
        seed=seed,
        progress=progress,
    )
    comparison = comparison_table(result.diebold_mariano)
    tables: Tables = {
        "summary": (result.metrics, True),
        "per_fold": (result.per_fold, False),
        "per_year": (result.per_year, False),
        "equity": (result.equity, True),
        "significance": (result.significance, True),
        "diebold_mariano": (result.diebold_mariano, False),
        "comparison": (comparison, False),
        "paths": (result.paths, False),
        "multiple": (multiple_comparisons(predictions, config, seed=seed), False),
        "accuracy": (accuracy_table(predictions, config, seed=seed), False),
        "overfitting": (overfitting(result.returns), False),
    }
    if plan.images is not None:
        tables["image_multiple"] = (compare.image_against_all(predictions, config, seed), False)
    verdict = write_metrics(layout, tables, experiment.walkforward.scheme)
    cnn = result.confusion[result.confusion["model"] == "cnn"] if len(result.confusion) else None
    if cnn is not None and len(cnn):
        matrix = cnn.pivot(index="true", columns="pred", values="count")
        names = list(LabelVocabulary(experiment.n_classes).names)
        matrix.index, matrix.columns = names, names
        write_csv(layout.metric("confusion"), matrix)
    verdict["paths"] = records(result.paths) if result.paths["path"].nunique() > 1 else []
    write_json(layout.verdict, verdict)


def filters_stage(layout: RunLayout, plan: Plan, progress: bool = False) -> None:
    """Compares the CNN with the reference kernels at two levels: its first-layer filters
    (every fold x seed) and its whole-network effective kernels
    (``niftycnn.workflow.kernels``). Reads ``folds/*/first_layer.npy``, ``state.pt`` and
    ``splits.csv``; writes ``filters/`` (``niftycnn.workflow.verdict`` then adds the
    verdicts to ``verdict.json``).

    Nulls: the layer's own untrained initialisation (``[filters] null_draws``) and, with
    ``[filters] null_shuffles``, the same network trained on shuffled labels (what
    training alone does; the verdicts prefer it). The first-layer verdict also needs a
    minimum effect (see ``niftycnn.filters.verdict``). Functional statistics use the
    out-of-sample windows (the union of the test blocks).
    """
    folds = [f for f in layout.folds() if f.first_layer().is_file()]
    if not folds or plan.experiment.windows.inputs == "image":
        return  # the filter analysis reads 1D filters (an image network's are 2D)
    experiment, started = plan.experiment, time.perf_counter()
    weights = stack_folds({f.index: read_npy(f.first_layer()) for f in folds})  # refuse first
    done = {f.index for f in folds}
    todo = [f for f in plan.folds if f.index in done]
    if experiment.filters.null_shuffles:
        status(progress, "filter analysis: training the label-shuffled null ...")
    shuffled = kernels.shuffled_states(layout, experiment, plan.dataset, todo)
    _first_layer_stage(layout, plan, weights, shuffled, progress)
    status(progress, "filter analysis: effective kernels ...")
    kernels.kernel_stage(layout, plan, shuffled)
    status(progress, f"filter analysis: done in {time.perf_counter() - started:.0f} s")


def _first_layer_stage(
    layout: RunLayout,
    plan: Plan,
    stacked: tuple[np.ndarray, pd.DataFrame],
    shuffled: kernels.NullStates,
    progress: bool,
) -> None:
    experiment, dataset = plan.experiment, plan.dataset
    weights, index = stacked
    if weights.shape[-1] < FILTER_MIN_TAPS:
        return  # k < 3 has no curvature reference; the cosine tables would be all we have
    n_models, n_filters = weights.shape[:2]
    status(
        progress,
        f"filter analysis: {n_models * n_filters:,} first-layer filters ({n_models} networks) "
        f"against {experiment.filters.null_draws:,} untrained ones ...",
    )
    splits = pd.read_csv(layout.splits, parse_dates=["test_start"])
    test = np.asarray(dataset.end_dates >= splits["test_start"].min())
    trained_null = None
    if shuffled:
        trained_null = np.stack([first_layer_of(s) for d in shuffled.values() for s in d.values()])
    analysis = analyze_filters(
        weights,
        index,
        dataset.features,
        windows=dataset.X[test],
        null_draws=experiment.filters.null_draws,
        seed=experiment.seed,
        trained_null=trained_null,
        alpha=experiment.filters.alpha,
        n_resamples=1000 if trained_null is not None else 10_000,  # floor 1e-3: enough
        max_windows=300,  # functional statistics are descriptive; 1,000 tripled the stage
    )
    for name in ("summary", "by_fold", "matches"):
        write_csv(layout.filter_table(name), getattr(analysis, name), index=False)
    write_parquet(layout.filter_rows, analysis.table)  # ~100 MB as CSV on a full run
    channels: list[str] = [experiment.filters.channel]
    if "price" in analysis.views and "price" not in channels:
        channels.append("price")
    summary = analysis.summary[
        analysis.summary["channel"].isin(channels)
        & (analysis.summary["statistic"] == analysis.statistic)
        & analysis.summary["reference"].isin(["momentum", "curvature"])
    ]
    columns = ["channel", "reference", "n", "mean_learned", "mean_null", "p_mean", "n_bh"]
    write_csv(layout.filter_channels, summary[columns].round(4), index=False)
    sentences = " ".join(verdict(analysis, c) for c in channels)
    null = "label-shuffled networks" if trained_null is not None else "untrained filters"
    entries = [
        verdict_entry(analysis, c)
        for c in dict.fromkeys([*analysed_channels(experiment), *channels])
        if c in analysis.views
    ]
    write_json(
        layout.filter_verdict,
        {
            "verdict": f"First-layer filters (against {null}): {sentences}",
            "models": len(index),
            "entries": entries,
            "notes": list(analysis.notes),
        },
    )
    _filter_figures(layout, analysis, channels)


def status(progress: bool, line: str) -> None:
    """A status line on stderr for a stage that has no progress bar (when ``progress``)."""
    if progress:
        print(line, file=sys.stderr, flush=True)


def _filter_figures(layout: RunLayout, analysis: FilterAnalysis, channels: list[str]) -> None:
    last = analysis.model_index.iloc[-1]
    figures = {
        "heatmaps_last_fold": filter_figures.filter_heatmaps(
            analysis, int(last["fold"]), int(last["seed"])
        ),
        "null_histograms": filter_figures.null_histograms(analysis, channels[-1]),
        "momentum_share_by_fold": filter_figures.momentum_share_by_fold(analysis, tuple(channels)),
    }
    for name, figure in figures.items():
        write_bytes(layout.filter_figure(name), to_png(figure))


@contextmanager
def timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    start = time.perf_counter()
    yield
    timings[stage] = round(time.perf_counter() - start, 3)
