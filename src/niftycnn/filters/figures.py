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
