"""The workflow: one experiment file in, one run directory out.

Each stage is a call into its subpackage; this module only wires them together and
records what they return in the run directory (see :mod:`niftycnn.rundir`):

    config -> data (+ check) -> windows & labels -> walk-forward (CNN + baselines)
           -> backtest, metrics, significance -> filter analysis -> report
"""

from __future__ import annotations

import sys
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from niftycnn.config import Experiment, load_experiment, parse_experiment, to_toml
from niftycnn.errors import ConfigError, RunDirError
from niftycnn.rundir import (
    environment,
    new_run_dir,
    read_json,
    require_run_dir,
    write_bytes,
    write_csv,
    write_json,
    write_parquet,
    write_text,
)


@contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    start = time.perf_counter()
    yield
    timings[stage] = round(time.perf_counter() - start, 3)


def run_experiment_file(
    path: str | Path,
    *,
    data: dict[str, Any] | None = None,
    train: dict[str, Any] | None = None,
    out_root: str | Path = "reports",
    progress: bool = True,
) -> Path:
    """Load an experiment file, apply CLI overrides, run it into a new run directory."""
    experiment = load_experiment(path)
    overrides = {k: v for k, v in (("data", data), ("train", train)) if v}
    if overrides:
        experiment = experiment.with_overrides(**overrides)
    run_dir = new_run_dir(out_root, experiment.name)
    return run_experiment(experiment, run_dir, progress=progress)


def resume_run(run_dir: str | Path, *, progress: bool = True) -> Path:
    """Finish an interrupted run: folds already on disk are loaded, not retrained."""
    run = require_run_dir(run_dir)
    experiment = _stored_experiment(run)
    if experiment.sweep is not None and (run / "points").is_dir():
        return run_sweep(experiment, run, sweep_points(experiment), progress)
    return run_experiment(experiment, run, progress=progress)


def run_experiment(experiment: Experiment, run_dir: Path, *, progress: bool = True) -> Path:
    """Run every stage of ``experiment`` into ``run_dir`` and render its report."""
    from niftycnn.report.build import render_report

    run = Path(run_dir)
    _write_config(run, experiment)
    timings: dict[str, float] = {}
    frame, dataset = _prepare(run, experiment, timings)
    with _timed(timings, "walkforward"):
        predictions = _walkforward_stage(run, experiment, dataset, frame.index, progress)
    with _timed(timings, "backtest"):
        _backtest_stage(run, experiment, predictions, frame)
    with _timed(timings, "filters"):
        _filters_stage(run, experiment, dataset)
    write_json(run / "timings.json", timings)
    render_report(run)
    return run


def _prepare(
    run: Path, experiment: Experiment, timings: dict[str, float]
) -> tuple[pd.DataFrame, Any]:
    """The data and windows stages every command starts with: (frame, dataset)."""
    with _timed(timings, "data"):
        frame = _data_stage(run, experiment)
    with _timed(timings, "windows"):
        dataset = _windows_stage(run, experiment, frame)
    return frame, dataset


def _write_config(run: Path, experiment: Experiment) -> None:
    """Store the resolved config; on resume, refuse a run directory of another config."""
    text = to_toml(experiment.resolved_dict())
    path = run / "config.toml"
    if path.is_file() and path.read_text(encoding="utf-8") != text:
        raise RunDirError(f"{path} holds a different experiment; start a new run instead")
    write_text(path, text)
    if not (run / "environment.json").is_file():
        device = _device(experiment.train.device)
        write_json(run / "environment.json", environment(experiment.seed, device, sys.argv))


def _device(requested: str) -> str:
    import torch

    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested == "cuda" and not torch.cuda.is_available():
        raise ConfigError("[train] device = 'cuda' but no CUDA device is available; use 'auto'")
    return requested


# ---------------------------------------------------------------------------- stages


def _data_stage(run: Path, experiment: Experiment) -> pd.DataFrame:
    """Load and check the OHLCV frame; record its fingerprint and the check report."""
    from niftycnn.data import format_report, load_ohlcv
    from niftycnn.data.validate import report_for

    cfg = experiment.data
    synthetic = {**cfg.synthetic.model_dump(), "seed": experiment.seed}
    frame, provenance = load_ohlcv(
        cfg.source,
        symbol=cfg.symbol,
        path=cfg.path,
        start=cfg.start,
        end=cfg.end,
        cache_dir=cfg.cache_dir,
        synthetic=synthetic,
    )
    previous = run / "data.json"
    if previous.is_file() and read_json(previous)["provenance"]["sha256"] != provenance.sha256:
        raise RunDirError(f"the data changed since {run} started (sha256 differs); start a new run")
    check = format_report(report_for(frame))
    write_json(previous, {"provenance": asdict(provenance), "check": check})
    return frame


