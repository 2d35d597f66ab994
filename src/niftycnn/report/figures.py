"""Report figures, drawn from run-directory tables (PNG bytes, deterministic)."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

_COLORS = {"train": "#4c72b0", "validation": "#dd8452", "test": "#55a868"}


def to_png(fig: plt.Figure) -> bytes:
    """Render and close a figure; no timestamp in the PNG, so re-renders are identical."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


def walkforward_scheme(splits: pd.DataFrame, max_folds: int = 60) -> bytes:
    """One row per fold: training, validation and test blocks on the date axis."""
    shown = splits.iloc[np.linspace(0, len(splits) - 1, min(max_folds, len(splits))).astype(int)]
    fig, ax = plt.subplots(figsize=(9, 0.12 * len(shown) + 1.4))
    for row, fold in enumerate(shown.itertuples()):
        for part, start, end in (
            ("train", fold.train_start, fold.train_end),
            ("validation", fold.val_start, fold.val_end),
            ("test", fold.test_start, fold.test_end),
        ):
            if pd.isna(start):
                continue
            left = pd.Timestamp(start)
            width = max(pd.Timestamp(end) - left, pd.Timedelta(days=1))
            ax.barh(row, width, left=left, height=0.8, color=_COLORS[part], label=part)
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=True))
    ax.legend(unique.values(), unique.keys(), loc="lower right", fontsize=8)
    ax.set_yticks([])
    ax.set_ylabel(f"fold ({len(splits)} in all)")
    ax.invert_yaxis()
    ax.set_title("Walk-forward scheme (purged; out-of-sample blocks in green)")
    return to_png(fig)


def label_distribution(labels: pd.DataFrame) -> bytes:
    fig, ax = plt.subplots(figsize=(6, 2.8))
    ax.bar(labels["name"], labels["share"] * 100, color="#4c72b0")
    ax.set_ylabel("% of labelled windows")
    ax.set_title("Label distribution")
    return to_png(fig)


def equity_and_drawdown(equity: pd.DataFrame) -> bytes:
    """Net equity curves (log scale) and their drawdowns, every model plus buy-and-hold."""
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(9, 5.5), sharex=True, gridspec_kw={"height_ratios": [2, 1]}
    )
    for name in equity.columns:
        curve = equity[name]
        style = {"color": "black", "lw": 1.6} if name == "cnn" else {"lw": 0.9}
        if name == "buy_and_hold":
            style = {"color": "grey", "lw": 1.0, "ls": "--"}
        top.plot(curve.index, curve.values, label=name, **style)
        bottom.plot(curve.index, (curve / curve.cummax() - 1).values * 100, **style)
    top.set_yscale("log")
    top.set_ylabel("equity (net of costs)")
    top.legend(fontsize=7, ncol=4)
    bottom.set_ylabel("drawdown %")
    top.set_title("Out-of-sample equity and drawdown")
    return to_png(fig)


