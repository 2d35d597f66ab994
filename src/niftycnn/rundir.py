"""The run directory: the contract between computing a run and reporting on it.

``reports/<experiment>/<timestamp>/`` holds everything a report needs, as plain files
(TOML, JSON, CSV, Parquet, NumPy, tensors); a report is rendered from these files alone.
:class:`RunLayout` is the one home of every path; every file is written through
:func:`niftycnn.files.atomic_write`, so an interrupted run never leaves a half-written
artefact and ``--resume`` can trust whatever is there. Layout::

    config.toml          the resolved experiment (defaults filled in)
    run.json             what the run started with: the command, the resolved config and
                         the data fingerprint (``--resume`` refuses anything else)
    data.json            data fingerprint (source, symbol, sha256, date range) + check;
                         a universe: every member's, the skipped symbols, the notes
    environment.json     package versions, git commit, python, device, seed, command
    labels.csv           class counts, shares and mean returns of the labelled windows
    architecture.csv     per-layer summary of the network
    splits.csv           folds: training / validation / test date ranges and sizes
    manifest.json        the walk-forward's settings (resuming with others is an error)
    folds/fold_XXXX/     per fold: predictions.parquet (written last: the fold is done),
                         first_layer[_<model>].npy, curves.csv, state.pt (weights)
    predictions.parquet  out-of-sample predictions, every model (``niftycnn.schema``)
    metrics/             summary, per_fold, per_year, equity, significance,
                         diebold_mariano, comparison, confusion, paths (one row per
                         backtest path and model), multiple (SPA / StepM), accuracy
                         (against the majority class and chance), overfitting (PBO,
                         deflated Sharpe) (CSV); a universe's summary is pooled over
                         its symbols, and it adds cross_section (long-short Sharpe, rank
                         IC, ICIR per model), quantiles (portfolio returns), long_short
                         and ic (per date), equity (cumulative long-short), per_symbol
                         (each symbol as one series) and coverage (symbols x years)
    verdict.json         the verdict's numbers: pairwise comparisons, the tests of all
                         baselines at once, accuracy, overfitting, paths, filters; a
                         universe's cross_section (portfolios, every model, edge)
    filters/             summary.json (verdict), channel_summary.csv, filters_*.csv,
                         filters_table.parquet, figures (PNG); effective kernels:
                         kernels_summary.csv, kernels_stability.csv, kernels.npz
                         (learned and null kernels), shuffled_null.pt (the
                         label-shuffled networks' weights, reused by a rerun)
    verdict.json         the machine-readable verdict (comparisons, filters, oracle)
    segments.parquet     a per-day (segmentation) run's test predictions, one row per
                         window, day and model (``niftycnn.schema.SEGMENT_COLUMNS``);
                         metrics/segmentation.csv its per-class days, IoU and F1 per
                         model; segmentation/masks.png a few test windows with their
                         true and predicted masks
    points/<name>/       a sweep's grid points (each its own folds/ and manifest.json;
                         result.json, its sweep.csv row, and returns.parquet, the
                         CNN's daily net returns, are written last: the point is done)
    sweep.csv            a sweep's training vs test error per point
    trials/trial_XXXX/   a search's trials, laid out as points (and splits.csv: the
                         folds of the years before the held-out period)
    holdout/             a search's best trial refitted into the held-out period
    search.csv           a search's trials: knobs, objective, state
                         [compare]'s image CNN walk-forward is points/cnn_image/
    chart_samples.npy    [compare]: test images per class (n, H, W), their classes
                         (chart_classes.npy) and Grad-CAM maps (gradcam.npy)
    timings.json         wall time per stage
    figures/, report.html, report.md
"""

from __future__ import annotations

import io
import json
import pickle
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from niftycnn.errors import RunDirError, UnsafeFileError
from niftycnn.files import atomic_write, write_bytes, write_json, write_text

METRIC_TABLES = (
    "summary",
    "per_fold",
    "per_year",
    "equity",
    "significance",
    "diebold_mariano",
    "comparison",
    "confusion",
    "paths",
    "multiple",
    "accuracy",
    "overfitting",
    # a comparison's ([compare]: the image CNN against all, ``niftycnn.workflow.compare``)
    "image_multiple",
    # a universe's (``niftycnn.backtest.universe``)
    "cross_section",
    "quantiles",
    "long_short",
    "ic",
    "per_symbol",
    "coverage",
    # a per-day (segmentation) run's: per model and day class, days, IoU, F1
    "segmentation",
)
FILTER_TABLES = ("summary", "by_fold", "matches")
FILTER_FIGURES = (
    "heatmaps_last_fold",
    "null_histograms",
    "momentum_share_by_fold",
    "effective_kernels",
    "effective_stability",
)


