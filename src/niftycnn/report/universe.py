"""The report's universe section and sentences: coverage (symbols x years), quantile
portfolio returns, the cumulative long-short return and the rank IC through time, read
from a universe run's ``metrics/`` tables (``niftycnn.backtest.universe``)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from niftycnn.report.document import Figure, Paragraph, Section, Table
from niftycnn.report.figures import to_png
from niftycnn.rundir import RunLayout, read_json

IC_ROLLING = 63  # dates in the IC's rolling mean (about a quarter)


def _csv(path: Path, **kwargs: object) -> pd.DataFrame | None:
    if not path.is_file():
        return None
    table = pd.read_csv(path, **kwargs)
    return table if len(table) else None


def _p(p: float) -> str:
    return "p n/a" if pd.isna(p) else ("p < 0.001" if p < 0.001 else f"p = {p:.3f}")


def is_universe(run: RunLayout) -> bool:
    return run.metric("cross_section").is_file()


def _setup(run: RunLayout) -> str:
    verdict = read_json(run.verdict).get("cross_section", {}) if run.verdict.is_file() else {}
    if not verdict:
        return "Across the symbols"
    q = int(verdict["quantiles"])
    name = {5: "quintiles", 10: "deciles"}.get(q, f"{q} quantiles")
    return (
        f"Across {verdict['symbols']} symbols ({name} by {verdict['signal'].replace('_', ' ')}, "
        f"{verdict['weighting']} weights, rebalanced every {verdict.get('rebalance', '?')} "
        f"sessions, {verdict['cost_per_side_bps']:g} bp per side)"
    )


def model_sentence(row: pd.Series) -> str:
    """One model's long-short and IC numbers in words."""
    return (
        f"long-short net Sharpe {row.sharpe:.2f} (95% CI [{row.sharpe_low:.2f}, "
        f"{row.sharpe_high:.2f}], {_p(row.sharpe_p)}), annual return {row.annual_return:+.1%}, "
        f"turnover {row.turnover:.2f} per rebalance; mean rank IC {row.mean_ic:.4f} "
        f"({_p(row.ic_p)}, ICIR {row.icir:.3f}); monotonicity {row.monotonicity:.2f}"
    )


def universe_sentences(run: RunLayout) -> list[str]:
    """The CNN's cross-sectional verdict, then the baselines ranked the same way."""
    summary = _csv(run.metric("summary"), index_col=0)
    if summary is None or "mean_ic" not in summary.columns:
        return []
    verdict = read_json(run.verdict).get("cross_section", {}) if run.verdict.is_file() else {}
    out = []
    if "cnn" in summary.index:
        edge = verdict.get("edge")
        word = "an edge" if edge else "no edge"
        out.append(
            f"{_setup(run)}, the CNN's ranking is {word}: {model_sentence(summary.loc['cnn'])}."
        )
    others = [m for m in summary.index if m != "cnn" and pd.notna(summary.loc[m, "sharpe"])]
    if others:
        parts = [
            f"{m} Sharpe {summary.loc[m, 'sharpe']:.2f} [{summary.loc[m, 'sharpe_low']:.2f}, "
            f"{summary.loc[m, 'sharpe_high']:.2f}], IC {summary.loc[m, 'mean_ic']:.4f} "
            f"({_p(summary.loc[m, 'ic_p'])})"
            for m in others
        ]
        out.append("Baselines ranked the same way: " + "; ".join(parts) + ".")
    return out


def coverage_figure(coverage: pd.DataFrame) -> bytes:
    """Predicted dates per symbol and year (shading), the universe's shape over time."""
    values = coverage.to_numpy(float)
    fig, ax = plt.subplots(figsize=(9, 0.18 * len(coverage) + 1.5))
    ax.imshow(values, aspect="auto", cmap="Greens", vmin=0)
    ax.set_yticks(range(len(coverage)), coverage.index, fontsize=6)
    ax.set_xticks(range(len(coverage.columns)), coverage.columns, rotation=60, fontsize=7)
    ax.set_title("Coverage: out-of-sample dates per symbol and year")
    return to_png(fig)