def confusion_matrix(matrix: pd.DataFrame) -> bytes:
    values = matrix.to_numpy(dtype=float)
    shares = values / np.maximum(values.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(5, 4.2))
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for (i, j), count in np.ndenumerate(values):
        color = "white" if shares[i, j] > 0.6 else "black"
        ax.text(j, i, f"{int(count)}", ha="center", va="center", fontsize=8, color=color)
    ax.set_xticks(range(len(matrix.columns)), matrix.columns, rotation=30, fontsize=8)
    ax.set_yticks(range(len(matrix.index)), matrix.index, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("CNN confusion matrix (counts; shading = row share)")
    return to_png(fig)


def sweep_errors(sweep: pd.DataFrame) -> bytes:
    """Training vs test loss per grid point, ordered by parameter count."""
    ordered = sweep.sort_values("params")
    fig, ax = plt.subplots(figsize=(8, 3.5))
    x = np.arange(len(ordered))
    ax.plot(x, ordered["train_loss"], "o-", label="training loss (in-sample)")
    ax.plot(x, ordered["test_loss"], "s-", label="test loss (out-of-sample)")
    ax.set_xticks(x, ordered["point"], rotation=60, fontsize=7, ha="right")
    ax.set_ylabel("cross-entropy")
    ax.legend(fontsize=8)
    ax.set_title("Bias-variance sweep: grid points ordered by parameter count")
    return to_png(fig)


def cpcv_scheme(splits: pd.DataFrame) -> bytes:
    """CPCV: one row per split; its test groups in green, labelled with their path."""
    folds = sorted(splits["fold"].unique())
    first, last = pd.Timestamp(splits["test_start"].min()), pd.Timestamp(splits["test_end"].max())
    fig, ax = plt.subplots(figsize=(9, 0.22 * len(folds) + 1.4))
    for row, fold in enumerate(folds):
        ax.barh(row, last - first, left=first, height=0.8, color=_COLORS["train"], label="train")
        for block in splits[splits["fold"] == fold].itertuples():
            left = pd.Timestamp(block.test_start)
            width = max(pd.Timestamp(block.test_end) - left, pd.Timedelta(days=1))
            ax.barh(row, width, left=left, height=0.8, color=_COLORS["test"], label="test")
            ax.text(left + width / 2, row, f"p{block.path}", ha="center", va="center", fontsize=7)
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=True))
    ax.legend(unique.values(), unique.keys(), loc="lower right", fontsize=8)
    ax.set_yticks([])
    ax.set_ylabel(f"split ({len(folds)} in all)")
    ax.invert_yaxis()
    ax.set_title("CPCV: test groups (green, with their path) train on the rest, purged")
    return to_png(fig)


def path_distribution(paths: pd.DataFrame, loss: str) -> bytes:
    """Each model's net Sharpe and loss on every backtest path (dots) and their mean."""
    models = list(dict.fromkeys(paths["model"]))
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    for ax, column in zip(axes, ("sharpe", loss), strict=True):
        for x, model in enumerate(models):
            values = paths.loc[paths["model"] == model, column].to_numpy(float)
            values = values[np.isfinite(values)]
            if not len(values):
                continue
            color = "black" if model == "cnn" else "#4c72b0"
            ax.plot(np.full(len(values), x), values, "o", color=color, alpha=0.6, ms=4)
            ax.plot([x - 0.3, x + 0.3], [values.mean()] * 2, color=color, lw=2)
        ax.set_xticks(range(len(models)), models, rotation=30, fontsize=8)
        ax.set_title(f"{column.replace('_', ' ')} per path", fontsize=9)
    axes[0].axhline(0.0, color="grey", lw=0.8, ls="--")
    fig.suptitle("CPCV backtest paths (dots) and their mean (bar)", fontsize=10)
    return to_png(fig)


def chart_images(
    images: np.ndarray, classes: np.ndarray, names: list[str], cam: np.ndarray | None = None
) -> bytes:
    """Sample chart images (n, H, W), one row per class (white bars on black, as the
    network sees them); with ``cam``, each image's Grad-CAM map overlaid beside it."""
    kinds = sorted(set(classes.tolist()))
    per_row = max(int((classes == k).sum()) for k in kinds)
    cols = per_row * (2 if cam is not None else 1)
    h, w = images.shape[1:]
    fig, axes = plt.subplots(
        len(kinds), cols, figsize=(1.4 * cols * max(w / h, 0.5), 1.5 * len(kinds)), squeeze=False
    )
    for ax in axes.ravel():
        ax.set_axis_off()
    for row, k in enumerate(kinds):
        for j, i in enumerate(np.flatnonzero(classes == k)):
            ax = axes[row, j * (2 if cam is not None else 1)]
            ax.imshow(images[i], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            ax.set_title(names[k] if j == 0 else "", fontsize=8, loc="left")
            if cam is not None:
                over = axes[row, 2 * j + 1]
                over.imshow(images[i], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
                over.imshow(cam[i], cmap="jet", alpha=0.5, interpolation="bilinear")
                over.set_title("Grad-CAM" if j == 0 else "", fontsize=8, loc="left")
    return to_png(fig)
