"""One function per stage of a run. Each says what it reads and writes in the run's
:class:`~niftycnn.rundir.RunLayout`, and calls into its stage's package for the work."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict

import numpy as np
import pandas as pd

from niftycnn.backtest import comparison_table, evaluate
from niftycnn.config import Experiment, to_toml
from niftycnn.data import format_report, load_ohlcv
from niftycnn.data.stats import market_stats
from niftycnn.data.validate import report_for
from niftycnn.errors import RunDirError
from niftycnn.files import write_bytes, write_json, write_text
from niftycnn.filters import FilterAnalysis, analyze_filters, stack_folds, verdict
from niftycnn.filters import figures as filter_figures
from niftycnn.filters.verdict import verdict_entry
from niftycnn.models import summary_table
from niftycnn.report.figures import to_png
from niftycnn.rundir import (
    FoldLayout,
    RunLayout,
    environment,
    read_json,
    write_csv,
    write_parquet,
)
from niftycnn.schema import LabelVocabulary
from niftycnn.walkforward import WalkForwardSplit, run_walkforward, splits_table
from niftycnn.walkforward.run import first_layer_of
from niftycnn.walkforward.train import torch_device
from niftycnn.windows import WindowDataset, build_dataset, labeler_for
from niftycnn.workflow import kernels
from niftycnn.workflow.plan import architecture, baselines, planted
from niftycnn.workflow.verdict import analysed_channels


def config_stage(layout: RunLayout, experiment: Experiment) -> None:
    """Writes ``config.toml`` (the resolved experiment) and ``environment.json``; on a
    resumed run, refuses a directory that holds another experiment."""
    text = to_toml(experiment.resolved_dict())
    if layout.config.is_file() and layout.config.read_text(encoding="utf-8") != text:
        raise RunDirError(f"{layout.config} holds a different experiment; start a new run instead")
    write_text(layout.config, text)
    if not layout.environment.is_file():
        device = str(torch_device(experiment.train.device))
        write_json(layout.environment, environment(experiment.seed, device, sys.argv))


def data_stage(layout: RunLayout, experiment: Experiment) -> pd.DataFrame:
    """Loads and checks the OHLCV frame. Writes ``data.json`` (fingerprint and check);
    refuses data whose fingerprint differs from the one a resumed run recorded."""
    cfg = experiment.data
    frame, provenance = load_ohlcv(
        cfg.source,
        symbol=cfg.symbol,
        path=cfg.path,
        start=cfg.start,
        end=cfg.end,
        cache_dir=cfg.cache_dir,
        synthetic={**cfg.synthetic.model_dump(), "seed": experiment.seed},
    )
    if (
        layout.data.is_file()
        and read_json(layout.data)["provenance"]["sha256"] != provenance.sha256
    ):
        raise RunDirError(
            f"the data changed since {layout.root} started (sha256 differs); start a new run"
        )
    check = format_report(report_for(frame))
    write_json(
        layout.data,
        {"provenance": asdict(provenance), "check": check, "market": market_stats(frame)},
    )
    return frame


def windows_stage(layout: RunLayout, experiment: Experiment, frame: pd.DataFrame) -> WindowDataset:
    """Builds windows and labels. Writes ``labels.csv`` (count, share and mean return of
    each class among the labelled windows)."""
    dataset = build_dataset(frame, experiment.windows, experiment.labels)
    labelled = dataset.y_class[dataset.labelled]
    returns = dataset.y_return[dataset.labelled]
    k = dataset.n_classes
    counts = np.bincount(labelled, minlength=k)
    means = [float(np.mean(returns[labelled == c])) if n else np.nan for c, n in enumerate(counts)]
    table = pd.DataFrame(
        {"class": range(k), "name": dataset.vocabulary.names, "count": counts}
    ).assign(share=counts / max(int(counts.sum()), 1), mean_return=means)
    write_csv(layout.labels, table, index=False)
    return dataset


def walkforward_stage(
    layout: RunLayout, experiment: Experiment, dataset: WindowDataset, progress: bool
) -> pd.DataFrame:
    """Trains the CNN and the baselines fold by fold (resumable). Writes ``splits.csv``,
    ``architecture.csv``, ``manifest.json``, ``folds/`` and ``predictions.parquet``."""
    splitter = WalkForwardSplit.from_config(experiment.walkforward, dataset.end_dates)
    write_csv(layout.splits, splits_table(splitter.folds(dataset), dataset), index=False)
    arch = architecture(experiment)
    channels, length = len(dataset.features), dataset.X.shape[-1]
    write_csv(layout.architecture, summary_table(arch, channels, length), index=False)
    predictions = run_walkforward(
        dataset,
        arch,
        splitter,
        experiment.train,
        seed=experiment.seed,
        labeler=labeler_for(experiment.labels),
        baselines=baselines(experiment),
        out=layout,
        progress=progress,
        synthetic=planted(experiment),
    )
    write_parquet(layout.predictions, predictions)
    return predictions


def backtest_stage(
    layout: RunLayout, experiment: Experiment, predictions: pd.DataFrame, frame: pd.DataFrame
) -> None:
    """Backtests every model, scores it, tests the CNN against each baseline. Writes
    ``metrics/`` (summary, per_fold, per_year, equity, significance, diebold_mariano,
    comparison, confusion)."""
    result = evaluate(
        predictions,
        frame["close"],
        experiment.backtest,
        n_trials=experiment.sweep.size if experiment.sweep else 1,
        seed=experiment.seed,
    )
    write_csv(layout.metric("summary"), result.metrics)
    write_csv(layout.metric("per_fold"), result.per_fold, index=False)
    write_csv(layout.metric("per_year"), result.per_year, index=False)
    write_csv(layout.metric("equity"), result.equity)
    write_csv(layout.metric("significance"), result.significance)
    write_csv(layout.metric("diebold_mariano"), result.diebold_mariano, index=False)
    write_csv(layout.metric("comparison"), comparison_table(result.diebold_mariano), index=False)
    cnn = result.confusion[result.confusion["model"] == "cnn"] if len(result.confusion) else None
    if cnn is not None and len(cnn):
        matrix = cnn.pivot(index="true", columns="pred", values="count")
        names = list(LabelVocabulary(experiment.n_classes).names)
        matrix.index, matrix.columns = names, names
        write_csv(layout.metric("confusion"), matrix)


def filters_stage(
    layout: RunLayout, experiment: Experiment, dataset: WindowDataset, frame: pd.DataFrame
) -> None:
    """Compares the CNN with the reference kernels at two levels: its first-layer filters
    (every fold x seed) and its whole-network effective kernels
    (``niftycnn.workflow.kernels``). Reads ``folds/*/first_layer.npy``, ``state.pt`` and
    ``splits.csv``; writes ``filters/``.

    Nulls: the layer's own untrained initialisation (``[filters] null_draws``) and, with
    ``[filters] null_shuffles``, the same network trained on shuffled labels (what
    training alone does; the verdicts prefer it). The first-layer verdict also needs a
    minimum effect (see ``niftycnn.filters.verdict``). Functional statistics use the
    out-of-sample windows (the union of the test blocks).
    """
    folds = [f for f in layout.folds() if f.first_layer().is_file()]
    if not folds:
        return
    splitter = WalkForwardSplit.from_config(experiment.walkforward, dataset.end_dates)
    done = {f.index for f in folds}
    todo = [f for f in splitter.folds(dataset) if f.index in done]
    shuffled = kernels.shuffled_states(layout, experiment, dataset, todo)
    _first_layer_stage(layout, experiment, dataset, folds, shuffled)
    kernels.kernel_stage(layout, experiment, dataset, frame, shuffled)


def _first_layer_stage(
    layout: RunLayout,
    experiment: Experiment,
    dataset: WindowDataset,
    folds: list[FoldLayout],
    shuffled: kernels.NullStates,
) -> None:
    weights, index = stack_folds({f.index: np.load(f.first_layer()) for f in folds})
    if weights.shape[-1] < 3:
        return  # k < 3 has no curvature reference; the cosine tables would be all we have
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


def prepare(
    layout: RunLayout, experiment: Experiment, timings: dict[str, float]
) -> tuple[pd.DataFrame, WindowDataset]:
    """The config, data and windows stages every command starts with: (frame, dataset)."""
    config_stage(layout, experiment)
    with timed(timings, "data"):
        frame = data_stage(layout, experiment)
    with timed(timings, "windows"):
        dataset = windows_stage(layout, experiment, frame)
    return frame, dataset
