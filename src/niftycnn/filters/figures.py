"""Figures of the filter analysis (matplotlib, Agg backend; no display needed).

Each function takes a :class:`FilterAnalysis`, returns the ``Figure`` and, given a
``path``, also saves it there (format from the suffix).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from niftycnn.errors import FilterAnalysisError
from niftycnn.filters.analysis import FilterAnalysis
from niftycnn.filters.tables import P_COLUMN


def _save(fig: Figure, path: str | Path | None) -> Figure:
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=120, bbox_inches="tight")
    return fig


def filter_heatmaps(
    analysis: FilterAnalysis, fold: int, seed: int, path: str | Path | None = None
) -> Figure:
    """The first-layer filters of one model: one channels x taps heatmap per filter."""
    index = analysis.model_index
    rows = np.flatnonzero((index["fold"] == fold) & (index["seed"] == seed))
    if rows.size == 0:
        raise FilterAnalysisError(
            f"no model with fold={fold}, seed={seed}; see analysis.model_index"
        )
    w = analysis.weights[rows[0]]
    n_filters = w.shape[0]
    cols = min(8, n_filters)
    nrows = int(np.ceil(n_filters / cols))
    fig, axes = plt.subplots(nrows, cols, figsize=(1.6 * cols, 2.1 * nrows), squeeze=False)
    fig.subplots_adjust(hspace=0.6)
    vmax = float(np.abs(w).max()) or 1.0
    image = None
    for f, ax in enumerate(axes.flat):
        if f >= n_filters:
            ax.axis("off")
            continue
        image = ax.imshow(w[f], cmap="RdBu_r", vmin=-vmax, vmax=vmax, aspect="auto")
        ax.set_title(f"filter {f}", fontsize=8)
        ax.set_xticks(range(w.shape[2]))
        ax.set_xticklabels(
            [f"t{j - w.shape[2] + 1}" if j < w.shape[2] - 1 else "t" for j in range(w.shape[2])],
            fontsize=6,
        )
        ax.set_yticks(range(w.shape[1]))
        ax.set_yticklabels(analysis.channel_names if f % cols == 0 else [], fontsize=7)
    if image is not None:
        fig.colorbar(image, ax=axes, shrink=0.8, label="weight")
    fig.suptitle(f"First-layer filters, fold {fold}, seed {seed} (last tap = most recent day)")
    return _save(fig, path)


def null_histograms(
    analysis: FilterAnalysis,
    channel: str = "price",
    statistic: str | None = None,
    path: str | Path | None = None,
) -> Figure:
    """Learned |statistic| with momentum and curvature against the untrained null."""
    statistic = statistic or analysis.statistic
    if statistic not in P_COLUMN or statistic not in analysis.table:
        raise FilterAnalysisError(
            f"unknown statistic {statistic!r}; choose from {sorted(P_COLUMN)}"
        )
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), sharey=True)
    for ax, ref in zip(axes, ("momentum", "curvature"), strict=True):
        null = analysis.null
        x0 = null.loc[(null["channel"] == channel) & (null["reference"] == ref), statistic]
        tab = analysis.table
        x = tab.loc[(tab["channel"] == channel) & (tab["reference"] == ref), statistic]
        bins = np.linspace(0, 1, 26)
        ax.hist(
            x0.dropna(),
            bins=bins,
            density=True,
            alpha=0.5,
            color="grey",
            label=f"untrained (n={x0.notna().sum()})",
        )
        ax.hist(
            x.dropna(),
            bins=bins,
            density=True,
            histtype="step",
            lw=2,
            color="C3",
            label=f"learned (n={x.notna().sum()})",
        )
        ax.axvline(x0.mean(), color="grey", ls="--")
        ax.axvline(x.mean(), color="C3", ls="--")
        ax.set_title(f"{channel}: {statistic} with {ref}")
        ax.set_xlabel(statistic)
        ax.legend(fontsize=7)
    axes[0].set_ylabel("density")
    return _save(fig, path)


def momentum_share_by_fold(
    analysis: FilterAnalysis,
    channels: tuple[str, ...] = ("close", "price"),
    path: str | Path | None = None,
) -> Figure:
    """Share of momentum-like (and curvature-like) filters per fold, over time."""
    by_fold = analysis.by_fold
    fig, ax = plt.subplots(figsize=(7, 3.2))
    for i, channel in enumerate(channels):
        part = by_fold[by_fold["channel"] == channel].sort_values("fold")
        ax.plot(
            part["fold"],
            part["share_momentum_like"],
            "o-",
            color=f"C{i}",
            label=f"{channel}: momentum-like",
        )
        ax.plot(
            part["fold"],
            part["share_curvature_like"],
            "s:",
            color=f"C{i}",
            label=f"{channel}: curvature-like",
        )
    ax.axhline(
        analysis.alpha, color="grey", ls="--", lw=1, label=f"chance level ({analysis.alpha})"
    )
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("fold")
    ax.set_ylabel("share of filters")
    ax.set_title(f"Momentum-like filters per fold ({analysis.statistic}, alpha={analysis.alpha})")
    ax.legend(fontsize=7)
    return _save(fig, path)


def _unit_mean(kernels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sd over models of unit-norm kernels (M, C, L) -> (C, L) each."""
    norms = np.linalg.norm(kernels, axis=-1, keepdims=True)
    unit = np.divide(kernels, norms, out=np.zeros_like(kernels), where=norms > 0)
    return unit.mean(0), unit.std(0)