def quantile_figure(quantiles: pd.DataFrame) -> bytes:
    """Mean period return of each quantile portfolio, the CNN and every baseline."""
    models = list(dict.fromkeys(quantiles["model"]))
    q = int(quantiles["quantile"].max()) + 1
    fig, ax = plt.subplots(figsize=(9, 3.4))
    width = 0.8 / max(len(models), 1)
    for i, model in enumerate(models):
        part = quantiles[quantiles["model"] == model].sort_values("quantile")
        color = "black" if model == "cnn" else None
        ax.bar(
            part["quantile"] + i * width - 0.4 + width / 2,
            part["mean_return"] * 1e4,
            width,
            label=model,
            color=color,
        )
    ax.set_xticks(range(q), [str(j + 1) for j in range(q)])
    ax.set_xlabel("portfolio (1 = lowest score)")
    ax.set_ylabel("mean return per period (bp)")
    ax.axhline(0, color="grey", lw=0.8)
    ax.legend(fontsize=7, ncol=4)
    ax.set_title("Quantile portfolios: mean return per rebalance period")
    return to_png(fig)


def long_short_figure(equity: pd.DataFrame) -> bytes:
    """Cumulative net long-short return of every model."""
    fig, ax = plt.subplots(figsize=(9, 3.6))
    for name in equity.columns:
        style = {"color": "black", "lw": 1.6} if name == "cnn" else {"lw": 0.9}
        ax.plot(equity.index, (equity[name] - 1) * 100, label=name, **style)
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_ylabel("cumulative net return %")
    ax.legend(fontsize=7, ncol=4)
    ax.set_title("Long-short (top minus bottom portfolio), net of costs")
    return to_png(fig)


def ic_figure(ic: pd.DataFrame, model: str = "cnn") -> bytes:
    """The model's rank IC per date, its rolling mean and its cumulative sum."""
    series = ic[model].dropna()
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 4.6), sharex=True)
    top.plot(series.index, series.values, lw=0.3, color="#9db4d6", label="per date")
    rolling = series.rolling(IC_ROLLING, min_periods=IC_ROLLING // 3).mean()
    top.plot(rolling.index, rolling.values, color="black", lw=1.2, label=f"{IC_ROLLING}-date mean")
    top.axhline(0, color="grey", lw=0.8)
    top.set_ylabel("rank IC")
    top.legend(fontsize=7)
    bottom.plot(series.index, np.cumsum(series.values), color="black")
    bottom.set_ylabel("cumulative IC")
    top.set_title(f"{model}: rank IC through time")
    return to_png(fig)


def universe_section(run: RunLayout) -> Section | None:
    """The universe section (None for a single series)."""
    if not is_universe(run):
        return None
    section = Section("Universe: across the symbols", anchor="universe")
    for sentence in universe_sentences(run):
        section.add(Paragraph(sentence))
    xs = _csv(run.metric("cross_section"))
    if xs is not None:
        section.add(Table(xs.round(4), "Cross-sectional results per model", index=False))
    coverage = _csv(run.metric("coverage"), index_col=0)
    if coverage is not None:
        section.add(Figure("coverage", coverage_figure(coverage), "Coverage"))
    quantiles = _csv(run.metric("quantiles"))
    if quantiles is not None:
        section.add(Figure("quantiles", quantile_figure(quantiles), "Quantile portfolios"))
    equity = _csv(run.metric("equity"), index_col=0, parse_dates=True)
    if equity is not None:
        section.add(Figure("long_short", long_short_figure(equity), "Cumulative long-short"))
    ic = _csv(run.metric("ic"), index_col=0, parse_dates=True)
    if ic is not None and "cnn" in ic.columns:
        section.add(Figure("ic", ic_figure(ic), "Rank IC through time"))
    per_symbol = _csv(run.metric("per_symbol"))
    if per_symbol is not None and "model" in per_symbol.columns:
        cnn = per_symbol[per_symbol["model"] == "cnn"]
        keep = [
            c for c in ("symbol", "n", "accuracy", "log_loss", "sharpe", "total_return") if c in cnn
        ]
        section.add(Table(cnn[keep].round(4), "The CNN on each symbol as one series", index=False))
    return section