@dataclass(frozen=True)
class FoldLayout:
    """The files of one walk-forward fold."""

    index: int
    dir: Path

    @property
    def predictions(self) -> Path:
        """Written last: its presence marks the fold done."""
        return self.dir / "predictions.parquet"

    @property
    def curves(self) -> Path:
        return self.dir / "curves.csv"

    @property
    def state(self) -> Path:
        """{model: [state dict per seed]} of plain tensors (``weights_only`` loading)."""
        return self.dir / "state.pt"

    def first_layer(self, model: str = "cnn") -> Path:
        """First-layer weights per seed, (seeds, F, C, k)."""
        return self.dir / ("first_layer.npy" if model == "cnn" else f"first_layer_{model}.npy")


@dataclass(frozen=True)
class RunLayout:
    """Every artefact path of a run (see the module docstring)."""

    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))

    config = property(lambda self: self.root / "config.toml")
    run_record = property(lambda self: self.root / "run.json")
    data = property(lambda self: self.root / "data.json")
    environment = property(lambda self: self.root / "environment.json")
    labels = property(lambda self: self.root / "labels.csv")
    architecture = property(lambda self: self.root / "architecture.csv")
    splits = property(lambda self: self.root / "splits.csv")
    manifest = property(lambda self: self.root / "manifest.json")
    predictions = property(lambda self: self.root / "predictions.parquet")
    timings = property(lambda self: self.root / "timings.json")
    verdict = property(lambda self: self.root / "verdict.json")
    sweep = property(lambda self: self.root / "sweep.csv")
    search = property(lambda self: self.root / "search.csv")
    result = property(lambda self: self.root / "result.json")
    returns = property(lambda self: self.root / "returns.parquet")
    trials_dir = property(lambda self: self.root / "trials")
    # [compare]: a few test images per class, their classes and Grad-CAM maps
    chart_samples = property(lambda self: self.root / "chart_samples.npy")
    chart_classes = property(lambda self: self.root / "chart_classes.npy")
    gradcam = property(lambda self: self.root / "gradcam.npy")
    folds_dir = property(lambda self: self.root / "folds")
    points_dir = property(lambda self: self.root / "points")
    metrics_dir = property(lambda self: self.root / "metrics")
    filters_dir = property(lambda self: self.root / "filters")
    figures_dir = property(lambda self: self.root / "figures")
    report_html = property(lambda self: self.root / "report.html")
    report_md = property(lambda self: self.root / "report.md")
    filter_verdict = property(lambda self: self.filters_dir / "summary.json")
    filter_channels = property(lambda self: self.filters_dir / "channel_summary.csv")
    filter_rows = property(lambda self: self.filters_dir / "filters_table.parquet")
    kernel_summary = property(lambda self: self.filters_dir / "kernels_summary.csv")
    kernel_stability = property(lambda self: self.filters_dir / "kernels_stability.csv")
    kernels = property(lambda self: self.filters_dir / "kernels.npz")
    shuffled_null = property(lambda self: self.filters_dir / "shuffled_null.pt")
    segments = property(lambda self: self.root / "segments.parquet")
    segment_masks = property(lambda self: self.root / "segmentation" / "masks.png")

    def metric(self, name: str) -> Path:
        return self.metrics_dir / f"{_known(name, METRIC_TABLES, 'metrics table')}.csv"

    def filter_table(self, name: str) -> Path:
        return self.filters_dir / f"filters_{_known(name, FILTER_TABLES, 'filters table')}.csv"

    def filter_figure(self, name: str) -> Path:
        return self.filters_dir / f"{_known(name, FILTER_FIGURES, 'filters figure')}.png"

    def figure(self, name: str) -> Path:
        return self.figures_dir / f"{name}.png"

    def fold(self, index: int) -> FoldLayout:
        return FoldLayout(index, self.folds_dir / f"fold_{index:04d}")

    def folds(self) -> list[FoldLayout]:
        """The folds that have a directory, in order."""
        if not self.folds_dir.is_dir():
            return []
        found = sorted(p for p in self.folds_dir.glob("fold_*") if p.is_dir())
        return [FoldLayout(int(p.name.removeprefix("fold_")), p) for p in found]

    def point(self, name: str) -> RunLayout:
        """The sub-layout of one sweep grid point."""
        return RunLayout(self.points_dir / name)

    def trial(self, number: int) -> RunLayout:
        """The sub-layout of one search trial."""
        return RunLayout(self.trials_dir / f"trial_{number:04d}")

    @property
    def holdout(self) -> RunLayout:
        """A search's refit of its best trial into the held-out final period."""
        return RunLayout(self.root / "holdout")


def _known(name: str, names: tuple[str, ...], what: str) -> str:
    if name not in names:
        raise RunDirError(f"unknown {what} {name!r}; known: {', '.join(names)}")
    return name


# ------------------------------------------------------------------------ writers


def write_csv(path: Path, frame: pd.DataFrame, index: bool = True) -> None:
    atomic_write(path, lambda tmp: frame.to_csv(tmp, index=index))