def labeler_for(experiment: Experiment) -> Any:
    """The label thresholds object of the experiment (fitted per fold by the walk-forward)."""
    from niftycnn.windows import labeler_from_config

    cfg = experiment.labels
    if cfg.mode == "quantile":
        return labeler_from_config("quantile", quantiles=cfg.quantiles)
    return labeler_from_config(cfg.mode, small=cfg.small, large=cfg.large)


def _windows_stage(run: Path, experiment: Experiment, frame: pd.DataFrame) -> Any:
    """Windows and labels; record the label distribution of the labelled windows."""
    from niftycnn.windows import CLASS_NAMES, build_dataset

    cfg = experiment.windows
    dataset = build_dataset(
        frame,
        length=cfg.length,
        features=cfg.features,
        expiry=experiment.labels.expiry,
        labeler=labeler_for(experiment),
        sampling=cfg.sampling,
        vol_window=experiment.labels.vol_window,
    )
    labelled = dataset.y_class[dataset.labelled]
    counts = np.bincount(labelled, minlength=len(CLASS_NAMES))
    table = pd.DataFrame({"class": range(len(counts)), "name": CLASS_NAMES, "count": counts})
    table["share"] = table["count"] / max(int(counts.sum()), 1)
    table["mean_return"] = [
        float(np.mean(dataset.y_return[dataset.labelled][labelled == k])) if c else np.nan
        for k, c in enumerate(counts)
    ]
    write_csv(run / "labels.csv", table, index=False)
    return dataset


def architecture_table(arch: Any, in_channels: int, length: int) -> pd.DataFrame:
    """The per-layer summary as a table (for the run directory and the report)."""
    from niftycnn.models import summarize

    summary = summarize(arch, in_channels, length)
    rows = [
        {
            "layer": row.index,
            "type": row.type,
            "detail": row.detail,
            "output": " x ".join(str(n) for n in row.output_shape),
            "params": row.params,
            "receptive_field": "all" if row.receptive_field is None else row.receptive_field,
        }
        for row in summary.rows
    ]
    total = {
        "layer": "",
        "type": "total",
        "detail": "",
        "output": "",
        "params": summary.total_params,
        "receptive_field": "",
    }
    return pd.DataFrame([*rows, total])


def splitter_for(experiment: Experiment, sessions: pd.DatetimeIndex) -> Any:
    """The walk-forward splitter; expiry refit schedules come from the expiry calendar."""
    from niftycnn.walkforward import WalkForwardSplit
    from niftycnn.windows import expiry_dates

    cfg = experiment.walkforward
    refit: Any = cfg.refit_every
    if cfg.refit != "every":
        refit = list(expiry_dates(cfg.refit, sessions[0], sessions[-1], trading_days=sessions))
    return WalkForwardSplit(
        mode=cfg.scheme,
        min_train_size=cfg.min_train,
        first_test_date=cfg.first_test,
        refit=refit,
        max_train_size=cfg.train_size if cfg.scheme == "rolling" else None,
        validation=cfg.validation,
        embargo=cfg.embargo,
    )


def train_config_for(experiment: Experiment) -> Any:
    from niftycnn.walkforward import TrainConfig

    cfg = experiment.train
    return TrainConfig(
        epochs=cfg.epochs,
        batch_size=cfg.batch_size,
        lr=cfg.lr,
        weight_decay=cfg.weight_decay,
        patience=cfg.patience,
        class_weights=cfg.class_weights,
        n_seeds=cfg.seeds,
        device=cfg.device,
        engine=cfg.engine,
        seed=experiment.seed,
    )


def splits_table(folds: list[Any], dataset: Any) -> pd.DataFrame:
    """Fold boundaries (dates and sizes) for the report's walk-forward picture."""

    def span(idx: np.ndarray) -> tuple[Any, Any]:
        return (dataset.end_dates[idx[0]], dataset.end_dates[idx[-1]]) if len(idx) else (None, None)

    rows = []
    for fold in folds:
        (tr0, tr1), (va0, va1), (te0, te1) = (
            span(fold.train_idx),
            span(fold.val_idx),
            span(fold.test_idx),
        )
        rows.append(
            {
                "fold": fold.index,
                "train_start": tr0,
                "train_end": tr1,
                "val_start": va0,
                "val_end": va1,
                "test_start": te0,
                "test_end": te1,
                "n_train": len(fold.train_idx),
                "n_val": len(fold.val_idx),
                "n_test": len(fold.test_idx),
            }
        )
    return pd.DataFrame(rows)


