"""The effective-kernel part of the filter stage: every fold's trained networks, the
label-shuffled null and untrained networks, read as whole-network kernels on the raw
series and compared with the references (``niftycnn.filters.effective`` and
``niftycnn.filters.kernel_tests``).

Reads ``folds/*/state.pt`` of the plan's folds;
writes ``filters/kernels_summary.csv``, ``kernels_stability.csv``, ``kernels.npz``,
``shuffled_null.pt`` (trained once, reused when the analysis is redone) and two figures.
``kernels.npz`` holds the raw-channel learned kernels with their (fold, seed) index, the
shuffled draws' view kernels (K, F, V, L) and the untrained view kernels.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from niftycnn.config import Experiment
from niftycnn.data.synthetic import pattern_kernel
from niftycnn.files import write_bytes
from niftycnn.filters import figures as filter_figures
from niftycnn.filters.effective import FoldWindows, Readout, effective_kernels
from niftycnn.filters.kernel_tests import kernel_references, kernel_summary, stability_by_fold
from niftycnn.filters.similarity import make_views, view_taps
from niftycnn.models import Architecture, build_model
from niftycnn.report.figures import to_png
from niftycnn.rundir import RunLayout, read_tensors, write_csv, write_tensors
from niftycnn.walkforward.folds import prepare_fold
from niftycnn.walkforward.nulls import null_folds, train_shuffled_nulls
from niftycnn.walkforward.splits import Fold
from niftycnn.walkforward.train import init_member
from niftycnn.windows import WindowDataset, labeler_for
from niftycnn.windows.windows import raw_windows
from niftycnn.workflow.plan import Plan, architecture, planted

UNTRAINED_SEED_INDEX = 1000  # untrained members' seed indices start here (real: < 100)
States = dict[int, list[dict[str, torch.Tensor]]]  # {fold: [state per seed]}
NullStates = dict[int, dict[int, dict[str, torch.Tensor]]]  # {draw: {fold: state}}


@dataclass(frozen=True)
class KernelAnalysis:
    """What the verdict needs: the summary table and the kernels behind it, per view
    (every channel, and ``price``: the open/high/low/close kernels summed)."""

    summary: pd.DataFrame
    learned: np.ndarray
    index: np.ndarray
    views: tuple[str, ...]


def fold_windows(
    experiment: Experiment, dataset: WindowDataset, frame: pd.DataFrame, folds: list[Fold]
) -> list[FoldWindows]:
    """Each fold's test windows (normalised and raw) and its expected-return readout."""
    length, features = experiment.windows.length, tuple(dataset.features)
    R_all, last_all, _ = raw_windows(frame, length, features)
    rows = frame.index.get_indexer(dataset.end_dates) - (length - 1)
    labeler = labeler_for(experiment.labels)
    out = []
    for fold in folds:
        d = prepare_fold(dataset, fold, labeler)
        test = fold.test_idx
        readout = Readout(experiment.model.head, d.class_means, d.target_std)
        r = rows[test]
        out.append(FoldWindows(fold.index, dataset.X[test], R_all[r], last_all[r], readout))
    return out


def _networks(
    arch: Architecture, states: States, channels: int, length: int
) -> dict[int, list[nn.Module]]:
    nets: dict[int, list[nn.Module]] = {}
    for fold, members in states.items():
        nets[fold] = []
        for state in members:
            net = build_model(arch, channels, length)
            net.load_state_dict(state)
            nets[fold].append(net.eval())
    return nets


def _learned_states(layout: RunLayout, folds: list[Fold]) -> States:
    out: States = {}
    for fold in folds:
        path = layout.fold(fold.index).state
        if path.is_file():
            out[fold.index] = read_tensors(path)["cnn"]
    return out


def shuffled_states(
    layout: RunLayout, experiment: Experiment, dataset: WindowDataset, folds: list[Fold]
) -> NullStates:
    """The label-shuffled null ({draw: {fold: state}}, ``[filters] null_shuffles`` draws
    on ``null_folds`` of ``folds``): from ``shuffled_null.pt`` when it holds exactly
    those, else trained now (and stored). Empty without draws."""
    cfg = experiment.filters
    chosen = null_folds(folds, cfg.null_folds)
    if not cfg.null_shuffles or not chosen:
        return {}
    want = {f.index for f in chosen}
    if layout.shuffled_null.is_file():
        stored = read_tensors(layout.shuffled_null)
        states = {int(k): {int(f): v for f, v in d.items()} for k, d in stored.items()}
        if len(states) == cfg.null_shuffles and all(set(d) == want for d in states.values()):
            return states
    states = train_shuffled_nulls(
        dataset,
        architecture(experiment),
        chosen,
        experiment.train,
        cfg.null_shuffles,
        seed=experiment.seed,
        labeler=labeler_for(experiment.labels),
    )
    stored = {str(k): {str(f): v for f, v in d.items()} for k, d in states.items()}
    write_tensors(layout.shuffled_null, stored)
    return states