def write_parquet(path: Path, frame: pd.DataFrame) -> None:
    atomic_write(path, lambda tmp: frame.to_parquet(tmp))


def write_npy(path: Path, array: np.ndarray) -> None:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    write_bytes(path, buffer.getvalue())


def write_tensors(path: Path, tensors: Any) -> None:
    """A nest of dicts and lists of tensors (``torch.load(weights_only=True)`` reads it)."""
    import torch

    atomic_write(path, lambda tmp: torch.save(tensors, tmp))


_UNSAFE = (
    "it holds Python objects, which niftycnn never writes and which could run code; "
    "delete it (a resumed run trains its fold again)"
)


def read_npy(path: Path) -> np.ndarray:
    """A plain numeric array written by :func:`write_npy`. An object array (a pickle) is
    an :class:`UnsafeFileError`; a missing, truncated or corrupt file a RunDirError."""
    try:
        return np.asarray(np.load(path, allow_pickle=False))
    except ValueError as exc:
        if "pickle" in str(exc) or "Object arrays" in str(exc):
            raise UnsafeFileError(f"refusing to load {path}: {_UNSAFE}") from None
        raise RunDirError(f"{path} does not read back ({exc})") from None
    except (OSError, EOFError) as exc:
        raise RunDirError(f"{path} does not read back ({type(exc).__name__}: {exc})") from None


def read_tensors(path: Path) -> Any:
    """What :func:`write_tensors` wrote, read with ``torch.load(weights_only=True)``.
    Anything but plain tensors (a pickled object) is an :class:`UnsafeFileError`; a
    missing, truncated or corrupt file a RunDirError."""
    import torch

    try:
        return torch.load(path, weights_only=True, map_location="cpu")
    except pickle.UnpicklingError:
        raise UnsafeFileError(f"refusing to load {path}: {_UNSAFE}") from None
    except (OSError, EOFError, RuntimeError, ValueError) as exc:
        first = str(exc).splitlines()[0].split(". ")[0] if str(exc) else type(exc).__name__
        raise RunDirError(f"{path} does not read back ({first})") from None


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunDirError(
            f"{path} is missing; is {path.parent} a finished niftycnn run directory?"
        ) from None
    except json.JSONDecodeError as exc:
        raise RunDirError(f"{path} is not valid JSON ({exc}); re-run the experiment") from None


# ------------------------------------------------------------------------ runs


def new_run_dir(root: str | Path, experiment: str, now: datetime | None = None) -> RunLayout:
    """Create ``root/experiment/<UTC timestamp>/`` (suffixing -2, -3 ... on a clash); the
    directory must resolve inside ``root`` (a name like ``..`` is refused)."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    base = Path(root) / experiment
    inside = Path(root).resolve()
    if base.resolve() == inside or not base.resolve().is_relative_to(inside):
        raise RunDirError(
            f"experiment name {experiment!r} puts the run at {base.resolve()}, outside the "
            f"output root {inside}; use a plain name (letters, digits, '_', '-', '.')"
        )
    base.mkdir(parents=True, exist_ok=True)
    path, n = base / stamp, 1
    while True:
        try:
            path.mkdir()
            return RunLayout(path)
        except FileExistsError:
            n += 1
            path = base / f"{stamp}-{n}"


def discard_run_dir(layout: RunLayout) -> None:
    """Remove a run directory that holds no finished fold (and its experiment folder when
    that is left empty): a run that failed before its first fold leaves nothing behind."""
    shutil.rmtree(layout.root, ignore_errors=True)
    try:
        layout.root.parent.rmdir()
    except OSError:
        pass  # other runs of the experiment live there


def finished_folds(layout: RunLayout) -> list[Path]:
    """The predictions files of every finished fold (a sweep's points included)."""
    return sorted(layout.root.glob("**/fold_*/predictions.parquet"))


def require_run_dir(path: str | Path | RunLayout) -> RunLayout:
    """The layout of an existing run directory (it must hold its resolved config)."""
    layout = path if isinstance(path, RunLayout) else RunLayout(Path(path))
    if not layout.root.is_dir():
        raise RunDirError(
            f"run directory {layout.root} not found; pass reports/<experiment>/<time>/"
        )
    if not layout.config.is_file():
        raise RunDirError(
            f"{layout.root} has no config.toml, so it is not a niftycnn run directory; "
            "pass reports/<experiment>/<time>/"
        )
    return layout


__all__ = [
    "FoldLayout",
    "RunLayout",
    "discard_run_dir",
    "finished_folds",
    "new_run_dir",
    "read_json",
    "read_npy",
    "read_tensors",
    "require_run_dir",
    "write_bytes",
    "write_csv",
    "write_json",
    "write_npy",
    "write_parquet",
    "write_tensors",
    "write_text",
]