def _walkforward_stage(
    run: Path, experiment: Experiment, dataset: Any, sessions: pd.DatetimeIndex, progress: bool
) -> pd.DataFrame:
    """Train the CNN and the baselines fold by fold (resumable); out-of-sample rows only."""
    from niftycnn.walkforward import run_walkforward

    splitter = splitter_for(experiment, sessions)
    write_csv(run / "splits.csv", splits_table(splitter.folds(dataset), dataset), index=False)
    arch = experiment.architecture()
    write_csv(
        run / "architecture.csv",
        architecture_table(arch, len(dataset.features), dataset.X.shape[-1]),
        index=False,
    )
    predictions = run_walkforward(
        dataset,
        arch,
        splitter,
        train_config_for(experiment),
        labeler=labeler_for(experiment),
        baselines=experiment.baseline_models,
        out_dir=run,
        progress=progress,
    )
    write_parquet(run / "predictions.parquet", predictions)
    return predictions


def _backtest_stage(
    run: Path, experiment: Experiment, predictions: pd.DataFrame, frame: pd.DataFrame
) -> None:
    """Backtest every model, score it, test the CNN against each baseline; write tables."""
    from niftycnn.backtest import BacktestConfig, SignificanceConfig, evaluate

    cfg = experiment.backtest
    config = BacktestConfig(
        signal=cfg.signal,
        sizing=cfg.sizing,
        scale=cfg.scale,
        band=cfg.band,
        long_short=cfg.long_short,
        holding=cfg.holding,
        cost_bps=cfg.cost_bps,
        slippage_bps=cfg.slippage_bps,
    )
    significance = SignificanceConfig(
        n_boot=max(cfg.bootstrap, 1),
        n_perm=max(cfg.permutations, 1),
        block_len=cfg.block or None,
        n_trials=experiment.sweep.size if experiment.sweep else 1,
        seed=experiment.seed,
    )
    result = evaluate(predictions, frame["close"], config, significance=significance)
    out = run / "metrics"
    write_csv(out / "summary.csv", result.metrics)
    write_csv(out / "per_fold.csv", result.per_fold, index=False)
    write_csv(out / "per_year.csv", result.per_year, index=False)
    write_csv(out / "equity.csv", result.equity)
    write_csv(out / "significance.csv", result.significance)
    write_csv(out / "diebold_mariano.csv", result.diebold_mariano, index=False)
    write_csv(out / "comparison.csv", comparison_table(result.diebold_mariano), index=False)
    cnn = result.confusion[result.confusion["model"] == "cnn"]
    if len(cnn):
        from niftycnn.windows import CLASS_NAMES

        matrix = cnn.pivot(index="true", columns="pred", values="count")
        names = list(CLASS_NAMES[: len(matrix)])
        matrix.index, matrix.columns = names, names
        write_csv(out / "confusion.csv", matrix)


