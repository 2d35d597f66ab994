"""A per-day (segmentation) run: ``[model] head = "segmentation"`` and its
``[segmentation]`` task (``niftycnn.config.SegmentationConfig``)::

    plan (the task's windows and day classes, the split, the network) -> config, data
         -> the network (``[train] seeds``, probabilities averaged) and the per-day
         logistic baseline on the same training windows -> segments.parquet,
         metrics/segmentation.csv, segmentation/masks.png -> verdict.json -> report

One chronological split, not a walk-forward: the last ``test`` share of the windows is
tested; when windows overlap (a real series' daily windows) the L - 1 windows before the
first test window, which share days with it, train nothing. Day classes come from each
window alone (``niftycnn.segmentation.tasks``): no label reads a day after its window.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from niftycnn.config import Experiment
from niftycnn.errors import ConfigError
from niftycnn.files import write_json
from niftycnn.models import summary_table
from niftycnn.rundir import RunLayout, write_csv, write_parquet
from niftycnn.schema import DAY_CLASSES, conform_segments, proba_columns
from niftycnn.segmentation import (
    mask_figure,
    normalise_windows,
    per_day_logistic_proba,
    planted_shapes,
    segment_probabilities,
    segmentation_scores,
    train_segmenter,
    trend_regimes,
)
from niftycnn.segmentation.tasks import SEGMENT_CHANNELS
from niftycnn.workflow import stages
from niftycnn.workflow.plan import architecture, check_experiment
from niftycnn.workflow.sources import load_series

BASELINE = "per_day_logistic"


@dataclass(frozen=True)
class SegmentationPlan:
    """The checked inputs of a per-day run: windows X (N, 2, L), day classes (N, L), their
    last days (None for generated windows), the split, and ``data.json``'s record."""

    experiment: Experiment
    X: np.ndarray
    mask: np.ndarray
    end_dates: pd.DatetimeIndex | None
    train: np.ndarray
    test: np.ndarray
    data: dict[str, Any]


def series_task(
    frame: pd.DataFrame, length: int, spans: tuple[int, int], threshold: float
) -> tuple[np.ndarray, np.ndarray, pd.DatetimeIndex]:
    """Every daily window of ``length`` closes of ``frame``: inputs (N, 2, L), trend
    regimes per day (N, L), each window's last day. Window i holds days i .. i + L - 1."""
    close = frame["close"].to_numpy(np.float64)
    windows = sliding_window_view(close, length)
    mask = trend_regimes(windows, spans=spans, threshold=threshold)
    return normalise_windows(np.log(windows)), mask, pd.DatetimeIndex(frame.index[length - 1 :])