def effective_kernels(
    kernels: np.ndarray,
    channels: tuple[str, ...],
    summary: pd.DataFrame,
    refs: dict[tuple[str, int], np.ndarray],
    path: str | Path | None = None,
) -> Figure:
    """Per channel: the mean unit-norm effective kernel (band: +-1 sd over models) on the
    raw series, with the reference it matches best (largest |mean cosine|) scaled to it."""
    mean, sd = _unit_mean(kernels)
    length = kernels.shape[-1]
    lags = np.arange(-length + 1, 1)
    fig, axes = plt.subplots(1, len(channels), figsize=(3.2 * len(channels), 2.8), sharey=True)
    for c, ax in enumerate(np.atleast_1d(axes)):
        ax.fill_between(lags, mean[c] - sd[c], mean[c] + sd[c], alpha=0.25, color="tab:blue")
        ax.plot(lags, mean[c], color="tab:blue", lw=1.6, label="effective kernel")
        rows = summary[(summary["channel"] == channels[c]) & (summary["reference"] != "level")]
        if len(rows):
            best = rows.loc[rows["mean_learned"].abs().idxmax()]
            ref = refs[(best["reference"], int(best["span"]))]
            scale = float(mean[c] @ ref)
            label = f"{best['reference']} {int(best['span'])}d (cos {best['mean_learned']:+.2f})"
            ax.plot(lags, scale * ref, "--", color="tab:red", lw=1.2, label=label)
        ax.axhline(0, color="grey", lw=0.6)
        ax.set_title(channels[c])
        ax.set_xlabel("day (0 = window end)")
        ax.legend(fontsize=7, loc="upper left")
    np.atleast_1d(axes)[0].set_ylabel("d E[r] / d raw series (unit norm)")
    fig.suptitle(f"Whole-network effective kernels ({len(kernels)} models)")
    fig.tight_layout()
    return _save(fig, path)


def kernel_stability(
    kernels: np.ndarray,
    index: np.ndarray,
    channels: tuple[str, ...],
    path: str | Path | None = None,
) -> Figure:
    """Per channel: each fold's mean unit-norm kernel (rows: folds, columns: days)."""
    folds = np.unique(index[:, 0])
    per_fold = np.stack([_unit_mean(kernels[index[:, 0] == f])[0] for f in folds])  # (F, C, L)
    length = kernels.shape[-1]
    lim = float(np.abs(per_fold).max()) or 1.0
    fig, axes = plt.subplots(1, len(channels), figsize=(2.6 * len(channels), 3.2), sharey=True)
    for c, ax in enumerate(np.atleast_1d(axes)):
        image = ax.imshow(per_fold[:, c], aspect="auto", cmap="RdBu_r", vmin=-lim, vmax=lim,
                          extent=(-length + 0.5, 0.5, folds[-1] + 0.5, folds[0] - 0.5))  # fmt: skip
        ax.set_title(channels[c])
        ax.set_xlabel("day (0 = window end)")
    np.atleast_1d(axes)[0].set_ylabel("fold")
    fig.colorbar(image, ax=list(np.atleast_1d(axes)), shrink=0.8)
    fig.suptitle("Effective kernel per fold (stability through time)")
    return _save(fig, path)