def comparison_table(dm: pd.DataFrame) -> pd.DataFrame:
    """The verdict's rows: CNN vs each baseline on the per-sample loss, as improvements.

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


def _filters_stage(run: Path, experiment: Experiment, dataset: Any) -> None:
    """Compare the CNN's first-layer filters (every fold x seed) with the reference kernels.

    The null is the layer's own untrained initialisation (``[filters] null_draws``); the
    verdict also needs a minimum effect (see ``niftycnn.filters.verdict``), because
    training alone moves filters away from their initialisation. Functional statistics
    use the out-of-sample windows (the union of the test blocks).
    """
    from niftycnn.filters import analyze_filters, stack_folds, verdict
    from niftycnn.filters import figures as filter_figures
    from niftycnn.report.figures import to_png

    folds = sorted((run / "folds").glob("fold_*/first_layer.npy"))
    if not folds:
        return
    weights, index = stack_folds({_fold_number(p): np.load(p) for p in folds})
    if weights.shape[-1] < 3:
        return  # k < 3 has no curvature reference; the cosine tables would be all we have
    splits = pd.read_csv(run / "splits.csv", parse_dates=["test_start"])
    test = np.asarray(dataset.end_dates >= splits["test_start"].min())
    analysis = analyze_filters(
        weights,
        index,
        dataset.features,
        windows=dataset.X[test],
        null_draws=experiment.filters.null_draws,
        seed=experiment.seed,
    )
    out = run / "filters"
    for name in ("summary", "by_fold", "matches"):
        write_csv(out / f"filters_{name}.csv", getattr(analysis, name), index=False)
    # one row per (fold, seed, filter, channel, reference): ~100 MB as CSV on a full run
    write_parquet(out / "filters_table.parquet", analysis.table)
    channels = [experiment.filters.channel]
    if "price" in analysis.views and "price" not in channels:
        channels.append("price")
    summary = analysis.summary[
        analysis.summary["channel"].isin(channels)
        & (analysis.summary["statistic"] == analysis.statistic)
        & analysis.summary["reference"].isin(["momentum", "curvature"])
    ]
    columns = ["channel", "reference", "n", "mean_learned", "mean_null", "p_mean", "n_bh"]
    write_csv(out / "channel_summary.csv", summary[columns].round(4), index=False)
    sentences = [verdict(analysis, c) for c in channels]
    write_json(
        out / "summary.json",
        {
            "verdict": "First-layer filters (against untrained filters): " + " ".join(sentences),
            "models": len(index),
            "notes": list(analysis.notes),
        },
    )
    last = index.iloc[-1]
    figures = {
        "heatmaps_last_fold": filter_figures.filter_heatmaps(
            analysis, int(last["fold"]), int(last["seed"])
        ),
        "null_histograms": filter_figures.null_histograms(analysis, channels[-1]),
        "momentum_share_by_fold": filter_figures.momentum_share_by_fold(analysis, tuple(channels)),
    }
    for name, figure in figures.items():
        write_bytes(out / f"{name}.png", to_png(figure))


def analyze_run_filters(run_dir: str | Path) -> str:
    """Redo the filter analysis of a finished run (e.g. with another null size) and
    re-render its report; returns the verdict."""
    from niftycnn.report.build import render_report

    run = require_run_dir(run_dir)
    if not (run / "folds").is_dir():
        raise RunDirError(f"{run} has no folds/ (was the walk-forward run?); run it first")
    experiment = _stored_experiment(run)
    _, dataset = _prepare(run, experiment, {})
    _filters_stage(run, experiment, dataset)
    render_report(run)
    summary = run / "filters" / "summary.json"
    if not summary.is_file():
        raise RunDirError(f"{run}: the first layer has no filters of length >= 3 to analyse")
    return str(read_json(summary)["verdict"])


def load_models(run_dir: str | Path, fold: int, model: str = "cnn") -> list[Any]:
    """The trained networks of one fold (one per seed), in eval mode.

    Weights come from ``folds/fold_XXXX/state.pt``, a dict of tensors read with
    ``torch.load(weights_only=True)`` (no arbitrary objects are unpickled); the
    architecture is rebuilt from the run's ``config.toml``. The CNN's test-block
    probabilities are the softmax of these networks averaged over seeds.
    """
    import torch

    from niftycnn.models import build_model, preset

    run = require_run_dir(run_dir)
    path = run / "folds" / f"fold_{fold:04d}" / "state.pt"
    if not path.is_file():
        raise RunDirError(f"{path} does not exist; folds are 0..n-1 (see splits.csv)")
    experiment = _stored_experiment(run)
    head = experiment.model.head
    arch = experiment.architecture() if model == "cnn" else preset(model, head=head)
    states = torch.load(path, weights_only=True, map_location="cpu")
    if model not in states:
        raise RunDirError(f"{path} has no {model!r} weights; it has {sorted(states)}")
    networks = []
    for state in states[model]:
        network = build_model(arch, len(experiment.windows.features), experiment.windows.length)
        network.load_state_dict(state)
        networks.append(network.eval())
    return networks


# ---------------------------------------------------------------------------- sweep


def sweep_points(experiment: Experiment) -> list[tuple[str, dict[str, Any], list[dict[str, Any]]]]:
    """(name, knobs, layers) per grid point: ``depth`` conv blocks of ``filters`` filters of
    size ``kernel`` (same padding, ReLU; max-pool 2 between blocks while the length
    allows), dropout, global average pooling."""
    sweep = experiment.sweep
    if sweep is None:
        raise ConfigError(f"{experiment.name} has no [sweep] table; add one or use `run`")
    points = []
    for filters in sweep.filters:
        for kernel in sweep.kernel:
            for depth in sweep.depth:
                for dropout in sweep.dropout:
                    layers: list[dict[str, Any]] = []
                    length = experiment.windows.length
                    for block in range(depth):
                        layers.append(
                            {
                                "type": "conv",
                                "filters": filters,
                                "kernel": kernel,
                                "padding": "same",
                            }
                        )
                        if block < depth - 1 and length >= 4:
                            layers.append({"type": "pool", "kind": "max", "size": 2})
                            length //= 2
                    if dropout > 0:
                        layers.append({"type": "dropout", "rate": dropout})
                    layers.append({"type": "gap"})
                    knobs = {
                        "filters": filters,
                        "kernel": kernel,
                        "depth": depth,
                        "dropout": dropout,
                    }
                    name = f"f{filters}_k{kernel}_d{depth}_p{dropout:g}"
                    points.append((name, knobs, layers))
    return points


def run_sweep_file(
    path: str | Path, *, out_root: str | Path = "reports", progress: bool = True
) -> Path:
    """Run every grid point of the experiment's [sweep] as its own walk-forward; one run
    directory with ``sweep.csv`` (training vs test loss per point) and the report."""
    experiment = load_experiment(path)
    points = sweep_points(experiment)
    return run_sweep(experiment, new_run_dir(out_root, experiment.name), points, progress)


def run_sweep(
    experiment: Experiment, run_dir: Path, points: list[Any], progress: bool = True
) -> Path:
    """The sweep in ``run_dir`` (resumable: finished points and folds are kept)."""
    from niftycnn.report.build import render_report
    from niftycnn.walkforward import run_walkforward

    run = Path(run_dir)
    _write_config(run, experiment)
    timings: dict[str, float] = {}
    frame, dataset = _prepare(run, experiment, timings)
    splitter = splitter_for(experiment, pd.DatetimeIndex(frame.index))
    write_csv(run / "splits.csv", splits_table(splitter.folds(dataset), dataset), index=False)
    rows = []
    with _timed(timings, "sweep"):
        for name, knobs, layers in points:
            point = experiment.with_overrides(model={"preset": None, "layers": layers})
            arch = point.architecture()
            out = run / "points" / name
            predictions = run_walkforward(
                dataset,
                arch,
                splitter,
                train_config_for(point),
                labeler=labeler_for(point),
                baselines=(),
                out_dir=out,
                progress=progress,
            )
            table = architecture_table(arch, len(dataset.features), dataset.X.shape[-1])
            rows.append(
                {
                    "point": name,
                    **knobs,
                    "params": int(table["params"].iloc[-1]),
                    **_sweep_errors(out, predictions, arch.head),
                }
            )
    write_csv(run / "sweep.csv", pd.DataFrame(rows), index=False)
    write_json(run / "timings.json", timings)
    render_report(run)
    return run


def _sweep_errors(out: Path, predictions: pd.DataFrame, head: str) -> dict[str, float]:
    """In-sample loss (training curves at each member's restored epoch: minibatch mean
    in training mode, so with dropout active), validation loss, and out-of-sample loss
    of the seed-averaged CNN on the labelled test rows (cross-entropy or squared error)."""
    from niftycnn.backtest.prediction_metrics import classification_scores, regression_scores

    curves = pd.concat(
        pd.read_csv(p).assign(fold=_fold_number(p))
        for p in sorted(out.glob("folds/fold_*/curves.csv"))
    )
    cnn_curves = curves[curves["model"] == "cnn"]
    best = cnn_curves.loc[cnn_curves.groupby(["fold", "seed"])["val_loss"].idxmin()]
    train_loss = float(best["train_loss"].mean())
    cnn = predictions[(predictions["model"] == "cnn") & (predictions["y_true"] >= 0)]
    if head == "classification":
        proba = cnn[[c for c in cnn if c.startswith("proba_")]].to_numpy()
        scores = classification_scores(cnn["y_true"].to_numpy(), cnn["y_pred"].to_numpy(), proba)
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


def _fold_number(path: Path) -> int:
    """The fold of a per-fold artefact ``.../folds/fold_0012/<file>`` (here 12)."""
    return int(path.parent.name.removeprefix("fold_"))


def _stored_experiment(run: Path) -> Experiment:
    raw = tomllib.loads((run / "config.toml").read_text(encoding="utf-8"))
    return parse_experiment(raw, origin=str(run / "config.toml"))


__all__ = [
    "analyze_run_filters",
    "load_models",
    "resume_run",
    "run_experiment",
    "run_experiment_file",
    "run_sweep_file",
]