def split(n: int, test: float, gap: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the training windows (all before the last ``test`` share, less
    ``gap`` windows before it) and of the test windows."""
    start = n - max(1, round(test * n))
    return np.arange(0, max(start - gap, 0)), np.arange(start, n)


def plan_segmentation(experiment: Experiment, origin: str = "<experiment>") -> SegmentationPlan:
    """Build the task's windows and split them, checking the network fits; writes
    nothing. A problem is a :class:`ConfigError` naming the key."""
    check_experiment(experiment, origin)
    cfg, length = experiment.segmentation, experiment.windows.length
    assert cfg is not None  # the experiment's validator sets it for a per-day head
    end_dates: pd.DatetimeIndex | None = None
    if cfg.task == "planted_shapes":
        if not cfg.widths[0] >= 2 or cfg.widths[1] > length or cfg.widths[0] > cfg.widths[1]:
            raise ConfigError(
                f"{origin}: [segmentation] widths = {list(cfg.widths)} needs 2 <= min <= max "
                f"<= [windows] length = {length}"
            )
        data = planted_shapes(
            cfg.windows, length, strength=cfg.strength, widths=cfg.widths,
            p_shape=cfg.p_shape, vol=cfg.vol, seed=experiment.seed,
        )  # fmt: skip
        X, mask, gap = data.X, data.mask, 0  # independent windows: nothing shared
        record: dict[str, Any] = {"provenance": {"source": "planted_shapes", "rows": cfg.windows}}
    else:
        if not 3 <= cfg.spans[0] <= cfg.spans[1] or cfg.spans[0] > length:
            raise ConfigError(
                f"{origin}: [segmentation] spans = {list(cfg.spans)} needs 3 <= min <= max "
                f"and min <= [windows] length = {length}"
            )
        frame, provenance = load_series(experiment, origin)
        if len(frame) < length + 20:
            raise ConfigError(
                f"{origin}: the series has {len(frame)} days, too few for [windows] length = "
                f"{length} windows to train and test on; load more data ([data])"
            )
        X, mask, end_dates = series_task(frame, length, cfg.spans, cfg.threshold)
        gap = length - 1  # daily windows overlap their neighbours' days
        record = stages.data_record(frame, provenance, experiment.data.checks)
    train, test = split(len(X), cfg.test, gap)
    if len(train) < 10:
        raise ConfigError(
            f"{origin}: [segmentation] test = {cfg.test:.3g} leaves {len(train)} of "
            f"{len(X)} windows to train on; lower test or give more windows"
        )
    return SegmentationPlan(experiment, X, mask, end_dates, train, test, record)


def _rows(plan: SegmentationPlan, model: str, proba: np.ndarray) -> pd.DataFrame:
    """The per-day predictions table of one model (``niftycnn.schema.SEGMENT_COLUMNS``)."""
    n, length, k = proba.shape
    ends = (
        np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
        if plan.end_dates is None
        else np.asarray(plan.end_dates[plan.test], dtype="datetime64[ns]")
    )
    frame = pd.DataFrame(
        {
            "window": np.repeat(plan.test, length),
            "end_date": np.repeat(ends, length),
            "day": np.tile(np.arange(length), n),
            "model": model,
            "y_true": plan.mask[plan.test].reshape(-1),
            "y_pred": proba.argmax(-1).reshape(-1),
        }
    )
    frame[proba_columns(k)] = proba.reshape(-1, k)
    return frame


def _scores(plan: SegmentationPlan, probas: dict[str, np.ndarray]) -> pd.DataFrame:
    names = DAY_CLASSES[plan.experiment.segmentation.task]  # type: ignore[union-attr]
    true, tables = plan.mask[plan.test], []
    for model, proba in probas.items():
        table = segmentation_scores(true, proba.argmax(-1), len(names)).reset_index()
        tables.append(
            table.assign(model=model, name=[names[c] for c in table["class"]]).assign(
                accuracy=table.attrs["accuracy"]
            )
        )
    return pd.concat(tables, ignore_index=True)[
        ["model", "class", "name", "days", "iou", "f1", "accuracy"]
    ]


def _verdict(plan: SegmentationPlan, scores: pd.DataFrame) -> dict[str, Any]:
    """``verdict.json`` of a per-day run (see the README's segmentation section)."""
    cfg = plan.experiment.segmentation
    assert cfg is not None
    names = DAY_CLASSES[cfg.task]
    binary = len(names) == 2
    models: dict[str, Any] = {}
    for model, rows in scores.groupby("model", sort=False):
        ious = rows["iou"].to_numpy(float)
        models[str(model)] = {
            "iou": float(ious[1]) if binary else float(np.nanmean(ious)),
            "accuracy": float(rows["accuracy"].iloc[0]),
            "per_class": {
                str(r.name): {"days": int(r.days), "iou": _num(r.iou), "f1": _num(r.f1)}
                for r in rows.itertuples()
            },
        }
    cnn, base = models["cnn"]["iou"], models[BASELINE]["iou"]
    return {
        "experiment": plan.experiment.name,
        "segmentation": {
            "task": cfg.task,
            "classes": list(names),
            "iou_of": f"class '{names[1]}'" if binary else "mean over the classes",
            "train_windows": len(plan.train),
            "test_windows": len(plan.test),
            "models": models,
            "cnn_beats_baseline": bool(cnn > base),
        },
    }


def _num(value: float) -> float | None:
    return None if pd.isna(value) else float(value)


def run_segmentation(
    plan: SegmentationPlan, layout: RunLayout, command: str, progress: bool
) -> RunLayout:
    """Every stage of a planned per-day run into ``layout`` (module docstring)."""
    from niftycnn.report import render_report

    experiment, cfg = plan.experiment, plan.experiment.segmentation
    assert cfg is not None
    stages.write_record(layout, experiment, plan.data["provenance"], command)
    write_json(layout.data, plan.data)
    arch, length = architecture(experiment), plan.X.shape[-1]
    write_csv(layout.architecture, summary_table(arch, SEGMENT_CHANNELS, length), index=False)
    timings: dict[str, float] = {}
    X, mask, train = plan.X, plan.mask, plan.train
    with stages.timed(timings, "train"):
        seeds = experiment.train.seeds
        proba = np.zeros((len(plan.test), length, arch.n_classes))
        for member in range(seeds):
            stages.status(progress, f"segmentation: training network {member + 1} of {seeds} ...")
            model = train_segmenter(
                arch, X[train], mask[train], experiment.train, seed=experiment.seed,
                validation=experiment.walkforward.validation, member=member,
            )  # fmt: skip
            proba = proba + segment_probabilities(model, X[plan.test]) / seeds
        probas = {
            "cnn": proba,
            BASELINE: per_day_logistic_proba(X[train], mask[train], X[plan.test], arch.n_classes),
        }
    table = pd.concat([_rows(plan, m, p) for m, p in probas.items()], ignore_index=True)
    write_parquet(layout.segments, conform_segments(table, arch.n_classes))
    scores = _scores(plan, probas)
    write_csv(layout.metric("segmentation"), scores, index=False)
    write_json(layout.verdict, _verdict(plan, scores))
    shown = np.linspace(0, len(plan.test) - 1, min(cfg.shown, len(plan.test))).astype(np.int64)
    names = DAY_CLASSES[cfg.task]
    pred = probas["cnn"].argmax(-1)
    window = plan.test[shown]
    mask_figure(X[window], mask[window], pred[shown], layout.segment_masks, len(shown), names)
    write_json(layout.timings, timings)
    stages.status(progress, "report: rendering ...")
    render_report(layout.root)
    return layout


__all__ = ["SegmentationPlan", "plan_segmentation", "run_segmentation", "series_task", "split"]