def _untrained(
    arch: Architecture, folds: list[Fold], n: int, seed: int, c: int, length: int
) -> dict[int, list[nn.Module]]:
    per_fold = max(1, math.ceil(n / max(len(folds), 1))) if n else 0
    return {
        f.index: [
            init_member(arch, c, length, seed, f.index, UNTRAINED_SEED_INDEX + s).eval()
            for s in range(per_fold)
        ]
        for f in folds
    }


def kernel_stage(
    layout: RunLayout, plan: Plan, shuffled: NullStates | None = None
) -> KernelAnalysis | None:
    """Effective kernels of the CNN and its nulls; the summary table and figures. Not for
    a universe: the chain through the window normalisation is written for one series'
    frame (a panel's windows come from many), so a universe run has first-layer verdicts
    only."""
    experiment, dataset, frame = plan.experiment, plan.dataset, plan.frame
    if frame is None:
        return None
    cfg, arch = experiment.filters, architecture(experiment)
    folds = list(plan.folds)
    learned_states = _learned_states(layout, folds)
    if not learned_states:
        return None
    folds = [f for f in folds if f.index in learned_states]
    features, length = tuple(dataset.features), dataset.X.shape[-1]
    windows = fold_windows(experiment, dataset, frame, folds)
    learned, index = effective_kernels(
        _networks(arch, learned_states, len(features), length), windows, features
    )
    null_states = (
        shuffled if shuffled is not None else shuffled_states(layout, experiment, dataset, folds)
    )
    views = make_views(features)
    shuffled_k = replicate = None
    if null_states:
        null_fold_ids = sorted(next(iter(null_states.values())))
        by_fold = [w for w in windows if w.fold in null_fold_ids]
        draws = [
            effective_kernels(
                _networks(arch, {f: [st] for f, st in d.items()}, len(features), length),
                by_fold,
                features,
            )[0]
            for d in null_states.values()
        ]
        shuffled_k = np.stack([view_taps(k, views) for k in draws])  # (K, F, V, L)
        seed0 = np.isin(index[:, 0], null_fold_ids) & (index[:, 1] == 0)
        replicate = view_taps(learned[seed0], views)
    untrained = _untrained(
        arch, folds, cfg.untrained_networks, experiment.seed, len(features), length
    )
    untrained_k, _ = effective_kernels(untrained, windows, features)
    truth = planted(experiment)
    spans = (*cfg.spans, length, *((truth.lookback,) if truth else ()))
    planted_kernel = pattern_kernel(truth.pattern, truth.lookback) if truth else None
    refs = kernel_references(length, spans, planted_kernel)
    summary = kernel_summary(
        view_taps(learned, views),
        views.names,
        refs,
        replicate=replicate,
        shuffled=shuffled_k,
        untrained=view_taps(untrained_k, views),
        n_resamples=cfg.kernel_resamples,
        seed=experiment.seed,
    )
    exact = [c for c in summary.columns if c.startswith(("p", "response"))]  # tiny values
    write_csv(
        layout.kernel_summary,
        summary.round(dict.fromkeys(set(summary) - set(exact), 6)),
        index=False,
    )
    stability = stability_by_fold(view_taps(learned, views), index)
    stability.insert(1, "channel", np.asarray(views.names)[stability.pop("channel_index")])
    write_csv(layout.kernel_stability, stability.round(6), index=False)
    _write_kernels(layout, learned, index, shuffled_k, view_taps(untrained_k, views))
    analysis = KernelAnalysis(summary, view_taps(learned, views), index, views.names)
    _figures(layout, analysis, refs)
    return analysis


def _write_kernels(
    layout: RunLayout,
    learned: np.ndarray,
    index: np.ndarray,
    shuffled: np.ndarray | None,
    untrained: np.ndarray | None,
) -> None:
    buffer = io.BytesIO()
    empty = np.zeros((0, *learned.shape[1:]))
    np.savez_compressed(
        buffer,
        learned=learned,
        index=index,
        shuffled=empty if shuffled is None else shuffled,
        untrained=empty if untrained is None else untrained,
    )
    write_bytes(layout.kernels, buffer.getvalue())


def _figures(
    layout: RunLayout, analysis: KernelAnalysis, refs: dict[tuple[str, int], np.ndarray]
) -> None:
    figures = {
        "effective_kernels": filter_figures.effective_kernels(
            analysis.learned, analysis.views, analysis.summary, refs
        ),
        "effective_stability": filter_figures.kernel_stability(
            analysis.learned, analysis.index, analysis.views
        ),
    }
    for name, figure in figures.items():
        write_bytes(layout.filter_figure(name), to_png(figure))
